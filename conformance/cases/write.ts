/** The write function: the legacy imperative path, held to the same timing, accounting and framing as the body. */
import type { CaseContext } from '../types.js';
import { TEXT, bytes, defineCases, status, throws } from './_helpers.js';

async function get(t: CaseContext, requirement: Parameters<CaseContext['fail']>[0]) {
  const response = await t.exchange(t.request('GET', '/'));
  await t.calls(1, 2000, requirement);
  return response;
}

/** The cases about the write function. */
export const writeCases = defineCases([
  {
    id: 'write.before-body',
    requirements: ['write.as-chunk', 'write.then-body', 'write.promise'],
    description: 'data passed to write() goes out first, then the body',
    async app(_environ, startResponse) {
      const write = startResponse('200 OK', [TEXT]);
      await write(bytes('a'));
      await write(bytes('b'));
      return [bytes('c'), bytes('d')];
    },
    async client(t) {
      t.equal((await get(t, 'write.as-chunk')).body.toString('latin1'), 'abcd', 'write.then-body', 'the body');
    },
  },
  {
    id: 'write.unawaited-order',
    requirements: ['write.order'],
    description: 'writes not awaited still go out in the order of the calls',
    app(_environ, startResponse) {
      const write = startResponse('200 OK', [TEXT]);
      for (let i = 0; i < 20; i++) void write(bytes(String.fromCharCode(97 + i)));
      return [];
    },
    async client(t) {
      t.equal((await get(t, 'write.order')).body.toString('latin1'), 'abcdefghijklmnopqrst', 'write.order', 'the body');
    },
  },
  {
    id: 'write.sends-head',
    requirements: ['write.as-chunk', 'send.deferred', 'write.promise'],
    description: 'the first non-empty write() sends the head and the data while the application is still running',
    async app(_environ, startResponse, probe) {
      const write = startResponse('200 OK', [TEXT]);
      await write(bytes('early;'));
      await probe.when('got-early', 2000);
      return [bytes('late')];
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('GET', '/'));
      t.ok(await connection.waitFor((b) => b.includes('early;'), 1000), 'write.as-chunk', 'the written data did not arrive before the application returned');
      t.fire('got-early');
      t.equal((await connection.readResponse()).body.toString('latin1'), 'early;late', 'write.then-body', 'the body');
    },
  },
  {
    id: 'write.empty',
    requirements: ['send.empty-chunk', 'exc.replace'],
    description: 'an empty write() sends nothing, so the response can still be replaced',
    async app(_environ, startResponse) {
      const write = startResponse('200 OK', [TEXT]);
      await write(new Uint8Array(0));
      startResponse('503 Service Unavailable', [TEXT], new Error('changed my mind'));
      return [bytes('replaced')];
    },
    async client(t) {
      const response = await get(t, 'send.empty-chunk');
      t.equal(response.statusLine, 'HTTP/1.1 503 Service Unavailable', 'send.empty-chunk', 'the status line');
    },
  },
  {
    id: 'write.content-length',
    requirements: ['write.as-chunk', 'framing.content-length.no-overrun'],
    description: 'write() data counts toward Content-Length together with the body',
    validate: false,
    async app(_environ, startResponse) {
      const write = startResponse('200 OK', [TEXT, ['Content-Length', '4']]);
      await write(bytes('ab'));
      return [bytes('cdEXTRA')];
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('GET', '/'));
      const response = await connection.readResponse();
      t.equal(response.body.toString('latin1'), 'abcd', 'framing.content-length.no-overrun', 'the body');
      await t.delay(30);
      t.ok(!connection.pending.includes('EXTRA'), 'framing.content-length.no-overrun', 'bytes past Content-Length were sent');
    },
  },
  {
    id: 'write.string-argument',
    requirements: ['write.type-error'],
    description: 'write() with a string throws a TypeError at once and sends nothing',
    validate: false,
    app(_environ, startResponse, probe) {
      const write = startResponse('200 OK', [TEXT]) as (data: unknown) => Promise<void>;
      try {
        void write('a string').catch(() => {});
        probe.note('threw', 'nothing');
      } catch (error) {
        probe.note('threw', error instanceof TypeError ? 'TypeError' : 'another error');
      }
      return [bytes('ok')];
    },
    async client(t) {
      const response = await get(t, 'write.type-error');
      t.equal((await t.calls())[0]?.notes.threw, 'TypeError', 'write.type-error', "what write('a string') threw");
      t.equal(response.body.toString('latin1'), 'ok', 'write.type-error', 'the body');
    },
  },
  {
    id: 'write.from-the-body',
    requirements: ['write.after-return'],
    description: 'write() called from inside the body, after the application returned, throws',
    validate: false,
    app(_environ, startResponse, probe) {
      const write = startResponse('200 OK', [TEXT]);
      return (function* () {
        probe.note('threw', throws(() => void write(bytes('from the body')).catch(() => {})));
        yield bytes('ok');
      })();
    },
    async client(t) {
      const response = await get(t, 'write.after-return');
      t.equal((await t.calls())[0]?.notes.threw, true, 'write.after-return', 'write() after return threw');
      t.ok(!response.body.includes('from the body'), 'write.after-return', 'the late write was sent');
    },
  },
  {
    id: 'write.returns-promise',
    requirements: ['write.promise'],
    description: 'write() returns a Promise that fulfils once the data is handed over',
    async app(_environ, startResponse, probe) {
      const write = startResponse('200 OK', [TEXT]);
      const result = write(bytes('x'));
      probe.note('promise', result instanceof Promise);
      probe.note('settled', await Promise.race([result.then(() => 'fulfilled', () => 'rejected'), new Promise((resolve) => setTimeout(() => resolve('pending'), 1000))]));
      return [];
    },
    async client(t) {
      status(t, await get(t, 'write.promise'), 200, 'write.promise');
      const notes = (await t.calls())[0]?.notes;
      t.equal([notes?.promise, notes?.settled], [true, 'fulfilled'], 'write.promise', 'write() returned a Promise, and it');
    },
  },
]);
