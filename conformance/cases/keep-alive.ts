/** Persistent connections and pipelining: every message ends exactly where it should, so the next one can be trusted. */
import type { CaseApp, CaseContext, WireConnection } from '../types.js';
import { TEXT, bytes, defineCases, latin1, reply, status } from './_helpers.js';

/** Answers with the path, after a pause for `/slow`. */
const pathApp: CaseApp = async (environ, startResponse) => {
  if (environ.PATH_INFO.endsWith('/slow')) await new Promise((resolve) => setTimeout(resolve, 50));
  return reply(startResponse, environ.PATH_INFO);
};

/** Reads `n` responses from `connection` and returns their bodies. */
async function bodies(connection: WireConnection, n: number, head: number[] = []): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(latin1((await connection.readResponse({ head: head.includes(i) })).body));
  return out;
}

/** Sends a request whose body the application leaves unread, then a GET; the GET must be answered, or the connection closed. */
async function unreadThenGet(t: CaseContext, first: Buffer): Promise<void> {
  const connection = await t.connect();
  connection.send(first);
  const response = await connection.readResponse();
  status(t, response, 200, 'input.unread');
  connection.send(t.request('GET', '/next'));
  const next = await connection.readResponse({ ms: 2500 }).catch(() => undefined);
  if (next === undefined) {
    t.ok(connection.closed, 'input.unread', 'the connection neither served the next request nor closed');
    return;
  }
  t.equal(next.statusLine, 'HTTP/1.1 200 OK', 'input.unread', 'the status line of the next request (unread body bytes parsed as a request?)');
  t.equal(latin1(next.body), 'next', 'input.unread', 'the body of the next response');
}

/** The cases about persistent connections and pipelining. */
export const keepAliveCases = defineCases([
  {
    id: 'keep-alive.sequential',
    requirements: ['server.invoke.once', 'server.invoke.fresh-environ'],
    description: 'three requests in turn on one connection are each answered',
    needs: ['keep-alive'],
    app: pathApp,
    async client(t) {
      const connection = await t.connect();
      const seen: string[] = [];
      for (const path of ['/1', '/2', '/3']) {
        connection.send(t.request('GET', path));
        seen.push(latin1((await connection.readResponse()).body));
      }
      t.equal(seen, ['/1', '/2', '/3'], 'server.invoke.once', 'the bodies');
    },
  },
  {
    id: 'keep-alive.pipelined',
    requirements: ['server.invoke.once'],
    description: 'pipelined requests are answered in order, a slow first one included',
    needs: ['keep-alive'],
    app: pathApp,
    async client(t) {
      const connection = await t.connect();
      connection.send(Buffer.concat([t.request('GET', '/slow'), t.request('GET', '/fast'), t.request('GET', '/last')]));
      t.equal(await bodies(connection, 3), ['/slow', '/fast', '/last'], 'server.invoke.once', 'the bodies, in order');
    },
  },
  {
    id: 'keep-alive.pipelined-bodies',
    requirements: ['input.no-hang', 'input.read.all'],
    description: 'pipelined POSTs each read exactly their own body',
    needs: ['keep-alive'],
    async app(environ, startResponse) {
      const body = await environ['tsgi.input'].read();
      return reply(startResponse, `[${latin1(body)}]`);
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(
        Buffer.concat([
          t.request('POST', '/', { body: 'first' }),
          t.request('POST', '/', { headers: [['Transfer-Encoding', 'chunked']], body: '6\r\nsecond\r\n0\r\n\r\n' }),
          t.request('POST', '/'),
          t.request('POST', '/', { body: 'fourth' }),
        ]),
      );
      t.equal(await bodies(connection, 4), ['[first]', '[second]', '[]', '[fourth]'], 'input.no-hang', 'the bodies read');
    },
  },
  {
    id: 'keep-alive.unread-body',
    requirements: ['input.unread'],
    description: 'a body the application did not read is discarded (or the connection closed) before the next request',
    needs: ['keep-alive'],
    app: (environ, startResponse) => reply(startResponse, environ.PATH_INFO.endsWith('/next') ? 'next' : 'ignored the body'),
    async client(t) {
      await unreadThenGet(t, t.request('POST', '/', { body: 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n' }));
    },
  },
  {
    id: 'keep-alive.unread-chunked',
    requirements: ['input.unread'],
    description: 'an unread chunked body is discarded (or the connection closed) before the next request',
    needs: ['keep-alive'],
    app: (environ, startResponse) => reply(startResponse, environ.PATH_INFO.endsWith('/next') ? 'next' : 'ignored the body'),
    async client(t) {
      await unreadThenGet(t, t.request('POST', '/', { headers: [['Transfer-Encoding', 'chunked']], body: '5\r\nhello\r\n0\r\n\r\n' }));
    },
  },
  {
    id: 'keep-alive.partly-read',
    requirements: ['input.unread'],
    description: 'a body read in part is discarded (or the connection closed) before the next request',
    needs: ['keep-alive'],
    async app(environ, startResponse) {
      if (environ.PATH_INFO.endsWith('/next')) return reply(startResponse, 'next');
      await environ['tsgi.input'].read(3);
      return reply(startResponse, 'read three bytes');
    },
    async client(t) {
      await unreadThenGet(t, t.request('POST', '/', { body: 'abcdefghij' }));
    },
  },
  {
    id: 'keep-alive.after-500',
    requirements: ['server.robust'],
    description: 'after a 500, the connection serves the next request',
    needs: ['keep-alive'],
    app(environ, startResponse) {
      if (environ.PATH_INFO.endsWith('/fail')) throw new Error('planned failure');
      return reply(startResponse, 'fine');
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(Buffer.concat([t.request('GET', '/fail'), t.request('GET', '/next')]));
      const first = await connection.readResponse();
      status(t, first, 500, 'error.before-headers');
      if (connection.closed && connection.pending.length === 0) return;
      t.equal(latin1((await connection.readResponse()).body), 'fine', 'server.robust', 'the next response');
    },
  },
  {
    id: 'keep-alive.connection-close',
    requirements: ['hop.request.server'],
    description: 'a request with Connection: close gets its response, then the connection closes',
    app: (_environ, startResponse) => reply(startResponse, 'bye'),
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('GET', '/', { headers: [['Connection', 'close']] }));
      t.equal(latin1((await connection.readResponse()).body), 'bye', 'hop.request.server', 'the body');
      t.ok(await connection.waitClosed(1500), 'hop.request.server', 'the connection stayed open after Connection: close');
    },
  },
  {
    id: 'keep-alive.http10-close',
    requirements: ['hop.request.server', 'framing.http10'],
    description: 'an HTTP/1.0 request without keep-alive gets its response, then the connection closes',
    needs: ['http10'],
    app: (_environ, startResponse) => reply(startResponse, 'old'),
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('GET', '/', { version: '1.0' }));
      t.equal(latin1((await connection.readResponse()).body), 'old', 'hop.request.server', 'the body');
      t.ok(await connection.waitClosed(1500), 'hop.request.server', 'the HTTP/1.0 connection stayed open');
    },
  },
  {
    id: 'keep-alive.after-write',
    requirements: ['write.as-chunk', 'framing.chunked'],
    description: 'a response sent through write() is delimited so that the next one follows cleanly',
    needs: ['keep-alive'],
    async app(environ, startResponse) {
      const write = startResponse('200 OK', [TEXT]);
      await write(bytes(`${environ.PATH_INFO};`));
      await write(bytes('written'));
      return [];
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(Buffer.concat([t.request('GET', '/1'), t.request('GET', '/2')]));
      t.equal(await bodies(connection, 2), ['/1;written', '/2;written'], 'write.as-chunk', 'the bodies');
    },
  },
]);
