/**
 * `tsgi.signal` created on first read. An `AbortSignal` costs more to create and collect
 * than the rest of a small request, and most applications never read it, so a transport
 * keeps a plain abort state for the core and makes the signal only when the environ's key
 * is read (`env.plain-object` allows that accessor). A signal made after the client went
 * away is made aborted, so an application cannot tell the difference.
 */
import type { AbortState } from './handler.js';

/**
 * The abort state of one exchange: what the core reads, and the signal when someone asks
 * for it. A transport may extend it, to be its own abort state and save an object per
 * request; hence the names, which stay clear of `Transport`'s `signal` and `abort`.
 */
export class LazyAbort implements AbortState {
  aborted = false;
  reason: unknown = undefined;
  #controller: AbortController | undefined;

  /** The `AbortSignal`, created now if it does not exist yet. */
  get abortSignal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.aborted) this.#controller.abort(this.reason);
    }
    return this.#controller.signal;
  }

  /** Aborts, once; later calls change nothing. */
  abortWith(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.#controller?.abort(reason);
  }
}

/** Where the environ keeps its abort state, for the shared accessor. */
const STATE = Symbol('tsgi.signal-state');

/**
 * One descriptor for every environ: an accessor written in an object literal would put
 * each environ in V8's slow dictionary mode.
 */
const ACCESSOR: PropertyDescriptor = {
  get(this: Record<symbol, LazyAbort>): AbortSignal {
    return (this[STATE] as LazyAbort).abortSignal;
  },
  set(this: object, signal: unknown) {
    // An application may replace the key, as any other (app.environ.modify).
    Object.defineProperty(this, 'tsgi.signal', { value: signal, writable: true, enumerable: true, configurable: true });
  },
  enumerable: true,
  configurable: true,
};

/** Gives `environ` a `tsgi.signal` that is `state`'s signal, created on first read. */
export function defineLazySignal(environ: object, state: LazyAbort): void {
  (environ as Record<symbol, LazyAbort>)[STATE] = state;
  Object.defineProperty(environ, 'tsgi.signal', ACCESSOR);
}
