/**
 * Helpers for applications, middleware and tests, after Python's `wsgiref.util`: URL
 * reconstruction, path shifting, a minimal valid environ for tests, input streams over
 * bytes, hop-by-hop header names, and a file wrapper.
 *
 * They follow `wsgiref` where it is right and the spec where it is not: `requestUri`
 * never drops the first character of `PATH_INFO`, `guessScheme` reads only the
 * variables it is given, `setupTestingDefaults` builds an environ that meets every
 * server requirement of the spec, and `isHopByHop` knows `Proxy-Connection`.
 *
 * @example
 * ```ts
 * import { requestUri, setupTestingDefaults } from 'tsgi/util';
 *
 * const environ = setupTestingDefaults({ PATH_INFO: '/caf\u00c3\u00a9', QUERY_STRING: 'x=1' });
 * requestUri(environ); // 'http://127.0.0.1/caf%C3%A9?x=1'
 * ```
 *
 * @module
 */
import process from 'node:process';
import { createErrorStream } from './_errors.js';
import { HOP_BY_HOP, contractError, isUint8Array, show } from './_http.js';
import { createInputStream } from './_input.js';
import { TSGI_VERSION } from './_keys.js';
import type { Environ, FileLike, InputStream } from './types.js';

// ---------------------------------------------------------------------------------
// URL reconstruction (spec: URL reconstruction)

/** Code units that *quote* keeps: ASCII letters and digits and `-._~/`. */
const SAFE = /^[A-Za-z0-9\-._~/]*$/;
const KEEP = new Uint8Array(128).map((_, code) => Number(SAFE.test(String.fromCharCode(code))));
const ESCAPES = Array.from({ length: 256 }, (_, code) => `%${code.toString(16).toUpperCase().padStart(2, '0')}`);

/** The spec's *quote*: each byte outside `[A-Za-z0-9-._~/]` becomes `%XX`, upper-case. */
function quote(value: string, key: string): string {
  if (SAFE.test(value)) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code > 0xff) {
      throw contractError('str.environ', `${key} must be a byte string (code units up to U+00FF); got ${show(value)}`, 'server', TypeError);
    }
    out += code < 128 && KEEP[code] ? value[i] : ESCAPES[code];
  }
  return out;
}

/** An IPv6 address in a URL authority needs brackets; the spec has servers add them. */
function bracketed(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function defaultPort(scheme: string): string {
  return scheme === 'https' ? '443' : '80';
}

/** Steps 1 and 2: the scheme and the authority. */
function origin(environ: Environ): string {
  const scheme = environ['tsgi.url_scheme'];
  if (environ.HTTP_HOST) return `${scheme}://${environ.HTTP_HOST}`;
  const port = environ.SERVER_PORT;
  const host = bracketed(environ.SERVER_NAME ?? '');
  return `${scheme}://${host}${port && port !== defaultPort(scheme) ? `:${port}` : ''}`;
}

/**
 * A path for a URL: `/` when empty, since an empty http path means `/`, and never glued
 * to the host when a path variable lacks its leading `/` (the environ breaks
 * `env.path-info` then, but no byte of it is dropped, unlike in `wsgiref`).
 */
function rooted(path: string): string {
  return path.startsWith('/') ? path : `/${path}`;
}

/** Step 3, as a request target. */
function targetPath(environ: Environ): string {
  return rooted(quote(environ.SCRIPT_NAME ?? '', 'SCRIPT_NAME') + quote(environ.PATH_INFO ?? '', 'PATH_INFO'));
}

/**
 * The URL of the application's root: scheme, host, and the quoted `SCRIPT_NAME` (or `/`
 * when it is empty). Spec: [URL reconstruction](../spec/tsgi.md#url-reconstruction).
 *
 * @example
 * ```ts
 * applicationUri(setupTestingDefaults({ SCRIPT_NAME: '/blog', PATH_INFO: '/post/1' }));
 * // 'http://127.0.0.1/blog'
 * ```
 */
export function applicationUri(environ: Environ): string {
  return origin(environ) + rooted(quote(environ.SCRIPT_NAME ?? '', 'SCRIPT_NAME'));
}

/**
 * The URL of the request, rebuilt from the environ with the spec's steps: scheme, host
 * (`HTTP_HOST`, else `SERVER_NAME` and a non-default `SERVER_PORT`), the quoted
 * `SCRIPT_NAME` and `PATH_INFO`, then `?` and the raw `QUERY_STRING` when it is non-empty
 * and `includeQuery` is true. Bytes are quoted as `%XX` of their latin-1 value, so the
 * decoded `PATH_INFO` `"/caf\u00c3\u00a9"` gives `/caf%C3%A9`. An empty path gives `/`;
 * `OPTIONS *` gives the bare origin (RFC 9112, section 3.3).
 *
 * Unlike `wsgiref.util.request_uri`, it keeps the first character of `PATH_INFO` when
 * `SCRIPT_NAME` is empty, and quotes `;`, `=` and `,` in `PATH_INFO` as the spec's steps
 * do, so the URL is the same however `shiftPathInfo` split the path.
 *
 * @example
 * ```ts
 * const environ = setupTestingDefaults({ SCRIPT_NAME: '/app', PATH_INFO: '/a b', QUERY_STRING: 'q=1' });
 * requestUri(environ);        // 'http://127.0.0.1/app/a%20b?q=1'
 * requestUri(environ, false); // 'http://127.0.0.1/app/a%20b'
 * ```
 */
export function requestUri(environ: Environ, includeQuery = true): string {
  const asterisk = environ.PATH_INFO === '*' && !environ.SCRIPT_NAME;
  const query = includeQuery && environ.QUERY_STRING ? `?${environ.QUERY_STRING}` : '';
  return origin(environ) + (asterisk ? '' : targetPath(environ)) + query;
}

// ---------------------------------------------------------------------------------
// Path shifting

/**
 * Moves the first segment of `PATH_INFO` to the end of `SCRIPT_NAME`, in place, and
 * returns it: what a dispatcher does before it calls the application mounted there.
 * Returns `undefined` when `PATH_INFO` has no segment left: it is empty, or `*`, or it is
 * `/` at the root (`SCRIPT_NAME` empty), whose slash has nowhere to go.
 *
 * As in `wsgiref`: empty and `.` segments before the last are dropped (`/a//b` shifts
 * `a` and leaves `/b`); a final `/` shifts as the empty segment `''`, which moves the
 * trailing slash onto `SCRIPT_NAME` (`/blog` + `/` becomes `/blog/` + ``), so that
 * relative links resolve as the client's URL did; a `..` segment is returned and removes
 * the last segment of `SCRIPT_NAME`, as resolving the URL would; a final `.` returns
 * `undefined` and leaves `PATH_INFO` empty. Unlike `wsgiref`, which shifts `/` at the root
 * into `SCRIPT_NAME` `/`, it leaves the root as it is: `SCRIPT_NAME` must not be `/`
 * (`env.script-name.not-slash`), and an empty `PATH_INFO` as well would lose the path
 * (`env.path.split`).
 *
 * @example
 * ```ts
 * const environ = setupTestingDefaults({ SCRIPT_NAME: '/app', PATH_INFO: '/users/42' });
 * shiftPathInfo(environ);   // 'users'
 * environ.SCRIPT_NAME;      // '/app/users'
 * environ.PATH_INFO;        // '/42'
 * ```
 */
export function shiftPathInfo(environ: Environ): string | undefined {
  const pathInfo = environ.PATH_INFO ?? '';
  if (!pathInfo.startsWith('/') || (pathInfo === '/' && !environ.SCRIPT_NAME)) return undefined;
  const parts = pathInfo.split('/');
  const last = parts.length - 1;
  const kept = [''];
  for (let i = 1; i < last; i++) {
    const part = parts[i]!;
    if (part !== '' && part !== '.') kept.push(part);
  }
  kept.push(parts[last]!);
  const name = kept.splice(1, 1)[0]!;

  const segments: string[] = [];
  for (const segment of `${environ.SCRIPT_NAME ?? ''}/${name}`.split('/')) {
    if (segment === '..') segments.pop();
    else if (segment !== '' && segment !== '.') segments.push(segment);
  }
  let scriptName = segments.length ? `/${segments.join('/')}` : '';
  if (name === '' && scriptName !== '') scriptName += '/';

  environ.SCRIPT_NAME = scriptName;
  environ.PATH_INFO = kept.join('/');
  return name === '.' ? undefined : name;
}

// ---------------------------------------------------------------------------------
// Environ defaults

/**
 * Guesses `tsgi.url_scheme` from CGI variables: `'https'` when `HTTPS` is `on`, `yes` or
 * `1` (in any case), or, without `HTTPS`, when `REQUEST_SCHEME` is `https`; otherwise
 * `'http'`. It reads only `env`: pass a CGI gateway's variables, never `process.env` of
 * a server, where a stray `HTTPS=on` would be mistaken for request data
 * (`env.no-process-env`).
 *
 * @example
 * ```ts
 * guessScheme({ HTTPS: 'on' }); // 'https'
 * guessScheme({});              // 'http'
 * ```
 */
export function guessScheme(env: { readonly HTTPS?: string | undefined; readonly REQUEST_SCHEME?: string | undefined }): 'http' | 'https' {
  const https = env.HTTPS;
  if (typeof https === 'string') return /^(?:on|yes|1)$/i.test(https) ? 'https' : 'http';
  return typeof env.REQUEST_SCHEME === 'string' && env.REQUEST_SCHEME.toLowerCase() === 'https' ? 'https' : 'http';
}

/**
 * Fills in, in place, every key a server must provide that `environ` lacks (a key whose
 * value is `undefined` counts as missing), and returns the same object, now a complete
 * environ that meets every server requirement of the spec: a `GET` of `/` on
 * `http://127.0.0.1`, with an empty body, an error stream to `process.stderr`, a fresh
 * `AbortSignal` that never aborts, and boolean flags. For tests of applications and
 * middleware, as `wsgiref.util.setup_testing_defaults`.
 *
 * The defaults: `SERVER_NAME` `127.0.0.1`, `SERVER_PROTOCOL` `HTTP/1.1`,
 * `REQUEST_METHOD` `GET`, `SCRIPT_NAME` `''` and `PATH_INFO` `/` (or `''` for the one
 * missing when the other is given), `QUERY_STRING` `''`, `REMOTE_ADDR` `127.0.0.1`,
 * `tsgi.url_scheme` from {@link guessScheme}, `SERVER_PORT` `80` or `443` by scheme,
 * `HTTP_HOST` from `SERVER_NAME` and a non-default port, `REQUEST_URI` from the path and
 * query, and every `tsgi.*` key but the optional `tsgi.file_wrapper`.
 *
 * @example
 * ```ts
 * const environ = setupTestingDefaults({ REQUEST_METHOD: 'POST', 'tsgi.input': createInput('a=1') });
 * environ.PATH_INFO;                 // '/'
 * await environ['tsgi.input'].read(); // the bytes of 'a=1'
 * ```
 */
export function setupTestingDefaults<T extends Partial<Environ>>(environ: T = {} as T): T & Environ {
  const env = environ as Record<string, unknown>;
  const fill = (key: string, value: () => unknown): void => {
    if (env[key] === undefined) env[key] = value();
  };
  fill('SERVER_NAME', () => '127.0.0.1');
  fill('SERVER_PROTOCOL', () => 'HTTP/1.1');
  fill('REQUEST_METHOD', () => 'GET');
  if (env.SCRIPT_NAME === undefined && env.PATH_INFO === undefined) env.PATH_INFO = '/';
  fill('SCRIPT_NAME', () => '');
  fill('PATH_INFO', () => '');
  fill('QUERY_STRING', () => '');
  fill('REMOTE_ADDR', () => '127.0.0.1');
  fill('tsgi.version', () => TSGI_VERSION);
  fill('tsgi.url_scheme', () => guessScheme(env as Partial<Environ>));
  fill('tsgi.input', () => createInput());
  fill('tsgi.errors', () => createErrorStream(process.stderr));
  fill('tsgi.multithread', () => false);
  fill('tsgi.multiprocess', () => false);
  fill('tsgi.run_once', () => false);
  fill('tsgi.input_terminated', () => true);
  fill('tsgi.signal', () => new AbortController().signal);
  const full = environ as T & Environ;
  fill('SERVER_PORT', () => defaultPort(full['tsgi.url_scheme']));
  fill('HTTP_HOST', () => {
    const port = full.SERVER_PORT;
    const host = bracketed(full.SERVER_NAME);
    return port === defaultPort(full['tsgi.url_scheme']) ? host : `${host}:${port}`;
  });
  fill('REQUEST_URI', () => {
    const path = full.PATH_INFO === '*' && !full.SCRIPT_NAME ? '*' : targetPath(full);
    return full.QUERY_STRING ? `${path}?${full.QUERY_STRING}` : path;
  });
  return full;
}

// ---------------------------------------------------------------------------------
// Headers and streams

/**
 * Whether `name` is a hop-by-hop header, which only the server may send: `Connection`,
 * `Keep-Alive`, `Proxy-Authenticate`, `Proxy-Authorization`, `Proxy-Connection`, `TE`,
 * `Trailer`, `Transfer-Encoding` or `Upgrade`, in any case (spec:
 * [Hop-by-hop headers](../spec/tsgi.md#hop-by-hop-headers)).
 *
 * @example
 * ```ts
 * isHopByHop('Keep-Alive');   // true
 * isHopByHop('Content-Type'); // false
 * ```
 */
export function isHopByHop(name: string): boolean {
  return typeof name === 'string' && HOP_BY_HOP.has(name.toLowerCase());
}

/**
 * An input stream (`tsgi.input`) over a request body given as bytes, as a string (sent
 * as UTF-8), or as a sync or async iterable of `Uint8Array` chunks; empty without
 * `source`. It behaves as a server's does (the same implementation): exact reads, lines,
 * chunks by iteration, reads in call order, an empty result at the end, and rejected
 * reads when an iterable source throws. The bytes are not copied: don't modify `source`
 * afterwards.
 *
 * @example
 * ```ts
 * const input = createInput('first line\nsecond line\n');
 * await input.readLine(); // the bytes of 'first line\n'
 * await input.read();     // the bytes of 'second line\n'
 * await input.read();     // empty: the end
 * ```
 */
export function createInput(source: Uint8Array | string | Iterable<Uint8Array> | AsyncIterable<Uint8Array> = new Uint8Array(0)): InputStream {
  if (typeof source === 'string') return createInputStream([new TextEncoder().encode(source)]);
  if (isUint8Array(source)) return createInputStream([source]);
  return createInputStream(source);
}

// ---------------------------------------------------------------------------------
// File wrapper

const DEFAULT_BLOCK_SIZE = 65536;

/**
 * The body that {@link FileWrapper} returns: iterating it reads `file` in blocks of
 * `blockSize` bytes until a read comes back empty; `close()` closes `file`. A server that
 * recognises it (`body instanceof FileWrapper`) may send `file` by a faster means,
 * starting at its current position (`file.position`).
 */
export interface FileWrapperBody extends AsyncIterable<Uint8Array> {
  /** The wrapped file, for a server that sends it by faster means. */
  readonly file: FileLike;
  /** The size of each `read()` that iteration makes. */
  readonly blockSize: number;
  [Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined>;
  /** Calls the file's `close()`, when it has one, the first time only. */
  close(): void | Promise<void>;
}

/** The type of the {@link FileWrapper} value: callable with or without `new`. */
export interface FileWrapperConstructor {
  (file: FileLike, blockSize?: number): FileWrapperBody;
  new (file: FileLike, blockSize?: number): FileWrapperBody;
  readonly prototype: FileWrapperBody;
}

class WrappedFile implements FileWrapperBody {
  readonly file: FileLike;
  readonly blockSize: number;
  #closed = false;

  constructor(file: FileLike, blockSize: number = DEFAULT_BLOCK_SIZE) {
    if (file === null || (typeof file !== 'object' && typeof file !== 'function') || typeof file.read !== 'function') {
      throw contractError('file.readable', `the file given to FileWrapper must have a read(size) method; got ${show(file)}`, 'application', TypeError);
    }
    if (!Number.isSafeInteger(blockSize) || blockSize <= 0) {
      throw contractError('file.signature', `blockSize must be a positive integer; got ${show(blockSize)}`, 'application', TypeError);
    }
    this.file = file;
    this.blockSize = blockSize;
  }

  // Nothing is read before the first next(): the wrapper is lazy (`file.lazy`).
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    for (;;) {
      const block: unknown = await this.file.read(this.blockSize);
      if (!isUint8Array(block)) {
        throw contractError('file.readable', `file.read() must give a Uint8Array; got ${show(block)}`, 'application', TypeError);
      }
      if (block.length === 0) return;
      yield block;
    }
  }

  close(): void | Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    return this.file.close?.();
  }
}

/**
 * Turns a file-like object (anything with `read(size)`, returning bytes or a Promise of
 * them, and optionally `close()`) into a response body that reads it `blockSize` bytes
 * at a time (64 KiB by default), as `wsgiref.util.FileWrapper`. It is a valid
 * `tsgi.file_wrapper` (spec: [tsgi.file_wrapper](../spec/tsgi.md#tsgifile_wrapper)), and
 * works called as a function, as the spec calls it, or with `new`. A
 * `node:fs/promises` `FileHandle` is not file-like (its `read` takes a buffer); wrap it
 * as in the example.
 *
 * @example
 * ```ts
 * import { open } from 'node:fs/promises';
 *
 * const handle = await open('package.json');
 * const file = {
 *   read: async (size: number) => {
 *     const { buffer, bytesRead } = await handle.read(new Uint8Array(size), 0, size, null);
 *     return buffer.subarray(0, bytesRead);
 *   },
 *   close: () => handle.close(),
 * };
 * const wrap = environ['tsgi.file_wrapper'] ?? FileWrapper;
 * return wrap(file, 65536);
 * ```
 */
export const FileWrapper: FileWrapperConstructor = function FileWrapper(file: FileLike, blockSize?: number): FileWrapperBody {
  return new WrappedFile(file, blockSize);
} as FileWrapperConstructor;
// So that `body instanceof FileWrapper` holds whether or not `new` was used.
(FileWrapper as { prototype: unknown }).prototype = WrappedFile.prototype;

/** The callable type of `tsgi.file_wrapper`, the same as `FileWrapper` in `tsgi/types`. */
export type FileWrapper = import('./types.js').FileWrapper;
