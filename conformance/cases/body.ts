/** The response body: how the server iterates it, transmits it and closes it. */
import type { ResponseBody } from '../../src/types.js';
import type { CaseContext } from '../types.js';
import { ALL_OCTETS, BINARY, TEXT, bytes, closable, closedOnce, defineCases, endless, marker, reply, status } from './_helpers.js';

async function get(t: CaseContext, requirement: Parameters<CaseContext['fail']>[0]) {
  const response = await t.exchange(t.request('GET', '/'), { ms: 3000 });
  await t.calls(1, 2000, requirement);
  return response;
}

/** The cases about the response body: iteration, transmission and close(). */
export const bodyCases = defineCases([
  {
    id: 'body.generator',
    requirements: ['body.iterate.protocol', 'framing.chunked'],
    description: 'a generator body is sent chunk by chunk',
    app: function* (_environ, startResponse) {
      startResponse('200 OK', [TEXT]);
      yield bytes('one,');
      yield bytes('two,');
      yield bytes('three');
    },
    async client(t) {
      t.equal((await get(t, 'body.iterate.protocol')).body.toString('latin1'), 'one,two,three', 'body.iterate.protocol', 'the body');
    },
  },
  {
    id: 'body.async-generator',
    requirements: ['body.iterate.protocol', 'server.invoke.await'],
    description: 'an async application returning an async generator is awaited and iterated',
    async app(_environ, startResponse) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      startResponse('200 OK', [TEXT]);
      return (async function* () {
        yield bytes('a');
        await new Promise((resolve) => setTimeout(resolve, 5));
        yield bytes('b');
      })();
    },
    async client(t) {
      t.equal((await get(t, 'body.iterate.protocol')).body.toString('latin1'), 'ab', 'body.iterate.protocol', 'the body');
    },
  },
  {
    id: 'body.async-iterator-preferred',
    requirements: ['body.iterate.protocol', 'server.body.protocol-only'],
    description: 'a body with both iteration methods is iterated through Symbol.asyncIterator, obtained once',
    app(_environ, startResponse, probe) {
      startResponse('200 OK', [TEXT]);
      return {
        [Symbol.iterator]() {
          probe.count('sync');
          return [bytes('sync')][Symbol.iterator]();
        },
        [Symbol.asyncIterator]() {
          probe.count('async');
          return (async function* () {
            yield bytes('async');
          })();
        },
      } as ResponseBody;
    },
    async client(t) {
      const response = await get(t, 'body.iterate.protocol');
      t.equal(response.body.toString('latin1'), 'async', 'body.iterate.protocol', 'the body');
      t.equal([t.counter('async'), t.counter('sync')], [1, 0], 'body.iterate.protocol', 'calls of [Symbol.asyncIterator], [Symbol.iterator]');
    },
  },
  {
    id: 'body.thenable-app',
    requirements: ['server.invoke.await'],
    description: 'an application that returns a thenable other than a Promise is awaited',
    app(_environ, startResponse) {
      return {
        then(resolve: (body: ResponseBody) => void) {
          setTimeout(() => resolve(reply(startResponse, 'from a thenable')), 5);
        },
      } as unknown as Promise<ResponseBody>;
    },
    async client(t) {
      t.equal((await get(t, 'server.invoke.await')).body.toString('latin1'), 'from a thenable', 'server.invoke.await', 'the body');
    },
  },
  {
    id: 'body.start-in-first-step',
    requirements: ['server.invoke.start-not-assumed'],
    description: 'startResponse called in the first step of the body, after the application returned, is honoured',
    app: function* (_environ, startResponse) {
      startResponse('202 Accepted', [TEXT]);
      yield bytes('lazy');
    },
    async client(t) {
      const response = await get(t, 'server.invoke.start-not-assumed');
      t.equal(response.statusLine, 'HTTP/1.1 202 Accepted', 'server.invoke.start-not-assumed', 'the status line');
    },
  },
  {
    id: 'body.octets',
    requirements: ['body.transmit.opaque', 'body.chunk.server-no-mutate'],
    description: 'body bytes go out unchanged: every octet, CR LF and text that looks like HTTP',
    app(_environ, startResponse) {
      startResponse('200 OK', [BINARY]);
      return [ALL_OCTETS, bytes('\r\n\r\nHTTP/1.1 200 OK\r\nFoo: Bar\r\n\r\n\n\r')];
    },
    async client(t) {
      const response = await get(t, 'body.transmit.opaque');
      t.equal(Array.from(response.body), [...ALL_OCTETS, ...bytes('\r\n\r\nHTTP/1.1 200 OK\r\nFoo: Bar\r\n\r\n\n\r')], 'body.transmit.opaque', 'the body bytes');
    },
  },
  {
    id: 'body.unbuffered',
    requirements: ['body.transmit.unbuffered', 'send.deferred'],
    description: 'each chunk is sent as soon as the body produces it, head included, without waiting for the next',
    app: async function* (_environ, startResponse, probe) {
      startResponse('200 OK', [TEXT]);
      yield bytes('first;');
      await probe.when('got-first', 2000);
      yield bytes('second');
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('GET', '/'));
      const arrived = await connection.waitFor((b) => b.includes('first;'), 1000);
      t.ok(arrived, 'body.transmit.unbuffered', `the first chunk did not arrive while the body waited (received ${JSON.stringify(connection.pending.toString('latin1'))})`);
      t.fire('got-first');
      t.equal((await connection.readResponse()).body.toString('latin1'), 'first;second', 'body.transmit.unbuffered', 'the body');
    },
  },
  {
    id: 'body.empty-chunk-sends-nothing',
    requirements: ['send.empty-chunk', 'send.deferred'],
    description: 'an empty chunk from the body sends nothing, not even the head',
    app: async function* (_environ, startResponse, probe) {
      startResponse('200 OK', [TEXT]);
      yield new Uint8Array(0);
      probe.fire('empty');
      await probe.when('go', 2000);
      yield bytes('after');
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('GET', '/'));
      t.ok(await t.when('empty', 2000), 'server.invoke.once', 'the body was not iterated past its empty chunk');
      t.ok(await connection.quiet(150), 'send.empty-chunk', `an empty chunk sent ${JSON.stringify(connection.pending.toString('latin1').slice(0, 80))}`);
      t.fire('go');
      t.equal((await connection.readResponse()).body.toString('latin1'), 'after', 'send.deferred', 'the body');
    },
  },
  {
    id: 'body.backpressure',
    requirements: ['body.transmit.backpressure'],
    description: 'a fast body is paced by a client that does not read: the server does not pull it into memory',
    app(_environ, startResponse, probe) {
      startResponse('200 OK', [BINARY]);
      return closable(endless(probe, new Uint8Array(64 * 1024), 512), probe);
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('GET', '/'));
      await connection.waitFor((b) => b.length > 0, 2000);
      connection.pause();
      await t.delay(300);
      const pulled = t.counter('pulled') * 64;
      connection.reset();
      t.ok(pulled < 16 * 1024, 'body.transmit.backpressure', `${pulled} KiB were pulled from the body while the client read nothing for 300 ms`);
    },
  },
  {
    id: 'body.close-on-complete',
    requirements: ['close.once', 'close.after-iteration'],
    description: 'close() is called exactly once after a complete response',
    app(_environ, startResponse, probe) {
      startResponse('200 OK', [TEXT]);
      return closable([bytes('a'), bytes('b')], probe);
    },
    async client(t) {
      t.equal((await get(t, 'close.once')).body.toString('latin1'), 'ab', 'body.transmit.opaque', 'the body');
      await closedOnce(t);
    },
  },
  {
    id: 'body.close-generator',
    requirements: ['close.once', 'body.iterate.protocol'],
    description: 'close() is called exactly once for a generator body too',
    app(_environ, startResponse, probe) {
      startResponse('200 OK', [TEXT]);
      return closable(
        (function* () {
          yield bytes('x');
        })(),
        probe,
      );
    },
    async client(t) {
      await get(t, 'close.once');
      await closedOnce(t);
    },
  },
  {
    id: 'body.close-on-error',
    requirements: ['close.once', 'error.after-headers'],
    description: 'close() is called exactly once when the body fails part-way',
    app(_environ, startResponse, probe) {
      startResponse('200 OK', [TEXT]);
      return closable(
        (function* () {
          yield bytes('partial');
          throw new Error(marker('body.close-on-error'));
        })(),
        probe,
      );
    },
    async client(t) {
      await get(t, 'close.once');
      await closedOnce(t);
    },
  },
  {
    id: 'body.close-async',
    requirements: ['close.await'],
    description: 'a close() that returns a Promise is awaited before a graceful shutdown completes',
    needs: ['graceful-shutdown'],
    isolated: true,
    app(_environ, startResponse, probe) {
      startResponse('200 OK', [TEXT]);
      return Object.assign([bytes('ok')], {
        close: async () => {
          probe.fire('closing');
          await new Promise((resolve) => setTimeout(resolve, 150));
          probe.fire('closed');
        },
      });
    },
    async client(t) {
      const response = await t.exchange(t.request('GET', '/'));
      status(t, response, 200, 'close.await');
      t.ok(await t.when('closing', 1000), 'close.once', 'close() was not called');
      await t.stopServer();
      t.ok(await t.when('closed', 0), 'close.await', 'the server stopped before the Promise of close() settled');
    },
  },
  {
    id: 'body.close-throws',
    requirements: ['close.errors'],
    description: 'a close() that throws leaves the response as it is',
    app(_environ, startResponse) {
      startResponse('200 OK', [TEXT]);
      return Object.assign([bytes('intact')], {
        close() {
          throw new Error(marker('body.close-throws'));
        },
      });
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(Buffer.concat([t.request('GET', '/'), t.request('GET', '/again')]));
      const first = await connection.readResponse();
      t.equal([first.status, first.body.toString('latin1'), first.complete], [200, 'intact', true], 'close.errors', 'the response whose close() threw');
      status(t, await connection.readResponse(), 200, 'server.robust');
      if (t.has('error-log')) {
        await t.delay(20);
        t.ok(t.errorLog.includes(marker(t)), 'close.errors', 'the error close() threw is not in the error log');
      }
    },
  },
  {
    id: 'body.string-chunk',
    requirements: ['body.chunk.type.enforced', 'error.contract'],
    description: 'a string chunk is an application error: a 500 before the head, never the string converted',
    validate: false,
    app(_environ, startResponse) {
      startResponse('200 OK', [TEXT]);
      return ['not bytes'] as unknown as ResponseBody;
    },
    async client(t) {
      const response = await get(t, 'body.chunk.type.enforced');
      t.ok(!response.raw.includes('not bytes'), 'body.chunk.type.enforced', 'the string chunk was sent');
      status(t, response, 500, 'error.contract');
    },
  },
  {
    id: 'body.string-chunk-late',
    requirements: ['body.chunk.type.enforced', 'error.after-headers'],
    description: 'a string chunk after the head truncates the response',
    validate: false,
    app: function* (_environ, startResponse) {
      startResponse('200 OK', [TEXT]);
      yield bytes('bytes;');
      yield 'a string' as unknown as Uint8Array;
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('GET', '/'));
      const response = await connection.readResponse({ ms: 2000 });
      t.ok(!response.raw.includes('a string'), 'body.chunk.type.enforced', 'the string chunk was sent');
      t.equal(response.complete, false, 'error.after-headers', 'the message is complete');
    },
  },
  {
    id: 'body.no-start',
    requirements: ['send.no-start', 'error.contract'],
    description: 'a body that produces data before startResponse was called is an application error',
    validate: false,
    app: () => [bytes('no head')],
    async client(t) {
      status(t, await get(t, 'send.no-start'), 500, 'send.no-start');
    },
  },
  {
    id: 'body.no-start-empty',
    requirements: ['send.no-start'],
    description: 'a body that ends without startResponse having been called is an application error',
    validate: false,
    app: () => [],
    async client(t) {
      status(t, await get(t, 'send.no-start'), 500, 'send.no-start');
    },
  },
]);
