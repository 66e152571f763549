/** Error handling: a 500 that reveals nothing before the head, a truncated message after it, the error logged, and the server unharmed. */
import type { CaseApp, CaseContext } from '../types.js';
import { STACK_FRAME, TEXT, bytes, defineCases, marker, reply, short, status } from './_helpers.js';

/** An application that fails as `fail` does, on its first request only; later requests get `ok`. */
function failing(fail: (message: string, startResponse: Parameters<CaseApp>[1]) => ReturnType<CaseApp>): CaseApp {
  return (environ, startResponse, probe) => {
    if (probe.index > 0) return reply(startResponse, 'ok');
    return fail(marker(environ.HTTP_X_TSGI_CASE ?? ''), startResponse);
  };
}

/** Checks a generic 500 that does not reveal the error, and a connection that still serves. */
async function generic500(t: CaseContext, logged = true): Promise<void> {
  const connection = await t.connect();
  connection.send(t.request('GET', '/'));
  const response = await connection.readResponse();
  status(t, response, 500, 'error.before-headers');
  t.ok(response.complete, 'error.before-headers', `the 500 response is incomplete: ${short(response)}`);
  const text = response.body.toString('latin1');
  t.ok(!text.includes(marker(t)) && !STACK_FRAME.test(text), 'error.before-headers', `the 500 page reveals the error: ${JSON.stringify(text.slice(0, 200))}`);
  const next = await t.exchange(t.request('GET', '/'));
  t.equal(next.body.toString('latin1'), 'ok', 'server.robust', 'the answer to the next request');
  if (logged && t.has('error-log')) {
    await t.delay(20);
    t.ok(t.errorLog.includes(marker(t)), 'error.logged', 'the error is not in the error log');
  }
}

/** The cases about error handling. */
export const errorCases = defineCases([
  {
    id: 'errors.throw',
    requirements: ['error.before-headers', 'server.robust'],
    description: 'an application that throws gets a generic 500, and the server goes on serving',
    app: failing((message) => {
      throw new Error(message);
    }),
    client: generic500,
  },
  {
    id: 'errors.reject',
    requirements: ['error.before-headers', 'server.invoke.await'],
    description: 'an application whose Promise rejects gets a generic 500',
    app: failing((message) => Promise.reject(new Error(message))),
    client: generic500,
  },
  {
    id: 'errors.body-throws-first',
    requirements: ['error.before-headers'],
    description: 'a body that fails before its first chunk gets a generic 500',
    app: failing((message) =>
      (function* () {
        throw new Error(message);
      })(),
    ),
    client: generic500,
  },
  {
    id: 'errors.throw-after-start',
    requirements: ['error.before-headers'],
    description: 'an application that called startResponse and then threw still gets a 500 instead of its head',
    app: failing((message, startResponse) =>
      (async function* (): AsyncGenerator<Uint8Array> {
        startResponse('200 OK', [TEXT]);
        throw new Error(message);
      })(),
    ),
    client: generic500,
  },
  {
    id: 'errors.throw-non-error',
    requirements: ['error.before-headers'],
    description: 'an application that throws a value that is not an Error gets a 500 all the same',
    app: failing((message) => {
      throw message;
    }),
    client: generic500,
  },
  {
    id: 'errors.logged',
    requirements: ['error.logged'],
    description: 'an application error is written to the error log with its stack trace',
    needs: ['error-log'],
    app: failing((message) => {
      throw new Error(message);
    }),
    async client(t) {
      status(t, await t.exchange(t.request('GET', '/')), 500, 'error.before-headers');
      await t.delay(20);
      const log = t.errorLog;
      const at = log.indexOf(marker(t));
      t.ok(at >= 0, 'error.logged', 'the error is not in the error log');
      t.ok(STACK_FRAME.test(log.slice(at)), 'error.logged', 'the error was logged without its stack trace');
    },
  },
  {
    id: 'errors.after-head',
    requirements: ['error.after-headers', 'error.no-append'],
    description: 'an error after the head truncates the message: no last chunk, nothing appended, connection closed',
    app: async function* (environ, startResponse) {
      startResponse('200 OK', [TEXT]);
      yield bytes('partial');
      throw new Error(marker(environ.HTTP_X_TSGI_CASE ?? ''));
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('GET', '/'));
      const response = await connection.readResponse({ ms: 2000 });
      status(t, response, 200, 'error.after-headers');
      t.equal(response.complete, false, 'error.after-headers', 'the message is complete');
      t.equal(response.body.toString('latin1'), 'partial', 'error.no-append', 'the body');
      t.ok(await connection.waitClosed(1500), 'error.after-headers', 'the connection stayed open');
      t.ok(!connection.pending.toString('latin1').includes('HTTP/1.'), 'error.no-append', 'a second response followed the first');
    },
  },
  {
    id: 'errors.after-head-length',
    requirements: ['error.after-headers'],
    description: 'an error after the head of a response with Content-Length leaves fewer bytes than declared, and a closed connection',
    app: async function* (environ, startResponse) {
      startResponse('200 OK', [TEXT, ['Content-Length', '100']]);
      yield bytes('partial');
      throw new Error(marker(environ.HTTP_X_TSGI_CASE ?? ''));
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('GET', '/'));
      const response = await connection.readResponse({ ms: 1500 });
      t.equal(response.complete, false, 'error.after-headers', 'the message is complete');
      t.ok(await connection.waitClosed(1500), 'error.after-headers', 'the connection stayed open');
    },
  },
  {
    id: 'errors.after-write',
    requirements: ['error.after-headers', 'write.as-chunk'],
    description: 'an error after write() sent the head truncates the message too',
    async app(environ, startResponse) {
      const write = startResponse('200 OK', [TEXT]);
      await write(bytes('written'));
      throw new Error(marker(environ.HTTP_X_TSGI_CASE ?? ''));
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('GET', '/'));
      const response = await connection.readResponse({ ms: 2000 });
      t.equal([response.status, response.complete], [200, false], 'error.after-headers', 'status and completeness');
      t.equal(response.body.toString('latin1'), 'written', 'error.no-append', 'the body');
    },
  },
  {
    id: 'errors.contract',
    requirements: ['error.contract', 'server.robust'],
    description: 'a contract violation the server detects (a status without a reason phrase) is handled like a thrown error',
    validate: false,
    app: failing((_message, startResponse) => {
      startResponse('200', [TEXT]);
      return [bytes('must not be sent')];
    }),
    client: (t) => generic500(t, false),
  },
]);
