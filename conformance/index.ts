/**
 * The TSGI conformance suite. `runServerConformance(target)` proves that a server obeys
 * the contract of `spec/tsgi.md`, case by case over TCP, with the probe application it
 * hosts wrapped in the validator; `runAppConformance(app)` drives an application through
 * a battery of requests and reports every violation. Both resolve to a report that
 * cites the requirement of every failure; `formatReport` renders it as text.
 *
 * @example
 * ```ts
 * import { serve } from 'tsgi/server';
 * import { formatReport, runServerConformance } from 'tsgi/conformance';
 *
 * const report = await runServerConformance({
 *   async start(app) {
 *     const server = await serve(app, { port: 0, quiet: true });
 *     return { host: '127.0.0.1', port: server.port, close: () => server.close() };
 *   },
 * });
 * console.log(formatReport(report));
 * ```
 *
 * @module
 */
export { runServerConformance } from './server.js';
export { appCases, middlewareCases, runAppConformance, runMiddlewareConformance } from './app.js';
export type { AppCase, AppConformanceOptions, AppExchange, AppRequest } from './app.js';
export { serverCases } from './cases/index.js';
export { SPEC_VERSION, formatReport, reportToJson } from './report.js';
export type { FormatOptions } from './report.js';
export { DEFAULT_CAPABILITIES } from './_select.js';
export { CaseFailure } from './types.js';
export type {
  Capabilities,
  Capability,
  CaseApp,
  CaseContext,
  CaseResult,
  CaseStatus,
  ConformanceReport,
  ErrorSink,
  Failure,
  Level,
  LevelTally,
  ProbeCall,
  RecordedCall,
  RemoteProbe,
  RequestOptions,
  RequirementId,
  RequirementResult,
  RunningServer,
  Selection,
  ServerCase,
  ServerConformanceOptions,
  ServerTarget,
  StartContext,
  Tally,
  WireConnection,
  WireResponse,
} from './types.js';
