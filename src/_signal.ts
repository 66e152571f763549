/**
 * `tsgi.signal` created on first read. An `AbortSignal` costs more to create and collect
 * than the rest of a small request, and most applications never read it, so a transport
 * keeps a plain abort state for the core and makes the signal only when the environ's key
 * is read (`env.plain-object` allows that accessor). A signal made after the client went
 * away is made aborted, so an application cannot tell the difference.
 */
import type { AbortState } from './handler.js';

/**
 * The abort state of one exchange: what the core reads, and the signal once someone asks
 * for it. A plain shape rather than a base class: a transport's exchange object carries
 * these fields itself, which saves an object per request and the cost of a derived
 * constructor (both measurable on the hot path). The names stay clear of `Transport`'s
 * `signal` and `abort`.
 */
export interface LazyAbort extends AbortState {
  aborted: boolean;
  reason: unknown;
  /** Created by {@link abortSignalOf} on the first read of `tsgi.signal`. */
  controller: AbortController | undefined;
}

/** A new abort state, not aborted, with no signal yet. */
export function lazyAbort(): LazyAbort {
  return { aborted: false, reason: undefined, controller: undefined };
}

/** The `AbortSignal` of `state`, created now if it does not exist yet (aborted if `state` is). */
export function abortSignalOf(state: LazyAbort): AbortSignal {
  if (!state.controller) {
    state.controller = new AbortController();
    if (state.aborted) state.controller.abort(state.reason);
  }
  return state.controller.signal;
}

/** Aborts `state`, once; later calls change nothing. */
export function abortWith(state: LazyAbort, reason: unknown): void {
  if (state.aborted) return;
  state.aborted = true;
  state.reason = reason;
  state.controller?.abort(reason);
}

/** Where the environ keeps its abort state, for the shared accessor. */
const STATE = Symbol('tsgi.signal-state');

/**
 * One descriptor for every environ: an accessor written in an object literal would put
 * each environ in V8's slow dictionary mode.
 */
const ACCESSOR: PropertyDescriptor = {
  get(this: Record<symbol, LazyAbort>): AbortSignal {
    return abortSignalOf(this[STATE] as LazyAbort);
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
