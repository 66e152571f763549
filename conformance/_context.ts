/** The {@link CaseContext} a case's client runs with: requests, connections, the board, assertions. */
import { isDeepStrictEqual } from 'node:util';
import type { RequirementId } from '../src/_requirements.js';
import { CASE_HEADER, type Board } from './_probe.js';
import { WireConnection, type ReadOptions, type WireResponse } from './_wire.js';
import { CaseFailure, type Capability, type CaseContext, type RecordedCall, type RequestOptions, type RunningServer } from './types.js';

/** What the runner gives a context. */
export interface ContextInit {
  readonly id: string;
  readonly server: RunningServer;
  readonly board: Board;
  readonly capabilities: ReadonlySet<Capability>;
  readonly errorLog: () => string;
  readonly stopServer: () => Promise<void>;
  /** Where the context registers what it must close when the case ends. */
  readonly closers: Array<() => void | Promise<void>>;
  /** Resolves once what probes in other processes reported before now has reached the board. */
  readonly settle: () => Promise<void>;
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Builds the context of one case. */
export function createContext(init: ContextInit): CaseContext {
  const { server, board } = init;
  const host = server.host;
  const tls = server.tls === true;
  const scriptName = server.scriptName && server.scriptName !== '/' ? server.scriptName.replace(/\/+$/, '') : '';
  const authority = `${host.includes(':') ? `[${host}]` : host}:${server.port}`;
  const tag = `${CASE_HEADER}: ${init.id}`;
  const path = (p: string) => (p.startsWith('/') ? scriptName + p : p);

  const fail = (requirement: RequirementId, message: string): never => {
    throw new CaseFailure(requirement, message);
  };

  const connect = async (): Promise<WireConnection> => {
    const connection = await WireConnection.open(host, server.port, tls);
    init.closers.push(() => connection.destroy());
    // What the application reported before it answered is on the board once the answer is read.
    const readResponse = connection.readResponse.bind(connection);
    connection.readResponse = async (options) => {
      const response = await readResponse(options);
      await init.settle();
      return response;
    };
    return connection;
  };

  return {
    id: init.id,
    host,
    port: server.port,
    tls,
    scriptName,
    authority,
    tag,
    has: (capability) => init.capabilities.has(capability),
    path,
    request(method, target, options: RequestOptions = {}) {
      const version = options.version ?? '1.1';
      const lines = [`${method} ${options.mount === false ? target : path(target)} HTTP/${version}`];
      if (options.host ?? version === '1.1') lines.push(`Host: ${authority}`);
      lines.push(tag);
      const headers = options.headers ?? [];
      for (const [name, value] of headers) lines.push(`${name}: ${value}`);
      const body = options.body === undefined ? undefined : typeof options.body === 'string' ? Buffer.from(options.body, 'latin1') : Buffer.from(options.body);
      const framed = headers.some(([name]) => /^(content-length|transfer-encoding)$/i.test(name));
      if (body && !framed) lines.push(`Content-Length: ${body.length}`);
      const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
      return body ? Buffer.concat([head, body]) : head;
    },
    connect,
    async exchange(request, options: ReadOptions = {}): Promise<WireResponse> {
      const connection = await connect();
      connection.send(request);
      try {
        return await connection.readResponse(options);
      } finally {
        connection.destroy();
      }
    },
    get callCount() {
      return board.calls.length;
    },
    get strayCount() {
      return board.strays;
    },
    async calls(n = 1, ms = 2000, requirement: RequirementId = 'server.invoke.once'): Promise<RecordedCall[]> {
      if (!(await board.callsAtLeast(n, ms))) {
        fail(requirement, `the application was called ${board.calls.length} time(s) within ${ms} ms; expected ${n}`);
      }
      return board.calls;
    },
    counter: (name) => board.counter(name),
    fire: (name) => board.fire(name),
    when: (name, ms) => board.when(name, ms),
    get errorLog() {
      return init.errorLog();
    },
    stopServer: init.stopServer,
    ok(condition, requirement, message) {
      if (!condition) fail(requirement, message);
    },
    equal(actual, expected, requirement, what) {
      if (!isDeepStrictEqual(actual, expected)) fail(requirement, `${what}: expected ${show(expected)}, got ${show(actual)}`);
    },
    fail,
    delay,
  };
}

/** A value in a failure message: JSON with every code unit above U+007E escaped (byte strings show their octets), cut short. */
export function show(value: unknown): string {
  const json = value === undefined ? 'undefined' : JSON.stringify(Buffer.isBuffer(value) ? value.toString('latin1') : value);
  if (json === undefined) return String(value);
  const text = json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}
