/**
 * The probe: the one application the server under test hosts. It routes each request to
 * the running case named by its `X-Tsgi-Case` header, records the call on the case's
 * board, and wraps the case's application in a validator of its own, so that every
 * violation is attributed to the case that provoked it.
 */
import type { ValidationError } from '../src/validate.js';
import { validator } from '../src/validate.js';
import type { Application, Environ } from '../src/types.js';
import type { CaseApp, ProbeCall, RecordedCall, ServerCase } from './types.js';

/** The header that routes a request to a case. */
export const CASE_HEADER = 'X-Tsgi-Case';

const encoder = new TextEncoder();
const OK = encoder.encode('ok');
const NO_CASE = encoder.encode('tsgi conformance: no running case for this request\n');

/** The application of a case that names none: records the call and answers `ok`. */
export const okApp: CaseApp = (_environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [OK];
};

/** What one case's client and application share. */
export class Board {
  readonly calls: RecordedCall[] = [];
  /** Calls that no running case claimed while this case ran. */
  strays = 0;
  readonly violations: Finding[] = [];
  readonly #counters = new Map<string, number>();
  readonly #fired = new Set<string>();
  #waiters: Array<() => void> = [];
  #callWaiters: Array<() => void> = [];

  count(name: string, by = 1): number {
    const value = (this.#counters.get(name) ?? 0) + by;
    this.#counters.set(name, value);
    return value;
  }

  counter(name: string): number {
    return this.#counters.get(name) ?? 0;
  }

  fire(name: string): void {
    this.#fired.add(name);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  fired(name: string): boolean {
    return this.#fired.has(name);
  }

  /** Waits for `name` to be fired; false after `ms`. */
  async when(name: string, ms = 2000): Promise<boolean> {
    return this.#until(() => this.#fired.has(name), ms, (wake) => this.#waiters.push(wake));
  }

  /** Waits for `n` calls; false after `ms`. */
  async callsAtLeast(n: number, ms: number): Promise<boolean> {
    return this.#until(() => this.calls.length >= n, ms, (wake) => this.#callWaiters.push(wake));
  }

  record(environ: Environ): ProbeCall {
    const { index, notes } = this.add({ ...environ }, environ);
    return {
      index,
      notes,
      note: (key, value) => {
        notes[key] = value;
      },
      count: (name, by) => this.count(name, by),
      fire: (name) => this.fire(name),
      when: (name, ms) => this.when(name, ms),
    };
  }

  /** Records a call: `env` as it was when the call began, and the environ itself (or, from another process, its stand-in). */
  add(env: Record<string, unknown>, environ: Environ): { index: number; notes: Record<string, unknown> } {
    const notes: Record<string, unknown> = {};
    const index = this.calls.length;
    this.calls.push({ env, environ, notes });
    const waiters = this.#callWaiters;
    this.#callWaiters = [];
    for (const wake of waiters) wake();
    return { index, notes };
  }

  async #until(done: () => boolean, ms: number, register: (wake: () => void) => void): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        register(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }
}

/** What the runner keeps of a validator's finding: a `ValidationError`, or one reported from another process. */
export interface Finding {
  readonly requirement: ValidationError['requirement'];
  readonly level: ValidationError['level'];
  readonly message: string;
}

interface Entry {
  readonly board: Board;
  readonly app: Application;
}

/** The probe application and the cases it is currently routing to. */
export class Probe {
  readonly #active = new Map<string, Entry>();
  readonly #calls = new WeakMap<object, ProbeCall>();
  readonly #reported: Set<string>;

  /** `reported` collects the message of every violation, as the validators find them. */
  constructor(reported: Set<string> = new Set()) {
    this.#reported = reported;
  }

  /** The application to hand to the server under test. */
  readonly app: Application = (environ, startResponse) => {
    const entry = this.claim(environ.HTTP_X_TSGI_CASE);
    if (!entry) {
      startResponse('404 Not Found', [['Content-Type', 'text/plain']]);
      return [NO_CASE];
    }
    this.#calls.set(environ, entry.board.record(environ));
    const hosted = entry.app; // called as a plain function: this stays undefined (server.invoke.args)
    return hosted(environ, startResponse);
  };

  /** The running case named `id`, for a call; a call for no running case is a stray, counted by every running case. */
  claim(id: string | undefined): Entry | undefined {
    const entry = this.running(id);
    if (!entry) for (const other of this.#active.values()) other.board.strays++;
    return entry;
  }

  /** The running case named `id`, if it is running. */
  running(id: string | undefined): Entry | undefined {
    return id === undefined ? undefined : this.#active.get(id);
  }

  /** Routes requests for `c` to its application from now on. */
  enter(c: ServerCase, board: Board): void {
    const app = c.app ?? okApp;
    const inner: Application = (environ, startResponse) => {
      // The environ is the one the dispatcher saw: validators pass it on, and so do most middleware.
      const call = this.#calls.get(environ) ?? board.record(environ);
      return app(environ, startResponse, call);
    };
    const hosted =
      c.validate === false
        ? inner
        : validator(inner, {
            onViolation: (error) => {
              this.#reported.add(error.message);
              board.violations.push(error);
            },
          });
    this.#active.set(c.id, { board, app: hosted });
  }

  leave(id: string): void {
    this.#active.delete(id);
  }
}
