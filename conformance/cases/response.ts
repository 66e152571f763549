/** The response head: startResponse, the status line and the header fields as they reach the wire. */
import type { CaseApp, CaseContext, WireResponse } from '../types.js';
import { TEXT, bytes, defineCases, reply, short, status, throws } from './_helpers.js';

const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
/** Headers a server may add or own (`header.play-dumb`). */
const SERVER_OWNED = new Set(['date', 'server', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);

async function get(t: CaseContext, requirement: Parameters<CaseContext['fail']>[0]): Promise<WireResponse> {
  const response = await t.exchange(t.request('GET', '/'));
  await t.calls(1, 2000, requirement);
  return response;
}

/** An application that calls startResponse with what `headers` gives and does not catch what it throws. */
function sending(statusLine: string, headers: Array<[string, string]>): CaseApp {
  return (_environ, startResponse) => {
    startResponse(statusLine, headers);
    return [bytes('body')];
  };
}

/** The wire must not carry `needle` in the head, and the application's error must become a 500. */
function injection(id: string, description: string, statusLine: string, headers: Array<[string, string]>, needle: RegExp) {
  return {
    id,
    requirements: ['header.injection', 'error.contract'] as const,
    description,
    validate: false,
    app: sending(statusLine, headers),
    async client(t: CaseContext) {
      const response = await get(t, 'header.injection');
      const head = response.raw.toString('latin1').split('\r\n\r\n')[0] ?? '';
      t.ok(!needle.test(head), 'header.injection', `the forbidden bytes reached the wire: ${short(response)}`);
      status(t, response, 500, 'error.contract');
    },
  };
}

/** Calls startResponse in a way the server must refuse, notes whether it threw, then answers properly with excInfo. */
function refusal(call: (startResponse: Parameters<CaseApp>[1]) => void): CaseApp {
  return (_environ, startResponse, probe) => {
    let caught: unknown;
    try {
      call(startResponse);
      probe.note('threw', false);
    } catch (error) {
      caught = error;
      probe.note('threw', true);
    }
    startResponse('200 OK', [TEXT], caught ?? new Error('replacing the response'));
    return [bytes('ok')];
  };
}

/** The cases about the response head. */
export const responseCases = defineCases([
  {
    id: 'response.status-line',
    requirements: ['status.sent-as-is'],
    description: 'the status code and reason phrase go out exactly as given',
    app: sending('299 Quite Fine', [TEXT]),
    async client(t) {
      t.equal((await get(t, 'status.sent-as-is')).statusLine, 'HTTP/1.1 299 Quite Fine', 'status.sent-as-is', 'the status line');
    },
  },
  {
    id: 'response.status-reason-octets',
    requirements: ['status.sent-as-is', 'str.response'],
    description: 'a reason phrase with octets above 0x7F goes out as those octets',
    app: sending('200 Tr\u00e8s bien', [TEXT]),
    async client(t) {
      t.equal((await get(t, 'status.sent-as-is')).statusLine, 'HTTP/1.1 200 Tr\u00e8s bien', 'status.sent-as-is', 'the status line (latin-1)');
    },
  },
  {
    id: 'response.status-404',
    requirements: ['status.sent-as-is'],
    description: 'an error status from the application is sent as it is, with its body',
    app: (_environ, startResponse) => {
      startResponse('404 Not Found', [TEXT]);
      return [bytes('no such thing')];
    },
    async client(t) {
      const response = await get(t, 'status.sent-as-is');
      t.equal(response.statusLine, 'HTTP/1.1 404 Not Found', 'status.sent-as-is', 'the status line');
      t.equal(response.body.toString('latin1'), 'no such thing', 'body.transmit.opaque', 'the body');
    },
  },
  {
    id: 'response.header-order',
    requirements: ['header.order'],
    description: 'headers go out in order, repeated ones (Set-Cookie) as separate fields',
    app: sending('200 OK', [['Set-Cookie', 'a=1; Path=/'], TEXT, ['X-Mid', 'm'], ['Set-Cookie', 'b=2'], ['Set-Cookie', 'c=3, d=4']]),
    async client(t) {
      const response = await get(t, 'header.order');
      const own = response.headers.filter(([name]) => ['set-cookie', 'x-mid', 'content-type'].includes(name.toLowerCase())).map(([n, v]) => `${n.toLowerCase()}: ${v}`);
      t.equal(own, ['set-cookie: a=1; Path=/', 'content-type: text/plain', 'x-mid: m', 'set-cookie: b=2', 'set-cookie: c=3, d=4'], 'header.order', 'the application headers on the wire');
    },
  },
  {
    id: 'response.header-value-octets',
    requirements: ['header.order', 'str.response'],
    description: 'header values with a tab and octets above 0x7F go out byte for byte',
    app: sending('200 OK', [TEXT, ['X-Bytes', 'caf\u00c3\u00a9\tend']]),
    async client(t) {
      t.equal((await get(t, 'header.order')).header('x-bytes'), 'caf\u00c3\u00a9\tend', 'header.order', 'X-Bytes');
    },
  },
  {
    id: 'response.date',
    requirements: ['header.date'],
    description: 'a Date header is added when the application sends none',
    needs: ['date'],
    async client(t) {
      const response = await get(t, 'header.date');
      const dates = response.headerAll('date');
      t.equal(dates.length, 1, 'header.date', 'Date headers');
      t.ok(IMF_FIXDATE.test(dates[0] ?? ''), 'header.date', `Date is not an IMF-fixdate: ${JSON.stringify(dates[0])}`);
    },
  },
  {
    id: 'response.date-from-app',
    requirements: ['header.date', 'header.play-dumb'],
    description: "the application's own Date header is kept, and not doubled",
    app: sending('200 OK', [TEXT, ['Date', 'Tue, 01 Jan 2030 00:00:00 GMT']]),
    async client(t) {
      t.equal((await get(t, 'header.date')).headerAll('date'), ['Tue, 01 Jan 2030 00:00:00 GMT'], 'header.play-dumb', 'Date headers');
    },
  },
  {
    id: 'response.play-dumb',
    requirements: ['header.play-dumb'],
    description: 'the server adds no headers beyond Date, Server, Connection and framing, and changes none',
    app: sending('200 OK', [TEXT, ['Cache-Control', 'no-store'], ['ETag', '"v1"'], ['Vary', 'Accept'], ['X-Inner', 'a  b']]),
    async client(t) {
      const response = await get(t, 'header.play-dumb');
      const app = new Map([['content-type', 'text/plain'], ['cache-control', 'no-store'], ['etag', '"v1"'], ['vary', 'Accept'], ['x-inner', 'a  b']]);
      for (const [name, value] of response.headers) {
        const lower = name.toLowerCase();
        if (app.has(lower)) t.equal(value, app.get(lower), 'header.play-dumb', name);
        else t.ok(SERVER_OWNED.has(lower), 'header.play-dumb', `the server added ${name}: ${value}`);
      }
      for (const name of app.keys()) t.ok(response.header(name) !== undefined, 'header.play-dumb', `${name} was removed`);
    },
  },
  {
    id: 'response.header-case-insensitive',
    requirements: ['header.case-insensitive', 'framing.not-both'],
    description: 'a lower-case content-length from the application is recognised as Content-Length',
    app: function* (_environ, startResponse) {
      startResponse('200 OK', [['content-type', 'text/plain'], ['content-length', '5']]);
      yield bytes('ab');
      yield bytes('cde');
    },
    async client(t) {
      const response = await get(t, 'header.case-insensitive');
      t.equal(response.headerAll('content-length'), ['5'], 'header.case-insensitive', 'Content-Length headers');
      t.equal(response.header('transfer-encoding'), undefined, 'framing.not-both', 'Transfer-Encoding');
      t.equal(response.body.toString('latin1'), 'abcde', 'header.case-insensitive', 'the body');
    },
  },
  injection('response.injection-crlf', 'CR LF in a header value never reaches the wire', '200 OK', [TEXT, ['X-Evil', 'a\r\nSet-Cookie: stolen=1']], /stolen/),
  injection('response.injection-lf', 'a bare LF in a header value never reaches the wire', '200 OK', [TEXT, ['X-Evil', 'a\nSet-Cookie: stolen=1']], /stolen/),
  injection('response.injection-nul', 'a NUL in a header value never reaches the wire', '200 OK', [TEXT, ['X-Evil', 'a\u0000b']], /\u0000/),
  injection('response.injection-wide', 'a code unit above U+00FF in a header value is refused', '200 OK', [TEXT, ['X-Evil', 'snow \u2603']], /X-Evil/i),
  injection('response.injection-status', 'CR LF in the status never reaches the wire', '200 OK\r\nSet-Cookie: stolen=1', [TEXT], /stolen/),
  {
    id: 'response.start-check',
    requirements: ['start.check'],
    description: 'startResponse throws at once for a malformed status',
    validate: false,
    app: refusal((startResponse) => startResponse('2000 OK', [TEXT])),
    async client(t) {
      status(t, await get(t, 'start.check'), 200, 'exc.replace');
      t.equal((await t.calls())[0]?.notes.threw, true, 'start.check', 'startResponse("2000 OK") threw');
    },
  },
  {
    id: 'response.hop-by-hop',
    requirements: ['hop.response.reject'],
    description: 'a hop-by-hop header from the application is refused by startResponse, not sent',
    validate: false,
    app: refusal((startResponse) => startResponse('200 OK', [TEXT, ['Connection', 'close'], ['Keep-Alive', 'timeout=1']])),
    async client(t) {
      const response = await get(t, 'hop.response.reject');
      t.equal((await t.calls())[0]?.notes.threw, true, 'hop.response.reject', 'startResponse with Keep-Alive threw');
      t.ok(!response.headerAll('keep-alive').includes('timeout=1'), 'hop.response.reject', "the application's Keep-Alive reached the wire");
    },
  },
  {
    id: 'response.start-once',
    requirements: ['start.once.enforced'],
    description: 'a second startResponse call without excInfo throws',
    validate: false,
    app(_environ, startResponse, probe) {
      startResponse('200 OK', [TEXT]);
      probe.note('threw', throws(() => startResponse('201 Created', [TEXT])));
      return [bytes('ok')];
    },
    async client(t) {
      await get(t, 'start.once.enforced');
      t.equal((await t.calls())[0]?.notes.threw, true, 'start.once.enforced', 'the second call threw');
    },
  },
  {
    id: 'response.start-once-after-failure',
    requirements: ['start.once.enforced'],
    description: 'a second call without excInfo throws even when the first call threw',
    validate: false,
    app(_environ, startResponse, probe) {
      throws(() => startResponse('200 OK', [['Bad Name', 'x']])); // may or may not throw (start.check); the second call must
      probe.note('threw', throws(() => startResponse('200 OK', [TEXT])));
      return [bytes('ok')];
    },
    async client(t) {
      await get(t, 'start.once.enforced');
      t.equal((await t.calls())[0]?.notes.threw, true, 'start.once.enforced', 'the second call threw');
    },
  },
  {
    id: 'response.start-returns-write',
    requirements: ['start.signature'],
    description: 'startResponse returns the write function',
    app(_environ, startResponse, probe) {
      probe.note('write', typeof startResponse('200 OK', [TEXT]));
      return [bytes('ok')];
    },
    async client(t) {
      await get(t, 'start.signature');
      t.equal((await t.calls())[0]?.notes.write, 'function', 'start.signature', 'typeof the value startResponse returned');
    },
  },
  {
    id: 'response.start-records',
    requirements: ['start.records', 'send.deferred'],
    description: 'startResponse sends nothing: the head waits for the body',
    async app(_environ, startResponse, probe) {
      startResponse('200 OK', [TEXT]);
      probe.fire('started');
      await probe.when('go', 2000);
      return [bytes('late body')];
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('GET', '/'));
      t.ok(await t.when('started', 2000), 'server.invoke.once', 'the application did not call startResponse');
      t.ok(await connection.quiet(150), 'start.records', `the head went out before the body: ${JSON.stringify(connection.pending.toString('latin1'))}`);
      t.fire('go');
      t.equal((await connection.readResponse()).body.toString('latin1'), 'late body', 'send.deferred', 'the body');
    },
  },
  {
    id: 'response.exc-replace',
    requirements: ['exc.replace'],
    description: 'startResponse with excInfo before anything was sent replaces the status and headers',
    app(_environ, startResponse) {
      startResponse('200 OK', [TEXT, ['X-First', 'yes']]);
      try {
        throw new Error('late failure');
      } catch (error) {
        startResponse('503 Service Unavailable', [TEXT, ['Retry-After', '1']], error);
      }
      return [bytes('sorry')];
    },
    async client(t) {
      const response = await get(t, 'exc.replace');
      t.equal(response.statusLine, 'HTTP/1.1 503 Service Unavailable', 'exc.replace', 'the status line');
      t.equal(response.header('x-first'), undefined, 'exc.replace', 'X-First of the replaced head');
      t.equal(response.header('retry-after'), '1', 'exc.replace', 'Retry-After');
    },
  },
  {
    id: 'response.exc-rethrow',
    requirements: ['exc.rethrow'],
    description: 'startResponse with excInfo after the head was sent throws that same value',
    validate: false,
    app: async function* (_environ, startResponse, probe) {
      startResponse('200 OK', [TEXT]);
      yield bytes('partial;');
      const error = new Error('late');
      try {
        startResponse('500 Internal Server Error', [TEXT], error);
        probe.note('rethrown', 'nothing thrown');
      } catch (thrown) {
        probe.note('rethrown', thrown === error ? 'same' : 'another value');
      }
      yield bytes('rest');
    },
    async client(t) {
      const response = await get(t, 'exc.rethrow');
      t.equal(response.status, 200, 'exc.rethrow', 'the status already sent');
      t.equal((await t.calls())[0]?.notes.rethrown, 'same', 'exc.rethrow', 'what startResponse threw');
    },
  },
  {
    id: 'response.server-no-mutate',
    requirements: ['header.server-no-mutate'],
    description: 'the server leaves the headers array it was given alone',
    app(_environ, startResponse, probe) {
      const headers: Array<[string, string]> = [TEXT, ['X-One', '1']];
      startResponse('200 OK', headers);
      const body = bytes('ok');
      probe.note('headers', headers);
      return [body];
    },
    async client(t) {
      await get(t, 'header.server-no-mutate');
      await t.delay(10);
      t.equal((await t.calls())[0]?.notes.headers, [TEXT, ['X-One', '1']], 'header.server-no-mutate', 'the headers array after the response');
    },
  },
  {
    id: 'response.invoke-once',
    requirements: ['server.invoke.once', 'server.invoke.args'],
    description: 'the application is called exactly once per request, with two arguments and this undefined',
    app: (_environ, startResponse) => reply(startResponse, 'ok'),
    async client(t) {
      const connection = await t.connect();
      connection.send(Buffer.concat([t.request('GET', '/a'), t.request('GET', '/b')]));
      await connection.readResponse();
      await connection.readResponse();
      await t.delay(20);
      t.equal(t.callCount, 2, 'server.invoke.once', 'calls for two requests');
    },
  },
]);
