/**
 * The probe application for a server of several processes: each process loads this
 * module (with the environment the suite gives in `StartContext.remote`) and serves its
 * default export. It routes each request to the case named in its `X-Tsgi-Case` header,
 * as the in-process probe does, wraps the case's application in a validator, and reports
 * the call, its notes, counts, events and the validator's findings to the suite's hub.
 *
 * @module
 */
import { createConnection, type Socket } from 'node:net';
import { validator } from '../src/validate.js';
import type { Application, Environ, StartResponse } from '../src/types.js';
import { serverCases } from './cases/index.js';
import { okApp } from './_probe.js';
import { HUB_VARIABLE, freeze, lineReader, type Frozen, type Message, type Reply } from './_remote.js';
import type { ProbeCall, ServerCase } from './types.js';

const address = process.env[HUB_VARIABLE];
if (!address) throw new Error(`the remote probe needs ${HUB_VARIABLE} (host:port of the conformance suite's hub) in its environment`);

const cases = new Map<string, ServerCase>(serverCases.map((c) => [c.id, c]));
const NO_CASE = new TextEncoder().encode('tsgi conformance: no running case for this request\n');

/** The connection to the hub, and the answers it owes. */
class HubClient {
  readonly #socket: Socket;
  readonly #waiting = new Map<number, (result: unknown) => void>();
  #next = 0;

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on(
      'data',
      lineReader((line) => {
        const reply = JSON.parse(line) as Reply;
        // A ping is answered on the same connection, after everything sent before it.
        if ('op' in reply) this.send({ op: 'pong', id: reply.id });
        else {
          this.#waiting.get(reply.id)?.(reply.result);
          this.#waiting.delete(reply.id);
        }
      }),
    );
    // The suite went away: nothing is left to report to, and no answer will come.
    socket.on('close', () => {
      for (const resolve of this.#waiting.values()) resolve(undefined);
      this.#waiting.clear();
    });
    socket.on('error', () => {});
    socket.unref();
  }

  send(message: Message): void {
    if (!this.#socket.destroyed) this.#socket.write(`${JSON.stringify(message)}\n`);
  }

  /** Sends a message that the hub answers, and resolves with the answer. */
  ask(message: Message & { id: number }): Promise<unknown> {
    return new Promise((resolve) => {
      this.#waiting.set(message.id, resolve);
      this.send(message);
    });
  }

  id(): number {
    return this.#next++;
  }
}

const [host = '127.0.0.1', port = ''] = address.split(/:(?=\d+$)/);
const socket = createConnection(Number(port), host);
await new Promise<void>((resolve, reject) => {
  socket.once('connect', resolve);
  socket.once('error', reject);
});
const hub = new HubClient(socket);

// Findings reach the suite through the hub; as warnings too, they would only fill this process's stderr.
const emitWarning = process.emitWarning;
process.emitWarning = function (this: unknown, warning: string | Error, ...rest: unknown[]) {
  const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
  if (type === 'TsgiWarning') return;
  return (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
} as typeof process.emitWarning;

/** The call each environ belongs to, for the case's application behind the validator. */
const calls = new WeakMap<object, ProbeCall>();
/** Each case's latest call: for an environ that something between probe and case replaced. */
const latest = new Map<string, ProbeCall>();
/** Each case's application, wrapped in its validator once. */
const hosted = new Map<string, Application>();

function hostedApp(c: ServerCase): Application {
  let app = hosted.get(c.id);
  if (!app) {
    const caseApp = c.app ?? okApp;
    const inner: Application = (environ, startResponse) => caseApp(environ, startResponse, calls.get(environ) ?? latest.get(c.id)!);
    app =
      c.validate === false
        ? inner
        : validator(inner, {
            onViolation: (error) =>
              hub.send({ op: 'violation', case: c.id, requirement: error.requirement, level: error.level, message: error.message }),
          });
    hosted.set(c.id, app);
  }
  return app;
}

function probeCall(caseId: string, index: number): ProbeCall {
  const notes: Record<string, unknown> = {};
  const counts = new Map<string, number>();
  return {
    index,
    notes,
    note(key, value) {
      notes[key] = value;
      hub.send({ op: 'note', case: caseId, index, key, value });
    },
    count(name, by = 1) {
      hub.send({ op: 'count', case: caseId, name, by });
      const value = (counts.get(name) ?? 0) + by;
      counts.set(name, value);
      return value;
    },
    fire(name) {
      hub.send({ op: 'fire', case: caseId, name });
    },
    async when(name, ms) {
      return (await hub.ask({ op: 'when', id: hub.id(), case: caseId, name, ms })) === true;
    },
  };
}

/** The probe: serve this as the application of every process. */
const remoteProbe: Application = async (environ: Environ, startResponse: StartResponse) => {
  const caseId = environ.HTTP_X_TSGI_CASE;
  const env: Record<string, Frozen> = {};
  for (const key of Object.keys(environ)) env[key] = freeze((environ as unknown as Record<string, unknown>)[key]);
  const proto: unknown = Object.getPrototypeOf(environ);
  const index = await hub.ask({ op: 'record', id: hub.id(), case: caseId, env, plain: proto === Object.prototype || proto === null });
  const c = caseId === undefined ? undefined : cases.get(caseId);
  if (typeof index !== 'number' || index < 0 || !c) {
    startResponse('404 Not Found', [['Content-Type', 'text/plain']]);
    return [NO_CASE];
  }
  const call = probeCall(c.id, index);
  calls.set(environ, call);
  latest.set(c.id, call);
  const app = hostedApp(c);
  return app(environ, startResponse);
};

export default remoteProbe;
