/**
 * The validator's stand-ins for `tsgi.input` (in `_validate-input.ts`), `tsgi.errors` and
 * `tsgi.file_wrapper`. Each checks how the application calls it (throwing synchronously
 * into the caller) and what the server's stream gives back (rejecting the read that got
 * it, naming the server). Members the spec does not list throw `streams.members` when
 * the application reaches for them.
 */
import { isUint8Array } from './_http.js';
import { Exchange, isThenable } from './_validate-exchange.js';
import { CheckedInput } from './_validate-input.js';
import { ValidationError, said } from './_validate-report.js';
import type { Environ, ErrorStream, FileLike, FileWrapper, ResponseBody } from './types.js';

const APP = 'application';
const SERVER = 'server';

/** Members an application might use to close a stream; always refused (`streams.members`). */
const CLOSERS: ReadonlySet<string> = new Set(['close', 'destroy', 'end', 'cancel']);

/**
 * The key under which a validated `tsgi.input` answers with its exchange: how a validator
 * finds another one further out, and a reused environ. A symbol the proxy answers costs
 * nothing per request, where a WeakMap entry costs the garbage collector.
 */
const OWNER = Symbol('tsgi.validate.exchange');

/** The exchange of the validator whose `tsgi.input` this environ carries, if any. */
export function exchangeOf(environ: Environ): Exchange | undefined {
  const input: unknown = environ['tsgi.input'];
  return typeof input === 'object' && input !== null ? ((input as Record<symbol, unknown>)[OWNER] as Exchange | undefined) : undefined;
}

/** Replaces the environ's streams and file wrapper with checking stand-ins. */
export function wrapStreams(ex: Exchange, environ: Environ): void {
  const length = environ.CONTENT_LENGTH;
  const input = environ['tsgi.input'];
  environ['tsgi.input'] = standIn(new CheckedInput(ex, input, length === undefined ? undefined : Number(length)), ex, input, INPUT);
  const errors = environ['tsgi.errors'];
  environ['tsgi.errors'] = standIn(new CheckedErrors(ex, errors), ex, errors, ERRORS);
  const fileWrapper = environ['tsgi.file_wrapper'];
  if (fileWrapper) environ['tsgi.file_wrapper'] = wrapFileWrapper(ex, fileWrapper);
}

/**
 * What the shared proxy handler needs to know of a stand-in stream. A class rather than
 * an object literal: V8 may decide, from the first requests alone, to allocate a
 * literal's objects straight in the old generation, and this one, made twice per request
 * and pointing at the whole exchange, then kept every request's objects alive until a
 * full collection. About one validated server process in five ran 30% slower for its
 * whole life, spending a fifth of its time collecting garbage; objects made by `new`
 * are not subject to that decision.
 */
class Stand {
  constructor(
    readonly target: object,
    readonly ex: Exchange,
    readonly inner: object,
    readonly kind: Kind,
  ) {}
}

/** A kind of stream: its name, and the members the spec lists for it. */
interface Kind {
  readonly name: string;
  readonly members: ReadonlySet<PropertyKey>;
}

const INPUT: Kind = { name: 'tsgi.input', members: new Set(['read', 'readLine', 'readLines', Symbol.asyncIterator]) };
const ERRORS: Kind = { name: 'tsgi.errors', members: new Set(['write', 'writeLines', 'flush']) };

/**
 * The handler of every stand-in stream: the members the spec lists, bound to the
 * stand-in (so they can be passed around, as stream methods often are); the plain
 * object members (`toString`...); and `streams.members` for anything else the server's
 * stream has, or that would close it.
 */
const guard: ProxyHandler<Stand> = {
  get(stand, key) {
    const target = stand.target as Record<PropertyKey, (...args: unknown[]) => unknown>;
    if (stand.kind.members.has(key)) return (target[key] as (...args: unknown[]) => unknown).bind(target);
    if (key === OWNER) return stand.ex;
    if (key in Object.prototype) return (Object.prototype as unknown as Record<PropertyKey, unknown>)[key];
    if (typeof key === 'string' && (CLOSERS.has(key) || key in stand.inner)) {
      stand.ex.fail('streams.members', APP, `an application uses only the members of ${stand.kind.name} that the spec lists, and never closes it`, said(`.${key}`));
    }
    return undefined;
  },
  has: (stand, key) => stand.kind.members.has(key) || key in Object.prototype,
  ownKeys: () => [],
};

function standIn<T>(target: object, ex: Exchange, inner: object, kind: Kind): T {
  return new Proxy<Stand>(new Stand(target, ex, inner, kind), guard) as unknown as T;
}

/** The validator's stand-in for `tsgi.errors`: text only, and a server stream that takes any. */
class CheckedErrors {
  readonly #ex: Exchange;
  readonly #inner: ErrorStream;

  constructor(ex: Exchange, inner: ErrorStream) {
    this.#ex = ex;
    this.#inner = inner;
  }

  write(value: string): void {
    const checked = this.#text(value, 'tsgi.errors.write()');
    this.#pass('errors.write', () => this.#inner.write(checked));
  }

  writeLines(lines: Iterable<string>): void {
    if (typeof lines === 'string' || typeof (lines as Partial<Iterable<string>> | null)?.[Symbol.iterator] !== 'function') {
      this.#ex.fail('errors.text', APP, 'tsgi.errors.writeLines() takes an iterable of strings', lines, 'pass an array of strings');
    }
    const list: string[] = [];
    for (const line of lines) list.push(this.#text(line, 'tsgi.errors.writeLines()'));
    this.#pass('errors.write-lines', () => this.#inner.writeLines(list));
  }

  flush(): Promise<void> {
    const result: unknown = this.#inner.flush();
    if (!isThenable(result)) this.#ex.fail('errors.flush', SERVER, 'tsgi.errors.flush() must return a Promise', result);
    return result as Promise<void>;
  }

  #text(value: unknown, call: string): string {
    if (typeof value !== 'string') {
      this.#ex.fail('errors.text', APP, `${call} takes strings`, value, isUint8Array(value) ? 'decode the bytes to text first' : 'convert it with String()');
    }
    if (value.includes('\r')) this.#ex.warn('errors.newline', APP, 'lines written to tsgi.errors should end with "\\n" alone', value);
    return value;
  }

  #pass(id: 'errors.write' | 'errors.write-lines', call: () => void): void {
    try {
      call();
    } catch (error) {
      if (error instanceof ValidationError) throw error;
      this.#ex.fail(id, SERVER, 'the error stream must accept any string without throwing', error);
    }
  }
}

/** What the validator saw of a file given to the file wrapper. */
export interface FileRecord {
  /** The file has `close()`, and whether it was called. */
  closable: boolean;
  closed: boolean;
  /** Non-empty results of the file's `read()` that the body has not produced yet. */
  reads: Uint8Array[];
  /** A `read()` gave an empty result: the end of the file. */
  ended: boolean;
}

/** The file behind each body a file wrapper returned. */
const fileBodies = new WeakMap<object, FileRecord>();

/** The file behind `body`, when the server's file wrapper made it. */
export const fileOf = (body: object): FileRecord | undefined => fileBodies.get(body);

function wrapFileWrapper(ex: Exchange, inner: FileWrapper): FileWrapper {
  return (file: FileLike, blockSize?: number): ResponseBody => {
    if (typeof file !== 'object' || file === null || typeof file.read !== 'function') {
      ex.fail('file.readable', APP, 'the file passed to tsgi.file_wrapper must have a read(size) method', file);
    }
    const close = file.close;
    const record: FileRecord = { closable: typeof close === 'function', closed: false, reads: [], ended: false };
    const checkRead = (chunk: unknown): Uint8Array => {
      if (!isUint8Array(chunk)) ex.fail('file.readable', APP, "the file's read() must give a Uint8Array", chunk);
      if (chunk.length) record.reads.push(chunk);
      else record.ended = true;
      return chunk;
    };
    const checked: FileLike = {
      read(size) {
        if (!ex.returned) ex.fail('file.lazy', SERVER, 'a file wrapper must not read before the application has returned', said('a read during the application call'));
        const result = file.read(size);
        return isThenable(result) ? Promise.resolve(result).then(checkRead) : checkRead(result);
      },
    };
    if (typeof close === 'function') {
      checked.close = () => {
        record.closed = true;
        return close.call(file);
      };
    }
    const body: unknown = blockSize === undefined ? inner(checked) : inner(checked, blockSize);
    const candidate = body as Partial<ResponseBody & Iterable<unknown> & AsyncIterable<unknown>> | null;
    if (typeof candidate?.[Symbol.asyncIterator] !== 'function' && typeof candidate?.[Symbol.iterator] !== 'function') {
      ex.fail('file.signature', SERVER, 'tsgi.file_wrapper must return a body', body);
    }
    if (record.closable && typeof candidate.close !== 'function') ex.fail('file.close', SERVER, "the wrapper's body must have a close() that closes the file", body);
    fileBodies.set(candidate, record);
    return body as ResponseBody;
  };
}

/** `file.iterate`: each chunk of a file wrapper's body is the next result of the file's `read()`. */
export function checkFileChunk(ex: Exchange, file: FileRecord, chunk: Uint8Array): void {
  const read = file.reads.shift();
  if (read !== chunk && !(read?.length === chunk.length && read.every((byte, i) => byte === chunk[i]))) {
    ex.fail('file.iterate', SERVER, "a file wrapper's body must produce what successive read(blockSize) calls give", chunk);
  }
}

/** `file.iterate` and `file.close`, when the body of a file wrapper ends or is closed. */
export function checkFileEnd(ex: Exchange, file: FileRecord, how: 'done' | 'closed'): void {
  if (how === 'done' && (!file.ended || file.reads.length)) {
    ex.fail('file.iterate', SERVER, "a file wrapper's body must end only after read() gave an empty result", said(file.reads.length ? `${file.reads.length} reads not produced` : 'an end before the end of the file'));
  }
  if (how === 'closed' && file.closable && !file.closed) ex.fail('file.close', SERVER, "the wrapper's close() must close the file", said('a file left open'));
}
