/** What the case files share: byte helpers, small applications, and checks that recur. */
import type { RequirementId } from '../../src/_requirements.js';
import type { Environ, InputStream, ResponseBody, StartResponse } from '../../src/types.js';
import type { CaseApp, CaseContext, RequestOptions, ServerCase, WireResponse } from '../types.js';

/** Cases as data, typed. */
export const defineCases = (cases: ServerCase[]): readonly ServerCase[] => cases;

/** A byte string (latin-1) as bytes. */
export const bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'latin1'));

/** Bytes as a byte string (latin-1). */
export const latin1 = (data: Uint8Array): string => Buffer.from(data.buffer, data.byteOffset, data.length).toString('latin1');

/** Content-Type headers for the probe's responses (header.content-type). */
export const TEXT: [string, string] = ['Content-Type', 'text/plain'];
export const BINARY: [string, string] = ['Content-Type', 'application/octet-stream'];

/** Every octet value, in order: for checks that nothing is re-encoded. */
export const ALL_OCTETS = new Uint8Array(256).map((_, i) => i);

/** Calls `startResponse('200 OK', ...)` and returns `chunks` as an array body. */
export function reply(startResponse: StartResponse, ...chunks: string[]): ResponseBody {
  startResponse('200 OK', [TEXT]);
  return chunks.map(bytes);
}

/** Runs `call` and says whether it threw. */
export function throws(call: () => unknown): boolean {
  try {
    call();
    return false;
  } catch {
    return true;
  }
}

/** Reads the whole of an input stream with `read(size)` calls. */
export async function readAll(input: InputStream, size = 65536): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (;;) {
    const chunk = await input.read(size);
    if (chunk.length === 0) return Buffer.concat(parts);
    parts.push(chunk);
  }
}

/** An application that reads the body with `read()` and answers with it; the read notes what came. */
export const echoBody: CaseApp = async (environ, startResponse, probe) => {
  const body = await environ['tsgi.input'].read();
  probe.note('body', latin1(body));
  startResponse('200 OK', [BINARY]);
  return [body];
};

/** Whether the environ's `tsgi.signal`, read lazily, is aborted. */
export const aborted = (environ: Environ): boolean => environ['tsgi.signal'].aborted;

/** A generator that yields `parts` as bytes, after calling `startResponse` in its first step. */
export function* chunks(startResponse: StartResponse, parts: readonly string[], headers: Array<[string, string]> = [TEXT]): Generator<Uint8Array> {
  startResponse('200 OK', headers);
  for (const part of parts) yield bytes(part);
}

/** Sends a request for this case, expects the application's answer, and returns the response and the environ it saw. */
export async function requestEnviron(
  t: CaseContext,
  method: string,
  path: string,
  requirement: RequirementId,
  options: RequestOptions = {},
): Promise<{ response: WireResponse; env: Readonly<Record<string, unknown>> }> {
  const response = await t.exchange(t.request(method, path, options), { head: method === 'HEAD' });
  const [call] = await t.calls(1, 2000, requirement);
  if (!call) return t.fail(requirement, 'the application was not called');
  t.ok(response.status !== 500 || method === 'HEAD', requirement, `the server answered 500 for a request the application can serve: ${short(response)}`);
  return { response, env: call.env };
}

/** The environ the application saw for a GET of `path`. */
export async function environFor(t: CaseContext, path: string, requirement: RequirementId, options: RequestOptions = {}): Promise<Readonly<Record<string, unknown>>> {
  return (await requestEnviron(t, 'GET', path, requirement, options)).env;
}

/** Checks that the application was never called during this case. */
export function notCalled(t: CaseContext, requirement: RequirementId): void {
  t.ok(t.callCount === 0 && t.strayCount === 0, requirement, `the application was called ${t.callCount + t.strayCount} time(s) for a request that must not reach it`);
}

/** Checks a status code. */
export function status(t: CaseContext, response: WireResponse, expected: number | readonly number[], requirement: RequirementId): void {
  const allowed = typeof expected === 'number' ? [expected] : expected;
  t.ok(allowed.includes(response.status), requirement, `expected status ${allowed.join(' or ')}, got ${JSON.stringify(response.statusLine)}`);
}

/** A response in a failure message: its head and the start of its body. */
export function short(response: WireResponse): string {
  const raw = response.raw.toString('latin1');
  return JSON.stringify(raw.length > 200 ? `${raw.slice(0, 197)}...` : raw);
}

/** A marker unique to a case, to find in logs and bodies. */
export const marker = (t: CaseContext | string): string => `tsgi-conformance-marker-${typeof t === 'string' ? t : t.id}`;

/** A stack frame as Node and browsers print it. */
export const STACK_FRAME = /\n\s+at .+/;

/** Counts pulls of an endless body, bounded so that a server that never stops cannot hang the suite. */
export async function* endless(probe: { count(name: string): number; fire(name: string): void }, chunk: Uint8Array, limit = 5000, pause = 0): AsyncGenerator<Uint8Array> {
  try {
    for (let i = 0; i < limit; i++) {
      probe.count('pulled');
      yield chunk;
      if (pause) await new Promise((resolve) => setTimeout(resolve, pause));
    }
  } finally {
    probe.fire('finally');
  }
}

/** Gives `body` a `close()` that counts its calls and fires `closed`. */
export function closable<T extends object>(body: T, probe: { count(name: string): number; fire(name: string): void }): T & { close(): void } {
  return Object.assign(body, {
    close: () => {
      probe.count('closes');
      probe.fire('closed');
    },
  });
}

/** Waits for the body's `close()`, then checks it ran exactly once. */
export async function closedOnce(t: CaseContext, ms = 2000): Promise<void> {
  t.ok(await t.when('closed', ms), 'close.once', `the body's close() was not called within ${ms} ms`);
  await t.delay(20);
  t.equal(t.counter('closes'), 1, 'close.once', 'calls of close()');
}
