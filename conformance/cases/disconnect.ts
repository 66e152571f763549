/** A client that goes away: the signal aborts, iteration stops, close() runs, write() rejects, nothing crashes; and no false alarms. */
import type { Write } from '../../src/types.js';
import { TEXT, bytes, closable, closedOnce, defineCases, endless, reply, status } from './_helpers.js';

/** The cases about client disconnects. */
export const disconnectCases = defineCases([
  {
    id: 'disconnect.streaming',
    requirements: ['disconnect.signal', 'disconnect.stop', 'close.once', 'disconnect.reason', 'server.robust'],
    description: 'a client that leaves mid-stream: the signal aborts with an Error, no chunk is pulled after, close() runs once',
    app(environ, startResponse, probe) {
      if (probe.index > 0) return reply(startResponse, 'still serving');
      const signal = environ['tsgi.signal'];
      signal.addEventListener('abort', () => {
        probe.note('reason', signal.reason instanceof Error);
        probe.fire('aborted');
      });
      startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
      return closable(endless(probe, new Uint8Array(1024), 2000, 2), probe);
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('GET', '/'));
      t.ok(await connection.waitFor((b) => b.length > 4096, 2000), 'body.transmit.unbuffered', 'the stream did not start');
      connection.reset();
      t.ok(await t.when('aborted', 2000), 'disconnect.signal', 'tsgi.signal was not aborted within 2000 ms of the disconnect');
      await closedOnce(t);
      const pulled = t.counter('pulled');
      await t.delay(50);
      t.equal(t.counter('pulled'), pulled, 'disconnect.stop', 'chunks pulled after close()');
      t.equal((await t.calls())[0]?.notes.reason, true, 'disconnect.reason', 'tsgi.signal.reason is an Error');
      status(t, await t.exchange(t.request('GET', '/')), 200, 'server.robust');
    },
  },
  {
    id: 'disconnect.before-response',
    requirements: ['disconnect.signal', 'close.once'],
    description: 'a client that leaves while the application is still working: the signal aborts, and the body it then returns is closed without being iterated',
    async app(environ, startResponse, probe) {
      if (probe.index > 0) return reply(startResponse, 'ok');
      const signal = environ['tsgi.signal'];
      probe.fire('called');
      const aborted = await new Promise<boolean>((resolve) => {
        if (signal.aborted) resolve(true);
        const timer = setTimeout(() => resolve(false), 2000);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      probe.note('aborted', aborted);
      startResponse('200 OK', [TEXT]);
      return closable(
        (function* () {
          probe.count('pulled');
          yield bytes('nobody is listening');
        })(),
        probe,
      );
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('GET', '/'));
      t.ok(await t.when('called', 2000), 'server.invoke.once', 'the application was not called');
      // Not in the same turn as the call: no real client leaves from inside the server's own callback.
      await t.delay(10);
      connection.reset();
      await closedOnce(t, 3000);
      t.equal((await t.calls())[0]?.notes.aborted, true, 'disconnect.signal', 'tsgi.signal aborted while the application waited');
    },
  },
  {
    id: 'disconnect.write-rejects',
    requirements: ['write.reject', 'write.no-unhandled'],
    description: 'after the client left, the Promise of write() rejects, and an unawaited one crashes nothing',
    async app(_environ, startResponse, probe) {
      const write: Write = startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
      await write(new Uint8Array(1024));
      probe.fire('started');
      await probe.when('gone', 2000);
      let outcome = 'never rejected';
      const chunk = new Uint8Array(64 * 1024);
      for (let i = 0; i < 200; i++) {
        void write(chunk); // unawaited and unhandled on purpose (write.no-unhandled)
        try {
          await write(chunk);
        } catch {
          outcome = 'rejected';
          break;
        }
      }
      probe.note('outcome', outcome);
      probe.fire('done');
      return [];
    },
    async client(t) {
      const unhandled: unknown[] = [];
      const listener = (reason: unknown) => unhandled.push(reason);
      process.on('unhandledRejection', listener);
      try {
        const connection = await t.connect();
        connection.send(t.request('GET', '/'));
        t.ok(await t.when('started', 2000), 'server.invoke.once', 'the application did not start');
        connection.reset();
        await t.delay(20);
        t.fire('gone');
        t.ok(await t.when('done', 3000), 'write.reject', 'write() neither rejected nor finished within 3000 ms');
        t.equal((await t.calls())[0]?.notes.outcome, 'rejected', 'write.reject', 'the Promise of write() after the disconnect');
        await t.delay(20);
        t.equal(unhandled.length, 0, 'write.no-unhandled', 'unhandled rejections');
      } finally {
        process.off('unhandledRejection', listener);
      }
    },
  },
  {
    id: 'disconnect.not-an-error',
    requirements: ['disconnect.quiet'],
    description: 'a client disconnect is not reported as an application error',
    needs: ['error-log'],
    app(_environ, startResponse, probe) {
      startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
      return closable(endless(probe, new Uint8Array(1024), 2000, 2), probe);
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('GET', '/'));
      await connection.waitFor((b) => b.length > 2048, 2000);
      connection.reset();
      await t.when('closed', 2000);
      await t.delay(30);
      t.equal(t.errorLog, '', 'disconnect.quiet', 'the error log after a disconnect');
    },
  },
  {
    id: 'disconnect.half-close',
    requirements: ['disconnect.no-false-abort'],
    description: 'a client that half-closes after its request still gets the response, and the signal never aborts',
    needs: ['half-close'],
    async app(environ, startResponse, probe) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      probe.note('aborted', environ['tsgi.signal'].aborted);
      return reply(startResponse, 'complete');
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('GET', '/'));
      connection.halfClose();
      const response = await connection.readResponse();
      t.equal(response.body.toString('latin1'), 'complete', 'disconnect.no-false-abort', 'the body');
      t.equal((await t.calls())[0]?.notes.aborted, false, 'disconnect.no-false-abort', 'tsgi.signal.aborted after the half-close');
    },
  },
  {
    id: 'disconnect.after-response',
    requirements: ['disconnect.no-false-abort'],
    description: 'the signal is not aborted once the whole response was handed over, even when the client then leaves',
    app(environ, startResponse, probe) {
      const signal = environ['tsgi.signal'];
      signal.addEventListener('abort', () => probe.fire('aborted'));
      return reply(startResponse, 'done');
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('GET', '/'));
      await connection.readResponse();
      connection.reset();
      t.ok(!(await t.when('aborted', 100)), 'disconnect.no-false-abort', 'tsgi.signal aborted after a complete response');
    },
  },
  {
    id: 'disconnect.after-body-read',
    requirements: ['disconnect.no-false-abort'],
    description: 'the signal is not aborted because the request body has been read to its end',
    async app(environ, startResponse, probe) {
      await environ['tsgi.input'].read();
      await new Promise((resolve) => setTimeout(resolve, 30));
      probe.note('aborted', environ['tsgi.signal'].aborted);
      return reply(startResponse, 'ok');
    },
    async client(t) {
      status(t, await t.exchange(t.request('POST', '/', { body: 'the whole body' })), 200, 'disconnect.no-false-abort');
      t.equal((await t.calls())[0]?.notes.aborted, false, 'disconnect.no-false-abort', 'tsgi.signal.aborted after the body was read');
    },
  },
]);
