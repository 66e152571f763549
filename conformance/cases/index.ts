/**
 * Every server case, in the order the suite runs them: one file per section of the spec.
 * Cases are plain data; `runServerConformance()` runs them, and other harnesses may too.
 *
 * @module
 */
import type { ServerCase } from '../types.js';
import { bodyCases } from './body.js';
import { disconnectCases } from './disconnect.js';
import { environCases } from './environ.js';
import { errorCases } from './errors.js';
import { expectCases } from './expect.js';
import { fileCases } from './file.js';
import { framingCases } from './framing.js';
import { headCases } from './head.js';
import { hopCases } from './hop.js';
import { inputCases } from './input.js';
import { keepAliveCases } from './keep-alive.js';
import { malformedCases } from './malformed.js';
import { responseCases } from './response.js';
import { writeCases } from './write.js';

/** Every server case of the suite. */
export const serverCases: readonly ServerCase[] = [
  ...environCases,
  ...inputCases,
  ...expectCases,
  ...responseCases,
  ...bodyCases,
  ...writeCases,
  ...framingCases,
  ...headCases,
  ...errorCases,
  ...disconnectCases,
  ...keepAliveCases,
  ...hopCases,
  ...malformedCases,
  ...fileCases,
];
