/**
 * What crosses between the suite and a probe in another process: the messages, one JSON
 * object per line, and how an environ's values are frozen on one side and thawed on the
 * other. Shared by the hub (`_hub.ts`, in the suite's process) and the remote probe
 * (`remote-probe.ts`, in the server's processes).
 */

/** The environment variable that tells a remote probe where the hub listens: `host:port`. */
export const HUB_VARIABLE = 'TSGI_CONFORMANCE_HUB';

/** From a remote probe to the hub. Those with an `id` get a {@link Reply}. */
export type Message =
  | { op: 'record'; id: number; case: string | undefined; env: Record<string, Frozen>; plain: boolean }
  | { op: 'note'; case: string; index: number; key: string; value: unknown }
  | { op: 'count'; case: string; name: string; by: number }
  | { op: 'fire'; case: string; name: string }
  | { op: 'when'; id: number; case: string; name: string; ms: number | undefined }
  | { op: 'violation'; case: string; requirement: string; level: string; message: string }
  | { op: 'pong'; id: number };

/** From the hub: an answer, or a ping that the probe answers once it has sent everything before it. */
export type Reply = { id: number; result: unknown } | { op: 'ping'; id: number };

/** A value of the environ, as it travels. */
export type Frozen = string | number | boolean | null | readonly (string | number | boolean | null)[] | Described;

/** Anything else: what it is, and which function members it has. */
export interface Described {
  readonly $remote: 'undefined' | 'function' | 'object';
  readonly class?: string;
  readonly functions?: readonly string[];
  /** For an `AbortSignal`: its state. */
  readonly aborted?: boolean;
}

const WELL_KNOWN: ReadonlyArray<[symbol, string]> = [
  [Symbol.asyncIterator, 'Symbol.asyncIterator'],
  [Symbol.iterator, 'Symbol.iterator'],
];

const isPrimitive = (value: unknown): value is string | number | boolean | null =>
  value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

/** Freezes one value of an environ for the journey. */
export function freeze(value: unknown): Frozen {
  if (isPrimitive(value)) return value;
  if (value === undefined) return { $remote: 'undefined' };
  if (Array.isArray(value) && value.every(isPrimitive)) return value;
  if (typeof value === 'function') return { $remote: 'function' };
  const object = value as Record<PropertyKey, unknown>;
  const functions = new Set<string>();
  for (let o: object | null = object; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const key of Object.getOwnPropertyNames(o)) {
      if (key === 'constructor') continue;
      try {
        if (typeof object[key] === 'function') functions.add(key);
      } catch {
        // A getter that throws is not a function member.
      }
    }
  }
  for (const [symbol, name] of WELL_KNOWN) if (typeof object[symbol] === 'function') functions.add(name);
  return {
    $remote: 'object',
    class: (object.constructor as { name?: string } | undefined)?.name ?? 'Object',
    functions: [...functions],
    ...(value instanceof AbortSignal ? { aborted: value.aborted } : {}),
  };
}

function stub(name: string): () => never {
  return () => {
    throw new Error(`${name} belongs to a value in another process; only its shape was recorded`);
  };
}

/** The stand-in for a frozen value, on the suite's side. */
export function thaw(value: Frozen): unknown {
  if (isPrimitive(value) || Array.isArray(value)) return value;
  const described = value as Described;
  if (described.$remote === 'undefined') return undefined;
  if (described.$remote === 'function') return stub('a function');
  if (described.aborted !== undefined) {
    const controller = new AbortController();
    if (described.aborted) controller.abort();
    return controller.signal;
  }
  const standIn: Record<PropertyKey, unknown> = {};
  for (const name of described.functions ?? []) {
    const symbol = WELL_KNOWN.find(([, known]) => known === name)?.[0];
    standIn[symbol ?? name] = stub(`${described.class}.${name}`);
  }
  return standIn;
}

/** Splits a stream of text into lines, calling `onLine` for each complete one. */
export function lineReader(onLine: (line: string) => void): (chunk: Buffer | string) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk.toString();
    let end = pending.indexOf('\n');
    while (end >= 0) {
      const line = pending.slice(0, end);
      pending = pending.slice(end + 1);
      if (line) onLine(line);
      end = pending.indexOf('\n');
    }
  };
}
