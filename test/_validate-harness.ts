// A fake server for the validator's tests: it builds an environ by hand, calls the
// application, runs the startResponse state machine, iterates the body and closes it,
// as spec/tsgi.md says a server does. Each step can be replaced, so that a test can make
// the server misbehave in exactly one way. Everything stays in memory.
import assert from 'node:assert/strict';
import type { RequirementId } from '../src/_requirements.js';
import { validator, ValidationError, type Side } from '../src/validate.js';
import type { Application, Environ, ErrorStream, FileWrapper, HeaderList, InputStream, ResponseBody, StartResponse, Write } from '../src/types.js';

export const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
export const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
export const hello = encode('Hello, world!\n');
export const plain: [string, string] = ['Content-Type', 'text/plain'];

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function';
}

/** An input stream over bytes in memory, faithful to the spec's `input.*` requirements. */
export function memoryInput(bytes: Uint8Array, chunkSize = 4): InputStream {
  let pos = 0;
  const take = (n: number): Uint8Array => {
    const out = bytes.slice(pos, pos + Math.max(0, n));
    pos += out.length;
    return out;
  };
  const line = (size?: number): Uint8Array => {
    const lf = bytes.indexOf(0x0a, pos);
    let n = lf === -1 ? bytes.length - pos : lf + 1 - pos;
    if (size !== undefined && size >= 0) n = Math.min(n, size);
    return take(n);
  };
  return {
    read: async (size) => take(size === undefined || size < 0 ? bytes.length - pos : size),
    readLine: async (size) => line(size),
    readLines: async (hint) => {
      const lines: Uint8Array[] = [];
      let sum = 0;
      for (let next = line(); next.length; next = line()) {
        lines.push(next);
        sum += next.length;
        if (hint !== undefined && hint > 0 && sum >= hint) break;
      }
      return lines;
    },
    async *[Symbol.asyncIterator]() {
      while (pos < bytes.length) yield take(chunkSize);
    },
  };
}

/** An error stream that keeps what it is given. */
export function memoryErrors(): ErrorStream & { text: string } {
  const stream = {
    text: '',
    write(text: string) {
      stream.text += text;
    },
    writeLines(lines: Iterable<string>) {
      for (const line of lines) stream.text += line;
    },
    flush: async () => {},
  };
  return stream;
}

/** A file wrapper as the spec describes it: lazy, iterating read(blockSize), closing the file. */
export const fileWrapper: FileWrapper = (file, blockSize = 8192) => ({
  async *[Symbol.asyncIterator]() {
    for (;;) {
      const chunk = await file.read(blockSize);
      if (!chunk.length) return;
      yield chunk;
    }
  },
  close: () => file.close?.(),
});

export interface Request {
  method?: string;
  path?: string;
  query?: string;
  body?: Uint8Array;
  headers?: Record<string, string>;
}

/** A complete, correct environ for `request`, with its own signal controller. */
export function makeEnviron(request: Request = {}): { environ: Environ; controller: AbortController; errors: ReturnType<typeof memoryErrors> } {
  const controller = new AbortController();
  const errors = memoryErrors();
  const path = request.path ?? '/';
  const query = request.query ?? '';
  const environ: Environ = {
    REQUEST_METHOD: request.method ?? 'GET',
    SCRIPT_NAME: '',
    PATH_INFO: path,
    QUERY_STRING: query,
    REQUEST_URI: query ? `${path}?${query}` : path,
    SERVER_NAME: 'localhost',
    SERVER_PORT: '8000',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REMOTE_ADDR: '127.0.0.1',
    REMOTE_PORT: '54321',
    HTTP_HOST: 'localhost:8000',
    'tsgi.version': [1, 0],
    'tsgi.url_scheme': 'http',
    'tsgi.input': memoryInput(request.body ?? new Uint8Array(0)),
    'tsgi.errors': errors,
    'tsgi.multithread': true,
    'tsgi.multiprocess': false,
    'tsgi.run_once': false,
    'tsgi.input_terminated': true,
    'tsgi.signal': controller.signal,
    'tsgi.file_wrapper': fileWrapper,
  };
  if (request.body) environ.CONTENT_LENGTH = String(request.body.length);
  for (const [key, value] of Object.entries(request.headers ?? {})) (environ as unknown as Record<string, string>)[key] = value;
  return { environ, controller, errors };
}

/** What the fake server did. */
export interface Outcome {
  status: string | undefined;
  headers: HeaderList | undefined;
  body: Uint8Array;
  /** Every error the server caught: from the application, its body, or close(). */
  caught: unknown[];
  /** True when the response was cut off after its head was sent. */
  aborted: boolean;
  closeCalls: number;
  errors: string;
}

/** What a replaced step of the server gets to work with. */
export interface ServerContext {
  environ: Environ;
  controller: AbortController;
  isHead: boolean;
  /** Sends a chunk as the spec says: the head first, at the first non-empty one. */
  send(chunk: unknown): void;
  outcome: Outcome;
}

export interface ServeOptions {
  request?: Request;
  /** Changes the environ before the call (a misbehaving server). */
  environ?: (environ: Record<string, unknown>, ctx: { controller: AbortController }) => void;
  /** Replaces the server's startResponse. */
  startResponse?: (real: StartResponse, ctx: ServerContext) => StartResponse;
  /** Replaces the call of the application. */
  call?: (app: Application, environ: Environ, startResponse: StartResponse) => unknown;
  /** Replaces iterating the body. */
  consume?: (body: ResponseBody, ctx: ServerContext) => Promise<void> | void;
  /** Replaces closing the body. */
  close?: (body: ResponseBody, ctx: ServerContext) => Promise<void> | void;
}

/** Runs one exchange of `app` through the fake server. Never rejects. */
export async function serveOnce(app: Application, options: ServeOptions = {}): Promise<Outcome> {
  const { environ, controller, errors } = makeEnviron(options.request);
  options.environ?.(environ as unknown as Record<string, unknown>, { controller });
  const outcome: Outcome = { status: undefined, headers: undefined, body: new Uint8Array(0), caught: [], aborted: false, closeCalls: 0, errors: '' };
  const isHead = environ.REQUEST_METHOD === 'HEAD';
  let head: [string, HeaderList] | undefined;
  let started = false;
  let sent = false;
  let returned = false;
  const out: Uint8Array[] = [];

  const sendHead = (): void => {
    if (!head) throw new Error('send.no-start: no startResponse before the body produced data');
    sent = true;
    outcome.status = head[0];
    outcome.headers = [...head[1]];
  };
  const send = (chunk: unknown): void => {
    if (!(chunk instanceof Uint8Array)) throw new TypeError('body.chunk.type.enforced: a chunk must be a Uint8Array');
    if (!chunk.length) return;
    if (!sent) sendHead();
    if (!isHead) out.push(chunk.slice());
  };
  const write: Write = (data) => {
    if (!(data instanceof Uint8Array)) throw new TypeError('write.type-error');
    if (returned) throw new Error('write.after-return');
    send(data);
    return Promise.resolve();
  };
  const realStart: StartResponse = (status, headers, excInfo) => {
    if (excInfo !== undefined && excInfo !== null) {
      if (sent) throw excInfo;
    } else if (started) {
      throw new Error('start.once.enforced');
    }
    started = true;
    head = [status, headers];
    return write;
  };
  const ctx: ServerContext = { environ, controller, isHead, send, outcome };
  const startResponse = options.startResponse ? options.startResponse(realStart, ctx) : realStart;
  let body: ResponseBody | undefined;
  try {
    const result = options.call ? options.call(app, environ, startResponse) : app(environ, startResponse);
    body = (isThenable(result) ? await result : result) as ResponseBody;
    returned = true;
    await (options.consume ?? consume)(body, ctx);
    if (!sent) sendHead();
  } catch (error) {
    returned = true;
    outcome.caught.push(error);
    if (sent) outcome.aborted = true;
    else {
      outcome.status = '500 Internal Server Error';
      outcome.headers = [['Content-Type', 'text/plain']];
    }
  } finally {
    if (body !== undefined && body !== null) {
      try {
        await (options.close ?? closeBody)(body, ctx);
      } catch (error) {
        outcome.caught.push(error);
      }
    }
  }
  outcome.body = concat(out);
  outcome.errors = errors.text;
  return outcome;
}

/** Iterates the body as the spec says: one step at a time, `return()` on an early stop. */
export async function consume(body: ResponseBody, ctx: ServerContext): Promise<void> {
  const openAsync = (body as AsyncIterable<unknown>)[Symbol.asyncIterator];
  const it: Iterator<unknown> | AsyncIterator<unknown> =
    typeof openAsync === 'function' ? openAsync.call(body) : (body as Iterable<unknown>)[Symbol.iterator]();
  let finished = false;
  try {
    for (;;) {
      if (ctx.controller.signal.aborted) return;
      const step = await it.next();
      if (step.done) {
        finished = true;
        return;
      }
      ctx.send(step.value);
      if (ctx.isHead && (step.value as Uint8Array).length) return;
    }
  } catch (error) {
    finished = true;
    throw error;
  } finally {
    if (!finished) await it.return?.();
  }
}

export async function closeBody(body: ResponseBody, ctx: ServerContext): Promise<void> {
  if (typeof body.close === 'function') {
    ctx.outcome.closeCalls++;
    await body.close();
  }
}

export function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------
// Running the validator's test tables.

/** A program that breaks one requirement; the validator must name it, and its side, first. */
export interface BadCase {
  id: RequirementId;
  side: Side;
  name: string;
  /** The application (default: a correct hello-world). */
  app?: Application;
  /** How the fake server builds the request and misbehaves. */
  serve?: ServeOptions;
  /** Puts the validated application somewhere else than straight under the server (middleware cases). */
  wrap?: (validate: (app: Application) => Application) => Application;
  /** Runs the exchange some other way; resolves with the errors the driver caught. */
  drive?: (app: Application) => Promise<unknown[]>;
}

export const helloApp: Application = (_environ, startResponse) => {
  startResponse('200 OK', [plain]);
  return [hello];
};

/**
 * Runs `c` with a strict validator (so that SHOULD findings throw too) and checks that the
 * first violation is the one `c` names, and that it reached the server, which logs it.
 */
export async function expectViolation(c: BadCase): Promise<void> {
  const seen: ValidationError[] = [];
  const validate = (app: Application) => validator(app, { strict: true, onViolation: (error) => seen.push(error) });
  const app = c.wrap ? c.wrap(validate) : validate(c.app ?? helloApp);
  const caught = c.drive ? await c.drive(app) : (await serveOnce(app, c.serve)).caught;
  const first = seen[0];
  assert.ok(first, `no violation was found; the server caught: ${caught.map(String).join('; ') || 'nothing'}`);
  assert.deepEqual({ id: first.requirement, side: first.side }, { id: c.id, side: c.side }, first.message);
  assert.ok(
    caught.some((error) => error instanceof ValidationError && error.requirement === c.id),
    `the violation did not reach the server; it caught: ${caught.map(String).join('; ') || 'nothing'}`,
  );
}
