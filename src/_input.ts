/**
 * The one implementation of the spec's input stream (`tsgi.input`), shared by the
 * reference server and by `createInput()` in `tsgi/util`.
 *
 * It pulls chunks from its source only when a read needs them, so a slow reader slows
 * the socket down instead of filling memory. Reads are serialised: each one starts when
 * the previous one has settled (`input.order`). Bytes are never copied when a read can
 * be answered with a view of one source chunk; they are copied only to join chunks.
 *
 * A source chunk is handed to the application as it is (or as views of it), so the
 * source MUST NOT reuse or modify a chunk after yielding it, and its `next()` MUST
 * settle: a server ends it with an error when the client goes away (`input.truncated`),
 * which this stream then passes on to the pending and every later read.
 *
 * @module
 */
import { contractError, isUint8Array, show } from './_http.js';
import type { InputStream } from './types.js';

export interface InputStreamOptions {
  /** Called once, synchronously, the first time the application calls any read method or starts iterating (the server uses it to send `100 Continue`). */
  onFirstRead?: () => void;
}

type Source = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
type SourceIterator = AsyncIterator<unknown> | Iterator<unknown>;

const LF = 0x0a;
const noop = (): void => {};
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * Creates an input stream over `source`, a sync or async iterable of `Uint8Array` chunks
 * (a Node `IncomingMessage` is one). Nothing is pulled from `source` before the first
 * read. `read(0)`, `readLine(0)` and calls with invalid arguments read nothing and do not
 * count as the first read.
 */
export function createInputStream(source: Source, options?: InputStreamOptions): InputStream {
  if (!isIterable(source)) {
    throw new TypeError('createInputStream: source must be an iterable or async iterable of Uint8Array chunks');
  }
  return new Input(source, options?.onFirstRead);
}

/**
 * The stream's state lives in private fields and its logic in methods on the prototype,
 * so that a request whose body is never read costs one small object, not a set of
 * closures (the server creates one per request).
 */
class Input implements InputStream {
  readonly #source: Source;
  #onFirstRead: (() => void) | undefined;
  #iterator: SourceIterator | undefined;
  // Unread bytes: chunks[head..] in order. A head index instead of shift() keeps a long
  // run of small chunks O(n); consumed slots are dropped when the queue empties or grows.
  readonly #chunks: Uint8Array[] = [];
  #head = 0;
  #buffered = 0;
  #ended = false;
  #failure: { error: unknown } | undefined;
  #tail: Promise<unknown> | undefined;

  constructor(source: Source, onFirstRead: (() => void) | undefined) {
    this.#source = source;
    this.#onFirstRead = onFirstRead;
  }

  read(size?: number): Promise<Uint8Array> {
    return this.#schedule('read', 'size', size, true, (n) =>
      n < 0 ? this.#readAll() : n === 0 ? new Uint8Array(0) : this.#readSome(n),
    );
  }

  readLine(size?: number): Promise<Uint8Array> {
    return this.#schedule('readLine', 'size', size, true, (n) =>
      n === 0 ? new Uint8Array(0) : this.#readLine(n < 0 ? Infinity : n),
    );
  }

  readLines(hint?: number): Promise<Uint8Array[]> {
    return this.#schedule('readLines', 'hint', hint, false, (n) => this.#readLines(n));
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    let finished = false;
    const chunkIterator: AsyncIterableIterator<Uint8Array> = {
      next: (): Promise<IteratorResult<Uint8Array>> => {
        this.#firstRead();
        return this.#enqueue(async () => {
          if (finished) return DONE;
          if (this.#failure) throw this.#failure.error;
          const chunk = await this.#nextChunk();
          if (chunk) return { done: false, value: chunk };
          finished = true;
          return DONE;
        });
      },
      // Leaving a loop early ends this iterator only: the stream stays readable, and
      // the server still needs the source to drain the rest of the body.
      return(): Promise<IteratorResult<Uint8Array>> {
        finished = true;
        return Promise.resolve(DONE);
      },
      [Symbol.asyncIterator]() {
        return chunkIterator;
      },
    };
    return chunkIterator;
  }

  #firstRead(): void {
    if (this.#onFirstRead === undefined) return;
    const hook = this.#onFirstRead;
    this.#onFirstRead = undefined;
    try {
      hook();
    } catch (error) {
      // The server could not let the body come; the reads must not wait for it.
      this.#failure ??= { error };
    }
  }

  #enqueue<T>(op: () => T | Promise<T>): Promise<T> {
    const result = (this.#tail ?? Promise.resolve()).then(op);
    this.#tail = result.then(noop, noop);
    return result;
  }

  /** The next non-empty chunk of the source, or `undefined` at its end. */
  async #pull(): Promise<Uint8Array | undefined> {
    if (this.#failure) throw this.#failure.error;
    if (this.#ended) return undefined;
    try {
      const iterator = (this.#iterator ??= open(this.#source));
      for (;;) {
        const step = await iterator.next();
        if (step.done) {
          this.#ended = true;
          this.#iterator = undefined;
          return undefined;
        }
        const chunk = step.value;
        if (!isUint8Array(chunk)) {
          const error = new TypeError(`tsgi.input: the body source produced ${show(chunk)} instead of a Uint8Array`);
          release(iterator);
          throw error;
        }
        if (chunk.length > 0) return asPlain(chunk);
      }
    } catch (error) {
      this.#failure ??= { error };
      throw this.#failure.error;
    }
  }

  #push(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  #compact(): void {
    if (this.#head === this.#chunks.length) {
      this.#chunks.length = 0;
      this.#head = 0;
    } else if (this.#head >= 64) {
      this.#chunks.splice(0, this.#head);
      this.#head = 0;
    }
  }

  /** Removes and returns the first `n` buffered bytes; `0 < n <= buffered`. */
  #take(n: number): Uint8Array {
    const chunks = this.#chunks;
    const first = chunks[this.#head]!;
    this.#buffered -= n;
    if (first.length >= n) {
      if (first.length === n) {
        this.#head++;
        this.#compact();
        return first;
      }
      chunks[this.#head] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = chunks[this.#head]!;
      const count = Math.min(chunk.length, n - filled);
      if (count === chunk.length) {
        out.set(chunk, filled);
        this.#head++;
      } else {
        out.set(chunk.subarray(0, count), filled);
        chunks[this.#head] = chunk.subarray(count);
      }
      filled += count;
    }
    this.#compact();
    return out;
  }

  async #readAll(): Promise<Uint8Array> {
    const chunks = this.#chunks;
    const parts = this.#head === 0 ? chunks.slice() : chunks.slice(this.#head);
    let total = this.#buffered;
    chunks.length = 0;
    this.#head = 0;
    this.#buffered = 0;
    for (let chunk = await this.#pull(); chunk; chunk = await this.#pull()) {
      parts.push(chunk);
      total += chunk.length;
    }
    return parts.length === 1 ? parts[0]! : concat(parts, total);
  }

  async #readSome(size: number): Promise<Uint8Array> {
    while (this.#buffered < size) {
      const chunk = await this.#pull();
      if (!chunk) break;
      this.#push(chunk);
    }
    return this.#buffered === 0 ? new Uint8Array(0) : this.#take(Math.min(size, this.#buffered));
  }

  async #readLine(limit: number): Promise<Uint8Array> {
    // Each chunk is searched once, however many pulls the line takes.
    const chunks = this.#chunks;
    let index = this.#head;
    let before = 0;
    for (;;) {
      for (; index < chunks.length; index++) {
        const chunk = chunks[index]!;
        const at = chunk.indexOf(LF);
        if (at >= 0) return this.#take(Math.min(before + at + 1, limit));
        before += chunk.length;
      }
      if (this.#buffered >= limit) return this.#take(limit);
      const chunk = await this.#pull();
      if (!chunk) return this.#buffered === 0 ? new Uint8Array(0) : this.#take(this.#buffered);
      this.#push(chunk);
    }
  }

  async #readLines(hint: number): Promise<Uint8Array[]> {
    const lines: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const line = await this.#readLine(Infinity);
      if (line.length === 0) return lines;
      lines.push(line);
      total += line.length;
      if (hint > 0 && total >= hint) return lines;
    }
  }

  async #nextChunk(): Promise<Uint8Array | undefined> {
    if (this.#buffered === 0) return this.#pull();
    const chunk = this.#chunks[this.#head]!;
    this.#head++;
    this.#buffered -= chunk.length;
    this.#compact();
    return chunk;
  }

  /**
   * Runs `op` in turn, after checking the argument and that the body is still readable.
   * `zeroReadsNothing`: `read(0)` and `readLine(0)` need no body, so they do not count as
   * the first read (no `100 Continue` for them); `readLines(0)` reads everything.
   */
  #schedule<T>(
    method: string,
    name: string,
    value: number | undefined,
    zeroReadsNothing: boolean,
    op: (n: number) => Promise<T> | T,
  ): Promise<T> {
    const invalid = value !== undefined && !Number.isSafeInteger(value);
    if (!invalid && !(zeroReadsNothing && value === 0)) this.#firstRead();
    return this.#enqueue(() => {
      if (invalid) throw argumentError(method, name, value);
      if (this.#failure) throw this.#failure.error;
      return op(value ?? -1);
    });
  }
}

function isIterable(value: unknown): value is Source {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    (typeof (value as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function' ||
      typeof (value as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function')
  );
}

function open(source: Source): SourceIterator {
  return Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
}

/** Tells the source we stop early, without letting its own failure hide ours. */
function release(iterator: SourceIterator): void {
  try {
    const result = iterator.return?.();
    if (result && typeof (result as PromiseLike<unknown>).then === 'function') {
      Promise.resolve(result).catch(noop);
    }
  } catch {
    // The source's cleanup failing changes nothing for the reader.
  }
}

/**
 * A plain `Uint8Array` view of the same bytes. Every read resolves with plain
 * `Uint8Array`s, never sometimes a `Buffer`, so an application cannot come to rely on
 * `Buffer` methods that another server's input stream would not have.
 */
function asPlain(chunk: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(chunk) === Uint8Array.prototype ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function argumentError(method: string, name: string, value: unknown): TypeError {
  const got = typeof value === 'number' || typeof value === 'bigint' ? String(value) : show(value);
  const message = `tsgi.input.${method}(${name}) takes undefined or an integer (Number.isSafeInteger); got ${got}`;
  return contractError('input.args', message, 'application', TypeError);
}
