/** tsgi.input: reading the request body, whatever its framing, without ever hanging or lying. */
import { createHash } from 'node:crypto';
import type { InputStream } from '../../src/types.js';
import type { CaseApp, CaseContext } from '../types.js';
import { ALL_OCTETS, BINARY, defineCases, echoBody, latin1, readAll, reply, status } from './_helpers.js';

const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Sends `body` (or raw framed bytes) and returns what the application noted. */
async function post(t: CaseContext, body: string | Uint8Array, headers: Array<[string, string]> = [], requirement: Parameters<CaseContext['fail']>[0] = 'input.read'): Promise<Record<string, unknown>> {
  const response = await t.exchange(t.request('POST', '/', { headers, body }), { ms: 4000 });
  status(t, response, 200, requirement);
  const [call] = await t.calls(1, 2000, requirement);
  return call?.notes ?? {};
}

/** A pattern of `length` bytes that no framing bug leaves unchanged. */
function pattern(length: number): Buffer {
  const data = Buffer.alloc(length);
  for (let i = 0; i < length; i++) data[i] = (i * 7 + (i >> 8)) & 0xff;
  return data;
}

/** An application that runs `reads` on tsgi.input, notes what they gave as `result`, and answers `ok`. */
function reading(reads: (input: InputStream) => Promise<unknown>): CaseApp {
  return async (environ, startResponse, probe) => {
    probe.note('result', await reads(environ['tsgi.input']));
    return reply(startResponse, 'ok');
  };
}

/** Posts `body` and checks what the application's reads gave. */
async function expectReads(t: CaseContext, body: string, expected: unknown, requirement: Parameters<CaseContext['fail']>[0], what: string): Promise<void> {
  t.equal((await post(t, body, [], requirement)).result, expected, requirement, what);
}

/** Notes the body's length and hash, read with `read(size)`. */
const hashBody: CaseApp = async (environ, startResponse, probe) => {
  const body = await readAll(environ['tsgi.input'], 65536);
  probe.note('length', body.length);
  probe.note('sha', sha(body));
  return reply(startResponse, 'ok');
};

/** Chunked framing of `data` in pieces of `size`. */
function chunked(data: Uint8Array, size: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) {
    const piece = data.subarray(i, i + size);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), Buffer.from(piece), Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

/** The cases about tsgi.input. */
export const inputCases = defineCases([
  {
    id: 'input.read-all',
    requirements: ['input.read.all', 'env.tsgi.input'],
    description: 'read() resolves with the whole Content-Length body',
    app: echoBody,
    async client(t) {
      t.equal((await post(t, 'hello, body', [], 'input.read.all')).body, 'hello, body', 'input.read.all', 'read()');
    },
  },
  {
    id: 'input.read-sized',
    requirements: ['input.read'],
    description: 'read(size) resolves with the next size bytes, fewer only at the end',
    app: reading(async (input) => [await input.read(3), await input.read(4), await input.read(100), await input.read(5)].map(latin1)),
    client: (t) => expectReads(t, 'abcdefghijkl', ['abc', 'defg', 'hijkl', ''], 'input.read', 'read(3), read(4), read(100), read(5)'),
  },
  {
    id: 'input.read-negative',
    requirements: ['input.read.all'],
    description: 'read(-1) and read(undefined) resolve with all the remaining bytes',
    app: reading(async (input) => [await input.read(2), await input.read(-1), await input.read(undefined)].map(latin1)),
    client: (t) => expectReads(t, 'abcdef', ['ab', 'cdef', ''], 'input.read.all', 'read(2), read(-1), read(undefined)'),
  },
  {
    id: 'input.after-end',
    requirements: ['input.end', 'input.no-hang'],
    description: 'once the body is read, every read resolves empty at once',
    async app(environ, startResponse, probe) {
      const input = environ['tsgi.input'];
      await input.read();
      const began = Date.now();
      const after = [await input.read(), await input.read(10), await input.readLine()].map((c) => c.length);
      const lines = await input.readLines();
      let iterated = 0;
      for await (const chunk of input) iterated += chunk.length;
      probe.note('after', [...after, lines.length, iterated]);
      probe.note('ms', Date.now() - began);
      return reply(startResponse, 'ok');
    },
    async client(t) {
      const notes = await post(t, 'body', [], 'input.end');
      t.equal(notes.after, [0, 0, 0, 0, 0], 'input.end', 'read(), read(10), readLine(), readLines() length, iterated bytes after the end');
      t.ok(Number(notes.ms) < 500, 'input.no-hang', `reads after the end took ${String(notes.ms)} ms`);
    },
  },
  {
    id: 'input.no-body',
    requirements: ['input.no-hang', 'env.tsgi.input'],
    description: 'a request with neither Content-Length nor Transfer-Encoding has an empty body that reads at once',
    app: echoBody,
    async client(t) {
      const response = await t.exchange(t.request('POST', '/'), { ms: 1500 });
      status(t, response, 200, 'input.no-hang');
      t.equal((await t.calls())[0]?.notes.body, '', 'input.no-hang', 'the body');
    },
  },
  {
    id: 'input.get-no-body',
    requirements: ['input.no-hang', 'env.tsgi.input'],
    description: 'reading the body of a GET resolves empty at once',
    app: echoBody,
    async client(t) {
      const response = await t.exchange(t.request('GET', '/'), { ms: 1500 });
      status(t, response, 200, 'input.no-hang');
      t.equal(response.body.length, 0, 'input.no-hang', 'the body length');
    },
  },
  {
    id: 'input.empty-length',
    requirements: ['input.no-hang'],
    description: 'Content-Length: 0 gives an empty body at once',
    app: echoBody,
    async client(t) {
      t.equal((await post(t, '', [], 'input.no-hang')).body, '', 'input.no-hang', 'the body');
    },
  },
  {
    id: 'input.chunked',
    requirements: ['hop.request.server', 'input.read.all'],
    description: 'a chunked body is de-chunked before the application reads it',
    app: echoBody,
    async client(t) {
      const notes = await post(t, '3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n', [['Transfer-Encoding', 'chunked']], 'hop.request.server');
      t.equal(notes.body, 'abcdefg', 'hop.request.server', 'the body');
    },
  },
  {
    id: 'input.chunked-extensions',
    requirements: ['hop.request.server'],
    description: 'chunk extensions are not part of the body',
    app: echoBody,
    async client(t) {
      const notes = await post(t, '3;name=value\r\nabc\r\n1;x\r\nd\r\n0\r\n\r\n', [['Transfer-Encoding', 'chunked']], 'hop.request.server');
      t.equal(notes.body, 'abcd', 'hop.request.server', 'the body');
    },
  },
  {
    id: 'input.chunked-trailers',
    requirements: ['request.trailers', 'hop.request.server'],
    description: 'the trailer fields of a chunked body never become HTTP_ keys',
    async app(environ, startResponse, probe) {
      probe.note('body', latin1(await environ['tsgi.input'].read()));
      probe.note('trailer', (environ as unknown as Record<string, unknown>).HTTP_X_TRAILER ?? null);
      return reply(startResponse, 'ok');
    },
    async client(t) {
      const notes = await post(t, '2\r\nhi\r\n0\r\nX-Trailer: sneaky\r\n\r\n', [['Transfer-Encoding', 'chunked'], ['Trailer', 'X-Trailer']], 'request.trailers');
      t.equal(notes.body, 'hi', 'hop.request.server', 'the body');
      t.equal(notes.trailer, null, 'request.trailers', 'HTTP_X_TRAILER after the body was read');
    },
  },
  {
    id: 'input.large',
    requirements: ['input.read', 'body.transmit.opaque'],
    description: 'a 1 MiB body arrives byte for byte',
    app: hashBody,
    async client(t) {
      const data = pattern(1024 * 1024);
      const notes = await post(t, data);
      t.equal(notes.length, data.length, 'input.read', 'bytes read');
      t.equal(notes.sha, sha(data), 'input.read', 'SHA-256 of the body read');
    },
  },
  {
    id: 'input.large-chunked',
    requirements: ['hop.request.server', 'input.read'],
    description: 'a 256 KiB chunked body in 4 KiB chunks arrives byte for byte',
    app: hashBody,
    async client(t) {
      const data = pattern(256 * 1024);
      const notes = await post(t, chunked(data, 4096), [['Transfer-Encoding', 'chunked']], 'hop.request.server');
      t.equal(notes.sha, sha(data), 'hop.request.server', 'SHA-256 of the body read');
    },
  },
  {
    id: 'input.octets',
    requirements: ['input.bytes', 'body.transmit.opaque'],
    description: 'every octet value arrives unchanged, as a Uint8Array',
    async app(environ, startResponse, probe) {
      const body = await environ['tsgi.input'].read();
      probe.note('type', body instanceof Uint8Array);
      probe.note('body', Array.from(body));
      startResponse('200 OK', [BINARY]);
      return [body];
    },
    async client(t) {
      const response = await t.exchange(t.request('POST', '/', { body: ALL_OCTETS }));
      const notes = (await t.calls())[0]?.notes ?? {};
      t.equal(notes.type, true, 'input.bytes', 'read() resolved with a Uint8Array');
      t.equal(notes.body, Array.from(ALL_OCTETS), 'input.bytes', 'the octets read');
      t.equal(Array.from(response.body), Array.from(ALL_OCTETS), 'body.transmit.opaque', 'the octets sent back');
    },
  },
  {
    id: 'input.read-line',
    requirements: ['input.readline'],
    description: 'readLine() resolves with each line and its line feed, then the rest',
    app: reading(async (input) => [await input.readLine(), await input.readLine(), await input.readLine(), await input.readLine()].map(latin1)),
    client: (t) => expectReads(t, 'one\ntwo\r\nend', ['one\n', 'two\r\n', 'end', ''], 'input.readline', 'readLine() results'),
  },
  {
    id: 'input.readline-size',
    requirements: ['input.readline'],
    description: 'readLine(size) stops after size bytes',
    app: reading(async (input) => [await input.readLine(3), await input.readLine(3), await input.readLine(100)].map(latin1)),
    client: (t) => expectReads(t, 'abcdef\nxy', ['abc', 'def', '\n'], 'input.readline', 'readLine(3), readLine(3), readLine(100)'),
  },
  {
    id: 'input.read-lines',
    requirements: ['input.readlines'],
    description: 'readLines() resolves with every line; readLines(hint) stops at the line that reaches hint',
    app: reading(async (input) => [(await input.readLines(5)).map(latin1), (await input.readLines()).map(latin1)]),
    client: (t) => expectReads(t, 'ab\ncd\nef\ngh', [['ab\n', 'cd\n'], ['ef\n', 'gh']], 'input.readlines', 'readLines(5), readLines()'),
  },
  {
    id: 'input.iteration',
    requirements: ['input.iterate'],
    description: 'async iteration yields the body in non-empty chunks; leaving the loop early keeps the rest for later reads',
    app: reading(async (input) => {
      const first = await input.read(4);
      let seen = '';
      let empty = 0;
      for await (const chunk of input) {
        if (chunk.length === 0) empty++;
        seen += latin1(chunk);
        if (seen.length >= 1) break;
      }
      return [latin1(first), seen + latin1(await input.read()), empty];
    }),
    async client(t) {
      const body = 'head' + 'x'.repeat(5000) + 'tail';
      await expectReads(t, body, ['head', body.slice(4), 0], 'input.iterate', 'read(4), then iteration left early plus read()');
    },
  },
  {
    id: 'input.read-zero',
    requirements: ['input.read.zero'],
    description: 'read(0) resolves empty and consumes nothing',
    app: reading(async (input) => [(await input.read(0)).length, latin1(await input.read())]),
    client: (t) => expectReads(t, 'whole', [0, 'whole'], 'input.read.zero', 'read(0) length, then read()'),
  },
  {
    id: 'input.overlapping-reads',
    requirements: ['input.order'],
    description: 'reads started together settle in the order they were made',
    app: reading(async (input) => (await Promise.all([input.read(2), input.readLine(), input.read(2), input.read()])).map(latin1)),
    client: (t) => expectReads(t, 'abcd\nefgh', ['ab', 'cd\n', 'ef', 'gh'], 'input.order', 'read(2), readLine(), read(2), read() started together'),
  },
  {
    id: 'input.bytes-owned',
    requirements: ['input.bytes'],
    description: 'a chunk read stays as it was while later reads go on',
    app: reading(async (input) => {
      const first = await input.read(4);
      const copy = latin1(first);
      await readAll(input, 1024);
      return latin1(first) === copy;
    }),
    client: (t) => expectReads(t, 'abcd' + 'z'.repeat(100_000), true, 'input.bytes', 'the first chunk is unchanged after later reads'),
  },
  {
    id: 'input.args-reject',
    requirements: ['input.args.reject'],
    description: 'a read with a size that is not an integer rejects with a TypeError',
    validate: false,
    async app(environ, startResponse, probe) {
      const input = environ['tsgi.input'] as unknown as { read(size: unknown): Promise<Uint8Array>; readLine(size: unknown): Promise<Uint8Array> };
      const outcomes = [];
      for (const call of [() => input.read('2'), () => input.read(1.5), () => input.readLine(Number.NaN)]) {
        try {
          const result = await call();
          outcomes.push(`resolved ${result.length}`);
        } catch (error) {
          outcomes.push(error instanceof TypeError ? 'TypeError' : 'other error');
        }
      }
      probe.note('outcomes', outcomes);
      return reply(startResponse, 'ok');
    },
    async client(t) {
      const response = await t.exchange(t.request('POST', '/', { body: 'abc' }));
      status(t, response, 200, 'input.args.reject');
      t.equal((await t.calls())[0]?.notes.outcomes, ['TypeError', 'TypeError', 'TypeError'], 'input.args.reject', "read('2'), read(1.5), readLine(NaN)");
    },
  },
  {
    id: 'input.client-leaves-mid-body',
    requirements: ['input.truncated'],
    description: 'when the client goes away mid-body, the pending read rejects instead of resolving as if the body had ended',
    async app(environ, startResponse, probe) {
      probe.fire('called');
      try {
        const body = await environ['tsgi.input'].read();
        probe.note('outcome', `resolved with ${body.length} bytes`);
      } catch {
        probe.note('outcome', 'rejected');
      }
      probe.fire('settled');
      return reply(startResponse, 'ok');
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('POST', '/', { headers: [['Content-Length', '100']], body: 'only part' }));
      t.ok(await t.when('called', 2000), 'server.invoke.once', 'the application was not called');
      await t.delay(20);
      connection.reset();
      t.ok(await t.when('settled', 2000), 'input.truncated', 'the read did not settle within 2000 ms of the disconnect');
      t.equal((await t.calls())[0]?.notes.outcome, 'rejected', 'input.truncated', 'the pending read');
    },
  },
  {
    id: 'input.truncated-chunked',
    requirements: ['input.truncated', 'request.malformed'],
    description: 'malformed chunked framing makes the read reject, never resolve with part of the body',
    async app(environ, startResponse, probe) {
      try {
        const body = await environ['tsgi.input'].read();
        probe.note('outcome', `resolved with ${JSON.stringify(latin1(body))}`);
      } catch {
        probe.note('outcome', 'rejected');
      }
      probe.fire('settled');
      return reply(startResponse, 'ok');
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('POST', '/', { headers: [['Transfer-Encoding', 'chunked']], body: '3\r\nabc\r\nzz\r\nmore\r\n0\r\n\r\n' }));
      if (!(await t.when('settled', 2000))) {
        t.ok(t.callCount === 0, 'input.truncated', 'the read did not settle within 2000 ms');
        return; // refused before the application was called: fine
      }
      t.equal((await t.calls())[0]?.notes.outcome, 'rejected', 'input.truncated', 'the read of a body with a bad chunk size');
    },
  },
]);
