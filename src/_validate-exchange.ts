/**
 * The validator's state for one exchange, and the two functions it hands the
 * application in place of the server's: `startResponse` and `write`. Violations by the
 * application are thrown from the call that made them, into application code; a
 * violation by the server that only shows in these calls (it did not rethrow `excInfo`,
 * its `write` returned no Promise) is thrown there too, naming the server.
 *
 * An application can catch what these functions throw. So that a violation is never
 * lost, the exchange keeps the first one that has not yet reached the server
 * (`pending`), and the next call the server makes into the validator (the application's
 * return, a step of the body, `close()`) throws it. {@link boundary} does that.
 */
import { STATUS_CODES } from 'node:http';
import { DIGITS, FIELD_VALUE, HOP_BY_HOP, STATUS, TOKEN, isUint8Array } from './_http.js';
import { checkSignal } from './_validate-environ.js';
import { ValidationError, said, type MustId, type Reporter, type ShouldId, type Side } from './_validate-report.js';
import type { Environ, HeaderList, StartResponse, Write } from './types.js';

const APP = 'application';
const SERVER = 'server';
const NOT_BYTES = /[^\x00-\xff]/;
const noop = (): void => {};

const OTHER_HEADER = 0;
const CONTENT_LENGTH = 1;
const CONTENT_TYPE = 2;
const MAX_HEADER_NAMES = 1024;

/**
 * Response header names already found valid (tokens, not `Status`, not hop-by-hop), with
 * the two the validator looks for: an application sends the same few names again and
 * again, and a name seen before then costs one lookup rather than its pattern. Bounded.
 */
const headerNames = new Map<string, number>();

/** What the validator recorded of a successful `startResponse` call. */
interface Head {
  readonly code: number;
  readonly contentLength: number | undefined;
  readonly contentType: boolean;
  /** In a thorough exchange, the headers as they were passed: name, value, name, value... */
  readonly snapshot: readonly string[] | undefined;
  /** The array the application passed, which it must leave alone (`header.app-no-mutate`). */
  readonly appHeaders: HeaderList;
  /**
   * What the server received, which it must leave alone (`header.server-no-mutate`): in a
   * thorough exchange a copy, so that a change can be told from one by the application;
   * elsewhere the application's array itself, and no check.
   */
  readonly serverHeaders: HeaderList;
}

export class Exchange {
  readonly r: Reporter;
  /** This exchange gets the sampled checks (see `Reporter.thorough()`). */
  readonly thorough: boolean;
  readonly environ: Environ;
  readonly isHead: boolean;
  /** The server's `tsgi.signal` as the environ had it when the server called: a value, or a getter to call when needed. */
  readonly #signalSource: PropertyDescriptor;
  #signal: AbortSignal | undefined;
  readonly #method: string;
  readonly #path: string;
  /** The exchange of a validator further out, when middleware sits between the two. */
  readonly outer: Exchange | undefined;
  /** The exchanges of validators further in, which this exchange's application called. */
  inners: Exchange[] | undefined;

  startCalls = 0;
  head: Head | undefined;
  /** The server rethrew `excInfo` during the current step of the application. */
  rethrown = false;
  /** A non-empty chunk was produced (by the body or `write`). */
  produced = false;
  /** The server has certainly sent the headers: it asked for more after a non-empty chunk, or a `write` of one settled. */
  headSent = false;
  bytes = 0;
  usedWrite = false;
  /** The application returned (or threw): `write` is over, and a file wrapper may read. */
  returned = false;
  /** The body handed to the server has a `close()` (its own, or the validator's) that must be called. */
  closable = false;
  bodyClosed = false;
  /** The first violation that has not reached the server yet. */
  pending: ValidationError | undefined;
  /** As the exchange of an outer validator: a body further in produced a chunk that this body has not answered (`mw.pace`). */
  paceDebt = false;
  /** As the exchange of an outer validator: chunks produced by bodies further in (`mw.write-passthrough`). */
  innerChunks: WeakSet<Uint8Array> | undefined;

  readonly #serverStart: StartResponse;
  #serverWrite: Write | undefined;
  #lastWrite: Uint8Array | undefined;
  #lastWriteSample: Sample | undefined;

  constructor(r: Reporter, environ: Environ, serverStart: StartResponse, signal: PropertyDescriptor, outer: Exchange | undefined, thorough: boolean) {
    this.r = r;
    this.thorough = thorough;
    this.environ = environ;
    this.#serverStart = serverStart;
    this.isHead = environ.REQUEST_METHOD === 'HEAD';
    this.#signalSource = signal;
    this.#method = environ.REQUEST_METHOD;
    this.#path = environ.SCRIPT_NAME + environ.PATH_INFO;
    this.outer = outer;
    if (outer) (outer.inners ??= []).push(this);
  }

  /** "GET /path": the request, for violations reported after the fact. */
  get where(): string {
    return `${this.#method} ${this.#path}`;
  }

  /**
   * The server's `tsgi.signal`. A server may create it on first read (`env.plain-object`),
   * so the validator reads it only when a check needs it, and checks it then.
   */
  get signal(): AbortSignal {
    if (this.#signal) return this.#signal;
    const source = this.#signalSource;
    const signal: unknown = source.get ? source.get.call(this.environ) : source.value;
    if (source.get) {
      checkSignal(this.r, signal);
      if (source.get.call(this.environ) !== signal) {
        this.fail('env.plain-object', SERVER, "tsgi.signal's getter must return the same signal every time", said('two different signals'));
      }
    }
    return (this.#signal = signal as AbortSignal);
  }

  /** Whether the validator has read the signal (a lazily created one is then real). */
  get signalRead(): boolean {
    return this.#signal !== undefined;
  }

  /** Throws a MUST-level violation, keeping it until it has reached the server. */
  fail(id: MustId, side: Side, rule: string, actual: unknown, fix?: string): never {
    const error = this.r.report(id, side, rule, actual, fix) as ValidationError;
    this.pending ??= error;
    throw error;
  }

  /** Reports a SHOULD-level finding; with `strict`, throws it like {@link fail}. */
  warn(id: ShouldId, side: Side, rule: string, actual: unknown, fix?: string): void {
    const error = this.r.report(id, side, rule, actual, fix);
    if (error) {
      this.pending ??= error;
      throw error;
    }
  }

  /** Called with each error that leaves the validator toward the server. */
  delivered(error: unknown): void {
    if (error === this.pending) this.pending = undefined;
  }

  /** Throws a violation that the application caught and dropped, now to the server. */
  flush(): void {
    const error = this.pending;
    if (error) {
      this.pending = undefined;
      throw error;
    }
  }

  /** The `startResponse` the application receives. */
  readonly startResponse: StartResponse = (status, headers, excInfo) => {
    const hasExc = excInfo !== undefined && excInfo !== null;
    this.startCalls++;
    if (!hasExc && this.startCalls > 1) {
      this.fail('start.once', APP, 'startResponse may be called again only with excInfo', said(`call number ${this.startCalls}, without excInfo`), 'pass the caught error as the third argument to replace the response');
    }
    const head = this.#checkHead(status, headers);
    if (!hasExc) return this.#start(this.#serverStart(status, head.serverHeaders), head);
    if (typeof excInfo === 'boolean' || (Array.isArray(excInfo) && excInfo.length === 3)) {
      this.fail('exc.value', APP, 'excInfo must be the value the application caught', excInfo, 'pass the error itself, as in startResponse(status, headers, error)');
    }
    if (head.code < 300) this.warn('exc.only-on-error', APP, 'excInfo should come with an error response', status);
    const sent = this.headSent;
    let write: unknown;
    try {
      write = this.#serverStart(status, head.serverHeaders, excInfo);
    } catch (thrown) {
      if (thrown === excInfo) {
        // With Content-Length: 0 the head may have gone out at once (send.content-length-zero).
        if (!this.produced && this.head?.contentLength !== 0) {
          this.fail('exc.replace', SERVER, 'with excInfo and nothing sent, startResponse must replace the response, not throw', said('excInfo thrown back'));
        }
        this.rethrown = true; // the application must let it propagate (exc.no-catch)
      } else if (sent && !(thrown instanceof ValidationError)) {
        this.fail('exc.rethrow', SERVER, 'after the headers were sent, startResponse must throw excInfo itself', thrown);
      }
      throw thrown;
    }
    if (sent) this.fail('exc.rethrow', SERVER, 'after the headers were sent, startResponse must throw excInfo', said('a normal return'));
    return this.#start(write, head);
  };

  #start(write: unknown, head: Head): Write {
    if (typeof write !== 'function') this.fail('start.signature', SERVER, 'startResponse must return the write function', write);
    this.#serverWrite = write as Write;
    this.head = head;
    return this.write;
  }

  /** Checks the status and headers, and copies the headers for the server. */
  #checkHead(status: unknown, headers: unknown): Head {
    if (typeof status !== 'string' || !STATUS.test(status)) {
      if (typeof status === 'string' && NOT_BYTES.test(status)) this.fail('str.response', APP, 'the status must be a byte string', status);
      this.fail('status.format', APP, 'the status must be three digits, a space and a reason phrase', status, `such as "${suggest(status)}"`);
    }
    const code = Number(status.slice(0, 3));
    if (code < 200 || code > 599) this.fail('status.range', APP, 'the status code must be between 200 and 599', status, '1xx responses are the server\'s');
    if (status.length === 4) this.warn('status.reason', APP, 'the reason phrase should not be empty', status, `such as "${suggest(status)}"`);
    if (!Array.isArray(headers)) this.fail('header.list', APP, 'headers must be an array of [name, value] pairs', headers);
    let contentLength: number | undefined;
    let contentType = false;
    const snapshot: string[] | undefined = this.thorough ? [] : undefined;
    const copy: Array<[string, string]> | undefined = this.thorough ? [] : undefined;
    for (const pair of headers as unknown[]) {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
        this.fail('header.list', APP, 'each header must be a pair of two strings', pair);
      }
      const [name, value] = pair as [string, string];
      const kind = headerNames.get(name) ?? this.#classify(name);
      if (!FIELD_VALUE.test(value)) {
        if (NOT_BYTES.test(value)) this.fail('str.response', APP, `the value of ${name} must be a byte string`, value, 'encode it as the header defines, such as RFC 8187');
        this.fail('header.value', APP, `the value of ${name} must have no control characters other than HTAB`, value);
      }
      const last = value.charCodeAt(value.length - 1);
      if (value[0] === ' ' || value[0] === '\t' || last === 0x20 || last === 0x09) {
        this.warn('header.value.whitespace', APP, `the value of ${name} should not begin or end with whitespace`, value);
      }
      if (kind === CONTENT_LENGTH) {
        if (contentLength !== undefined) this.fail('framing.content-length.syntax', APP, 'Content-Length must appear at most once', value);
        if (!DIGITS.test(value)) this.fail('framing.content-length.syntax', APP, 'Content-Length must be decimal digits', value);
        contentLength = Number(value);
      } else if (kind === CONTENT_TYPE) {
        contentType = true;
      }
      snapshot?.push(name, value);
      copy?.push([name, value]);
    }
    if (code === 204 && contentLength !== undefined) this.fail('framing.content-length.204', APP, 'a 204 response must not carry Content-Length', status);
    return { code, contentLength, contentType, snapshot, appHeaders: headers as HeaderList, serverHeaders: copy ?? (headers as HeaderList) };
  }

  /** Checks a header name not seen before, and remembers it when it is valid. */
  #classify(name: string): number {
    if (!TOKEN.test(name)) {
      if (NOT_BYTES.test(name)) this.fail('str.response', APP, 'header names must be byte strings', name);
      this.fail('header.name', APP, 'a header name must be an HTTP token', name);
    }
    // The longest name that matters here is proxy-authorization (19); longer ones need no lower-casing.
    const lower = name.length <= 19 ? name.toLowerCase() : '';
    if (lower === 'status') this.fail('header.no-status', APP, 'the headers must not include Status', name, 'the status is the first argument of startResponse');
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'transfer-encoding') this.fail('framing.no-transfer-coding', APP, 'an application must not send Transfer-Encoding', name, 'the server frames the body');
      this.fail('hop.response', APP, 'an application must not send hop-by-hop headers', name, 'leave connection management to the server');
    }
    const kind = lower === 'content-length' ? CONTENT_LENGTH : lower === 'content-type' ? CONTENT_TYPE : OTHER_HEADER;
    if (headerNames.size < MAX_HEADER_NAMES) headerNames.set(name, kind);
    return kind;
  }

  /** The `write` the application receives. */
  readonly write: Write = (...args: [data: Uint8Array]): Promise<void> => {
    const data = args[0];
    if (!isUint8Array(data)) this.fail('write.args', APP, 'write() takes one Uint8Array', data, typeof data === 'string' ? 'encode it, as in new TextEncoder().encode(text)' : undefined);
    if (args.length !== 1) this.fail('write.args', APP, 'write() takes one argument', said(`${args.length} arguments`), 'write each chunk with its own call');
    if (this.returned) this.fail('write.before-return', APP, 'write() may be called only before the application returns its body', said('a call after the return'), 'yield the data from the body instead');
    if (this.#lastWrite && this.#lastWriteSample?.changed(this.#lastWrite)) {
      this.fail('body.chunk.owned', APP, 'data passed to write() must not be modified afterwards', said('bytes changed before the next write()'), 'pass a fresh Uint8Array, or a copy');
    }
    if (this.innerChunks?.has(data)) {
      this.fail('mw.write-passthrough', APP, "middleware must not pass the wrapped body's chunks to its server's write()", said('a chunk of the wrapped body'), 'yield it from your own body');
    }
    this.usedWrite = true;
    if (data.length) this.produce(data);
    const result: unknown = (this.#serverWrite as Write)(data);
    if (!isThenable(result)) this.fail('write.promise', SERVER, 'write() must return a Promise', result);
    this.#lastWrite = data;
    this.#lastWriteSample = new Sample(data);
    const settled = Promise.resolve(result).then(() => {
      if (data.length) this.headSent = true;
    });
    settled.catch(noop); // write.no-unhandled: this validator is a server to the application too
    return settled;
  };

  /** Accounts for a non-empty chunk from the body or `write`; a wrapped file may run past its Content-Length (`file.length`). */
  produce(chunk: Uint8Array, wrappedFile = false): void {
    const head = this.head;
    if (!head) {
      this.flush();
      this.fail('app.start-before-body', APP, 'startResponse must be called before the body produces data', chunk, 'call it before the first non-empty chunk');
    }
    if (head.code === 204 || head.code === 304) {
      this.fail('body.no-content', APP, `a ${head.code} response must not have a body`, said(`${chunk.length} bytes`));
    }
    if (!this.produced) {
      this.produced = true;
      this.checkHeaders();
      if (!head.contentType) this.warn('header.content-type', APP, 'a response with a body should carry Content-Type', head.appHeaders);
    }
    this.bytes += chunk.length;
    if (head.contentLength !== undefined && this.bytes > head.contentLength && !wrappedFile) {
      this.fail('framing.content-length.match', APP, `the body must be exactly the Content-Length of ${head.contentLength} bytes`, said(`${this.bytes} bytes or more`));
    }
  }

  /** Checks made when the body ends. */
  end(): void {
    const head = this.head;
    if (!head) {
      this.flush();
      this.fail('app.start-before-body', APP, 'startResponse must be called before the body ends', said('a body that ended first'));
    }
    const declared = head.contentLength;
    if (declared !== undefined && this.bytes < declared && !this.isHead && head.code !== 304) {
      this.fail('framing.content-length.match', APP, `the body must be exactly the Content-Length of ${declared} bytes`, said(`${this.bytes} bytes`));
    }
  }

  /** Checks that nobody changed the header list since `startResponse`. */
  checkHeaders(): void {
    const head = this.head;
    if (!head?.snapshot) return;
    if (!same(head.appHeaders, head.snapshot)) {
      this.fail('header.app-no-mutate', APP, 'the headers array must not change after startResponse', head.appHeaders, 'pass a new array for each response');
    }
    if (!same(head.serverHeaders, head.snapshot)) {
      this.fail('header.server-no-mutate', SERVER, 'the server must not change the headers array it received', head.serverHeaders, 'work on a copy');
    }
  }
}

/** A status to suggest in a fix: the code of `status` with its registered reason phrase. */
function suggest(status: unknown): string {
  const code = typeof status === 'number' ? String(status) : typeof status === 'string' ? status.slice(0, 3) : '';
  const reason = /^[1-5][0-9]{2}$/.test(code) ? STATUS_CODES[code] : undefined;
  return reason ? `${code} ${reason}` : '200 OK';
}

function same(list: HeaderList, snapshot: readonly string[]): boolean {
  if (list.length * 2 !== snapshot.length) return false;
  for (let i = 0; i < list.length; i++) {
    const pair = list[i];
    if (!pair || pair.length !== 2 || pair[0] !== snapshot[2 * i] || pair[1] !== snapshot[2 * i + 1]) return false;
  }
  return true;
}

const EDGE = 32;

/**
 * The length and the first and last bytes of a chunk: enough to see a reused buffer
 * (the usual way a chunk changes after it was produced) without copying every chunk.
 */
export class Sample {
  readonly #length: number;
  readonly #bytes: Uint8Array;

  constructor(chunk: Uint8Array) {
    this.#length = chunk.length;
    const n = chunk.length;
    const bytes = new Uint8Array(Math.min(n, 2 * EDGE));
    if (n <= 2 * EDGE) bytes.set(chunk);
    else {
      bytes.set(chunk.subarray(0, EDGE));
      bytes.set(chunk.subarray(n - EDGE), EDGE);
    }
    this.#bytes = bytes;
  }

  /** Whether `chunk` differs from what this sample saw. */
  changed(chunk: Uint8Array): boolean {
    const n = chunk.length;
    if (n !== this.#length) return true;
    const bytes = this.#bytes;
    const tail = n - bytes.length; // where the sample's second half starts in the chunk, minus EDGE
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] !== chunk[i < EDGE || n <= 2 * EDGE ? i : tail + i]) return true;
    }
    return false;
  }
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as PromiseLike<unknown>).then === 'function';
}

/**
 * Runs `fn` for a call from the server: an error that leaves toward the server counts as
 * delivered, and a violation the application dropped is thrown once `fn` succeeded.
 */
export function boundary<T>(ex: Exchange, fn: () => T): T {
  try {
    const result = fn();
    ex.flush();
    return result;
  } catch (error) {
    ex.delivered(error);
    throw error;
  }
}

/**
 * Calls application code for the server (the application itself, or a body's
 * `return()`), which may answer with a Promise: `done` runs once it has returned, thrown
 * or settled, and `then` checks the value inside a {@link boundary}.
 */
export function across(ex: Exchange, call: () => unknown, done: () => void, then: (value: unknown) => unknown): unknown {
  let result: unknown;
  try {
    result = call();
  } catch (error) {
    done();
    ex.delivered(error);
    throw error;
  }
  const fulfilled = (value: unknown): unknown => {
    done();
    return boundary(ex, () => then(value));
  };
  if (!isThenable(result)) return fulfilled(result);
  return Promise.resolve(result).then(fulfilled, (error: unknown) => {
    done();
    ex.delivered(error);
    throw error;
  });
}
