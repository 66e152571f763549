/**
 * tsgi: the TypeScript Server Gateway Interface. This entry point re-exports every
 * public module; each is also importable on its own (`tsgi/types`, ...).
 *
 * @module
 */
export type {
  AbortSignalLike,
  Application,
  ByteString,
  Environ,
  ErrorStream,
  FileLike,
  HeaderList,
  InputStream,
  PlatformAbortSignal,
  ResponseBody,
  StartResponse,
  Write,
} from './types.js';
export { runExchange } from './handler.js';
export type { AbortState, OutgoingHead, Outcome, Transport } from './handler.js';
export { demoApp, serve, toNodeListener } from './server.js';
export type { NodeTransportOptions, ServeOptions, TsgiServer } from './server.js';
export {
  FileWrapper,
  applicationUri,
  createInput,
  guessScheme,
  isHopByHop,
  requestUri,
  setupTestingDefaults,
  shiftPathInfo,
} from './util.js';
export type { FileWrapperBody, FileWrapperConstructor } from './util.js';
export { ResponseHeaders } from './headers.js';
export type { HeaderParams, ResponseHeadersInit } from './headers.js';
