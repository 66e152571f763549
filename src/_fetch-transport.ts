/**
 * The fetch transport's exchange: the `Transport` that carries the gateway core's
 * response out as a `Response` whose body is a `ReadableStream` that pulls, and that
 * treats `request.signal` aborting, or the stream being cancelled, as the client going
 * away. `_fetch-server.ts` builds the environ and starts it.
 */
import { type BodySource, limitBody, streamSource } from './_body-source.js';
import { abortWith, lazyAbort } from './_signal.js';
import { runExchange, type OutgoingHead, type Outcome, type Transport } from './handler.js';
import type { Application, Environ, ErrorStream, HeaderList } from './types.js';

/**
 * What the transport reads of a request: a fetch `Request` has it all. The test client
 * passes a plain object for a request without a body, which saves the `Request` and its
 * `AbortSignal`, the largest costs of a small in-process call.
 */
export interface RequestLike {
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  readonly body: ReadableStream<Uint8Array> | null;
  readonly signal?: AbortSignal | null | undefined;
}

/** One request in flight, as the callers of `startExchange()` see it. */
export interface Started {
  /**
   * Settles with the `Response` once the head is sent (for a body that is complete at once
   * and has a `close()`, once that has settled too), or rejects if the client left first.
   */
  readonly response: Promise<Response>;
  /** Settles when the exchange is over and the body closed; undefined when the application was never called. */
  readonly done: Promise<Outcome | undefined>;
  /** Whether the whole response has been handed over already. */
  readonly ended: boolean;
}

/** Statuses whose `Response` must have a null body (fetch's "null body status"; 101 and 103 never reach here). */
const NULL_BODY = new Set([204, 205, 304]);
const NO_BODY: Uint8Array[] = [];
const OPEN = 0;
const ENDED = 1;
const GONE = 2;

/**
 * The header lists of the `Response`s this transport created, so that `fromFetchHandler`
 * can send a round-tripped response with its header order, case and repeated fields
 * intact (`header.order`), which a `Headers` object loses. Objects the server created
 * itself may be recognised (`server.body.protocol-only`).
 */
const SENT = new WeakMap<Response, HeaderList>();

/**
 * The header list the application gave for `response`, when `response` came from this
 * transport and its headers have not been changed since; otherwise undefined.
 */
export function sentHeaders(response: Response): HeaderList | undefined {
  const list = SENT.get(response);
  if (!list) return undefined;
  const expected = [...toHeaders(list)];
  const actual = [...response.headers];
  if (expected.length !== actual.length) return undefined;
  for (let i = 0; i < expected.length; i++) {
    if (expected[i]![0] !== actual[i]![0] || expected[i]![1] !== actual[i]![1]) return undefined;
  }
  return list;
}

/** A `Headers` object with the pairs of `list`, repeated names appended, not merged. */
export function toHeaders(list: HeaderList): Headers {
  const headers = new Headers();
  for (const [name, value] of list) headers.append(name, value);
  return headers;
}

/**
 * One exchange over fetch. Its states: OPEN while the response is being produced, ENDED
 * once all of it has been handed to the stream, GONE when the client left (the request's
 * signal aborted, or the response stream was cancelled) or the core aborted the message.
 */
export class FetchExchange implements Transport, Started {
  readonly method: string;
  readonly target: string;
  readonly errors: ErrorStream;
  /** The core's view of the exchange; the environ's `tsgi.signal` is created from it when read. */
  readonly signal = lazyAbort();
  readonly response: Promise<Response>;
  done: Promise<Outcome | undefined> = Promise.resolve(undefined);
  readonly #request: RequestLike;
  #resolve!: (response: Response) => void;
  #reject!: (reason: unknown) => void;
  #state = OPEN;
  #head: OutgoingHead | undefined;
  #responded = false;
  #stream: ReadableStreamDefaultController<Uint8Array> | undefined;
  // Settles a write that waits for the stream to ask for more (body.transmit.backpressure).
  #ready: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #fail: ((reason: unknown) => void) | undefined;
  #source: ReturnType<typeof streamSource> | undefined;
  // What the Response promise rejects with when the client left before the head: the
  // platform's own abort reason, as fetch() rejects with the signal's reason.
  #rejection: unknown;
  #listening = false;
  // The end the core sent, applied once the exchange is over (close.await).
  #endLater: { chunk: Uint8Array | undefined } | undefined;
  #cancelled = false;

  constructor(request: RequestLike, target: string, errors: ErrorStream) {
    this.#request = request;
    this.method = request.method;
    this.target = target;
    this.errors = errors;
    this.response = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Nobody may be waiting for the response yet when it is rejected.
    this.response.catch(() => {});
  }

  get ended(): boolean {
    return this.#state === ENDED;
  }

  /** The source of `tsgi.input`: the request body, cut to its declared length. */
  bodySource(body: ReadableStream<Uint8Array> | null, declared: string | null): BodySource | Uint8Array[] {
    let source: BodySource | Uint8Array[] = NO_BODY;
    if (body) source = this.#source = streamSource(body);
    return declared === null ? source : limitBody(source, Number(declared));
  }

  run(app: Application, environ: Environ): void {
    const signal = this.#request.signal;
    if (!signal) {
      // A request nobody can abort.
    } else if (signal.aborted) this.handleEvent();
    else {
      signal.addEventListener('abort', this, { once: true });
      this.#listening = true;
    }
    this.done = runExchange(app, environ, this).then((outcome) => {
      this.#stopListening();
      const last = this.#endLater;
      if (last) this.#finishBody(last.chunk);
      if (!this.#responded) this.#reject(this.#rejection ?? new Error('the exchange ended without a response'));
      return outcome;
    });
  }

  /** The request's signal aborted: the client went away (`disconnect.signal`). */
  handleEvent(): void {
    const reason = this.#request.signal?.reason;
    this.#rejection = reason;
    this.#disconnect(new Error('the client went away before the response was complete (request.signal aborted)', { cause: reason }));
  }

  sendHead(head: OutgoingHead): void {
    if (this.#responded) return;
    this.#head = head;
    if (head.bodyless || NULL_BODY.has(head.code)) this.#respond(null);
    // Otherwise the core writes or ends in the same synchronous step, and the Response is
    // made then: with its body as bytes when the whole body is known (the common case, and
    // the cheap one), as a pulling stream otherwise.
  }

  write(chunk: Uint8Array): Promise<void> | undefined {
    if (this.#state !== OPEN) return Promise.reject(this.signal.reason ?? new Error('the response was aborted'));
    if (!this.#responded) this.#respond(this.#newStream());
    const stream = this.#stream;
    if (!stream) return undefined; // a null-body status (205): nothing can be sent
    stream.enqueue(chunk);
    if ((stream.desiredSize ?? 0) > 0) return undefined;
    return (this.#ready ??= new Promise((resolve, reject) => {
      this.#wake = resolve;
      this.#fail = reject;
    }));
  }

  end(last?: Uint8Array): void {
    if (this.#state !== OPEN) return;
    this.#state = ENDED;
    // The whole response is handed over: nothing after this is a disconnect (disconnect.no-false-abort).
    this.#stopListening();
    // The core may end the message before it calls the body's close() (an array body), and
    // a platform takes the end of the stream for the end of the exchange: a graceful
    // shutdown would not wait for a close() still running (close.await). So the stream
    // always ends once the exchange is over, which is one microtask later when there is
    // nothing to wait for.
    this.#endLater = { chunk: last };
  }

  #finishBody(last: Uint8Array | undefined): void {
    if (!this.#responded) return this.#respond(last ?? null);
    const stream = this.#stream;
    // A reader may cancel the stream while the end waits for close().
    if (!stream || this.#cancelled) return;
    if (last) stream.enqueue(last);
    stream.close();
  }

  abort(reason: unknown): void {
    if (this.#state === ENDED) return;
    this.#state = GONE;
    this.#stopListening();
    if (this.#responded) {
      // error.after-headers: the consumer sees the body fail, never a complete message.
      this.#stream?.error(reason);
    } else if (this.#head && !this.signal.aborted) {
      this.#respond(this.#newStream());
      this.#stream?.error(reason);
    } else {
      this.#reject(this.#rejection ?? reason);
    }
    this.#settleReady(reason);
  }

  #respond(body: ReadableStream<Uint8Array> | Uint8Array | null): void {
    const head = this.#head as OutgoingHead;
    try {
      const response = new Response(body, { status: head.code, statusText: head.reason, headers: toHeaders(head.headers) });
      SENT.set(response, head.headers);
      this.#responded = true;
      this.#resolve(response);
    } catch (error) {
      // Not expected: the core checked the head with the same grammar fetch uses.
      this.#responded = true;
      this.#reject(error);
      this.#disconnect(error);
    }
  }

  #newStream(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#stream = controller;
        },
        pull: () => this.#settleReady(),
        cancel: (reason) => {
          this.#cancelled = true;
          this.#disconnect(new Error('the response body was cancelled before it was complete', { cause: reason }));
        },
      },
      // Nothing is produced before the consumer asks for it: a slow reader slows the body down.
      { highWaterMark: 0 },
    );
  }

  /** Lets a waiting write go on (the stream asked for more), or fail. */
  #settleReady(reason?: unknown): void {
    const wake = this.#wake;
    const fail = this.#fail;
    this.#ready = this.#wake = this.#fail = undefined;
    if (reason === undefined) wake?.();
    else fail?.(reason);
  }

  #disconnect(reason: unknown): void {
    if (this.#state !== OPEN) return;
    this.#state = GONE;
    this.#stopListening();
    abortWith(this.signal, reason);
    this.#source?.cancel(reason);
    this.#settleReady(reason);
  }

  #stopListening(): void {
    if (!this.#listening) return;
    this.#listening = false;
    this.#request.signal?.removeEventListener('abort', this);
  }
}
