/** Hop-by-hop features belong to the server: it handles them for the request, and serves Upgrade requests as ordinary ones. */
import { defineCases, reply, requestEnviron, status } from './_helpers.js';

/** The cases about hop-by-hop features. */
export const hopCases = defineCases([
  {
    id: 'hop.upgrade-websocket',
    requirements: ['hop.upgrade'],
    description: 'a request with Upgrade is served as an ordinary request, without switching protocols',
    app: (_environ, startResponse) => reply(startResponse, 'plain http'),
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('GET', '/', { headers: [['Connection', 'Upgrade'], ['Upgrade', 'websocket'], ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='], ['Sec-WebSocket-Version', '13']] }));
      const response = await connection.readResponse();
      status(t, response, 200, 'hop.upgrade');
      t.equal(response.body.toString('latin1'), 'plain http', 'hop.upgrade', 'the body');
    },
  },
  {
    id: 'hop.upgrade-h2c',
    requirements: ['hop.upgrade'],
    description: 'an h2c upgrade request is served over HTTP/1.1 as it came',
    app: (_environ, startResponse) => reply(startResponse, 'still http/1.1'),
    async client(t) {
      const response = await t.exchange(t.request('GET', '/', { headers: [['Connection', 'Upgrade, HTTP2-Settings'], ['Upgrade', 'h2c'], ['HTTP2-Settings', 'AAMAAABkAAQAAP__']] }));
      t.equal([response.statusLine, response.body.toString('latin1')], ['HTTP/1.1 200 OK', 'still http/1.1'], 'hop.upgrade', 'the response');
    },
  },
  {
    id: 'hop.te-header',
    requirements: ['hop.request.server'],
    description: 'a request with TE: trailers is served normally, its body de-chunked',
    async app(environ, startResponse) {
      const body = await environ['tsgi.input'].read();
      return reply(startResponse, Buffer.from(body).toString('latin1'));
    },
    async client(t) {
      const { response } = await requestEnviron(t, 'POST', '/', 'hop.request.server', { headers: [['TE', 'trailers'], ['Transfer-Encoding', 'chunked']], body: '4\r\nbody\r\n0\r\n\r\n' });
      t.equal(response.body.toString('latin1'), 'body', 'hop.request.server', 'the body');
    },
  },
]);
