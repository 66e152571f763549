/**
 * The exchange state machine behind `runExchange()` (see `handler.ts` for the contract it
 * serves). Private so that a transport in this package can take a synchronous outcome
 * without the Promise that the public function must return.
 */
import { contractError, isUint8Array, parseResponseHead, show, withHeader, type ResponseHead } from './_http.js';
import { FileWrapper } from './util.js';
import type { OutgoingHead, Outcome, Transport } from './handler.js';
import type { Application, Environ, ErrorStream, HeaderList, ResponseBody, StartResponse, Write } from './types.js';

const ERROR_BODY = new TextEncoder().encode('Internal Server Error\n');
const ERROR_HEAD: HeaderList = [
  ['Content-Type', 'text/plain; charset=utf-8'],
  ['Content-Length', String(ERROR_BODY.length)],
];
const noop = () => {};

/** Thrown inside the core when the client has gone; never reported as an application error. */
class Disconnected extends Error {
  constructor() {
    super('the client went away before the response was complete');
  }
}

/**
 * Runs one exchange, as `runExchange()` does, and returns its outcome directly when the
 * exchange finished without waiting (a synchronous application with an array body), so
 * that the common case costs no Promise. Never throws.
 */
export function execute(app: Application, environ: Environ, transport: Transport): Outcome | Promise<Outcome> {
  return new Exchange(app, environ, transport).run();
}

class Exchange {
  readonly #app: Application;
  readonly #environ: Environ;
  readonly #t: Transport;
  readonly #isHead: boolean;

  // startResponse state. A call is recorded before its arguments are checked, so that a
  // second call without excInfo fails even when the first one threw (start.once.enforced).
  #startCalled = false;
  #head: ResponseHead | undefined;
  #headError: unknown;
  #headSent = false;

  // Body state.
  #returned = false;
  #usedWrite = false;
  // The tail of the write() queue; created by the first write, which most exchanges never make.
  #writes: Promise<void> | undefined;
  #knownLength: number | undefined;
  #bytes = 0;
  #stop = false;
  #status: number | undefined;
  // Set when the message was ended along with its last chunk (an array body's).
  #ended = false;
  // The body is this package's FileWrapper (or the validator's view of one).
  #wrappedFile = false;

  constructor(app: Application, environ: Environ, transport: Transport) {
    this.#app = app;
    this.#environ = environ;
    this.#t = transport;
    this.#isHead = transport.method === 'HEAD';
  }

  run(): Outcome | Promise<Outcome> {
    let result: ResponseBody | Promise<ResponseBody>;
    try {
      result = this.#app.call(undefined, this.#environ, this.#startResponse);
    } catch (error) {
      this.#returned = true;
      return this.#finish(error);
    }
    if (Array.isArray(result)) {
      try {
        const outcome = this.#sendArrayAtOnce(result as unknown[]);
        if (outcome) return outcome;
      } catch (error) {
        // Only the transport can throw here, as it could on the general path.
        return this.#finish(error);
      }
    }
    return this.#runAsync(result);
  }

  /**
   * The common case without a single await: a synchronous application that returned an
   * array, with a valid head, no `write()`, no `close` property. The array is in memory already,
   * so handing all of it to the transport at once costs no extra memory. Returns
   * undefined, having sent nothing, when any condition fails: the general path then
   * handles the exchange, errors included.
   */
  #sendArrayAtOnce(chunks: unknown[]): Outcome | undefined {
    const head = this.#head;
    const t = this.#t;
    if (!head || this.#usedWrite || t.signal.aborted || (chunks as { close?: unknown }).close !== undefined) return undefined;
    const length = arrayLength(chunks);
    if (length === undefined || (head.contentLength !== undefined && head.contentLength !== length)) return undefined;
    // A 204 or 304 with body bytes is an error to report: the general path does that.
    if (length > 0 && !this.#isHead && (head.code === 204 || head.code === 304)) return undefined;
    this.#returned = true;
    this.#knownLength = length;
    this.#sendHead();
    const bodyless = this.#bodyless(head);
    let last: Uint8Array | undefined;
    if (!bodyless) {
      for (const chunk of chunks as Uint8Array[]) {
        if (chunk.length === 0) continue;
        if (last) t.write(last)?.catch(noop);
        last = chunk;
      }
      this.#bytes = length;
    }
    const ended = t.end(last);
    if (ended) ended.catch(noop);
    this.#ended = true;
    return { status: head.code, bytes: this.#bytes, completed: true, disconnected: false };
  }

  async #runAsync(result: ResponseBody | Promise<ResponseBody>): Promise<Outcome> {
    let body: ResponseBody | undefined;
    let error: unknown;
    try {
      body = isThenable(result) ? await result : result;
      checkBody(body);
      this.#returned = true;
      if (this.#writes) await this.#writes;
      await this.#iterate(body);
    } catch (caught) {
      this.#returned = true;
      error = caught;
    }
    if (body !== undefined && typeof (body as { close?: unknown }).close === 'function') {
      await this.#close(body as ResponseBody & { close(): unknown });
    }
    return this.#finish(error);
  }

  readonly #startResponse: StartResponse = (status, headers, excInfo) => {
    if (excInfo !== undefined && excInfo !== null) {
      if (this.#headSent) throw excInfo; // exc.rethrow: the same value, stack intact
    } else if (this.#startCalled) {
      throw contractError('start.once.enforced', 'startResponse was called a second time without excInfo');
    }
    this.#startCalled = true;
    try {
      this.#head = parseResponseHead(status, headers);
      this.#headError = undefined;
    } catch (invalid) {
      this.#head = undefined;
      this.#headError = invalid;
      throw invalid;
    }
    return this.#write;
  };

  readonly #write: Write = (data) => {
    if (!isUint8Array(data)) {
      throw contractError('write.type-error', `write() takes a Uint8Array; got ${show(data)}`, 'application', TypeError);
    }
    if (this.#returned) {
      throw contractError('write.after-return', 'write() was called after the application returned its body');
    }
    this.#usedWrite = true;
    const sent = (this.#writes ?? Promise.resolve()).then(() => this.#send(data, false));
    // Later writes wait for this one, and fail on their own if it failed (write.order).
    this.#writes = sent.catch(noop);
    sent.catch(noop); // write.no-unhandled: an unawaited rejection never reaches the process
    return sent;
  };

  async #iterate(body: ResponseBody): Promise<void> {
    if (Array.isArray(body)) return this.#iterateArray(body as unknown[]);
    this.#wrappedFile = body instanceof FileWrapper;
    const asyncMethod = (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator];
    const iterator: AsyncIterator<unknown> | Iterator<unknown> =
      typeof asyncMethod === 'function'
        ? asyncMethod.call(body)
        : (body as Iterable<Uint8Array>)[Symbol.iterator]();
    let finished = false;
    let nextThrew = false;
    try {
      while (!this.#stopping()) {
        let step: IteratorResult<unknown>;
        try {
          const result = iterator.next();
          step = isThenable(result) ? await result : result;
        } catch (error) {
          nextThrew = true;
          throw error;
        }
        if (step.done) {
          finished = true;
          return;
        }
        await this.#send(checkChunk(step.value), false);
      }
    } finally {
      // body.iterate.return: an early exit releases the iterator, as for-await does,
      // unless the iterator itself failed.
      if (!finished && !nextThrew) await returnIterator(iterator, this.#t.errors);
    }
  }

  async #iterateArray(chunks: unknown[]): Promise<void> {
    if (!this.#usedWrite) this.#knownLength = arrayLength(chunks);
    const last = chunks.length - 1;
    for (let i = 0; i <= last && !this.#stopping(); i++) {
      await this.#send(checkChunk(chunks[i]), i === last);
    }
  }

  /** Whether iteration must stop before the next chunk (disconnect.stop, head.stop-early, overrun). */
  #stopping(): boolean {
    if (this.#t.signal.aborted) throw new Disconnected();
    return this.#stop;
  }


  /** Sends one chunk from the body or write(), sending the head first when it is due. */
  async #send(chunk: Uint8Array, last: boolean): Promise<void> {
    if (this.#t.signal.aborted) throw new Disconnected();
    if (chunk.length === 0 && !last) return; // send.empty-chunk
    if (!this.#headSent) {
      if (chunk.length === 0) return;
      this.#sendHead();
    }
    const head = this.#head as ResponseHead;
    if (this.#bodyless(head)) {
      // head.no-body, status.no-content.server; a HEAD body is never wanted past its first chunk.
      if (this.#isHead) this.#stop = true;
      else if (chunk.length > 0) {
        this.#reportLater(contractError('body.no-content', `a ${head.code} response produced ${chunk.length} body bytes`));
        this.#stop = true;
      }
      return;
    }
    let data = chunk;
    const limit = head.contentLength;
    if (limit !== undefined && this.#bytes + data.length > limit) {
      // framing.content-length.no-overrun: send what was declared, report the rest;
      // unless the body is a wrapped file, which may be sent in part (file.length).
      if (!this.#wrappedFile) {
        this.#reportLater(
          contractError('framing.content-length.match', `the body exceeds its Content-Length of ${limit} bytes`),
        );
      }
      data = data.subarray(0, limit - this.#bytes);
      this.#stop = true;
    }
    this.#bytes += data.length;
    // file.length: a wrapped file is read no further than its declared length.
    if (this.#wrappedFile && this.#bytes === limit) this.#stop = true;
    // Only a body of its declared length may end with the message; a short one is cut
    // off by #finish (framing.content-length.short).
    if (last && !this.#stop && !this.#usedWrite && (limit === undefined || this.#bytes === limit)) {
      this.#ended = true;
      await this.#t.end(data.length ? data : undefined);
      return;
    }
    if (data.length === 0) return;
    const ready = this.#t.write(data);
    if (ready) await ready.catch(disconnected);
  }

  #bodyless(head: ResponseHead): boolean {
    return this.#isHead || head.code === 204 || head.code === 304;
  }

  #sendHead(): void {
    if (!this.#startCalled) {
      throw contractError('send.no-start', 'the body produced data (or ended) before startResponse was called');
    }
    if (!this.#head) throw this.#headError;
    const head = this.#head;
    let headers = head.headers;
    let contentLength = head.contentLength;
    const noContent = head.code === 204 || head.code === 304;
    if (contentLength === undefined && this.#knownLength !== undefined && !noContent) {
      contentLength = this.#knownLength; // framing.known-length
      headers = withHeader(headers, ['Content-Length', String(contentLength)]);
    }
    this.#headSent = true;
    this.#status = head.code;
    this.#t.sendHead({ code: head.code, reason: head.reason, headers, contentLength, bodyless: this.#bodyless(head) });
  }

  #pendingErrors: unknown[] | undefined;

  /** Records an application error that does not stop the response (it is logged at the end). */
  #reportLater(error: unknown): void {
    (this.#pendingErrors ??= []).push(error);
  }

  async #close(body: ResponseBody & { close(): unknown }): Promise<void> {
    try {
      const result = body.close();
      if (isThenable(result)) await result;
    } catch (error) {
      this.#log('close() failed', error); // close.errors
    }
  }

  async #finish(error: unknown): Promise<Outcome> {
    const t = this.#t;
    const disconnected = error instanceof Disconnected || t.signal.aborted;
    for (const pending of this.#pendingErrors ?? []) this.#log('application error', pending);
    const outcome: Outcome = { status: this.#status, bytes: this.#bytes, completed: false, disconnected };
    if (disconnected) {
      // disconnect.quiet: nobody is listening, and it is nobody's fault.
      if (!this.#ended) t.abort(t.signal.reason ?? error);
      return outcome;
    }
    if (error !== undefined) {
      outcome.error = error;
      this.#log('application error', error); // error.logged
      if (this.#headSent) {
        t.abort(error); // error.after-headers
        return outcome;
      }
      this.#status = outcome.status = 500; // error.before-headers
      this.#bytes = outcome.bytes = this.#isHead ? 0 : ERROR_BODY.length;
      t.sendHead({ code: 500, reason: 'Internal Server Error', headers: ERROR_HEAD, contentLength: ERROR_BODY.length, bodyless: this.#isHead });
      await settle(t.end(this.#isHead ? undefined : ERROR_BODY));
      outcome.completed = true;
      return outcome;
    }
    if (!this.#headSent) {
      try {
        this.#knownLength ??= 0;
        this.#sendHead();
      } catch (invalid) {
        return this.#finish(invalid);
      }
      outcome.status = this.#status;
    }
    const head = this.#head as ResponseHead;
    const declared = head.contentLength;
    if (declared !== undefined && this.#bytes < declared && !this.#bodyless(head)) {
      // framing.content-length.short: a truncated message, never a complete-looking one.
      this.#log(
        'application error',
        contractError('framing.content-length.match', `the body produced ${this.#bytes} of its ${declared} declared bytes`),
      );
      t.abort(new Error('short body'));
      return outcome;
    }
    if (!this.#ended) await settle(t.end());
    outcome.completed = !t.signal.aborted;
    outcome.disconnected = t.signal.aborted;
    return outcome;
  }

  #log(what: string, error: unknown): void {
    const detail = error instanceof Error ? (error.stack ?? String(error)) : show(error);
    try {
      this.#t.errors.write(`tsgi: ${what} in ${this.#t.method} ${this.#t.target}: ${detail}\n`);
    } catch {
      // errors.write must not throw; if a broken stream does, there is nowhere left to report it.
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function';
}

function checkBody(body: unknown): asserts body is ResponseBody {
  if (body === null || body === undefined || typeof body === 'string' || isUint8Array(body)) {
    throw contractError(
      'app.return.not-bytes',
      `the application returned ${show(body)}; return an iterable of Uint8Array chunks, such as [bytes]`,
    );
  }
  const candidate = body as Partial<AsyncIterable<unknown> & Iterable<unknown>>;
  if (typeof candidate[Symbol.asyncIterator] !== 'function' && typeof candidate[Symbol.iterator] !== 'function') {
    throw contractError('body.iterable', `the body must be iterable or async iterable; got ${show(body)}`);
  }
  const close = (body as { close?: unknown }).close;
  if (close !== undefined && typeof close !== 'function') {
    throw contractError('body.close.function', `the body's close must be a function; got ${show(close)}`);
  }
}

function checkChunk(chunk: unknown): Uint8Array {
  if (!isUint8Array(chunk)) {
    throw contractError('body.chunk.type.enforced', `body chunks must be Uint8Arrays; got ${show(chunk)}`);
  }
  return chunk;
}

/** The total length of an array body, or undefined when a chunk is not bytes (that fails later). */
function arrayLength(chunks: unknown[]): number | undefined {
  let total = 0;
  for (const chunk of chunks) {
    if (!isUint8Array(chunk)) return undefined;
    total += chunk.length;
  }
  return total;
}

async function returnIterator(iterator: AsyncIterator<unknown> | Iterator<unknown>, errors: ErrorStream): Promise<void> {
  if (typeof iterator.return !== 'function') return;
  try {
    await iterator.return();
  } catch (error) {
    errors.write(`tsgi: the body's iterator failed to return: ${error instanceof Error ? error.stack : show(error)}\n`);
  }
}

function disconnected(): never {
  throw new Disconnected();
}

async function settle(result: Promise<void> | void): Promise<void> {
  if (result) await result.catch(noop);
}
