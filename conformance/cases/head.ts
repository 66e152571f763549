/** Responses without a body: HEAD, 204 and 304. The proof that no body went out is a pipelined request answered right after. */
import type { CaseApp, CaseContext, WireResponse } from '../types.js';
import { TEXT, bytes, closable, closedOnce, defineCases, endless, reply, status } from './_helpers.js';

/** Sends `method` then a GET on one connection; checks the GET's response comes right after the first head. */
async function thenGet(t: CaseContext, method: string, requirement: Parameters<CaseContext['fail']>[0]): Promise<WireResponse> {
  const connection = await t.connect();
  connection.send(Buffer.concat([t.request(method, '/first'), t.request('GET', '/next')]));
  const first = await connection.readResponse({ head: method === 'HEAD' });
  const next = await connection.readResponse().catch((error: Error) => t.fail(requirement, `no readable response after it: ${error.message}`));
  t.equal(next.statusLine, 'HTTP/1.1 200 OK', requirement, 'the status line of the next response (body bytes would come first)');
  t.equal(next.body.toString('latin1'), 'next', requirement, 'the body of the next response');
  return first;
}

/** Answers `/next` with `next`, and anything else as `first` says. */
function route(first: CaseApp): CaseApp {
  return (environ, startResponse, probe) => {
    if (environ.PATH_INFO.endsWith('/next')) return reply(startResponse, 'next');
    return first(environ, startResponse, probe);
  };
}

/** The cases about responses without a body. */
export const headCases = defineCases([
  {
    id: 'head.array-body',
    requirements: ['head.no-body'],
    description: 'a response to HEAD carries no body bytes',
    app: route((_environ, startResponse) => reply(startResponse, 'a body the client must not get')),
    async client(t) {
      status(t, await thenGet(t, 'HEAD', 'head.no-body'), 200, 'head.no-body');
    },
  },
  {
    id: 'head.endless-body',
    requirements: ['head.stop-early', 'head.no-body', 'close.once', 'body.iterate.return'],
    description: 'for HEAD, an endless body is not pulled past its first chunk, and is closed',
    app: route((_environ, startResponse, probe) => {
      startResponse('200 OK', [TEXT]);
      return closable(endless(probe, bytes('endless '), 2000), probe);
    }),
    async client(t) {
      await thenGet(t, 'HEAD', 'head.no-body');
      await closedOnce(t);
      t.ok(t.counter('pulled') <= 2, 'head.stop-early', `the body was pulled ${t.counter('pulled')} times`);
      t.ok(await t.when('finally', 500), 'body.iterate.return', "the generator's finally block did not run: return() was not called");
    },
  },
  {
    id: 'head.length-from-app',
    requirements: ['head.content-length'],
    description: "for HEAD, the application's Content-Length goes out unchanged",
    app: route((_environ, startResponse) => {
      startResponse('200 OK', [TEXT, ['Content-Length', '1234']]);
      return [];
    }),
    async client(t) {
      t.equal((await thenGet(t, 'HEAD', 'head.no-body')).headerAll('content-length'), ['1234'], 'head.content-length', 'Content-Length');
    },
  },
  {
    id: 'head.no-invented-length',
    requirements: ['head.content-length'],
    description: 'for HEAD with a streamed body, the server adds no Content-Length of its own',
    app: route(function* (_environ, startResponse) {
      startResponse('200 OK', [TEXT]);
      yield bytes('abc');
      yield bytes('def');
    }),
    async client(t) {
      t.equal((await thenGet(t, 'HEAD', 'head.no-body')).header('content-length'), undefined, 'head.content-length', 'Content-Length');
    },
  },
  {
    id: 'head.array-length',
    requirements: ['head.content-length'],
    description: 'for HEAD with an array body, a Content-Length, if any, is the length of the array',
    app: route((_environ, startResponse) => reply(startResponse, 'ab', 'cde')),
    async client(t) {
      const length = (await thenGet(t, 'HEAD', 'head.no-body')).header('content-length');
      t.ok(length === undefined || length === '5', 'head.content-length', `Content-Length ${length} for a 5-byte array body`);
    },
  },
  {
    id: 'head.write',
    requirements: ['head.no-body', 'write.as-chunk'],
    description: 'for HEAD, data passed to write() is not sent either',
    app: route(async (_environ, startResponse) => {
      const write = startResponse('200 OK', [TEXT]);
      await write(bytes('written'));
      return [bytes('returned')];
    }),
    async client(t) {
      await thenGet(t, 'HEAD', 'head.no-body');
    },
  },
  {
    id: 'head.close',
    requirements: ['close.once'],
    description: 'for HEAD, an array body with close() is closed exactly once',
    app: route((_environ, startResponse, probe) => {
      startResponse('200 OK', [TEXT]);
      return closable([bytes('x')], probe);
    }),
    async client(t) {
      await thenGet(t, 'HEAD', 'head.no-body');
      await closedOnce(t);
    },
  },
  {
    id: 'head.204',
    requirements: ['status.no-content.server'],
    description: 'a 204 response has no body, no Transfer-Encoding and no Content-Length of the server',
    app: route((_environ, startResponse) => {
      startResponse('204 No Content', [['X-Kept', 'yes']]);
      return [];
    }),
    async client(t) {
      const response = await thenGet(t, 'GET', 'status.no-content.server');
      status(t, response, 204, 'status.no-content.server');
      t.equal(response.header('content-length'), undefined, 'status.no-content.server', 'Content-Length');
      t.equal(response.header('transfer-encoding'), undefined, 'status.no-content.server', 'Transfer-Encoding');
      t.equal(response.header('x-kept'), 'yes', 'header.play-dumb', 'X-Kept');
    },
  },
  {
    id: 'head.304',
    requirements: ['status.no-content.server'],
    description: 'a 304 response has no body, no Transfer-Encoding and no Content-Length of the server',
    app: route((_environ, startResponse) => {
      startResponse('304 Not Modified', [['ETag', '"v1"']]);
      return [];
    }),
    async client(t) {
      const response = await thenGet(t, 'GET', 'status.no-content.server');
      status(t, response, 304, 'status.no-content.server');
      t.equal(response.header('content-length'), undefined, 'status.no-content.server', 'Content-Length');
      t.equal(response.header('transfer-encoding'), undefined, 'status.no-content.server', 'Transfer-Encoding');
      t.equal(response.header('etag'), '"v1"', 'header.play-dumb', 'ETag');
    },
  },
  {
    id: 'head.204-with-body',
    requirements: ['status.no-content.server'],
    description: 'a 204 whose body produces bytes still sends none',
    validate: false,
    app: route((_environ, startResponse) => {
      startResponse('204 No Content', []);
      return [bytes('forbidden bytes')];
    }),
    async client(t) {
      await thenGet(t, 'GET', 'status.no-content.server');
    },
  },
  {
    id: 'head.304-length-from-app',
    requirements: ['status.no-content.server', 'head.content-length'],
    description: "a 304 may carry the application's Content-Length of the GET body, and still no body",
    app: route((_environ, startResponse) => {
      startResponse('304 Not Modified', [['Content-Length', '42'], ['ETag', '"v1"']]);
      return [];
    }),
    async client(t) {
      const response = await thenGet(t, 'GET', 'status.no-content.server');
      t.ok(['42', undefined].includes(response.header('content-length')), 'status.no-content.server', `Content-Length ${response.header('content-length')}`);
    },
  },
]);
