/**
 * `runAppConformance(app)`: the application battery. It serves the application, wrapped
 * in the validator, on the reference server at 127.0.0.1, drives it with the requests a
 * real deployment sends (GET, HEAD, small and large POSTs, chunked bodies, odd methods,
 * `Expect: 100-continue`, HTTP/1.0, concurrent calls, clients that go away), and reports
 * every violation of the contract, request by request.
 *
 * @module
 */
import { requirements as table, type RequirementId } from '../src/_requirements.js';
import { serve } from '../src/server.js';
import type { Application, ErrorStream } from '../src/types.js';
import { validator, type ValidationError } from '../src/validate.js';
import { selected } from './_select.js';
import { WireConnection, type ReadOptions, type WireResponse } from './_wire.js';
import { buildReport, resultOf, violationFailure } from './report.js';
import { bounded, muteReportedWarnings } from './server.js';
import { CaseFailure, type CaseResult, type ConformanceReport, type Failure, type Selection } from './types.js';

/** A request of the battery. */
export interface AppRequest {
  method: string;
  path: string;
  version?: '1.0' | '1.1';
  headers?: ReadonlyArray<readonly [string, string]>;
  /** Sent with a Content-Length unless `headers` frame it. */
  body?: string | Uint8Array;
}

/** What a battery case can do. */
export interface AppExchange {
  /** The bytes of a request. */
  build(request: AppRequest): Buffer;
  /** Sends a request on a new connection and reads its response. */
  send(request: AppRequest, options?: ReadOptions): Promise<WireResponse>;
  /** Opens a connection (closed when the case ends). */
  connect(): Promise<WireConnection>;
  /** Fails the case, naming the requirement the application broke. */
  fail(requirement: RequirementId, message: string): never;
  delay(ms: number): Promise<void>;
}

/** One case of the battery: requests as data and a function that sends them. */
export interface AppCase {
  /** `app.<name>`. */
  readonly id: string;
  /** What this case is about; every request is also checked against everything the validator checks. */
  readonly requirements: readonly RequirementId[];
  readonly description: string;
  run(x: AppExchange): Promise<void>;
}

/** Options of {@link runAppConformance}. */
export interface AppConformanceOptions extends Selection {
  /** The name of the application in the report. Default: `application`. */
  name?: string | undefined;
  /** Called with each result as soon as its case has run. */
  onResult?: ((result: CaseResult) => void) | undefined;
  /** The longest a case may take, in milliseconds. Default: 10000. */
  caseTimeout?: number | undefined;
  /**
   * Header lines added to every request of the battery, such as
   * `[['Accept-Encoding', 'gzip']]`, so that code which depends on what the client
   * negotiates (compression, content negotiation, authentication) runs. A request that
   * already has a header of the same name keeps its own. `Host`, `Content-Length`,
   * `Transfer-Encoding`, `Expect`, `Connection` and `X-Tsgi-Conformance` are refused:
   * the cases frame and route their requests with them. Default: none.
   */
  headers?: ReadonlyArray<readonly [string, string]> | undefined;
}

const EXTENSION_HEADER = 'X-Tsgi-Conformance';

/** Sends `request` and returns the status, failing the case on a 500 when `good` (a request the application served well before) was not one. */
async function status(x: AppExchange, request: AppRequest, options?: ReadOptions): Promise<number> {
  return (await x.send(request, options)).status;
}

const large = Buffer.alloc(1024 * 1024, 'tsgi conformance ');

/** The battery, in the order it runs. */
export const appCases: readonly AppCase[] = [
  { id: 'app.get', requirements: ['app.callable', 'app.return', 'status.format', 'header.list'], description: 'GET / (the root)', run: async (x) => void (await x.send({ method: 'GET', path: '/' })) },
  { id: 'app.get-query', requirements: ['app.return'], description: 'GET with a query string, repeated keys included', run: async (x) => void (await x.send({ method: 'GET', path: '/?tsgi=conformance&a=1&a=2&empty=' })) },
  { id: 'app.get-encoded-path', requirements: ['app.return'], description: 'GET of a percent-encoded UTF-8 path', run: async (x) => void (await x.send({ method: 'GET', path: '/caf%C3%A9/x%20y%2F' })) },
  { id: 'app.not-found', requirements: ['app.return', 'header.content-type'], description: 'GET of a path the application does not have', run: async (x) => void (await x.send({ method: 'GET', path: '/tsgi-conformance/no/such/path' })) },
  { id: 'app.head', requirements: ['head.app-body', 'framing.content-length.match'], description: 'HEAD / (the root)', run: async (x) => void (await x.send({ method: 'HEAD', path: '/' }, { head: true })) },
  {
    id: 'app.http10',
    requirements: ['app.return'],
    description: 'GET / over HTTP/1.0, without Host',
    run: async (x) => void (await x.send({ method: 'GET', path: '/', version: '1.0' })),
  },
  {
    id: 'app.headers',
    requirements: ['app.return'],
    description: 'GET with repeated headers, cookies, an Authorization and a non-ASCII value',
    run: async (x) =>
      void (await x.send({
        method: 'GET',
        path: '/',
        headers: [['Accept', 'text/html'], ['Accept', 'application/json'], ['Cookie', 'a=1'], ['Cookie', 'b=2'], ['Authorization', 'Basic dHNnaTp0c2dp'], ['X-Name', 'caf\u00c3\u00a9'], ['Accept-Language', 'fr, en;q=0.5']],
      })),
  },
  {
    id: 'app.post-form',
    requirements: ['input.args', 'streams.members'],
    description: 'POST of a small form',
    run: async (x) => void (await x.send({ method: 'POST', path: '/', headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: 'name=tsgi&value=caf%C3%A9' })),
  },
  {
    id: 'app.post-json',
    requirements: ['input.args', 'streams.members'],
    description: 'POST of a small JSON document',
    run: async (x) => void (await x.send({ method: 'POST', path: '/', headers: [['Content-Type', 'application/json']], body: '{"tsgi":"conformance","n":1}' })),
  },
  {
    id: 'app.post-large',
    requirements: ['input.args', 'streams.members'],
    description: 'POST of a 1 MiB body',
    run: async (x) => void (await x.send({ method: 'POST', path: '/', headers: [['Content-Type', 'application/octet-stream']], body: large }, { ms: 5000 })),
  },
  {
    id: 'app.post-chunked',
    requirements: ['input.args', 'streams.members'],
    description: 'POST of a chunked body',
    run: async (x) =>
      void (await x.send({ method: 'POST', path: '/', headers: [['Content-Type', 'text/plain'], ['Transfer-Encoding', 'chunked']], body: '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n' })),
  },
  { id: 'app.post-empty', requirements: ['input.args'], description: 'POST without a body', run: async (x) => void (await x.send({ method: 'POST', path: '/' })) },
  {
    id: 'app.expect-continue',
    requirements: ['input.args'],
    description: 'PUT with Expect: 100-continue, the body sent after 100 Continue or a short wait',
    async run(x) {
      const connection = await x.connect();
      connection.send(x.build({ method: 'PUT', path: '/', headers: [['Content-Type', 'text/plain'], ['Content-Length', '5'], ['Expect', '100-continue']] }));
      await connection.waitFor((b) => b.length > 0, 300);
      const first = connection.pending.length ? await connection.readResponse({ ms: 2000 }) : undefined;
      if (first && first.status !== 100) return;
      connection.send('hello');
      await connection.readResponse({ ms: 2000 });
    },
  },
  {
    id: 'app.methods',
    requirements: ['env.request-method', 'app.return'],
    description: 'PUT, PATCH, DELETE and OPTIONS',
    async run(x) {
      for (const method of ['PUT', 'PATCH', 'DELETE', 'OPTIONS']) await x.send({ method, path: '/', body: method === 'DELETE' || method === 'OPTIONS' ? undefined : 'x' } as AppRequest);
    },
  },
  { id: 'app.options-asterisk', requirements: ['app.return'], description: 'OPTIONS * (the server as a whole)', run: async (x) => void (await x.send({ method: 'OPTIONS', path: '*' })) },
  {
    id: 'app.client-gone',
    requirements: ['close.once', 'exc.no-catch'],
    description: 'a client that goes away as soon as it has sent its request',
    async run(x) {
      const connection = await x.connect();
      connection.send(x.build({ method: 'GET', path: '/' }));
      await connection.waitFor((b) => b.length > 0, 50);
      connection.reset();
      await x.delay(100);
    },
  },
  {
    id: 'app.client-gone-mid-body',
    requirements: ['input.args'],
    description: 'a client that goes away in the middle of its request body',
    async run(x) {
      const connection = await x.connect();
      connection.send(x.build({ method: 'POST', path: '/', headers: [['Content-Type', 'text/plain'], ['Content-Length', '1000']] }));
      connection.send('only the beginning');
      await x.delay(50);
      connection.reset();
      await x.delay(100);
    },
  },
  {
    id: 'app.repeated-and-overlapping',
    requirements: ['app.reentrant'],
    description: 'the same requests again, and four at once: each is served as well as the first',
    async run(x) {
      const first = await status(x, { method: 'GET', path: '/' });
      const again = await Promise.all([0, 1, 2, 3].map(() => status(x, { method: 'GET', path: '/' })));
      again.push(await status(x, { method: 'GET', path: '/' }));
      if (first < 500 && again.some((s) => s >= 500)) x.fail('app.reentrant', `GET / answered ${first}, then ${again.join(', ')} when repeated or overlapping`);
    },
  },
  {
    id: 'app.extension-keys',
    requirements: ['ext.ignore-unknown'],
    description: 'GET / with an environ that holds an extension key the application does not know',
    async run(x) {
      const plain = await status(x, { method: 'GET', path: '/' });
      const extended = await status(x, { method: 'GET', path: '/', headers: [[EXTENSION_HEADER, 'extension']] });
      if (plain < 500 && extended >= 500) x.fail('ext.ignore-unknown', `GET / answered ${plain}, but ${extended} with an unknown extension key in the environ`);
    },
  },
];

/** The battery for middleware: the same requests, with the middleware checked on both of its sides. */
export const middlewareCases: readonly AppCase[] = appCases.map((c) => ({
  ...c,
  id: c.id.replace(/^app\./, 'middleware.'),
  requirements: [...c.requirements, 'mw.both-sides'],
}));

const encoder = new TextEncoder();

/** The application the suite puts under middleware: it reads the body and streams it back, with a close(). */
const innerApp: Application = async (environ, startResponse) => {
  const body = await environ['tsgi.input'].read();
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  const head = encoder.encode(`${environ.REQUEST_METHOD} ${environ.PATH_INFO}\n`);
  return Object.assign(
    (function* () {
      yield head;
      yield body;
      yield encoder.encode('\nend\n');
    })(),
    { close() {} },
  );
};

/**
 * Runs the application battery: serves `app`, wrapped in the validator, on the
 * reference server at 127.0.0.1, sends every request of {@link appCases}, and reports
 * each case with the violations it provoked. Errors the application throws, which the
 * server catches and logs, are listed as warnings: the contract lets an application
 * fail, as long as it fails within it. What the application writes to `tsgi.errors`
 * itself is its own business and is not reported.
 *
 * @example
 * ```ts
 * import { formatReport, runAppConformance } from 'tsgi/conformance';
 * import app from './app.js';
 *
 * const report = await runAppConformance(app);
 * console.log(formatReport(report, { failuresOnly: true }));
 * process.exitCode = report.ok ? 0 : 1;
 * ```
 */
export async function runAppConformance(app: Application, options: AppConformanceOptions = {}): Promise<ConformanceReport> {
  if (typeof app !== 'function') throw new TypeError('the application must be a function');
  return runBattery('application', appCases, (onViolation) => validator(app, { onViolation }), options);
}

/**
 * Runs the battery through middleware: `middleware` wraps an application of the suite's
 * own, with one validator between the two and another around the middleware, so that
 * it is checked as an application toward the server and as a server toward the
 * application it calls (`mw.both-sides`).
 *
 * @example
 * ```ts
 * import { runMiddlewareConformance } from 'tsgi/conformance';
 *
 * const poweredBy = (app: Application): Application => (environ, startResponse) =>
 *   app(environ, (status, headers, excInfo) => startResponse(status, [...headers, ['X-Powered-By', 'tsgi']], excInfo));
 * const report = await runMiddlewareConformance(poweredBy);
 * ```
 */
export async function runMiddlewareConformance(
  middleware: (app: Application) => Application,
  options: AppConformanceOptions = {},
): Promise<ConformanceReport> {
  if (typeof middleware !== 'function') throw new TypeError('the middleware must be a function that takes an application');
  return runBattery('middleware', middlewareCases, (onViolation) => validator(middleware(validator(innerApp, { onViolation })), { onViolation }), options);
}

async function runBattery(
  kind: 'application' | 'middleware',
  cases: readonly AppCase[],
  validated: (onViolation: (error: ValidationError) => void) => Application,
  options: AppConformanceOptions,
): Promise<ConformanceReport> {
  const extra = extraHeaders(options.headers);
  const began = performance.now();
  let violations: ValidationError[] = [];
  let log = '';
  // Above zero while the application's own tsgi.errors writes pass through to the sink:
  // they share it with the server's log, and only the server's lines mean something broke.
  let applicationWriting = 0;
  const reported = new Set<string>();
  const app = validated((error) => {
    reported.add(error.message);
    violations.push(error);
  });
  const hosted: Application = (environ, startResponse) => {
    environ['tsgi.errors'] = attributed(environ['tsgi.errors'], (delta) => (applicationWriting += delta));
    if (environ.HTTP_X_TSGI_CONFORMANCE === 'extension') {
      (environ as unknown as Record<string, unknown>)['conformance.unknown_key'] = { purpose: 'an extension key the application does not know' };
    }
    return app(environ, startResponse);
  };
  const restore = muteReportedWarnings(reported);
  const sink = {
    write(chunk: string, callback?: (error?: Error | null) => void) {
      if (!applicationWriting && log.length < 100_000) log += chunk;
      callback?.();
      return true;
    },
  };
  const server = await serve(hosted, { hostname: '127.0.0.1', port: 0, quiet: true, errors: sink, shutdownTimeout: 2000 });
  const results: CaseResult[] = [];
  try {
    for (const c of cases) {
      if (!selected(c, options)) continue;
      violations = [];
      log = '';
      const result = await runAppCase(c, server.port, extra, options.caseTimeout ?? 10_000, () => violations, () => log);
      results.push(result);
      options.onResult?.(result);
    }
  } finally {
    restore();
    await server.close();
  }
  return buildReport({ kind, name: options.name ?? kind, capabilities: undefined, results, ms: performance.now() - began });
}

/**
 * The server's error stream as the application sees it: the same stream, but each write
 * is marked as the application's while it runs (the reference server writes to its sink
 * synchronously), so that the sink can tell it from the server's own log.
 */
function attributed(inner: ErrorStream, writing: (delta: 1 | -1) => void): ErrorStream {
  const mark = (write: () => void) => {
    writing(1);
    try {
      write();
    } finally {
      writing(-1);
    }
  };
  return {
    write: (text) => mark(() => inner.write(text)),
    writeLines: (lines) => mark(() => inner.writeLines(lines)),
    flush: () => inner.flush(),
  };
}

// The cases frame, route and pace their requests with these: another value would change
// what a case tests, or make its response unreadable.
const RESERVED = new Set(['host', 'content-length', 'transfer-encoding', 'expect', 'connection', EXTENSION_HEADER.toLowerCase()]);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function extraHeaders(headers: AppConformanceOptions['headers']): ReadonlyArray<readonly [string, string]> {
  if (headers === undefined) return [];
  if (!Array.isArray(headers)) throw new TypeError('options.headers must be an array of [name, value] pairs');
  return headers.map((pair: unknown) => {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
      throw new TypeError(`options.headers: each header must be a [name, value] pair of strings; got ${JSON.stringify(pair)}`);
    }
    const [name, value] = pair as [string, string];
    if (!TOKEN.test(name)) throw new TypeError(`options.headers: ${JSON.stringify(name)} is not a header name`);
    if (RESERVED.has(name.toLowerCase())) throw new TypeError(`options.headers: the battery sets ${name} itself`);
    if (/[\0\r\n]/.test(value)) throw new TypeError(`options.headers: the value of ${name} contains CR, LF or NUL`);
    return [name, value] as const;
  });
}

async function runAppCase(
  c: AppCase,
  port: number,
  extra: ReadonlyArray<readonly [string, string]>,
  timeout: number,
  found: () => ValidationError[],
  log: () => string,
): Promise<CaseResult> {
  const began = performance.now();
  const connections: WireConnection[] = [];
  const connect = async () => {
    const connection = await WireConnection.open('127.0.0.1', port);
    connections.push(connection);
    return connection;
  };
  const x: AppExchange = {
    build: (request) => build(request, port, extra),
    async send(request, options) {
      const connection = await connect();
      connection.send(build(request, port, extra));
      let response = await connection.readResponse(options);
      if (response.status === 100) response = await connection.readResponse(options);
      connection.destroy();
      return response;
    },
    connect,
    fail(requirement, message) {
      throw new CaseFailure(requirement, message);
    },
    delay: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
  const failures: Failure[] = [];
  try {
    const run = c.run(x);
    run.catch(() => {});
    await bounded(run, timeout, `the case did not finish within ${timeout} ms`);
  } catch (error) {
    if (error instanceof CaseFailure) failures.push({ requirement: error.requirement, level: table[error.requirement].level, message: error.message, source: 'client' });
    else failures.push({ requirement: undefined, level: undefined, message: `no usable response: ${error instanceof Error ? error.message : String(error)}`, source: 'runner' });
  }
  // The server closes the body a moment after the response: give its findings time to arrive.
  await new Promise((resolve) => setTimeout(resolve, 20));
  for (const connection of connections) connection.destroy();
  const seen = new Set<string>();
  const violations: Failure[] = [];
  for (const error of found()) {
    if (seen.has(error.message)) continue;
    seen.add(error.message);
    violations.push(violationFailure(error));
  }
  const all = [...violations, ...failures];
  const warnings: Failure[] = [];
  // Only the server writes here (see attributed): an error it caught from the application.
  // A violation already explains such an error, when there is one.
  const text = log().trim();
  if (text && !violations.length) {
    warnings.push({ requirement: undefined, level: undefined, message: `the application failed: ${text.split('\n').slice(0, 3).join(' / ')}`, source: 'runner' });
  }
  return resultOf(c, all, warnings, began);
}

function build(request: AppRequest, port: number, extra: ReadonlyArray<readonly [string, string]>): Buffer {
  const version = request.version ?? '1.1';
  const lines = [`${request.method} ${request.path} HTTP/${version}`];
  if (version === '1.1') lines.push(`Host: 127.0.0.1:${port}`);
  const headers = request.headers ?? [];
  const own = new Set(headers.map(([name]) => name.toLowerCase()));
  for (const [name, value] of extra) if (!own.has(name.toLowerCase())) lines.push(`${name}: ${value}`);
  for (const [name, value] of headers) lines.push(`${name}: ${value}`);
  const body = request.body === undefined ? undefined : typeof request.body === 'string' ? Buffer.from(request.body, 'latin1') : Buffer.from(request.body);
  if (body && !headers.some(([name]) => /^(content-length|transfer-encoding)$/i.test(name))) lines.push(`Content-Length: ${body.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return body ? Buffer.concat([head, body]) : head;
}
