/**
 * The validator's stand-in for the response body. It always has `close()`, so that every
 * server calls it (`close.once`), and it checks both sides as the body is consumed:
 * the chunks the application produces, and the way the server iterates and closes.
 *
 * An array stays an array (a proxy over it), so a server can still compute its length
 * (`framing.known-length`); its chunks are checked all at once when the server first
 * looks at them. Any other body becomes an object with the same iteration method, whose
 * iterator forwards one step at a time.
 *
 * Errors are thrown to the server from the call that found them: getting the iterator,
 * `next()`, reading an array element, or `close()`. When the validator's own check fails
 * a step, it calls the application's `return()` itself, since the server will not.
 */
import { isUint8Array } from './_http.js';
import { type Exchange, Sample, across, boundary, isThenable } from './_validate-exchange.js';
import { said, type Reporter } from './_validate-report.js';
import { type FileRecord, checkFileChunk, checkFileEnd, fileOf } from './_validate-streams.js';
import type { ResponseBody } from './types.js';

const APP = 'application';
const SERVER = 'server';

type AnyIterator = Iterator<unknown> | AsyncIterator<unknown>;

/** How the server has used one body so far. */
interface BodyState {
  iterator: AnyIterator | undefined;
  hasReturn: boolean;
  /** A `next()` has not settled. */
  inFlight: boolean;
  /** A `return()` has not settled. */
  returning: boolean;
  /** The iteration is over for the server: `done`, a throw from `next()`, or `return()`. */
  finished: boolean;
  /** The server has started on the body (got its iterator, or read an array). */
  touched: boolean;
  closeCalls: number;
  last: Uint8Array | undefined;
  lastSample: Sample | undefined;
  /** Samples of an array's chunks, to see whether the server changed them. */
  samples: Array<[Uint8Array, Sample]> | undefined;
  warnedHead: boolean;
  /** The file behind a body that the server's file wrapper made. */
  file: FileRecord | undefined;
  /** The garbage-collection watch's token, when the body is watched. */
  token: Unclosed | undefined;
}

/** What a body garbage-collected without `close()` reports; holds nothing that keeps the body alive. */
interface Unclosed {
  r: Reporter;
  where: string;
}

const unclosed = new FinalizationRegistry<Unclosed>(({ r, where }) => {
  r.detached('close.once', SERVER, "the server must call the body's close() exactly once", said(`the body of ${where}, garbage-collected without close()`), 'close it on every path: after completion, errors, disconnects and HEAD');
});

/** Wraps the body the application returned (already checked to be an iterable). */
export function wrapBody(ex: Exchange, body: ResponseBody): ResponseBody {
  const s: BodyState = {
    iterator: undefined,
    hasReturn: false,
    inFlight: false,
    returning: false,
    finished: false,
    touched: false,
    closeCalls: 0,
    last: undefined,
    lastSample: undefined,
    samples: undefined,
    warnedHead: false,
    file: fileOf(body),
    token: undefined,
  };
  if (Array.isArray(body)) {
    // An array without close() gains one (to check how the server closes it) only in a
    // thorough exchange. Elsewhere it stays as it is, so a server keeps its fast path for
    // it; and once startResponse has been called, all there is to check is known now, so
    // the server gets the array itself rather than a proxy, which engines iterate slowly.
    if ((body as { close?: unknown }).close === undefined && !ex.thorough) {
      if (!ex.head) return wrapArray(ex, s, body, undefined);
      checkArray(ex, s, body, false);
      return body;
    }
    return watch(ex, s, wrapArray(ex, s, body, makeClose(ex, s, body)));
  }
  return watch(ex, s, wrapIterable(ex, s, body, makeClose(ex, s, body)));
}

/** Notes that the body has `close()`, and registers it with the garbage-collection watch in a thorough exchange. */
function watch(ex: Exchange, s: BodyState, wrapped: ResponseBody): ResponseBody {
  ex.closable = true;
  if (ex.thorough) {
    s.token = { r: ex.r, where: ex.where };
    unclosed.register(wrapped, s.token, s.token);
  }
  return wrapped;
}

function wrapArray(ex: Exchange, s: BodyState, array: unknown[], close: (() => unknown) | undefined): ResponseBody {
  return new Proxy(array, {
    get(target, key, receiver) {
      if (typeof key === 'string') {
        const code = key.charCodeAt(0);
        if ((code >= 0x30 && code <= 0x39) || key === 'length') {
          if (s.closeCalls && code <= 0x39) boundary(ex, () => ex.fail('close.no-iterate-after', SERVER, 'the server must not read the body after close()', said(`element ${key}`)));
          if (!s.touched) boundary(ex, () => checkArray(ex, s, target, close !== undefined));
          return target[key as unknown as number];
        }
        if (key === 'close') return close;
        if (key !== 'then' && key in target) {
          boundary(ex, () => ex.fail('server.body.protocol-only', SERVER, "a server may use only an array body's length and elements", said(`.${key}`), 'iterate it, or index it'));
        }
      } else if (key === Symbol.iterator && !s.touched) {
        boundary(ex, () => checkArray(ex, s, target, close !== undefined));
      }
      return Reflect.get(target, key, receiver);
    },
  }) as unknown as ResponseBody;
}

/**
 * An array's chunks are all there: check them, and the response as a whole, at once.
 * With `sample`, remember them, to see at `close()` whether the server changed them.
 */
function checkArray(ex: Exchange, s: BodyState, array: unknown[], sample: boolean): void {
  s.touched = true;
  const samples: Array<[Uint8Array, Sample]> | undefined = sample ? [] : undefined;
  for (let i = 0; i < array.length; i++) {
    const chunk = array[i];
    if (!isUint8Array(chunk)) ex.fail('body.chunk.type', APP, 'every chunk must be a Uint8Array', chunk, fixChunk(chunk));
    if (chunk.length) {
      ex.produce(chunk);
      samples?.push([chunk, new Sample(chunk)]);
      // Reading an array drives no application code, so mw.return-promptly and mw.pace do not apply; mw.write-passthrough does.
      if (ex.outer) (ex.outer.innerChunks ??= new WeakSet()).add(chunk);
    }
  }
  s.samples = samples;
  ex.end();
}

function fixChunk(chunk: unknown): string | undefined {
  if (typeof chunk === 'string') return 'encode it, as in new TextEncoder().encode(text)';
  if (chunk instanceof ArrayBuffer) return 'wrap it, as in new Uint8Array(buffer)';
  return undefined;
}

function wrapIterable(ex: Exchange, s: BodyState, body: ResponseBody, close: () => unknown): ResponseBody {
  const methods = body as Partial<AsyncIterable<unknown> & Iterable<unknown>>;
  const openAsync = methods[Symbol.asyncIterator];
  const openSync = methods[Symbol.iterator];
  // A wrapped file's view keeps its prototype, so that the server that made the file
  // wrapper still knows it for one (`body instanceof FileWrapper`: file.length).
  const target: Record<PropertyKey, unknown> = Object.create(s.file ? Object.getPrototypeOf(body) : Object.prototype);
  target.close = close;
  if (typeof openAsync === 'function') {
    target[Symbol.asyncIterator] = () => boundary(ex, () => open(ex, s, openAsync.call(body), true));
  }
  if (typeof openSync === 'function') {
    target[Symbol.iterator] = () =>
      boundary(ex, () => {
        if (typeof openAsync === 'function') {
          ex.fail('body.iterate.protocol', SERVER, 'the server must use [Symbol.asyncIterator] when the body has one', said('a call of [Symbol.iterator]'));
        }
        return open(ex, s, openSync.call(body), false);
      });
  }
  return new Proxy(target, {
    get(t, key, receiver) {
      if (key in t) return Reflect.get(t, key, receiver);
      if (typeof key === 'string' && key !== 'then' && key in body) {
        boundary(ex, () => ex.fail('server.body.protocol-only', SERVER, "a server may use only the body's iteration methods and close()", said(`.${key}`)));
      }
      return undefined;
    },
  }) as unknown as ResponseBody;
}

/** Checks and wraps the iterator the body gave. */
function open(ex: Exchange, s: BodyState, it: unknown, isAsync: boolean): AnyIterator {
  if (s.closeCalls) ex.fail('close.no-iterate-after', SERVER, 'the server must not iterate the body after close()', said('a new iterator'));
  if (s.touched) ex.fail('body.iterate.protocol', SERVER, "the server must get the body's iterator exactly once", said('a second iterator'), 'a body can be consumed only once');
  s.touched = true;
  if (typeof it !== 'object' || it === null || typeof (it as AnyIterator).next !== 'function') {
    ex.fail('body.iterable', APP, "the body's iterator method must return an iterator", it);
  }
  const inner = it as AnyIterator;
  s.iterator = inner;
  s.hasReturn = typeof inner.return === 'function';
  const next = (...args: []): unknown => step(ex, s, inner, args);
  const finish = (value?: unknown): unknown => stop(ex, s, inner, value);
  // An async iterator's methods always answer with a Promise, even when a check fails at once.
  const wrapped = (isAsync ? { next: promised(next) } : { next }) as AnyIterator;
  if (s.hasReturn) wrapped.return = (isAsync ? promised(finish) : finish) as NonNullable<AnyIterator['return']>;
  return wrapped;
}

function promised<A extends unknown[]>(fn: (...args: A) => unknown): (...args: A) => Promise<unknown> {
  return (...args) => {
    try {
      return Promise.resolve(fn(...args));
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

/** One step of the body: the server's side checked before, the application's after. */
function step(ex: Exchange, s: BodyState, it: AnyIterator, args: []): unknown {
  try {
    before(ex, s);
  } catch (error) {
    return failed(ex, s, it, error);
  }
  s.inFlight = true;
  let result: unknown;
  try {
    result = it.next(...args);
  } catch (error) {
    s.inFlight = false;
    return thrown(ex, s, error);
  }
  if (!isThenable(result)) return settled(ex, s, it, result);
  return Promise.resolve(result).then(
    (value) => settled(ex, s, it, value),
    (error: unknown) => {
      s.inFlight = false;
      return thrown(ex, s, error);
    },
  );
}

function settled(ex: Exchange, s: BodyState, it: AnyIterator, result: unknown): unknown {
  s.inFlight = false;
  try {
    return after(ex, s, result);
  } catch (error) {
    return failed(ex, s, it, error);
  }
}

/**
 * A check of the validator failed a step. The server sees next() throw, so it will not
 * call return(), and the application's cleanup (a generator's finally block) would never
 * run: the validator ends the iteration itself first. A failure of that is secondary to
 * the validation error, which is the one the server needs to see.
 */
function failed(ex: Exchange, s: BodyState, it: AnyIterator, error: unknown): unknown {
  if (!s.hasReturn || s.finished || s.inFlight || s.closeCalls > 0) return thrown(ex, s, error);
  s.finished = true;
  let released: unknown;
  try {
    released = it.return?.();
  } catch {
    return thrown(ex, s, error);
  }
  if (!isThenable(released)) return thrown(ex, s, error);
  const rethrow = (): never => thrown(ex, s, error);
  return Promise.resolve(released).then(rethrow, rethrow);
}

/** From the server's point of view, next() threw: the iteration is over. */
function thrown(ex: Exchange, s: BodyState, error: unknown): never {
  s.finished = true;
  ex.rethrown = false;
  ex.delivered(error);
  throw error;
}

/** Checks of the server's side, made before each step. */
function before(ex: Exchange, s: BodyState): void {
  if (s.closeCalls) ex.fail('close.no-iterate-after', SERVER, 'the server must not call next() after close()', said('a call of next()'));
  if (s.inFlight) ex.fail('body.iterate.one-at-a-time', SERVER, 'the server must wait for each next() to settle before the next call', said('a call while one was pending'));
  if (ex.signal.aborted) ex.fail('disconnect.stop', SERVER, 'after the client went away, the server must not ask for another chunk', said('a call of next() after tsgi.signal was aborted'));
  const outer = ex.outer;
  if (outer && !outer.returned) {
    ex.fail('mw.return-promptly', SERVER, 'middleware must not iterate the wrapped body before it returns its own', said('a call of next() before the middleware returned'));
  }
  if (outer?.paceDebt) {
    ex.fail('mw.pace', SERVER, "middleware's body must produce a chunk (an empty one will do) for each chunk of the wrapped body before it asks for the next", said('two chunks asked for in a row'));
  }
  const last = s.last;
  if (last) {
    if (last.length) ex.headSent = true;
    if (s.lastSample?.changed(last)) ex.fail('body.chunk.server-no-mutate', SERVER, 'the server must not modify the chunks it receives', said('a chunk changed by the server'));
  }
  // The two checks below are of wire requirements: they bind the server that frames the
  // message, not middleware between two validators (spec: Wire requirements).
  const declared = ex.head?.contentLength;
  if (s.file && declared !== undefined && ex.bytes >= declared && !ex.isHead && !ex.outer) {
    ex.fail('file.length', SERVER, "the server must stop reading a wrapped file once it has the Content-Length's bytes", said(`a call of next() after ${ex.bytes} of ${declared} bytes`));
  }
  if (ex.isHead && ex.produced && !s.warnedHead && !ex.outer) {
    s.warnedHead = true;
    ex.warn('head.stop-early', SERVER, 'for HEAD, the server should stop iterating at the first non-empty chunk', said('a call of next() after it'));
  }
  ex.rethrown = false;
}

/** Checks of the application's side, made on each step it produced. */
function after(ex: Exchange, s: BodyState, step: unknown): IteratorResult<unknown> {
  if (typeof step !== 'object' || step === null) ex.fail('body.iterable', APP, "the body's next() must return an iterator result object", step);
  if (ex.rethrown) ex.fail('exc.no-catch', APP, 'the error startResponse threw back must propagate', said('a body that went on after catching it'), 'do not catch it');
  const result = step as IteratorResult<unknown>;
  if (result.done) {
    s.finished = true;
    if (s.file) checkFileEnd(ex, s.file, 'done');
    ex.end();
    ex.flush();
    return result;
  }
  const chunk: unknown = result.value;
  if (!isUint8Array(chunk)) ex.fail('body.chunk.type', APP, 'every chunk must be a Uint8Array', chunk, fixChunk(chunk));
  if (s.last && s.lastSample?.changed(s.last)) {
    ex.fail('body.chunk.owned', APP, 'a chunk must not be modified after it was produced', said('a chunk changed while the next was made'), 'yield a fresh Uint8Array each time, not a reused buffer');
  }
  if (s.file) checkFileChunk(ex, s.file, chunk);
  if (chunk.length) ex.produce(chunk, s.file !== undefined);
  const outer = ex.outer;
  if (outer) {
    outer.paceDebt = true;
    if (chunk.length) (outer.innerChunks ??= new WeakSet()).add(chunk);
  }
  ex.paceDebt = false;
  s.last = chunk;
  s.lastSample = chunk.length ? new Sample(chunk) : undefined;
  ex.flush();
  return result;
}

/** The server ends the iteration early. */
function stop(ex: Exchange, s: BodyState, it: AnyIterator, value: unknown): unknown {
  s.returning = true;
  const done = (): void => {
    s.returning = false;
    s.finished = true;
  };
  return across(ex, () => (it.return as (value?: unknown) => unknown)(value), done, (result) => result);
}

/** The body's `close()`: the application's, wrapped in the checks of how and when the server calls it. */
function makeClose(ex: Exchange, s: BodyState, body: ResponseBody): () => unknown {
  const original = body.close;
  return () =>
    boundary(ex, () => {
      if (++s.closeCalls > 1) ex.fail('close.once', SERVER, "the server must call the body's close() exactly once", said(`call number ${s.closeCalls}`));
      if (s.token) unclosed.unregister(s.token);
      ex.bodyClosed = true;
      let early: unknown;
      try {
        checkOrder(ex, s);
      } catch (error) {
        early = error;
      }
      // The application's close() runs even when the server broke a rule, so nothing leaks.
      let result: unknown;
      try {
        result = original?.call(body);
      } catch (error) {
        if (early) ex.r.emit(early as never);
        throw error;
      }
      if (early) throw early;
      if (isThenable(result)) {
        return Promise.resolve(result).then(() => boundary(ex, () => afterClose(ex, s)));
      }
      afterClose(ex, s);
      return result;
    });
}

/** Was the server done with the iterator when it called `close()`? */
function checkOrder(ex: Exchange, s: BodyState): void {
  if (s.inFlight || s.returning) {
    ex.fail('close.after-iteration', SERVER, 'the server must call close() only after it has finished with the iterator', said(`close() while ${s.inFlight ? 'next()' : 'return()'} was pending`));
  }
  if (s.iterator && !s.finished && s.hasReturn) {
    ex.fail('body.iterate.return', SERVER, "a server that stops early must call the iterator's return() before close()", said('close() without return()'), 'break out of for await...of, or call return()');
  }
  if (!s.touched && ex.startCalls === 0 && !ex.signal.aborted) {
    ex.fail('server.invoke.start-not-assumed', SERVER, 'the server must iterate the body even if startResponse has not been called', said('close() of a body never iterated'));
  }
  if (s.last && s.lastSample?.changed(s.last)) ex.fail('body.chunk.server-no-mutate', SERVER, 'the server must not modify the chunks it receives', said('a chunk changed by the server'));
  for (const [chunk, sample] of s.samples ?? []) {
    if (sample.changed(chunk)) ex.fail('body.chunk.server-no-mutate', SERVER, 'the server must not modify the chunks it receives', said('an array chunk changed by the server'));
  }
}

/** Checks once the application's `close()` has finished. */
function afterClose(ex: Exchange, s: BodyState): void {
  ex.checkHeaders();
  if (s.file) checkFileEnd(ex, s.file, 'closed');
  for (const inner of ex.inners ?? []) {
    if (inner.closable && !inner.bodyClosed) {
      ex.fail('mw.close-inner', SERVER, "closing middleware's body must close the body it wraps", said(`the body of ${inner.where} left open`), "call the wrapped body's close() from yours");
    }
  }
  // Only a signal the validator has seen: reading it now would create a lazy one for nothing.
  const signal = ex.signalRead ? ex.signal : undefined;
  if (signal?.aborted && !(signal.reason instanceof Error)) {
    ex.warn('disconnect.reason', SERVER, "tsgi.signal's reason should be an Error that says what happened", signal.reason);
  }
}
