// The reference server on the wire: raw bytes over node:net, one behaviour per test,
// each citing the requirement of spec/tsgi.md it checks.
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { serve, toNodeListener, type ServeOptions, type TsgiServer } from '../src/server.js';
import type { Application, Environ, ResponseBody } from '../src/types.js';
import { WireClient, delay, exchange, until } from './_wire.js';

const encode = (text: string) => new TextEncoder().encode(text);
const text: [string, string] = ['Content-Type', 'text/plain'];

/** A text sink that keeps what is written to it. */
function sink() {
  const lines: string[] = [];
  return {
    lines,
    write(chunk: string, callback?: () => void) {
      lines.push(chunk);
      callback?.();
      return true;
    },
    get text() {
      return lines.join('');
    },
  };
}

interface Harness {
  server: TsgiServer;
  port: number;
  errors: ReturnType<typeof sink>;
  log: ReturnType<typeof sink>;
}

/** Starts the reference server for `app` around `fn`, and always closes it. */
async function withServer(app: Application, fn: (h: Harness) => Promise<void>, options: ServeOptions = {}): Promise<void> {
  const errors = sink();
  const log = sink();
  const server = await serve(app, { port: 0, errors, log, shutdownTimeout: 1000, ...options });
  try {
    await fn({ server, port: server.port, errors, log });
  } finally {
    await server.close();
  }
}

/** An application that answers with a JSON rendering of the environ's string keys. */
const echoEnviron: Application = (environ, startResponse) => {
  const strings = Object.fromEntries(Object.entries(environ).filter(([, v]) => typeof v === 'string'));
  startResponse('200 OK', [['Content-Type', 'application/json']]);
  return [Buffer.from(JSON.stringify(strings), 'latin1')];
};

/** Reads the environ the echo application saw, from a raw request. */
async function environFor(port: number, request: string): Promise<Record<string, string>> {
  const response = await exchange(port, request);
  assert.equal(response.status, 200, response.raw.toString('latin1'));
  return JSON.parse(response.body.toString('latin1')) as Record<string, string>;
}

describe('the environ, built from raw requests', () => {
  let h: TsgiServer;
  before(async () => {
    h = await serve(echoEnviron, { port: 0, quiet: true });
  });
  after(() => h.close());

  test('percent-encoded UTF-8 becomes octets as latin-1 code units (env.path-info.decoded)', async () => {
    const env = await environFor(h.port, 'GET /caf%C3%A9/x%20y HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal(env.PATH_INFO, '/caf\u00c3\u00a9/x y');
    assert.equal(env.SCRIPT_NAME, '');
    assert.equal(Buffer.from(env.PATH_INFO!, 'latin1').toString('utf8'), '/café/x y');
  });

  test('%2F decodes to / in PATH_INFO and stays raw in REQUEST_URI (env.request-uri)', async () => {
    const env = await environFor(h.port, 'GET /a%2Fb?q=%2F HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal(env.PATH_INFO, '/a/b');
    assert.equal(env.REQUEST_URI, '/a%2Fb?q=%2F');
    assert.equal(env.QUERY_STRING, 'q=%2F');
  });

  test('a % without two hex digits is kept as it is (env.path-info.bad-escape)', async () => {
    const env = await environFor(h.port, 'GET /100%/%zz/%4 HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal(env.PATH_INFO, '/100%/%zz/%4');
  });

  test('dot segments and repeated slashes are not normalised (env.path-info.no-normalize)', async () => {
    const env = await environFor(h.port, 'GET //a/../b/./c HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal(env.PATH_INFO, '//a/../b/./c');
  });

  test('QUERY_STRING is present and empty without a query, and raw with one (env.query-string)', async () => {
    assert.equal((await environFor(h.port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n')).QUERY_STRING, '');
    assert.equal((await environFor(h.port, 'GET /? HTTP/1.1\r\nHost: a\r\n\r\n')).QUERY_STRING, '');
    assert.equal((await environFor(h.port, 'GET /?a=1&a=2&b=%C3%A9 HTTP/1.1\r\nHost: a\r\n\r\n')).QUERY_STRING, 'a=1&a=2&b=%C3%A9');
  });

  test('a header whose name holds _ or . never reaches the environ (env.http.name-charset)', async () => {
    const env = await environFor(
      h.port,
      'GET / HTTP/1.1\r\nHost: a\r\nX-User_Id: evil\r\nX-User-Id: good\r\nX.Dotted: no\r\n\r\n',
    );
    assert.equal(env.HTTP_X_USER_ID, 'good');
    assert.ok(!Object.keys(env).some((key) => key.includes('.') && key.startsWith('HTTP')));
  });

  test('repeated headers are joined with ", ", cookies with "; " (env.http.repeated)', async () => {
    const env = await environFor(
      h.port,
      'GET / HTTP/1.1\r\nHost: a\r\nAccept: text/html\r\nAccept: text/plain\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n',
    );
    assert.equal(env.HTTP_ACCEPT, 'text/html, text/plain');
    assert.equal(env.HTTP_COOKIE, 'a=1; b=2');
  });

  test('octets above 0x7F in a header value arrive as latin-1 code units (str.environ)', async () => {
    const env = await environFor(h.port, 'GET / HTTP/1.1\r\nHost: a\r\nX-Name: caf\u00c3\u00a9\r\n\r\n');
    assert.equal(env.HTTP_X_NAME, 'caf\u00c3\u00a9');
  });

  test('CONTENT_TYPE and CONTENT_LENGTH appear only when sent, never as HTTP_ keys (env.content-type, env.no-http-content)', async () => {
    const bare = await environFor(h.port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.ok(!('CONTENT_TYPE' in bare) && !('CONTENT_LENGTH' in bare));
    const sent = await environFor(h.port, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Type: text/x\r\nContent-Length: 2\r\n\r\nhi');
    assert.equal(sent.CONTENT_TYPE, 'text/x');
    assert.equal(sent.CONTENT_LENGTH, '2');
    assert.ok(!('HTTP_CONTENT_TYPE' in sent) && !('HTTP_CONTENT_LENGTH' in sent));
  });

  test('the server variables describe the connection (env.server-name, env.remote-addr)', async () => {
    const env = await environFor(h.port, 'GET / HTTP/1.0\r\n\r\n');
    assert.equal(env.SERVER_NAME, '127.0.0.1');
    assert.equal(env.SERVER_PORT, String(h.port));
    assert.equal(env.SERVER_PROTOCOL, 'HTTP/1.0');
    assert.equal(env.REMOTE_ADDR, '127.0.0.1');
    assert.match(env.REMOTE_PORT ?? '', /^\d+$/);
    assert.ok(!('HTTP_HOST' in env), 'an HTTP/1.0 request without Host has no HTTP_HOST (env.http.absent)');
  });

  test('an absolute-form target gives its path, query and authority (env.path.split, env.http.host)', async () => {
    const env = await environFor(h.port, 'GET http://example.test:81/p%41th?x=1 HTTP/1.1\r\nHost: other\r\n\r\n');
    assert.equal(env.PATH_INFO, '/pAth');
    assert.equal(env.QUERY_STRING, 'x=1');
    assert.equal(env.HTTP_HOST, 'example.test:81');
  });

  test('OPTIONS * gives PATH_INFO "*" (env.path-info)', async () => {
    const env = await environFor(h.port, 'OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal(env.PATH_INFO, '*');
    assert.equal(env.REQUEST_METHOD, 'OPTIONS');
  });

  test('a chunked request has no CONTENT_LENGTH (env.content-length)', async () => {
    const env = await environFor(h.port, 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n');
    assert.ok(!('CONTENT_LENGTH' in env));
  });
});

describe('tsgi keys', () => {
  test('are all present, with the right types (env.tsgi.required, env.tsgi.flags)', async () => {
    let seen: Environ | undefined;
    await withServer(
      (environ, startResponse) => {
        seen = environ;
        startResponse('204 No Content', []);
        return [];
      },
      async ({ port }) => {
        await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      },
    );
    assert.ok(seen);
    assert.deepEqual(seen['tsgi.version'], [1, 0]);
    assert.equal(seen['tsgi.url_scheme'], 'http');
    assert.equal(seen['tsgi.multithread'], true);
    assert.equal(seen['tsgi.multiprocess'], false);
    assert.equal(seen['tsgi.run_once'], false);
    assert.equal(seen['tsgi.input_terminated'], true);
    assert.ok(seen['tsgi.signal'] instanceof AbortSignal);
    assert.equal(Object.getPrototypeOf(seen), Object.prototype);
  });
});

describe('request bodies through tsgi.input', () => {
  const echoBody: Application = async (environ, startResponse) => {
    const body = await environ['tsgi.input'].read();
    const after = await environ['tsgi.input'].read();
    startResponse('200 OK', [text, ['X-After', String(after.length)]]);
    return [body];
  };

  test('a Content-Length body, and reads past its end resolve empty at once (input.no-hang, input.end)', async () => {
    await withServer(echoBody, async ({ port }) => {
      const response = await exchange(port, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello');
      assert.equal(response.body.toString(), 'hello');
      assert.equal(response.header('x-after'), '0');
    });
  });

  test('a chunked body is de-chunked before the application reads it (hop.request.server)', async () => {
    await withServer(echoBody, async ({ port }) => {
      const response = await exchange(
        port,
        'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n',
      );
      assert.equal(response.body.toString(), 'abcdefg');
    });
  });

  test('a request without a body reads empty at once (input.no-hang)', async () => {
    await withServer(echoBody, async ({ port }) => {
      const response = await exchange(port, 'POST / HTTP/1.1\r\nHost: a\r\n\r\n', { ms: 1000 });
      assert.equal(response.status, 200);
      assert.equal(response.body.length, 0);
    });
  });

  test('a client that leaves mid-body makes the read reject, not end (input.truncated)', async () => {
    let outcome = '';
    await withServer(
      async (environ, startResponse) => {
        try {
          await environ['tsgi.input'].read();
          outcome = 'resolved';
        } catch {
          outcome = 'rejected';
        }
        startResponse('200 OK', [text]);
        return [];
      },
      async ({ port }) => {
        const client = await WireClient.open(port);
        client.send('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly part');
        await delay(50);
        client.destroy();
        await until(() => outcome !== '', 2000, 'the read to settle');
      },
    );
    assert.equal(outcome, 'rejected');
  });

  test('an unread body is drained, and the connection serves the next request (input.unread)', async () => {
    await withServer(
      (_environ, startResponse) => {
        startResponse('200 OK', [text]);
        return [encode('ok')];
      },
      async ({ port }) => {
        const client = await WireClient.open(port);
        client.send('POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n');
        const first = await client.readResponse();
        client.send('0123456789');
        client.send('GET /2 HTTP/1.1\r\nHost: a\r\n\r\n');
        const second = await client.readResponse();
        assert.equal(first.body.toString(), 'ok');
        assert.equal(second.status, 200);
        client.destroy();
      },
    );
  });
});

describe('an unread body over the drain limit', () => {
  const ignoresBody: Application = (_environ, startResponse) => {
    startResponse('200 OK', [text]);
    return [encode('ignored your body')];
  };

  /** Sends `request`, reads the answer that ignored its body, and hands back the open connection. */
  async function ignored(port: number, request: string) {
    const client = await WireClient.open(port);
    client.send(request);
    const response = await client.readResponse();
    assert.equal(response.body.toString(), 'ignored your body');
    return client;
  }

  test('closes the connection after the response instead of draining it (input.unread)', async () => {
    await withServer(
      ignoresBody,
      async ({ port }) => {
        const client = await ignored(port, `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(1000)}`);
        assert.ok(await client.waitClosed(), 'the connection stays open, waiting for 99 kB nobody reads');
      },
      { maxDrain: 10_000 },
    );
  });

  test('a chunked body is drained only up to the limit, then the connection closes (input.unread)', async () => {
    await withServer(
      ignoresBody,
      async ({ port }) => {
        const chunk = `400\r\n${'x'.repeat(0x400)}\r\n`;
        const client = await ignored(port, `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}`);
        // More than maxDrain bytes of body keep coming; the server stops reading them.
        for (let i = 0; i < 20 && !client.closed; i++) {
          client.send(chunk.repeat(4));
          await delay(5);
        }
        assert.ok(await client.waitClosed(), 'the connection stays open, reading a body nobody wants');
      },
      { maxDrain: 10_000 },
    );
  });

  test('a body that stalls while being drained closes the connection after drainTimeout (input.unread)', async () => {
    await withServer(
      ignoresBody,
      async ({ port }) => {
        const client = await ignored(port, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nhalf');
        const started = Date.now();
        assert.ok(await client.waitClosed(3000), 'the connection waits for the rest of the body for ever');
        assert.ok(Date.now() - started >= 150, 'closed before drainTimeout');
      },
      { drainTimeout: 200 },
    );
  });
});

describe('Expect: 100-continue', () => {
  test('100 Continue is sent only when the application reads (expect.not-early, expect.continue)', async () => {
    let reading: (() => void) | undefined;
    const mayRead = new Promise<void>((resolve) => (reading = resolve));
    await withServer(
      async (environ, startResponse) => {
        await mayRead;
        const body = await environ['tsgi.input'].read();
        startResponse('200 OK', [text]);
        return [body];
      },
      async ({ port }) => {
        const client = await WireClient.open(port);
        client.send('PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n');
        const early = await client.waitFor((b) => b.length > 0, 200);
        assert.equal(early, false, 'nothing may arrive before the application reads');
        reading?.();
        const interim = await client.readResponse();
        assert.equal(interim.status, 100);
        client.send('data');
        const final = await client.readResponse();
        assert.equal(final.body.toString(), 'data');
        client.destroy();
      },
    );
  });

  test('an application that answers without reading gets no 100, and the connection closes (expect.unread)', async () => {
    await withServer(
      (_environ, startResponse) => {
        startResponse('413 Content Too Large', [text]);
        return [encode('too big')];
      },
      async ({ port }) => {
        const client = await WireClient.open(port);
        client.send('PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999\r\nExpect: 100-continue\r\n\r\n');
        const response = await client.readResponse();
        assert.equal(response.status, 413);
        assert.equal(response.header('connection')?.toLowerCase(), 'close');
        assert.ok(await client.waitClosed(), 'the server closes the connection');
      },
    );
  });

  test('an HTTP/1.0 request never gets 100 Continue (expect.http10)', async () => {
    await withServer(
      async (environ, startResponse) => {
        const body = await environ['tsgi.input'].read();
        startResponse('200 OK', [text]);
        return [body];
      },
      async ({ port }) => {
        const response = await exchange(port, 'PUT / HTTP/1.0\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nhi');
        assert.equal(response.status, 200);
        assert.equal(response.body.toString(), 'hi');
      },
    );
  });

  test('an unknown expectation gets 417 without calling the application (expect.unknown)', async () => {
    let called = false;
    await withServer(
      (_e, startResponse) => {
        called = true;
        startResponse('200 OK', []);
        return [];
      },
      async ({ port }) => {
        const response = await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\nExpect: teapot\r\n\r\n');
        assert.equal(response.status, 417);
      },
    );
    assert.equal(called, false);
  });

  test('100-continue listed with another expectation gets 417, and the connection closes (expect.unknown)', async () => {
    let called = false;
    await withServer(
      (_e, startResponse) => {
        called = true;
        startResponse('200 OK', []);
        return [];
      },
      async ({ port }) => {
        const client = await WireClient.open(port);
        client.send('PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue, teapot\r\n\r\n');
        const response = await client.readResponse();
        assert.equal(response.status, 417);
        assert.ok(await client.waitClosed(), 'the body the client may still send has no place to go');
      },
    );
    assert.equal(called, false);
  });

  test('100-continue repeated, in any case, is still 100-continue (expect.continue)', async () => {
    await withServer(
      async (environ, startResponse) => {
        const body = await environ['tsgi.input'].read();
        startResponse('200 OK', [text]);
        return [body];
      },
      async ({ port }) => {
        const client = await WireClient.open(port);
        client.send('PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-Continue\r\nExpect: 100-continue\r\n\r\n');
        const interim = await client.readResponse();
        assert.equal(interim.status, 100);
        client.send('data');
        const final = await client.readResponse();
        assert.equal(final.body.toString(), 'data');
        client.destroy();
      },
    );
  });
});

describe('the response', () => {
  test('status, reason phrase and header order and duplicates are kept (status.sent-as-is, header.order)', async () => {
    await withServer(
      (_e, startResponse) => {
        startResponse('299 Quite Fine', [
          ['Set-Cookie', 'a=1'],
          ['X-Mid', 'm'],
          ['Set-Cookie', 'b=2'],
        ]);
        return [encode('x')];
      },
      async ({ port }) => {
        const response = await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
        assert.equal(response.statusLine, 'HTTP/1.1 299 Quite Fine');
        const appHeaders = response.headers.filter(([n]) => ['set-cookie', 'x-mid'].includes(n.toLowerCase()));
        assert.deepEqual(appHeaders, [
          ['Set-Cookie', 'a=1'],
          ['X-Mid', 'm'],
          ['Set-Cookie', 'b=2'],
        ]);
        assert.ok(response.header('date'), 'Date is added (header.date)');
        assert.equal(response.header('server'), 'tsgi');
      },
    );
  });

  test('an array body gets a computed Content-Length (framing.known-length)', async () => {
    await withServer(
      (_e, startResponse) => {
        startResponse('200 OK', [text]);
        return [encode('ab'), encode('cde')];
      },
      async ({ port }) => {
        const response = await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
        assert.equal(response.header('content-length'), '5');
        assert.equal(response.header('transfer-encoding'), undefined);
        assert.equal(response.body.toString(), 'abcde');
      },
    );
  });

  test('a generator body is chunked on HTTP/1.1 and close-delimited on HTTP/1.0 (framing.chunked, framing.http10)', async () => {
    const app: Application = function* (_e, startResponse) {
      startResponse('200 OK', [text]);
      yield encode('one,');
      yield encode('two');
    };
    await withServer(app, async ({ port }) => {
      const chunked = await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.equal(chunked.header('transfer-encoding'), 'chunked');
      assert.equal(chunked.header('content-length'), undefined);
      assert.equal(chunked.body.toString(), 'one,two');
      assert.ok(chunked.complete);
      const old = await exchange(port, 'GET / HTTP/1.0\r\n\r\n');
      assert.equal(old.header('transfer-encoding'), undefined);
      assert.equal(old.body.toString(), 'one,two');
    });
  });

  test('an HTTP/1.0 request that offers TE: chunked still gets a close-delimited response (framing.http10)', async () => {
    const app: Application = function* (_e, startResponse) {
      startResponse('200 OK', [text]);
      yield encode('one,');
      yield encode('two');
    };
    await withServer(app, async ({ port }) => {
      const client = await WireClient.open(port);
      client.send('GET / HTTP/1.0\r\nTE: chunked\r\nConnection: TE\r\n\r\n');
      assert.ok(await client.waitClosed(), 'the response is delimited by closing the connection');
      const raw = client.pending.toString('latin1');
      assert.doesNotMatch(raw, /\r\ntransfer-encoding:/i);
      assert.ok(raw.endsWith('\r\n\r\none,two'), raw);
    });
  });

  test("an application's own Server header is sent alone, not doubled", async () => {
    await withServer(
      (_e, startResponse) => {
        startResponse('200 OK', [text, ['server', 'my-app/2']]);
        return [encode('hi')];
      },
      async ({ port }) => {
        const response = await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
        assert.deepEqual(response.headers.filter(([name]) => name.toLowerCase() === 'server'), [['server', 'my-app/2']]);
      },
    );
  });

  test('pipelined requests are answered in order (keep-alive)', async () => {
    await withServer(
      async (environ, startResponse) => {
        if (environ.PATH_INFO === '/slow') await delay(50);
        startResponse('200 OK', [text]);
        return [encode(environ.PATH_INFO)];
      },
      async ({ port }) => {
        const client = await WireClient.open(port);
        client.send('GET /slow HTTP/1.1\r\nHost: a\r\n\r\nGET /fast HTTP/1.1\r\nHost: a\r\n\r\n');
        const first = await client.readResponse();
        const second = await client.readResponse();
        assert.deepEqual([first.body.toString(), second.body.toString()], ['/slow', '/fast']);
        client.destroy();
      },
    );
  });

  test('HEAD sends no body, stops at the first chunk, and closes the body once (head.no-body, head.stop-early, close.once)', async () => {
    let produced = 0;
    let closes = 0;
    await withServer(
      (environ, startResponse) => {
        startResponse('200 OK', [text]);
        if (environ.PATH_INFO === '/next') return [encode('next')];
        const body = (function* () {
          for (;;) {
            produced++;
            yield encode('endless ');
          }
        })();
        return Object.assign(body, { close: () => void closes++ }) as ResponseBody;
      },
      async ({ port }) => {
        const client = await WireClient.open(port);
        client.send('HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
        const head = await client.readResponse({ head: true });
        assert.equal(head.status, 200);
        assert.equal(head.header('content-length'), undefined);
        // The next response starts right after the head: no body bytes in between.
        const next = await client.readResponse();
        assert.equal(next.statusLine, 'HTTP/1.1 200 OK');
        assert.equal(next.body.toString(), 'next');
        client.destroy();
      },
    );
    assert.equal(produced, 1, `the endless body was pulled ${produced} times`);
    assert.equal(closes, 1);
  });

  test('204 and 304 carry no body and no framing of the server\'s (status.no-content.server)', async () => {
    await withServer(
      (environ, startResponse) => {
        startResponse(environ.PATH_INFO === '/304' ? '304 Not Modified' : '204 No Content', [['ETag', '"x"']]);
        return [];
      },
      async ({ port }) => {
        for (const path of ['/204', '/304']) {
          const response = await exchange(port, `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`);
          assert.equal(response.header('content-length'), undefined, path);
          assert.equal(response.header('transfer-encoding'), undefined, path);
        }
      },
    );
  });

  test('headers wait for the first non-empty chunk, so excInfo can still replace them (send.empty-chunk, exc.replace)', async () => {
    await withServer(
      async function* (_e, startResponse) {
        startResponse('200 OK', [text]);
        yield new Uint8Array(0);
        try {
          throw new Error('late failure');
        } catch (error) {
          startResponse('503 Service Unavailable', [text], error);
          yield encode('sorry');
        }
      },
      async ({ port }) => {
        const response = await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
        assert.equal(response.status, 503);
        assert.equal(response.body.toString(), 'sorry');
      },
    );
  });

  test('write() sends data before the body, in order (write.as-chunk, write.then-body)', async () => {
    await withServer(
      async (_e, startResponse) => {
        const write = startResponse('200 OK', [text]);
        void write(encode('a'));
        await write(encode('b'));
        return [encode('c')];
      },
      async ({ port }) => {
        const response = await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
        assert.equal(response.body.toString(), 'abc');
      },
    );
  });
});

describe('errors', () => {
  test('an error before the headers gives a generic 500 and goes to tsgi.errors (error.before-headers, error.logged)', async () => {
    await withServer(
      () => {
        throw new Error('secret detail');
      },
      async ({ port, errors }) => {
        const response = await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
        assert.equal(response.status, 500);
        assert.ok(!response.body.toString().includes('secret'));
        assert.match(errors.text, /secret detail/);
        assert.match(errors.text, /at /, 'with its stack trace');
      },
    );
  });

  test('an error after the headers truncates the response (error.after-headers)', async () => {
    await withServer(
      async function* (_e, startResponse) {
        startResponse('200 OK', [text]);
        yield encode('partial');
        throw new Error('mid-stream');
      },
      async ({ port, errors }) => {
        const response = await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
        assert.equal(response.status, 200);
        assert.equal(response.complete, false, 'no final chunk');
        assert.equal(response.body.toString(), 'partial');
        assert.match(errors.text, /mid-stream/);
      },
    );
  });

  test('a string chunk is an application error (body.chunk.type.enforced)', async () => {
    await withServer(
      (_e, startResponse) => {
        startResponse('200 OK', [text]);
        return ['not bytes'] as unknown as ResponseBody;
      },
      async ({ port, errors }) => {
        const response = await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
        assert.equal(response.status, 500);
        assert.match(errors.text, /body\.chunk\.type\.enforced/);
      },
    );
  });

  test('CR/LF in a header value never reaches the wire (header.injection)', async () => {
    await withServer(
      (_e, startResponse) => {
        startResponse('200 OK', [['X-Evil', 'a\r\nSet-Cookie: stolen=1']]);
        return [encode('x')];
      },
      async ({ port, errors }) => {
        const response = await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
        assert.equal(response.status, 500);
        assert.ok(!response.raw.toString('latin1').includes('stolen'));
        assert.match(errors.text, /header\.value/);
      },
    );
  });

  test('a body longer than its Content-Length is cut at the declared length (framing.content-length.no-overrun)', async () => {
    await withServer(
      function* (_e, startResponse) {
        startResponse('200 OK', [text, ['Content-Length', '4']]);
        yield encode('ab');
        yield encode('cdef');
      },
      async ({ port, errors }) => {
        const client = await WireClient.open(port);
        client.send('GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n');
        const first = await client.readResponse();
        const second = await client.readResponse();
        assert.equal(first.body.toString(), 'abcd');
        assert.equal(second.body.toString(), 'abcd', 'the connection is not desynchronised');
        assert.match(errors.text, /framing\.content-length\.match/);
        client.destroy();
      },
    );
  });

  test('a body shorter than its Content-Length closes the connection (framing.content-length.short)', async () => {
    await withServer(
      function* (_e, startResponse) {
        startResponse('200 OK', [text, ['Content-Length', '10']]);
        yield encode('abc');
      },
      async ({ port, errors }) => {
        const client = await WireClient.open(port);
        client.send('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
        const response = await client.readResponse({ ms: 1000 });
        assert.equal(response.complete, false);
        assert.ok(await client.waitClosed());
        assert.match(errors.text, /3 of its 10/);
      },
    );
  });
});

describe('client disconnect', () => {
  test('stops iteration, closes the body once, aborts the signal, and the server keeps serving (disconnect.*, close.once)', async () => {
    let closes = 0;
    let pulled = 0;
    let signal: AbortSignal | undefined;
    await withServer(
      (environ, startResponse) => {
        signal = environ['tsgi.signal'] as AbortSignal;
        if (environ.PATH_INFO === '/after') {
          startResponse('200 OK', [text]);
          return [encode('still here')];
        }
        startResponse('200 OK', [text]);
        const body = (async function* () {
          for (;;) {
            pulled++;
            yield encode('x'.repeat(1024));
            await delay(5);
          }
        })();
        return Object.assign(body, { close: () => void closes++ }) as ResponseBody;
      },
      async ({ port, errors }) => {
        const client = await WireClient.open(port);
        client.send('GET /stream HTTP/1.1\r\nHost: a\r\n\r\n');
        await client.waitFor((b) => b.length > 2048);
        const streamSignal = signal;
        client.destroy();
        await until(() => closes > 0, 2000, 'close()');
        const pulledAtClose = pulled;
        await delay(50);
        assert.equal(pulled, pulledAtClose, 'no chunk is pulled after close');
        assert.equal(closes, 1);
        assert.equal(streamSignal?.aborted, true);
        assert.equal(errors.text, '', 'a disconnect is not an application error (disconnect.quiet)');
        const next = await exchange(port, 'GET /after HTTP/1.1\r\nHost: a\r\n\r\n');
        assert.equal(next.body.toString(), 'still here');
      },
    );
  });

  test('a half-closed connection still gets its response and no abort (disconnect.no-false-abort)', async () => {
    let aborted: boolean | undefined;
    await withServer(
      async (environ, startResponse) => {
        await delay(50);
        aborted = environ['tsgi.signal'].aborted;
        startResponse('200 OK', [text]);
        return [encode('complete')];
      },
      async ({ port }) => {
        const client = await WireClient.open(port);
        client.send('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
        client.halfClose();
        const response = await client.readResponse();
        assert.equal(response.body.toString(), 'complete');
        client.destroy();
      },
    );
    assert.equal(aborted, false);
  });

  test('the signal is not aborted after a complete response (disconnect.no-false-abort)', async () => {
    let signal: AbortSignal | undefined;
    await withServer(
      (environ, startResponse) => {
        signal = environ['tsgi.signal'] as AbortSignal;
        startResponse('200 OK', [text]);
        return [encode('done')];
      },
      async ({ port }) => {
        const client = await WireClient.open(port);
        client.send('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
        await client.readResponse();
        client.destroy();
        await delay(50);
      },
    );
    assert.equal(signal?.aborted, false);
  });
});

/** A server whose application answers `app` and counts its calls. */
async function countingServer(options: ServeOptions): Promise<{ server: TsgiServer; calls: () => number }> {
  let calls = 0;
  const server = await serve(
    (_e, startResponse) => {
      calls++;
      startResponse('200 OK', [text]);
      return [encode('app')];
    },
    { port: 0, quiet: true, ...options },
  );
  return { server, calls: () => calls };
}

describe('malformed requests never reach the application', () => {
  let h: Awaited<ReturnType<typeof countingServer>>;
  before(async () => {
    h = await countingServer({ maxTargetLength: 100 });
  });
  after(() => h.server.close());

  const cases: Array<[string, string, number]> = [
    ['a malformed request line (request.malformed)', 'GET\r\n\r\n', 400],
    ['a raw non-ASCII octet in the target (request.malformed)', 'GET /caf\u00e9 HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['whitespace before a header colon (request.malformed)', 'GET / HTTP/1.1\r\nHost: a\r\nX-A : b\r\n\r\n', 400],
    ['obsolete line folding (request.obs-fold)', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n', 400],
    ['a missing Host on HTTP/1.1 (request.host)', 'GET / HTTP/1.1\r\n\r\n', 400],
    ['two Host headers (request.host)', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
    ['Content-Length and Transfer-Encoding together (request.framing)', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['a non-numeric Content-Length (request.framing)', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n', 400],
    ['two differing Content-Lengths (request.framing)', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 400],
    ['a transfer coding other than chunked (request.coding)', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', 501],
    ['a target longer than the limit (request.target-length)', `GET /${'a'.repeat(200)} HTTP/1.1\r\nHost: a\r\n\r\n`, 414],
    ['a header section over the limit (request.header-size)', `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`, 431],
    ['Transfer-Encoding in an HTTP/1.0 request (request.framing)', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['an HTTP/2.0 request line (request.malformed)', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505],
    ['an asterisk-form target with GET (request.malformed)', 'GET * HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['a CONNECT request (request.connect)', 'CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n', 501],
  ];
  for (const [what, request, status] of cases) {
    test(what, async () => {
      const before = h.calls();
      const response = await exchange(h.server.port, request);
      assert.equal(response.status, status, response.raw.toString('latin1'));
      assert.equal(h.calls(), before, 'the application was called');
    });
  }
});

describe('size limits: the request line is bounded by maxTargetLength, the header section by maxHeaderSize', () => {
  let h: Awaited<ReturnType<typeof countingServer>>;
  before(async () => {
    // A header limit below the target limit: Node alone would count a long target against it.
    h = await countingServer({ maxHeaderSize: 4096, maxTargetLength: 8192 });
  });
  after(() => h.server.close());

  const line = (target: string, headers = '') => `GET ${target} HTTP/1.1\r\nHost: a\r\n${headers}\r\n`;
  const cases: Array<[string, string, number]> = [
    ['a target within its limit but longer than the header limit reaches the application', line(`/${'a'.repeat(8000)}`), 200],
    ['a target over its limit gets 414, not 431 (request.target-length)', line(`/${'a'.repeat(9000)}`), 414],
    ['a header section within the limit reaches the application', line('/', `X-Big: ${'b'.repeat(4000)}\r\n`), 200],
    ['a header section over the limit gets 431 (request.header-size)', line('/', `X-Big: ${'b'.repeat(4100)}\r\n`), 431],
    ['headers over the limit only together get 431', line('/', `X-A: ${'b'.repeat(2100)}\r\nX-B: ${'b'.repeat(2100)}\r\n`), 431],
  ];
  for (const [what, request, status] of cases) {
    test(what, async () => {
      const before = h.calls();
      const response = await exchange(h.server.port, request);
      assert.equal(response.status, status, response.raw.toString('latin1').slice(0, 200));
      assert.equal(h.calls(), status === 200 ? before + 1 : before, 'calls of the application');
    });
  }

  test('with the defaults, a 20 KiB target gets 414: beyond the header limit, within the two together', async () => {
    const server = await serve(() => {
      throw new Error('not reached');
    }, { port: 0, quiet: true });
    try {
      const response = await exchange(server.port, line(`/${'a'.repeat(20 * 1024)}`));
      assert.equal(response.status, 414);
    } finally {
      await server.close();
    }
  });
});

describe('toNodeListener on a plain node:http server', () => {
  test('serves an application, with 100 Continue deferred when wired for checkContinue', async () => {
    const listener = toNodeListener(
      async (environ, startResponse) => {
        const body = await environ['tsgi.input'].read();
        startResponse('200 OK', [text]);
        return [encode(`got ${body.length}`)];
      },
      { quiet: true },
    );
    const server = http.createServer(listener).on('checkContinue', listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const client = await WireClient.open(port);
      client.send('PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n');
      assert.equal((await client.readResponse()).status, 100);
      client.send('abc');
      assert.equal((await client.readResponse()).body.toString(), 'got 3');
      client.destroy();
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('on a unix socket there is no client port: REMOTE_PORT is absent, not empty (env.remote-port)', async () => {
    let seen: Environ | undefined;
    const listener = toNodeListener(
      (environ, startResponse) => {
        seen = { ...environ };
        startResponse('200 OK', [text]);
        return [encode('ok')];
      },
      { quiet: true },
    );
    const dir = await mkdtemp(join(tmpdir(), 'tsgi-unix-'));
    const path = join(dir, 'server.sock');
    const server = http.createServer(listener);
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      const response = await new Promise<string>((resolve, reject) => {
        const socket = connect(path);
        let bytes = '';
        // The wire client speaks TCP only; this read is bounded the same way.
        const timer = setTimeout(() => socket.destroy(new Error('no complete response within 2 s')), 2000);
        socket.setEncoding('latin1');
        socket.on('data', (chunk: string) => (bytes += chunk));
        socket.on('end', () => {
          clearTimeout(timer);
          resolve(bytes);
        });
        socket.on('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        socket.write('GET /u HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
      });
      assert.match(response, /^HTTP\/1\.1 200 OK\r\n/);
      assert.ok(seen);
      assert.equal('REMOTE_PORT' in seen, false);
      assert.equal(seen.PATH_INFO, '/u');
      assert.equal(seen.HTTP_HOST, 'a');
      assert.ok(seen['tsgi.signal'] instanceof AbortSignal);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('serve()', () => {
  test('mounts an application under scriptName (env.script-name, env.path.split)', async () => {
    await withServer(
      echoEnviron,
      async ({ port }) => {
        const inside = await environFor(port, 'GET /app/x%2Fy HTTP/1.1\r\nHost: a\r\n\r\n');
        assert.equal(inside.SCRIPT_NAME, '/app');
        assert.equal(inside.PATH_INFO, '/x/y');
        const root = await environFor(port, 'GET /app HTTP/1.1\r\nHost: a\r\n\r\n');
        assert.equal(root.PATH_INFO, '');
        const outside = await exchange(port, 'GET /application HTTP/1.1\r\nHost: a\r\n\r\n');
        assert.equal(outside.status, 404);
      },
      { scriptName: '/app' },
    );
  });

  test('writes one Common Log Format line per request', async () => {
    await withServer(echoEnviron, async ({ port, log }) => {
      await exchange(port, 'GET /logged?x=1 HTTP/1.1\r\nHost: a\r\n\r\n');
      await until(() => log.lines.length > 0, 1000, 'the log line');
      assert.match(log.text, /^127\.0\.0\.1 - - \[\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET \/logged\?x=1 HTTP\/1\.1" 200 \d+\n$/);
    });
  });

  test('logs the requests it answers without the application too', async () => {
    await withServer(
      echoEnviron,
      async ({ port, log }) => {
        await exchange(port, `GET /${'a'.repeat(100)} HTTP/1.1\r\nHost: a\r\n\r\n`);
        await exchange(port, 'HEAD /elsewhere HTTP/1.1\r\nHost: a\r\n\r\n');
        await until(() => log.lines.length >= 2, 1000, 'two log lines');
        assert.match(log.lines[0]!, /^127\.0\.0\.1 - - \[[^\]]+\] "GET \/a{100} HTTP\/1\.1" 414 \d+\n$/);
        assert.match(log.lines[1]!, /^127\.0\.0\.1 - - \[[^\]]+\] "HEAD \/elsewhere HTTP\/1\.1" 404 -\n$/);
      },
      { maxTargetLength: 50, scriptName: '/app' },
    );
  });

  test('quiet: true writes no access log', async () => {
    await withServer(
      echoEnviron,
      async ({ port, log }) => {
        await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
        await exchange(port, `GET /${'a'.repeat(100)} HTTP/1.1\r\nHost: a\r\n\r\n`);
        await delay(20);
        assert.deepEqual(log.lines, []);
      },
      { quiet: true, maxTargetLength: 50 },
    );
  });

  test('a client that reads none of a response is given up after writeTimeout: the signal aborts, close() runs once', async () => {
    let closes = 0;
    let signal: AbortSignal | undefined;
    await withServer(
      (environ, startResponse) => {
        if (environ.PATH_INFO === '/after') {
          startResponse('200 OK', [text]);
          return [encode('still here')];
        }
        signal = environ['tsgi.signal'];
        startResponse('200 OK', [text]);
        const chunk = new Uint8Array(64 * 1024);
        const body = (async function* () {
          for (;;) yield chunk;
        })();
        return Object.assign(body, { close: () => void closes++ });
      },
      async ({ port, errors }) => {
        const client = await WireClient.open(port);
        client.pause();
        client.send('GET /endless HTTP/1.1\r\nHost: a\r\n\r\n');
        await until(() => closes > 0, 5000, 'close() of the unread body');
        assert.equal(signal?.aborted, true);
        assert.match(String((signal?.reason as Error).message), /read none of the response for 200 ms/);
        assert.equal(closes, 1);
        assert.equal(errors.text, '', 'a client that stopped reading is not an application error (disconnect.quiet)');
        client.destroy();
        const next = await exchange(port, 'GET /after HTTP/1.1\r\nHost: a\r\n\r\n');
        assert.equal(next.body.toString(), 'still here');
      },
      { writeTimeout: 200 },
    );
  });

  test('a slow application is not cut off by writeTimeout', async () => {
    await withServer(
      async (_environ, startResponse) => {
        await delay(300);
        startResponse('200 OK', [text]);
        return [encode('late but whole')];
      },
      async ({ port }) => {
        const response = await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', { ms: 3000 });
        assert.equal(response.body.toString(), 'late but whole');
      },
      { writeTimeout: 100 },
    );
  });

  test('a client that sends its body too slowly is cut off (requestTimeout)', async () => {
    await withServer(
      async (environ, startResponse) => {
        const body = await environ['tsgi.input'].read().catch(() => encode('truncated'));
        startResponse('200 OK', [text]);
        return [body];
      },
      async ({ port }) => {
        const client = await WireClient.open(port);
        client.send('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nslow');
        const started = Date.now();
        assert.ok(await client.waitClosed(3000), 'the slow connection is still open');
        assert.ok(Date.now() - started >= 250, 'closed before the timeout');
      },
      { requestTimeout: 300 },
    );
  });

  test('a client that sends its head too slowly is cut off (headersTimeout)', async () => {
    await withServer(
      echoEnviron,
      async ({ port }) => {
        const client = await WireClient.open(port);
        client.send('GET / HTTP/1.1\r\nHost: a\r\n');
        const started = Date.now();
        assert.ok(await client.waitClosed(3000), 'the slow connection is still open');
        assert.ok(Date.now() - started >= 250, 'closed before the timeout');
        assert.match(client.pending.toString('latin1'), /^(HTTP\/1\.1 408|$)/);
      },
      { headersTimeout: 300 },
    );
  });

  test('an idle keep-alive connection is closed (keepAliveTimeout)', async () => {
    await withServer(
      echoEnviron,
      async ({ port }) => {
        const client = await WireClient.open(port);
        client.send('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
        await client.readResponse();
        assert.ok(await client.waitClosed(3000), 'the idle connection is still open');
      },
      { keepAliveTimeout: 200 },
    );
  });

  test('close() cuts off what runs past shutdownTimeout, and resolves after its cleanup, saying the server shut down', async () => {
    let closed = false;
    let reason: unknown;
    const server = await serve(
      (environ, startResponse) => {
        startResponse('200 OK', [text]);
        const signal = environ['tsgi.signal'];
        return Object.assign(
          (async function* () {
            for (let i = 0; i < 1000 && !signal.aborted; i++) {
              yield encode('tick\n');
              await delay(20);
            }
            reason = signal.reason;
          })(),
          {
            async close() {
              await delay(50); // a cleanup that takes a while, which close() waits for
              closed = true;
            },
          },
        );
      },
      { port: 0, quiet: true, shutdownTimeout: 100 },
    );
    const client = await WireClient.open(server.port);
    client.send('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await delay(50);
    await server.close();
    assert.equal(closed, true, 'close() resolved before the body was closed');
    assert.match(String((reason as Error | undefined)?.message), /the server shut down before the response was complete/);
    client.destroy();
  });

  test('close() lets a running request finish', async () => {
    let finished = false;
    const server = await serve(
      async (_e, startResponse) => {
        await delay(100);
        finished = true;
        startResponse('200 OK', [text]);
        return [encode('finished')];
      },
      { port: 0, quiet: true },
    );
    const client = await WireClient.open(server.port);
    client.send('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await delay(20);
    const closing = server.close();
    const response = await client.readResponse();
    await closing;
    assert.equal(response.body.toString(), 'finished');
    assert.equal(finished, true);
    client.destroy();
  });
});
