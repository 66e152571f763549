/**
 * Request-body sources for `createInputStream()` that the CGI and fetch transports share:
 * a body cut to the length its request declared, and a web `ReadableStream` read one
 * chunk per pull. Both open their source only on the first read, so a request whose body
 * the application never reads leaves the body untouched for the platform to deal with.
 */
import { isUint8Array } from './_http.js';

type Source = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
type SourceIterator = AsyncIterator<unknown> | Iterator<unknown>;

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** A body source the transport can let go of when the exchange is over. */
export interface BodySource extends AsyncIterableIterator<Uint8Array> {
  /** Ends the source's iteration (a Node stream is destroyed), if it was ever opened. */
  release(): Promise<void>;
}

/**
 * The first `length` bytes of `source`. It never asks `source` for more once it has them,
 * because a CGI script's stdin may be a socket that stays open after the body
 * (RFC 3875, section 4.2), and a source that ends sooner makes the read fail instead of
 * passing for a complete body (`input.truncated`).
 */
export function limitBody(source: Source, length: number): BodySource {
  return new LimitedBody(source, length);
}

class LimitedBody implements BodySource {
  readonly #source: Source;
  readonly #length: number;
  #left: number;
  #iterator: SourceIterator | undefined;

  constructor(source: Source, length: number) {
    this.#source = source;
    this.#length = length;
    this.#left = length;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<Uint8Array>> {
    if (this.#left === 0) return DONE;
    const iterator = (this.#iterator ??= open(this.#source));
    const step = await iterator.next();
    if (step.done) {
      this.#iterator = undefined;
      throw new Error(`the request body ended after ${this.#length - this.#left} of its ${this.#length} declared bytes`);
    }
    const chunk = step.value;
    // Anything else is reported by the input stream, which knows how to name it.
    if (!isUint8Array(chunk)) return { done: false, value: chunk as Uint8Array };
    if (chunk.length < this.#left) {
      this.#left -= chunk.length;
      return { done: false, value: chunk };
    }
    const last = chunk.length === this.#left ? chunk : chunk.subarray(0, this.#left);
    this.#left = 0;
    return { done: false, value: last };
  }

  async return(): Promise<IteratorResult<Uint8Array>> {
    await this.release();
    return DONE;
  }

  async release(): Promise<void> {
    const iterator = this.#iterator;
    this.#iterator = undefined;
    this.#left = 0;
    if (typeof iterator?.return === 'function') await iterator.return();
  }
}

/**
 * A web `ReadableStream` as a body source. The stream is locked only at the first read.
 * `cancel(reason)` ends a read in progress: it then rejects with `reason`, never ends
 * as if the body were complete (`input.truncated`).
 */
export function streamSource(stream: ReadableStream<Uint8Array>): BodySource & { cancel(reason: unknown): void } {
  return new StreamSource(stream);
}

class StreamSource implements BodySource {
  readonly #stream: ReadableStream<Uint8Array>;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #failure: { reason: unknown } | undefined;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#stream = stream;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<Uint8Array>> {
    this.#throwIfCancelled();
    const step = await (this.#reader ??= this.#stream.getReader()).read();
    // A cancelled reader reports the end; for the application it is a failure.
    this.#throwIfCancelled();
    return step.done ? DONE : step;
  }

  #throwIfCancelled(): void {
    if (this.#failure) throw this.#failure.reason;
  }

  async return(): Promise<IteratorResult<Uint8Array>> {
    await this.release();
    return DONE;
  }

  async release(): Promise<void> {
    await this.#reader?.cancel().catch(() => {});
  }

  cancel(reason: unknown): void {
    if (this.#failure) return;
    this.#failure = { reason };
    this.#reader?.cancel(reason).catch(() => {});
  }
}

function open(source: Source): SourceIterator {
  return Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
}
