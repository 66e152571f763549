// Type tests for src/types.ts, checked by `tsc` (`npm run typecheck`), never run.
// Each `@ts-expect-error` line must fail to compile: if the types ever accept it, the
// directive itself becomes an error. The other declarations must compile as they are.
import { Readable } from 'node:stream';
import type {
  AbortSignalLike,
  Application,
  Environ,
  FileWrapper,
  HeaderList,
  InputStream,
  ResponseBody,
  StartResponse,
} from '../src/types.js';

const bytes = new TextEncoder().encode('hello\n');
const plain: HeaderList = [['Content-Type', 'text/plain']];

// ---- Applications that must compile -------------------------------------------------

export const arrayApp: Application = (_environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [bytes];
};

export const asyncApp: Application = async (environ, startResponse) => {
  const body = await environ['tsgi.input'].read();
  startResponse('200 OK', plain);
  return [body];
};

export const generatorApp: Application = function* (_environ, startResponse) {
  startResponse('200 OK', plain); // lazily, in the first step (app.start-lazily)
  yield bytes;
  yield new Uint8Array(0);
};

export const asyncGeneratorApp: Application = async function* (environ, startResponse) {
  startResponse('200 OK', plain);
  for await (const chunk of environ['tsgi.input']) yield chunk;
};

export const closingApp: Application = (_environ, startResponse) => {
  startResponse('200 OK', plain);
  return Object.assign([bytes], { close: async () => {} });
};

export const writeApp: Application = async (_environ, startResponse) => {
  const write = startResponse('200 OK', plain);
  await write(bytes);
  return [];
};

export const bufferApp: Application = (_environ, startResponse) => {
  startResponse('200 OK', plain);
  return [Buffer.from('a Buffer is a Uint8Array')];
};

export const streamApp: Application = (_environ, startResponse) => {
  startResponse('200 OK', plain);
  return Readable.from([bytes]);
};

export const excInfoApp: Application = async (environ, startResponse) => {
  try {
    startResponse('200 OK', plain);
    throw new Error(`cannot serve ${environ.PATH_INFO}`);
  } catch (error) {
    startResponse('500 Internal Server Error', plain, error);
    return [bytes];
  }
};

export function middleware(inner: Application): Application {
  return (environ, startResponse) => {
    const wrapped: StartResponse = (status, headers, excInfo) =>
      startResponse(status, [...headers, ['X-Wrapped', '1']], excInfo);
    return inner(environ, wrapped);
  };
}

export function environReads(environ: Environ): void {
  const method: string = environ.REQUEST_METHOD;
  const query: string = environ.QUERY_STRING;
  const length: string | undefined = environ.CONTENT_LENGTH;
  const accept: string | undefined = environ.HTTP_ACCEPT;
  const extension: unknown = environ['myserver.connection_id'];
  const input: InputStream = environ['tsgi.input'];
  const wrapper: FileWrapper | undefined = environ['tsgi.file_wrapper'];
  // With Node's types in scope, tsgi.signal is the platform's AbortSignal (fetch takes it)...
  const signal: AbortSignal = environ['tsgi.signal'];
  // ...which also has the structural shape used where no AbortSignal is declared.
  const shape: AbortSignalLike = new AbortController().signal;
  environ['myserver.note'] = 'applications may modify the environ';
  environ.PATH_INFO = '/rewritten';
  void [method, query, length, accept, extension, input, wrapper, signal, shape];
}

// ---- Applications that must not compile ---------------------------------------------

// @ts-expect-error a string is not a body (app.return.not-bytes)
export const returnsString: Application = () => 'hello';

// @ts-expect-error a Uint8Array is not a body: it iterates numbers (app.return.not-bytes)
export const returnsBytes: Application = () => bytes;

// @ts-expect-error a Promise of a string is not a body either
export const resolvesString: Application = async () => 'hello';

// @ts-expect-error chunks are Uint8Arrays, not strings (body.chunk.type)
export const stringChunks: Application = () => ['hello'];

// @ts-expect-error a generator of strings is not a body (body.chunk.type)
export const stringGenerator: Application = function* () {
  yield 'hello';
};

// @ts-expect-error the body's close must be a function (body.close.function)
export const badClose: Application = () => Object.assign([bytes], { close: 1 });

// @ts-expect-error undefined is not a body
export const returnsNothing: Application = () => undefined;

export const headersAsObject: Application = (_environ, startResponse) => {
  // @ts-expect-error headers are an array of pairs, not an object (header.list)
  startResponse('200 OK', { 'Content-Type': 'text/plain' });
  return [];
};

export const headerTriple: Application = (_environ, startResponse) => {
  // @ts-expect-error each header is exactly a [name, value] pair (header.list)
  startResponse('200 OK', [['Content-Type', 'text/plain', 'extra']]);
  return [];
};

export const numericStatus: Application = (_environ, startResponse) => {
  // @ts-expect-error the status is a string such as "200 OK" (status.format)
  startResponse(200, plain);
  return [];
};

export const missingHeaders: Application = (_environ, startResponse) => {
  // @ts-expect-error startResponse takes the headers too (start.signature)
  startResponse('200 OK');
  return [];
};

export const writesString: Application = (_environ, startResponse) => {
  const write = startResponse('200 OK', plain);
  // @ts-expect-error write takes a Uint8Array (write.args)
  void write('hello');
  return [];
};

// @ts-expect-error an application takes the environ and startResponse, in that order
export const wrongParameters: Application = (_startResponse: StartResponse, _environ: Environ) => [];

export function environMisuse(environ: Environ, headers: HeaderList): void {
  // @ts-expect-error CGI variables are strings, not numbers
  const length: number = environ.CONTENT_LENGTH;
  // @ts-expect-error Content-Type appears as CONTENT_TYPE, never HTTP_CONTENT_TYPE (env.no-http-content)
  environ.HTTP_CONTENT_TYPE = 'text/plain';
  // @ts-expect-error tsgi.input_terminated is always true (env.tsgi.input-terminated)
  environ['tsgi.input_terminated'] = false;
  // @ts-expect-error tsgi.url_scheme is http or https (env.tsgi.url-scheme)
  environ['tsgi.url_scheme'] = 'ftp';
  // @ts-expect-error a key without a dot is a CGI variable, and unknown ones are not declared
  environ.MY_SETTING = 'x';
  // @ts-expect-error the server may not modify the headers it was given (header.server-no-mutate)
  headers.push(['Date', 'now']);
  // @ts-expect-error nor the pairs in them
  headers[0]![1] = 'changed';
  void length;
}

// A body is any iterable of chunks; the type accepts every kind the spec names.
export const bodies: ResponseBody[] = [
  [bytes],
  new Set([bytes]),
  (function* () {
    yield bytes;
  })(),
  (async function* () {
    yield bytes;
  })(),
];
