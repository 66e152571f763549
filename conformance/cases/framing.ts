/** Content-Length and framing: every response is delimited so that the client, and the next response, can trust it. */
import type { CaseContext, ServerCase, WireResponse } from '../types.js';
import { TEXT, bytes, defineCases, reply, status } from './_helpers.js';

/** Checks that a response to HTTP/1.1 is framed as the spec allows, and returns it. */
function framed(t: CaseContext, response: WireResponse, body: string): void {
  t.ok(!(response.header('content-length') !== undefined && response.header('transfer-encoding') !== undefined), 'framing.not-both', 'both Content-Length and Transfer-Encoding were sent');
  t.ok(response.chunkError === undefined, 'framing.chunked', `the chunked coding is malformed: ${response.chunkError}`);
  t.ok(response.complete, 'framing.chunked', `the message is incomplete (${response.framing} framing, ${response.body.length} bytes)`);
  t.equal(response.body.toString('latin1'), body, 'body.transmit.opaque', 'the body');
}

/** Sends two pipelined GETs and returns both responses: the second proves the first was delimited exactly. */
async function twice(t: CaseContext, head = false): Promise<[WireResponse, WireResponse]> {
  const connection = await t.connect();
  connection.send(Buffer.concat([t.request(head ? 'HEAD' : 'GET', '/'), t.request('GET', '/')]));
  const first = await connection.readResponse({ head });
  const second = await connection.readResponse();
  return [first, second];
}

/** A case: a streamed body for an HTTP/1.0 request sending `headers` still ends with the connection, unchunked. */
function http10Streamed(id: string, description: string, headers: Array<[string, string]>): ServerCase {
  return {
    id,
    requirements: ['framing.http10'],
    description,
    needs: ['http10'],
    app: function* (_environ, startResponse) {
      startResponse('200 OK', [TEXT]);
      yield bytes('streamed');
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('GET', '/', { version: '1.0', headers }));
      const response = await connection.readResponse();
      t.ok(!/chunked/i.test(response.header('transfer-encoding') ?? ''), 'framing.http10', 'an HTTP/1.0 response was chunked');
      t.ok(response.complete && response.body.toString('latin1') === 'streamed', 'framing.http10', `the body did not end with the connection: ${response.framing}`);
    },
  };
}

/** The cases about Content-Length and framing. */
export const framingCases = defineCases([
  {
    id: 'framing.array-body',
    requirements: ['framing.known-length', 'framing.chunked'],
    description: 'an array body is framed by a Content-Length that matches it, or by the chunked coding',
    app: (_environ, startResponse) => reply(startResponse, 'ab', 'cde'),
    async client(t) {
      const response = await t.exchange(t.request('GET', '/'));
      framed(t, response, 'abcde');
      const length = response.header('content-length');
      t.ok(length === undefined || length === '5', 'framing.known-length', `Content-Length ${length} for a 5-byte array body`);
    },
  },
  {
    id: 'framing.streamed-body',
    requirements: ['framing.chunked', 'framing.not-both'],
    description: 'a streamed body without Content-Length is chunked exactly as RFC 9112 says, or closes the connection',
    app: function* (_environ, startResponse) {
      startResponse('200 OK', [TEXT]);
      yield bytes('a'.repeat(5));
      yield bytes('b'.repeat(300));
      yield bytes('c');
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('GET', '/'));
      const response = await connection.readResponse();
      framed(t, response, 'a'.repeat(5) + 'b'.repeat(300) + 'c');
      if (response.framing === 'close') return;
      t.equal(response.framing, 'chunked', 'framing.chunked', 'the framing');
      await t.delay(20);
      t.equal(connection.pending.toString('latin1'), '', 'framing.chunked', 'bytes after the last chunk');
    },
  },
  {
    id: 'framing.empty-chunks',
    requirements: ['send.empty-chunk', 'framing.chunked'],
    description: 'empty chunks from the body send nothing: no zero-size chunk ends the message early',
    app: function* (_environ, startResponse) {
      startResponse('200 OK', [TEXT]);
      yield new Uint8Array(0);
      yield bytes('x');
      yield new Uint8Array(0);
      yield new Uint8Array(0);
      yield bytes('y');
    },
    async client(t) {
      const [first, second] = await twice(t);
      framed(t, first, 'xy');
      status(t, second, 200, 'send.empty-chunk');
      t.equal(second.body.toString('latin1'), 'xy', 'send.empty-chunk', 'the body of the next response');
    },
  },
  {
    id: 'framing.empty-body',
    requirements: ['send.deferred', 'framing.chunked'],
    description: 'a body that ends without data still gets a complete, empty message',
    app: function* (_environ, startResponse) {
      startResponse('200 OK', [TEXT]);
    },
    async client(t) {
      const [first, second] = await twice(t);
      framed(t, first, '');
      status(t, second, 200, 'framing.chunked');
    },
  },
  {
    id: 'framing.many-chunks',
    requirements: ['framing.chunked', 'body.transmit.opaque'],
    description: 'a thousand small chunks arrive whole and in order',
    app: function* (_environ, startResponse) {
      startResponse('200 OK', [TEXT]);
      for (let i = 0; i < 1000; i++) yield bytes(`${i % 10}`);
    },
    async client(t) {
      const response = await t.exchange(t.request('GET', '/'), { ms: 4000 });
      framed(t, response, Array.from({ length: 1000 }, (_, i) => `${i % 10}`).join(''));
    },
  },
  {
    id: 'framing.large-body',
    requirements: ['body.transmit.opaque', 'framing.chunked'],
    description: 'a 4 MiB streamed body arrives byte for byte',
    app: function* (_environ, startResponse) {
      startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
      for (let i = 0; i < 64; i++) yield new Uint8Array(65536).fill(i);
    },
    async client(t) {
      const response = await t.exchange(t.request('GET', '/'), { ms: 5000 });
      t.ok(response.complete && response.chunkError === undefined, 'framing.chunked', `incomplete or malformed: ${response.body.length} bytes`);
      t.equal(response.body.length, 64 * 65536, 'body.transmit.opaque', 'bytes received');
      for (let i = 0; i < 64; i++) t.ok(response.body[i * 65536] === i && response.body[i * 65536 + 65535] === i, 'body.transmit.opaque', `chunk ${i} was altered`);
    },
  },
  {
    id: 'framing.content-length',
    requirements: ['framing.not-both', 'framing.content-length.no-overrun'],
    description: "the application's Content-Length frames a streamed body, without Transfer-Encoding",
    app: function* (_environ, startResponse) {
      startResponse('200 OK', [TEXT, ['Content-Length', '6']]);
      yield bytes('abc');
      yield bytes('def');
    },
    async client(t) {
      const [first, second] = await twice(t);
      t.equal(first.headerAll('content-length'), ['6'], 'framing.not-both', 'Content-Length');
      t.equal(first.header('transfer-encoding'), undefined, 'framing.not-both', 'Transfer-Encoding');
      framed(t, first, 'abcdef');
      status(t, second, 200, 'framing.content-length.no-overrun');
    },
  },
  {
    id: 'framing.overrun',
    requirements: ['framing.content-length.no-overrun'],
    description: 'a body longer than its Content-Length is cut at the declared length; the next response is intact',
    validate: false,
    app: function* (_environ, startResponse) {
      startResponse('200 OK', [TEXT, ['Content-Length', '4']]);
      yield bytes('ab');
      yield bytes('cdEXTRA');
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(Buffer.concat([t.request('GET', '/'), t.request('GET', '/')]));
      const first = await connection.readResponse();
      t.equal(first.body.toString('latin1'), 'abcd', 'framing.content-length.no-overrun', 'the body');
      if (connection.closed && connection.pending.length === 0) return; // closing instead of going on is allowed
      const second = await connection.readResponse().catch((error: Error) => t.fail('framing.content-length.no-overrun', `the next response is unreadable: ${error.message}`));
      t.equal(second.statusLine, 'HTTP/1.1 200 OK', 'framing.content-length.no-overrun', 'the status line of the next response');
    },
  },
  {
    id: 'framing.overrun-array',
    requirements: ['framing.content-length.no-overrun'],
    description: 'an array body longer than its Content-Length is cut too',
    validate: false,
    app(_environ, startResponse) {
      startResponse('200 OK', [TEXT, ['Content-Length', '3']]);
      return [bytes('abcdef')];
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('GET', '/'));
      const first = await connection.readResponse();
      t.equal(first.body.toString('latin1'), 'abc', 'framing.content-length.no-overrun', 'the body');
      await t.delay(30);
      t.ok(!connection.pending.includes('def'), 'framing.content-length.no-overrun', 'bytes past Content-Length were sent');
    },
  },
  {
    id: 'framing.short',
    requirements: ['framing.content-length.short'],
    description: 'a body shorter than its Content-Length leaves a truncated message and a closed connection',
    validate: false,
    app: function* (_environ, startResponse) {
      startResponse('200 OK', [TEXT, ['Content-Length', '10']]);
      yield bytes('abc');
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('GET', '/'));
      const response = await connection.readResponse({ ms: 1500 });
      t.equal(response.complete, false, 'framing.content-length.short', 'the message is complete');
      t.ok(await connection.waitClosed(1500), 'framing.content-length.short', 'the connection stayed open');
    },
  },
  {
    id: 'framing.http10-streamed',
    requirements: ['framing.http10'],
    description: 'a streamed body for HTTP/1.0 is delimited by closing the connection, never chunked',
    needs: ['http10'],
    app: function* (_environ, startResponse) {
      startResponse('200 OK', [TEXT]);
      yield bytes('one,');
      yield bytes('two');
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('GET', '/', { version: '1.0' }));
      const response = await connection.readResponse();
      t.ok(!/chunked/i.test(response.header('transfer-encoding') ?? ''), 'framing.http10', 'an HTTP/1.0 response was chunked');
      t.ok(response.complete, 'framing.http10', 'the message did not end with the connection');
      t.equal(response.body.toString('latin1'), 'one,two', 'framing.http10', 'the body');
    },
  },
  http10Streamed(
    'framing.http10-keep-alive',
    'a streamed body for HTTP/1.0 closes the connection even when the client asked for keep-alive',
    [['Connection', 'keep-alive']],
  ),
  http10Streamed(
    'framing.http10-te-chunked',
    'a streamed body for HTTP/1.0 is not chunked even when the request offers TE: chunked',
    [['TE', 'chunked'], ['Connection', 'TE']],
  ),
]);
