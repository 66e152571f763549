/** Expect: 100-continue: the interim response goes out when, and only when, the application first reads. */
import type { CaseApp, CaseContext } from '../types.js';
import { BINARY, bytes, defineCases, latin1, notCalled, reply, status } from './_helpers.js';

const CONTINUE = /HTTP\/1\.[01] 100/;

/** Waits for `go`, then reads the body with `read`; answers with what it read. */
function readAfterGo(read: (input: import('../../src/types.js').InputStream) => Promise<Uint8Array>): CaseApp {
  return async (environ, startResponse, probe) => {
    const input = environ['tsgi.input'];
    probe.fire('called');
    await probe.when('go', 3000);
    const body = await read(input);
    startResponse('200 OK', [BINARY]);
    return [body, await input.read()];
  };
}

/** Sends a head with `Expect: 100-continue`, checks that nothing comes before the application reads, then lets it read. */
async function continueOnRead(t: CaseContext): Promise<void> {
  const connection = await t.connect();
  connection.send(t.request('PUT', '/', { headers: [['Content-Length', '4'], ['Expect', '100-continue']] }));
  t.ok(await t.when('called', 2000), 'server.invoke.once', 'the application was not called before the body was sent');
  t.ok(await connection.quiet(150), 'expect.not-early', `the server answered before the application read: ${JSON.stringify(connection.pending.toString('latin1'))}`);
  t.fire('go');
  const interim = await connection.readResponse({ ms: 1500 }).catch(() => undefined);
  t.ok(interim?.status === 100, 'expect.continue', `no 100 Continue after the application began to read (got ${interim ? JSON.stringify(interim.statusLine) : 'nothing'})`);
  connection.send('data');
  const final = await connection.readResponse();
  t.equal(final.body.toString('latin1'), 'data', 'expect.continue', 'the body echoed');
}

/** The cases about Expect: 100-continue. */
export const expectCases = defineCases([
  {
    id: 'expect.on-first-read',
    requirements: ['expect.continue', 'expect.not-early'],
    description: '100 Continue is sent when the application first reads, not before',
    needs: ['expect-continue'],
    app: readAfterGo((input) => input.read()),
    client: continueOnRead,
  },
  {
    id: 'expect.on-iteration',
    requirements: ['expect.continue'],
    description: 'iterating tsgi.input counts as the first read',
    needs: ['expect-continue'],
    app: readAfterGo(async (input) => {
      for await (const chunk of input) return chunk.length < 4 ? new Uint8Array([...chunk, ...(await input.read(4 - chunk.length))]) : chunk;
      return new Uint8Array(0);
    }),
    client: continueOnRead,
  },
  {
    id: 'expect.on-readline',
    requirements: ['expect.continue'],
    description: 'readLine() counts as the first read',
    needs: ['expect-continue'],
    app: readAfterGo((input) => input.readLine()),
    client: continueOnRead,
  },
  {
    id: 'expect.read-zero',
    requirements: ['expect.continue', 'expect.not-early', 'input.read.zero'],
    description: 'read(0) does not trigger 100 Continue',
    needs: ['expect-continue'],
    async app(environ, startResponse, probe) {
      const input = environ['tsgi.input'];
      await input.read(0);
      await input.readLine(0);
      probe.fire('zero');
      await probe.when('go', 3000);
      const body = await input.read();
      startResponse('200 OK', [BINARY]);
      return [body];
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('PUT', '/', { headers: [['Content-Length', '4'], ['Expect', '100-continue']] }));
      t.ok(await t.when('zero', 2000), 'server.invoke.once', 'the application was not called');
      t.ok(await connection.quiet(150), 'expect.not-early', `read(0) made the server answer: ${JSON.stringify(connection.pending.toString('latin1'))}`);
      t.fire('go');
      const interim = await connection.readResponse({ ms: 1500 });
      status(t, interim, 100, 'expect.continue');
      connection.send('data');
      t.equal((await connection.readResponse()).body.toString('latin1'), 'data', 'expect.continue', 'the body echoed');
    },
  },
  {
    id: 'expect.answered-without-reading',
    requirements: ['expect.unread', 'expect.not-early'],
    description: 'an application that answers without reading: no 100 Continue, and the connection closes after the response',
    needs: ['expect-continue'],
    app(_environ, startResponse) {
      startResponse('413 Content Too Large', [['Content-Type', 'text/plain']]);
      return [bytes('too large')];
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('PUT', '/', { headers: [['Content-Length', '99999'], ['Expect', '100-continue']] }));
      const response = await connection.readResponse();
      t.ok(response.status !== 100, 'expect.not-early', 'the server sent 100 Continue though the application never read');
      status(t, response, 413, 'expect.unread');
      t.ok(await connection.waitClosed(1500), 'expect.unread', 'the connection stayed open with an unread body the client may still send');
      t.ok(!CONTINUE.test(connection.pending.toString('latin1')), 'expect.not-after-response', '100 Continue after the final response');
    },
  },
  {
    id: 'expect.read-after-response-started',
    requirements: ['expect.not-after-response'],
    description: 'a first read after the final response has started sends no 100 Continue',
    needs: ['expect-continue'],
    async app(environ, startResponse, probe) {
      const write = startResponse('200 OK', [['Content-Type', 'text/plain']]);
      await write(bytes('started;'));
      probe.fire('started');
      const body = await Promise.race([environ['tsgi.input'].read(), new Promise<Uint8Array>((resolve) => setTimeout(() => resolve(new Uint8Array(0)), 1500))]);
      await write(body);
      return [];
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('PUT', '/', { headers: [['Content-Length', '4'], ['Expect', '100-continue']] }));
      const response = connection.readResponse({ ms: 3000 });
      t.ok(await t.when('started', 2000), 'server.invoke.once', 'the application did not start its response');
      await connection.waitFor((b) => b.includes('started;'), 1000);
      connection.send('data');
      const final = await response;
      t.ok(final.status === 200, 'expect.not-after-response', `expected the final response first, got ${JSON.stringify(final.statusLine)}`);
      t.ok(!CONTINUE.test(final.raw.toString('latin1') + connection.pending.toString('latin1')), 'expect.not-after-response', '100 Continue inside or after the final response');
    },
  },
  {
    id: 'expect.body-sent-anyway',
    requirements: ['expect.continue'],
    description: 'a client that sends its body without waiting gets its final response, with at most one 100 Continue first',
    needs: ['expect-continue'],
    async app(environ, startResponse) {
      const body = await environ['tsgi.input'].read();
      startResponse('200 OK', [BINARY]);
      return [body];
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('PUT', '/', { headers: [['Content-Length', '4'], ['Expect', '100-continue']], body: 'data' }));
      let response = await connection.readResponse();
      if (response.status === 100) response = await connection.readResponse();
      status(t, response, 200, 'expect.continue');
      t.equal(latin1(response.body), 'data', 'expect.continue', 'the body echoed');
    },
  },
  {
    id: 'expect.http10-request',
    requirements: ['expect.http10'],
    description: 'an HTTP/1.0 request never gets 100 Continue',
    needs: ['expect-continue', 'http10'],
    async app(environ, startResponse) {
      const body = await environ['tsgi.input'].read();
      startResponse('200 OK', [BINARY]);
      return [body];
    },
    async client(t) {
      const response = await t.exchange(t.request('PUT', '/', { version: '1.0', headers: [['Content-Length', '2'], ['Expect', '100-continue']], body: 'hi' }));
      t.ok(response.status !== 100, 'expect.http10', 'an HTTP/1.0 request got 100 Continue');
      status(t, response, 200, 'expect.http10');
    },
  },
  {
    id: 'expect.unknown-expectation',
    requirements: ['expect.unknown'],
    description: 'an expectation other than 100-continue gets 417 without calling the application',
    needs: ['expect-continue'],
    app: (_environ, startResponse) => reply(startResponse, 'called'),
    async client(t) {
      const response = await t.exchange(t.request('GET', '/', { headers: [['Expect', 'teapot']] }));
      status(t, response, 417, 'expect.unknown');
      notCalled(t, 'expect.unknown');
    },
  },
  {
    id: 'expect.continue-and-unknown',
    requirements: ['expect.unknown'],
    description: '100-continue listed with another expectation gets 417 without calling the application',
    needs: ['expect-continue'],
    app: (_environ, startResponse) => reply(startResponse, 'called'),
    async client(t) {
      const response = await t.exchange(t.request('PUT', '/', { headers: [['Content-Length', '2'], ['Expect', '100-continue, teapot']] }));
      status(t, response, 417, 'expect.unknown');
      notCalled(t, 'expect.unknown');
    },
  },
]);
