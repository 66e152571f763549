/**
 * The TSGI contract as TypeScript types: what servers and applications exchange.
 *
 * This module has no runtime code. Every type is structural and refers to nothing
 * outside the ECMAScript library (ES2018 or later), so a consumer compiles it without
 * `@types/node`, without the DOM library and without `skipLibCheck`. Each type names
 * the requirement of `spec/tsgi.md` that defines it; the spec is the authority.
 *
 * @example
 * ```ts
 * import type { Application } from 'tsgi/types';
 *
 * const app: Application = (environ, startResponse) => {
 *   startResponse('200 OK', [['Content-Type', 'text/plain']]);
 *   return [new TextEncoder().encode(`You asked for ${environ.PATH_INFO}\n`)];
 * };
 * ```
 *
 * @module
 */

/**
 * A string whose UTF-16 code units are all at most U+00FF, each standing for one octet
 * (the ISO-8859-1 mapping). Spec: `str.environ`, `str.response`.
 */
export type ByteString = string;

/**
 * A TSGI application: called once per request with the environ and `startResponse`,
 * it returns the response body or a Promise of it. Spec: `app.callable`, `app.return`.
 */
export type Application = (
  environ: Environ,
  startResponse: StartResponse,
) => ResponseBody | Promise<ResponseBody>;

/**
 * Records the status and headers of the response (sent later, before the first body
 * bytes) and returns the request's `write` function; `excInfo` is the caught error when
 * an application replaces its response. Spec: `start.signature`, `exc.value`.
 */
export type StartResponse = (status: ByteString, headers: HeaderList, excInfo?: unknown) => Write;

/**
 * The response headers given to `startResponse`: `[name, value]` pairs in order, read-only
 * to the server, with repeated names kept as separate pairs. Spec: `header.list`,
 * `header.server-no-mutate`.
 */
export type HeaderList = ReadonlyArray<readonly [name: ByteString, value: ByteString]>;

/**
 * Sends body bytes imperatively (the legacy path); the Promise settles once the data is
 * handed to the transport and it can take more. Spec: `write.promise`, `write.legacy`.
 */
export type Write = (data: Uint8Array) => Promise<void>;

/**
 * The response body: a sync or async iterable of `Uint8Array` chunks, optionally with a
 * `close()` that the server calls exactly once. Spec: `body.iterable`, `close.once`.
 */
export type ResponseBody = (Iterable<Uint8Array> | AsyncIterable<Uint8Array>) & {
  close?(): void | Promise<void>;
};

/**
 * The request body stream, `tsgi.input`: every read returns a Promise, an empty result
 * means the end, and reads never wait past the end. Spec: `input.methods`, `input.no-hang`.
 */
export interface InputStream {
  /** The next `size` bytes (fewer only at the end); all the rest without `size`. Spec: `input.read`. */
  read(size?: number): Promise<Uint8Array>;
  /** The bytes up to and including the next line feed, at most `size`. Spec: `input.readline`. */
  readLine(size?: number): Promise<Uint8Array>;
  /** The remaining lines, stopping once their total reaches `hint`. Spec: `input.readlines`. */
  readLines(hint?: number): Promise<Uint8Array[]>;
  /** The remaining body as non-empty chunks. Spec: `input.iterate`. */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array>;
}

/**
 * The error log of the request, `tsgi.errors`: it takes text, not bytes.
 * Spec: `errors.methods`.
 */
export interface ErrorStream {
  /** Writes text; never throws for any string. Spec: `errors.write`. */
  write(text: string): void;
  /** Writes each string in order, adding no separators. Spec: `errors.write-lines`. */
  writeLines(lines: Iterable<string>): void;
  /** Settles once everything written so far reached the destination. Spec: `errors.flush`. */
  flush(): Promise<void>;
}

/**
 * A file-like object for `tsgi.file_wrapper`: `read(size)` returns bytes, empty at the end.
 * `tsgi.input` is one. Spec: `file.readable`.
 */
export interface FileLike {
  read(size: number): Uint8Array | Promise<Uint8Array>;
  close?(): void | Promise<void>;
}

/**
 * The optional `tsgi.file_wrapper` function: turns a file-like object into a body that the
 * server may send by faster means. Spec: `file.signature`.
 */
export type FileWrapper = (file: FileLike, blockSize?: number) => ResponseBody;

/**
 * The structural shape of an `AbortSignal`, used for `tsgi.signal` where the consumer's
 * environment declares no `AbortSignal` of its own. Spec: `env.tsgi.signal`.
 */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason: unknown;
  throwIfAborted(): void;
  addEventListener(type: 'abort', listener: (event: unknown) => void, options?: boolean | { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: (event: unknown) => void, options?: boolean): void;
}

/**
 * The platform's `AbortSignal` type when the consumer's environment declares one (Node's
 * types, the DOM library), otherwise {@link AbortSignalLike}: so `tsgi.signal` can be
 * passed straight to `fetch` where that exists. Spec: `env.tsgi.signal`.
 */
export type PlatformAbortSignal = typeof globalThis extends { AbortSignal: { prototype: infer Signal } }
  ? Signal
  : AbortSignalLike;

/**
 * The environ: a plain object describing one request, with CGI variables (byte strings),
 * `HTTP_*` request headers, `tsgi.*` keys and dotted extension keys. Applications may
 * modify it. Spec: `env.plain-object`, `env.tsgi.required`.
 */
export interface Environ {
  /** The method as received, case preserved. Spec: `env.request-method`. */
  REQUEST_METHOD: ByteString;
  /** The decoded mount path: empty, or starting with `/`. Spec: `env.script-name`. */
  SCRIPT_NAME: ByteString;
  /** The decoded rest of the path: empty, starting with `/`, or `*`. Spec: `env.path-info`. */
  PATH_INFO: ByteString;
  /** The raw query after the first `?`; empty when there is none. Spec: `env.query-string`. */
  QUERY_STRING: ByteString;
  /** The request target exactly as received. Spec: `env.request-uri`. */
  REQUEST_URI?: ByteString;
  /** The `Content-Type` request header, present only when sent. Spec: `env.content-type`. */
  CONTENT_TYPE?: ByteString;
  /** The declared body length in digits, present only when declared. Spec: `env.content-length`. */
  CONTENT_LENGTH?: ByteString;
  /** The server's host name or address. Spec: `env.server-name`. */
  SERVER_NAME: ByteString;
  /** The server's port, in digits. Spec: `env.server-port`. */
  SERVER_PORT: ByteString;
  /** `HTTP/1.0`, `HTTP/1.1`, `HTTP/2` or `HTTP/3`. Spec: `env.server-protocol`. */
  SERVER_PROTOCOL: ByteString;
  /** The client's address. Spec: `env.remote-addr`. */
  REMOTE_ADDR: ByteString;
  /** The client's port, in digits. Spec: `env.remote-port`. */
  REMOTE_PORT?: ByteString;
  /** Further CGI/1.1 variables a server may provide. Spec: `env.cgi.more`. */
  SERVER_SOFTWARE?: ByteString;
  GATEWAY_INTERFACE?: ByteString;
  REMOTE_HOST?: ByteString;
  REMOTE_USER?: ByteString;
  REMOTE_IDENT?: ByteString;
  AUTH_TYPE?: ByteString;
  PATH_TRANSLATED?: ByteString;
  HTTPS?: ByteString;
  /** Never present: these headers appear as `CONTENT_TYPE` and `CONTENT_LENGTH`. Spec: `env.no-http-content`. */
  HTTP_CONTENT_TYPE?: never;
  HTTP_CONTENT_LENGTH?: never;
  /** One key per request header, such as `HTTP_ACCEPT`. Spec: `env.http`. */
  [header: `HTTP_${string}`]: ByteString | undefined;
  /** TLS variables of Apache-style gateways. Spec: `env.cgi.more`. */
  [tls: `SSL_${string}`]: ByteString | undefined;

  /** `[1, 0]` for this version of the spec. Spec: `env.tsgi.version`. */
  'tsgi.version': readonly [major: number, minor: number];
  /** The scheme the request arrived by. Spec: `env.tsgi.url-scheme`. */
  'tsgi.url_scheme': 'http' | 'https';
  /** The request body. Spec: `env.tsgi.input`. */
  'tsgi.input': InputStream;
  /** The error log. Spec: `env.tsgi.errors`. */
  'tsgi.errors': ErrorStream;
  /** Calls of this application may overlap, even on one thread. Spec: `concurrency.multithread`. */
  'tsgi.multithread': boolean;
  /** Other copies of the application may run at the same time. Spec: `concurrency.multiprocess`. */
  'tsgi.multiprocess': boolean;
  /** The server expects this process to serve one request. Spec: `env.tsgi.run-once`. */
  'tsgi.run_once': boolean;
  /** Always `true`: the input stream ends by itself. Spec: `env.tsgi.input-terminated`. */
  'tsgi.input_terminated': true;
  /** Aborted when the response can no longer be delivered. Spec: `disconnect.signal`. */
  'tsgi.signal': PlatformAbortSignal;
  /** Fast file transmission, when the server offers it. Spec: `file.optional`. */
  'tsgi.file_wrapper'?: FileWrapper;
  /** Extension keys: a dot and a prefix of their author's. Spec: `ext.dotted`. */
  [extension: `${string}.${string}`]: unknown;
}
