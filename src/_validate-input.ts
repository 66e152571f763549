/**
 * The validator's stand-in for `tsgi.input`. It checks the sizes the application passes
 * (throwing into the caller) and what the server's stream gives back (rejecting the read
 * that got it, naming the server): `Uint8Array`s, in the order the reads were made, as
 * many bytes as asked and no more, nothing after the end, no more than `CONTENT_LENGTH`
 * and no end before it.
 *
 * One instance per request, with its state in private fields and its methods on the
 * prototype: it costs one object, where closures would cost a dozen.
 */
import { isUint8Array } from './_http.js';
import { type Exchange, isThenable } from './_validate-exchange.js';
import { said, type MustId } from './_validate-report.js';
import type { InputStream } from './types.js';

const APP = 'application';
const SERVER = 'server';
const LF = 0x0a;

export class CheckedInput {
  readonly #ex: Exchange;
  readonly #inner: InputStream;
  /** `CONTENT_LENGTH`, when the request declared one. */
  readonly #declared: number | undefined;
  #issued = 0;
  #settled = 0;
  #total = 0;
  /** Set once the server said the body ended: the rule a later non-empty read would break. */
  #ended: MustId | undefined;

  constructor(ex: Exchange, inner: InputStream, declared: number | undefined) {
    this.#ex = ex;
    this.#inner = inner;
    this.#declared = declared;
  }

  read(...args: [size?: number]): Promise<Uint8Array> {
    const size = args[0];
    this.#size('read(size)', size);
    return this.#track<Uint8Array>(this.#inner.read(...args), 'read()', (chunk) => {
      this.#bytes(chunk, 'read()');
      if (size === 0) {
        if (chunk.length) this.#ex.fail('input.read.zero', SERVER, 'read(0) must resolve empty', said(`${chunk.length} bytes`));
        return;
      }
      if (size !== undefined && size > 0 && chunk.length > size) {
        this.#ex.fail('input.read', SERVER, `read(${size}) must resolve with at most ${size} bytes`, said(`${chunk.length} bytes`));
      }
      this.#got(chunk.length);
      if (chunk.length === 0) this.#end('input.end');
      else if (size === undefined || size < 0) this.#end('input.read.all');
      else if (chunk.length < size) this.#end('input.read');
    });
  }

  readLine(...args: [size?: number]): Promise<Uint8Array> {
    const size = args[0];
    this.#size('readLine(size)', size);
    return this.#track<Uint8Array>(this.#inner.readLine(...args), 'readLine()', (line) => {
      this.#bytes(line, 'readLine()');
      const limit = size !== undefined && size >= 0 ? size : Infinity;
      if (line.length > limit) this.#ex.fail('input.readline', SERVER, `readLine(${size}) must resolve with at most ${size} bytes`, said(`${line.length} bytes`));
      const lf = line.indexOf(LF);
      if (lf !== -1 && lf !== line.length - 1) this.#ex.fail('input.readline', SERVER, 'readLine() must stop at the first line feed', line);
      this.#got(line.length);
      if (size === 0) return;
      if (line.length === 0) this.#end('input.end');
      else if (lf === -1 && line.length < limit) this.#end('input.readline');
    });
  }

  readLines(...args: [hint?: number]): Promise<Uint8Array[]> {
    const hint = args[0];
    this.#size('readLines(hint)', hint);
    return this.#track<Uint8Array[]>(this.#inner.readLines(...args), 'readLines()', (lines) => {
      const ex = this.#ex;
      if (!Array.isArray(lines)) ex.fail('input.readlines', SERVER, 'readLines() must resolve with an array', lines);
      const bounded = hint !== undefined && hint > 0;
      let sum = 0;
      for (let i = 0; i < lines.length; i++) {
        const line: unknown = lines[i];
        this.#bytes(line, 'each line of readLines()');
        const lf = line.indexOf(LF);
        if (line.length === 0 || (lf !== -1 && lf !== line.length - 1) || (lf === -1 && i !== lines.length - 1)) {
          ex.fail('input.readlines', SERVER, 'readLines() must resolve with the lines readLine() would give', line);
        }
        if (bounded && sum >= hint) ex.fail('input.readlines', SERVER, `readLines(${hint}) must stop at the line that reaches the hint`, said(`${lines.length} lines`));
        sum += line.length;
      }
      this.#got(sum);
      const last = lines[lines.length - 1];
      if (last === undefined) this.#end('input.end');
      else if (!bounded || sum < hint || last[last.length - 1] !== LF) this.#end('input.readlines');
    });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    const it = this.#inner[Symbol.asyncIterator]();
    if (typeof it !== 'object' || it === null || typeof it.next !== 'function') {
      this.#ex.fail('input.iterate', SERVER, 'tsgi.input[Symbol.asyncIterator]() must return an async iterator', it);
    }
    return {
      next: () =>
        this.#track<IteratorResult<Uint8Array>>(it.next(), 'the input iterator', (step) => {
          if (typeof step !== 'object' || step === null) this.#ex.fail('input.iterate', SERVER, 'the input iterator must follow the iteration protocol', step);
          if (step.done) return this.#end('input.end');
          this.#bytes(step.value, 'input iteration');
          if (step.value.length === 0) this.#ex.fail('input.iterate', SERVER, 'input iteration must yield non-empty chunks', step.value);
          this.#got(step.value.length);
        }),
      return: async (value?: unknown) => (it.return ? it.return(value) : { done: true, value: undefined }),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /** `input.args`: a size or hint is `undefined` or an integer. */
  #size(call: string, value: unknown): void {
    if (value !== undefined && !Number.isSafeInteger(value)) {
      this.#ex.fail('input.args', APP, `${call} takes undefined or an integer`, value, typeof value === 'string' ? 'convert it with Number()' : undefined);
    }
  }

  /** Checks a read's result when it settles, in the order the reads were made (`input.order`). */
  #track<T>(result: unknown, call: string, check: (value: T) => void): Promise<T> {
    if (!isThenable(result)) this.#ex.fail('input.methods', SERVER, `${call} must return a Promise`, result);
    const seq = this.#issued++;
    const inOrder = (): void => {
      if (seq !== this.#settled) {
        this.#settled = Math.max(this.#settled, seq + 1);
        this.#ex.fail('input.order', SERVER, 'reads must settle in the order they were made', said(`read ${seq + 1} settled before read ${this.#settled}`));
      }
      this.#settled++;
    };
    return Promise.resolve(result).then(
      (value) => {
        inOrder();
        check(value as T);
        return value as T;
      },
      (error: unknown) => {
        inOrder();
        throw error;
      },
    );
  }

  #bytes(value: unknown, call: string): asserts value is Uint8Array {
    if (!isUint8Array(value)) this.#ex.fail('input.bytes', SERVER, `${call} must resolve with a Uint8Array`, value);
  }

  /** Counts bytes delivered; a non-empty result after the end breaks the rule that ended it. */
  #got(n: number): void {
    if (n === 0) return;
    if (this.#ended) this.#ex.fail(this.#ended, SERVER, 'once the body has ended, every read must resolve empty', said(`${n} more bytes`));
    this.#total += n;
    const declared = this.#declared;
    if (declared !== undefined && this.#total > declared) {
      this.#ex.fail('input.no-hang', SERVER, `the body must end after CONTENT_LENGTH (${declared}) bytes`, said(`${this.#total} bytes`));
    }
  }

  #end(rule: MustId): void {
    if (this.#ended) return;
    this.#ended = rule;
    const declared = this.#declared;
    if (declared !== undefined && this.#total < declared) {
      this.#ex.fail('input.truncated', SERVER, 'a body cut short must make the read reject, not end', said(`the end after ${this.#total} of ${declared} bytes`));
    }
  }
}
