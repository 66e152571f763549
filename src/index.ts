/**
 * tsgi: the TypeScript Server Gateway Interface. This entry point re-exports every
 * public module; each is also importable on its own (`tsgi/types`, `tsgi/server`, ...).
 *
 * @module
 */
export type * from './types.js';
export * from './handler.js';
export * from './server.js';
export * from './validate.js';
export * from './util.js';
// util's FileWrapper is both the value and the type of tsgi/types: name it once.
export { FileWrapper } from './util.js';
export * from './headers.js';
export * from './fetch.js';
export * from './testing.js';
export * from './cgi.js';
export * from '../conformance/index.js';
