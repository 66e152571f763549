/**
 * The validator's stand-ins for `tsgi.input`, `tsgi.errors` and `tsgi.file_wrapper`.
 * Each checks how the application calls it (throwing synchronously into the caller) and
 * what the server's stream gives back (rejecting the read that got it, naming the
 * server). Members the spec does not list throw `streams.members` when the application
 * reaches for them.
 */
import { isUint8Array } from './_http.js';
import { Exchange, isThenable } from './_validate-exchange.js';
import { ValidationError, said, type MustId } from './_validate-report.js';
import type { Environ, ErrorStream, FileLike, FileWrapper, InputStream, ResponseBody } from './types.js';

const APP = 'application';
const SERVER = 'server';
const LF = 0x0a;

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
  environ['tsgi.input'] = wrapInput(ex, environ['tsgi.input'], length === undefined ? undefined : Number(length));
  environ['tsgi.errors'] = wrapErrors(ex, environ['tsgi.errors']);
  const fileWrapper = environ['tsgi.file_wrapper'];
  if (fileWrapper) environ['tsgi.file_wrapper'] = wrapFileWrapper(ex, fileWrapper);
}

/** A proxy that refuses the members of a stream the spec does not list. */
function guard<T extends object>(ex: Exchange, name: string, inner: object, target: T): T {
  return new Proxy(target, {
    get(t, key, receiver) {
      if (key in t) return Reflect.get(t, key, receiver);
      if (key === OWNER) return ex;
      if (typeof key === 'string' && (CLOSERS.has(key) || key in inner)) {
        ex.fail('streams.members', APP, `an application uses only the members of ${name} that the spec lists, and never closes it`, said(`.${key}`));
      }
      return undefined;
    },
  });
}

function checkSize(ex: Exchange, call: string, value: unknown): void {
  if (value !== undefined && !Number.isSafeInteger(value)) {
    ex.fail('input.args', APP, `${call} takes undefined or an integer`, value, typeof value === 'string' ? 'convert it with Number()' : undefined);
  }
}

function wrapInput(ex: Exchange, inner: InputStream, declared: number | undefined): InputStream {
  let issued = 0;
  let settled = 0;
  let total = 0;
  /** Set once the server said the body ended: the rule a later non-empty read would break. */
  let ended: MustId | undefined;

  /** Checks a read's result when it settles, in the order the reads were made (`input.order`). */
  function track<T>(result: unknown, call: string, check: (value: T) => void): Promise<T> {
    if (!isThenable(result)) ex.fail('input.methods', SERVER, `${call} must return a Promise`, result);
    const seq = issued++;
    const inOrder = (): void => {
      if (seq !== settled) {
        settled = Math.max(settled, seq + 1);
        ex.fail('input.order', SERVER, 'reads must settle in the order they were made', said(`read ${seq + 1} settled before read ${settled}`));
      }
      settled++;
    };
    return Promise.resolve(result as PromiseLike<T>).then(
      (value) => {
        inOrder();
        check(value);
        return value;
      },
      (error: unknown) => {
        inOrder();
        throw error;
      },
    );
  }
  function bytes(value: unknown, call: string): asserts value is Uint8Array {
    if (!isUint8Array(value)) ex.fail('input.bytes', SERVER, `${call} must resolve with a Uint8Array`, value);
  }
  /** Counts bytes delivered; a non-empty result after the end breaks the rule that ended it. */
  function got(n: number): void {
    if (n === 0) return;
    if (ended) ex.fail(ended, SERVER, 'once the body has ended, every read must resolve empty', said(`${n} more bytes`));
    total += n;
    if (declared !== undefined && total > declared) {
      ex.fail('input.no-hang', SERVER, `the body must end after CONTENT_LENGTH (${declared}) bytes`, said(`${total} bytes`));
    }
  }
  function end(rule: MustId): void {
    if (ended) return;
    ended = rule;
    if (declared !== undefined && total < declared) {
      ex.fail('input.truncated', SERVER, 'a body cut short must make the read reject, not end', said(`the end after ${total} of ${declared} bytes`));
    }
  }

  const stream: InputStream = {
    read(...args: [size?: number]) {
      const size = args[0];
      checkSize(ex, 'read(size)', size);
      return track<Uint8Array>(inner.read(...args), 'read()', (chunk) => {
        bytes(chunk, 'read()');
        if (size === 0) {
          if (chunk.length) ex.fail('input.read.zero', SERVER, 'read(0) must resolve empty', said(`${chunk.length} bytes`));
          return;
        }
        if (size !== undefined && size > 0 && chunk.length > size) {
          ex.fail('input.read', SERVER, `read(${size}) must resolve with at most ${size} bytes`, said(`${chunk.length} bytes`));
        }
        got(chunk.length);
        if (chunk.length === 0) end('input.end');
        else if (size === undefined || size < 0) end('input.read.all');
        else if (chunk.length < size) end('input.read');
      });
    },
    readLine(...args: [size?: number]) {
      const size = args[0];
      checkSize(ex, 'readLine(size)', size);
      return track<Uint8Array>(inner.readLine(...args), 'readLine()', (line) => {
        bytes(line, 'readLine()');
        const limit = size !== undefined && size >= 0 ? size : Infinity;
        if (line.length > limit) ex.fail('input.readline', SERVER, `readLine(${size}) must resolve with at most ${size} bytes`, said(`${line.length} bytes`));
        const lf = line.indexOf(LF);
        if (lf !== -1 && lf !== line.length - 1) ex.fail('input.readline', SERVER, 'readLine() must stop at the first line feed', line);
        got(line.length);
        if (size === 0) return;
        if (line.length === 0) end('input.end');
        else if (lf === -1 && line.length < limit) end('input.readline');
      });
    },
    readLines(...args: [hint?: number]) {
      const hint = args[0];
      checkSize(ex, 'readLines(hint)', hint);
      return track<Uint8Array[]>(inner.readLines(...args), 'readLines()', (lines) => {
        if (!Array.isArray(lines)) ex.fail('input.readlines', SERVER, 'readLines() must resolve with an array', lines);
        const bounded = hint !== undefined && hint > 0;
        let sum = 0;
        for (let i = 0; i < lines.length; i++) {
          const line: unknown = lines[i];
          bytes(line, 'each line of readLines()');
          const lf = line.indexOf(LF);
          if (line.length === 0 || (lf !== -1 && lf !== line.length - 1) || (lf === -1 && i !== lines.length - 1)) {
            ex.fail('input.readlines', SERVER, 'readLines() must resolve with the lines readLine() would give', line);
          }
          if (bounded && sum >= hint) ex.fail('input.readlines', SERVER, `readLines(${hint}) must stop at the line that reaches the hint`, said(`${lines.length} lines`));
          sum += line.length;
        }
        got(sum);
        const last = lines[lines.length - 1];
        if (last === undefined) end('input.end');
        else if (!bounded || sum < hint || last[last.length - 1] !== LF) end('input.readlines');
      });
    },
    [Symbol.asyncIterator]() {
      const it = inner[Symbol.asyncIterator]();
      if (typeof it !== 'object' || it === null || typeof it.next !== 'function') {
        ex.fail('input.iterate', SERVER, 'tsgi.input[Symbol.asyncIterator]() must return an async iterator', it);
      }
      const iterator: AsyncIterableIterator<Uint8Array> = {
        next: () =>
          track<IteratorResult<Uint8Array>>(it.next(), 'the input iterator', (step) => {
            if (typeof step !== 'object' || step === null) ex.fail('input.iterate', SERVER, 'the input iterator must follow the iteration protocol', step);
            if (step.done) return end('input.end');
            bytes(step.value, 'input iteration');
            if (step.value.length === 0) ex.fail('input.iterate', SERVER, 'input iteration must yield non-empty chunks', step.value);
            got(step.value.length);
          }),
        return: async (value?: unknown) => (it.return ? it.return(value) : { done: true, value: undefined }),
        [Symbol.asyncIterator]() {
          return this;
        },
      };
      return iterator;
    },
  };
  return guard(ex, 'tsgi.input', inner, stream);
}

function wrapErrors(ex: Exchange, inner: ErrorStream): ErrorStream {
  function text(value: unknown, call: string): string {
    if (typeof value !== 'string') {
      ex.fail('errors.text', APP, `${call} takes strings`, value, isUint8Array(value) ? 'decode the bytes to text first' : 'convert it with String()');
    }
    if (value.includes('\r')) ex.warn('errors.newline', APP, 'lines written to tsgi.errors should end with "\\n" alone', value);
    return value;
  }
  function pass(id: 'errors.write' | 'errors.write-lines', call: () => void): void {
    try {
      call();
    } catch (error) {
      if (error instanceof ValidationError) throw error;
      ex.fail(id, SERVER, 'the error stream must accept any string without throwing', error);
    }
  }
  const stream: ErrorStream = {
    write(value) {
      const checked = text(value, 'tsgi.errors.write()');
      pass('errors.write', () => inner.write(checked));
    },
    writeLines(lines) {
      if (typeof lines === 'string' || typeof (lines as Partial<Iterable<string>> | null)?.[Symbol.iterator] !== 'function') {
        ex.fail('errors.text', APP, 'tsgi.errors.writeLines() takes an iterable of strings', lines, 'pass an array of strings');
      }
      const list: string[] = [];
      for (const line of lines) list.push(text(line, 'tsgi.errors.writeLines()'));
      pass('errors.write-lines', () => inner.writeLines(list));
    },
    flush() {
      const result: unknown = inner.flush();
      if (!isThenable(result)) ex.fail('errors.flush', SERVER, 'tsgi.errors.flush() must return a Promise', result);
      return result as Promise<void>;
    },
  };
  return guard(ex, 'tsgi.errors', inner, stream);
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
