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
  FileWrapper,
  HeaderList,
  InputStream,
  PlatformAbortSignal,
  ResponseBody,
  StartResponse,
  Write,
} from './types.js';
