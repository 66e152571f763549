// tsgi/fetch: toFetchHandler (a TSGI application behind a fetch handler) and
// fromFetchHandler (a fetch handler as a TSGI application), each asserted against the
// spec's requirements, plus the round trip through both. Every wait is bounded.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fromFetchHandler, toFetchHandler } from '../src/fetch.js';
import { serve } from '../src/server.js';
import type { Application, Environ, HeaderList, ResponseBody } from '../src/types.js';
import { validator } from '../src/validate.js';
import { textSink } from './_text-sink.js';
import { exchange, until } from './_wire.js';

const encode = (text: string) => new TextEncoder().encode(text);
const plain: HeaderList = [['Content-Type', 'text/plain']];
const quiet = { write: () => true };
const T = { timeout: 10_000 };

/** Runs `app` behind toFetchHandler for one request and resolves to the environ it received. */
async function environFor(request: Request, options: Parameters<typeof toFetchHandler>[1] = {}, context?: unknown): Promise<Environ> {
  let seen: Environ | undefined;
  const handler = toFetchHandler((environ, startResponse) => {
    seen = { ...environ };
    startResponse('200 OK', plain);
    return [];
  }, { errors: quiet, ...options });
  const response = await handler(request, context);
  assert.equal(response.status, 200);
  return seen as Environ;
}

interface Tracked {
  body: ResponseBody;
  /** How many chunks the server asked for. */
  pulls: number;
  closes: number;
  finallyRan: boolean;
}

/** An endless (or `limit`-chunk) async body that counts what the server did with it. */
function tracked(limit = Infinity, size = 65536): Tracked {
  const chunk = new Uint8Array(size).fill(120);
  const state: Tracked = { body: [], pulls: 0, closes: 0, finallyRan: false };
  async function* generate() {
    try {
      for (let i = 0; i < limit; i++) {
        state.pulls++;
        yield chunk;
      }
    } finally {
      state.finallyRan = true;
    }
  }
  const generator = generate();
  state.body = Object.assign(generator, {
    close() {
      state.closes++;
    },
  });
  return state;
}

/** A handler whose application streams an endless tracked body, and the tsgi.signal it saw. */
function endless(): { body: Tracked; handler: (request: Request) => Promise<Response>; signal(): AbortSignal | undefined } {
  const body = tracked();
  let signal: AbortSignal | undefined;
  const handler = toFetchHandler((environ, startResponse) => {
    signal = environ['tsgi.signal'];
    startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
    return body.body;
  });
  return { body, handler, signal: () => signal };
}

describe('toFetchHandler: the environ', T, () => {
  test('path, query and target as byte strings (env.path-info.decoded, env.query-string, env.request-uri)', async () => {
    const environ = await environFor(new Request('http://example.com/caf%C3%A9/a%2Fb/%zz/%e9?q=a%20b&x'));
    assert.equal(environ.SCRIPT_NAME, '');
    assert.equal(environ.PATH_INFO, '/caf\u00c3\u00a9/a/b/%zz/\u00e9');
    assert.equal(environ.QUERY_STRING, 'q=a%20b&x');
    assert.equal(environ.REQUEST_URI, '/caf%C3%A9/a%2Fb/%zz/%e9?q=a%20b&x');
    assert.equal(environ.REQUEST_METHOD, 'GET');
  });

  test('a non-ASCII path arrives as the latin-1 code units of its UTF-8 octets (str.environ)', async () => {
    const environ = await environFor(new Request('http://example.com/\u00fcber/\u65e5'));
    assert.equal(environ.PATH_INFO, '/\u00c3\u00bcber/\u00e6\u0097\u00a5');
    assert.ok([...environ.PATH_INFO].every((c) => c.charCodeAt(0) <= 0xff));
  });

  test('host, server name and port, and scheme come from the URL (env.http.host, env.server-name, env.tsgi.url-scheme)', async () => {
    let environ = await environFor(new Request('https://Example.COM/x', { headers: { host: 'spoofed.example' } }));
    assert.equal(environ.HTTP_HOST, 'example.com');
    assert.equal(environ.SERVER_NAME, 'example.com');
    assert.equal(environ.SERVER_PORT, '443');
    assert.equal(environ['tsgi.url_scheme'], 'https');
    environ = await environFor(new Request('http://[::1]:8080/'));
    assert.equal(environ.HTTP_HOST, '[::1]:8080');
    assert.equal(environ.SERVER_NAME, '[::1]');
    assert.equal(environ.SERVER_PORT, '8080');
    assert.equal(environ['tsgi.url_scheme'], 'http');
    environ = await environFor(new Request('http://localhost/'), { serverName: 'app.internal', serverPort: 9000 });
    assert.equal(environ.SERVER_NAME, 'app.internal');
    assert.equal(environ.SERVER_PORT, '9000');
  });

  test('REMOTE_ADDR: 0.0.0.0 unless given, as a string or from the platform context (env.remote-addr)', async () => {
    assert.equal((await environFor(new Request('http://localhost/'))).REMOTE_ADDR, '0.0.0.0');
    assert.equal((await environFor(new Request('http://localhost/'), { remoteAddr: '192.0.2.9' })).REMOTE_ADDR, '192.0.2.9');
    let seenContext: unknown;
    const handler = toFetchHandler(
      (environ, startResponse) => {
        startResponse('200 OK', plain);
        return [encode(environ.REMOTE_ADDR)];
      },
      {
        remoteAddr: (_request, info: { remoteAddr: { hostname: string } }) => {
          seenContext = info;
          return info.remoteAddr.hostname;
        },
      },
    );
    const info = { remoteAddr: { hostname: '::ffff:203.0.113.4' } };
    assert.equal(await (await handler(new Request('http://localhost/'), info)).text(), '203.0.113.4');
    assert.equal(seenContext, info);
  });

  test('request headers: HTTP_* keys, CONTENT_TYPE, names with _ or . dropped (env.http, env.http.name-charset, env.no-http-content)', async () => {
    const headers = new Headers([
      ['Accept-Language', 'fr'],
      ['X-Multi', 'a'],
      ['X-Multi', 'b'],
      ['X_User_Id', 'spoofed'],
      ['X.Dotted', 'no'],
      ['Content-Type', 'text/plain'],
      ['Cookie', 'a=1'],
    ]);
    const environ = await environFor(new Request('http://localhost/', { headers }));
    assert.equal(environ.HTTP_ACCEPT_LANGUAGE, 'fr');
    assert.equal(environ.HTTP_X_MULTI, 'a, b');
    assert.equal(environ.HTTP_X_USER_ID, undefined);
    assert.ok(!Object.keys(environ).some((key) => key.includes('DOTTED') || key === 'X.DOTTED'));
    assert.equal(environ.CONTENT_TYPE, 'text/plain');
    assert.equal(environ.HTTP_COOKIE, 'a=1');
    assert.ok(!('HTTP_CONTENT_TYPE' in environ));
    assert.ok(!('CONTENT_LENGTH' in environ), 'no CONTENT_LENGTH without a declared length (env.content-length)');
  });

  test('CONTENT_LENGTH only when the request declared it (env.content-length)', async () => {
    const declared = await environFor(new Request('http://localhost/', { method: 'POST', body: 'abc', headers: { 'content-length': '3' } }));
    assert.equal(declared.CONTENT_LENGTH, '3');
    assert.ok(!('HTTP_CONTENT_LENGTH' in declared));
    const undeclared = await environFor(new Request('http://localhost/', { method: 'POST', body: 'abc' }));
    assert.ok(!('CONTENT_LENGTH' in undeclared));
  });

  test('requests a platform should have refused are refused here, without calling the application (request.*)', async () => {
    let called = 0;
    const handler = toFetchHandler(() => {
      called++;
      return [];
    }, { maxTargetLength: 100 });
    const refused: Array<[Request, number]> = [
      [new Request('http://localhost/', { method: 'POST', body: 'abc', headers: { 'content-length': 'abc' } }), 400], // request.framing
      [new Request('http://localhost/', { method: 'POST', body: 'abc', headers: { 'content-length': '3', 'transfer-encoding': 'chunked' } }), 400],
      [new Request('http://localhost/', { method: 'POST', body: 'abc', headers: { 'transfer-encoding': 'gzip, chunked' } }), 501], // request.coding
      [new Request('http://localhost/', { headers: [['host', 'a'], ['host', 'b']] }), 400], // request.host
      [new Request(`http://localhost/${'a'.repeat(100)}`), 414], // request.target-length
    ];
    for (const [request, status] of refused) {
      const response = await handler(request);
      assert.equal(response.status, status, request.url);
      if (status !== 414) assert.equal(response.headers.get('connection'), 'close', 'request.close-after-reject');
    }
    assert.equal(called, 0);
  });

  test('REMOTE_PORT and SERVER_PROTOCOL from the platform context (env.remote-port, env.server-protocol)', async () => {
    const info = { port: 50123, version: '2' };
    const environ = await environFor(new Request('http://localhost/'), {
      remotePort: (_request: Request, context: unknown) => (context as typeof info | undefined)?.port,
      serverProtocol: (_request: Request, context: unknown) => `HTTP/${(context as typeof info | undefined)?.version ?? '1.1'}`,
    }, info);
    assert.equal(environ.REMOTE_PORT, '50123');
    assert.equal(environ.SERVER_PROTOCOL, 'HTTP/2');
    assert.ok(!('REMOTE_PORT' in (await environFor(new Request('http://localhost/')))), 'absent when unknown (env.cgi.absent)');
  });

  test('the tsgi keys: version, flags, streams, an AbortSignal; extra keys from options (env.tsgi.required, env.inject)', async () => {
    const environ = await environFor(new Request('http://localhost/'), { environ: { 'app.config': 42, REMOTE_USER: 'ada' } });
    assert.deepEqual(environ['tsgi.version'], [1, 0]);
    assert.equal(environ['tsgi.multithread'], true);
    assert.equal(environ['tsgi.multiprocess'], false);
    assert.equal(environ['tsgi.run_once'], false);
    assert.equal(environ['tsgi.input_terminated'], true);
    assert.ok(environ['tsgi.signal'] instanceof AbortSignal);
    assert.equal(environ.SERVER_PROTOCOL, 'HTTP/1.1');
    assert.equal(environ['app.config'], 42);
    assert.equal(environ.REMOTE_USER, 'ada');
  });

  test('the environ passes the validator, for requests with and without a body', async () => {
    const errors: unknown[] = [];
    const app = validator((environ, startResponse) => {
      startResponse('200 OK', plain);
      return (async function* () {
        yield await environ['tsgi.input'].read();
      })();
    }, { onViolation: (error) => errors.push(error) });
    const handler = toFetchHandler(app, { errors: quiet });
    for (const request of [
      new Request('http://localhost/a?b', { headers: { 'x-a': '1' } }),
      new Request('https://localhost:8443/caf%C3%A9', { method: 'PUT', body: 'hello', headers: { 'content-length': '5' } }),
      new Request('http://localhost/', { method: 'POST', body: 'chunked' }),
    ]) {
      const response = await handler(request);
      await response.arrayBuffer();
    }
    assert.deepEqual(errors, []);
  });

  test('scriptName mounts the application; other paths get 404 without calling it', async () => {
    const environ = await environFor(new Request('http://localhost/app/users/1'), { scriptName: '/app/' });
    assert.equal(environ.SCRIPT_NAME, '/app');
    assert.equal(environ.PATH_INFO, '/users/1');
    let called = 0;
    const handler = toFetchHandler(() => {
      called++;
      return [];
    }, { scriptName: '/app' });
    assert.equal((await handler(new Request('http://localhost/application'))).status, 404);
    assert.equal(called, 0);
  });

  test('a URL that is not http or https rejects', async () => {
    const handler = toFetchHandler(() => []);
    await assert.rejects(handler(new Request('file:///etc/passwd')), TypeError);
  });
});

describe('toFetchHandler: the request body', T, () => {
  test('tsgi.input reads the body, cut to CONTENT_LENGTH (input.read, input.no-hang)', async () => {
    const handler = toFetchHandler(async (environ, startResponse) => {
      const line = await environ['tsgi.input'].readLine();
      const rest = await environ['tsgi.input'].read();
      startResponse('200 OK', plain);
      return [line, encode('|'), rest];
    });
    const response = await handler(new Request('http://localhost/', { method: 'POST', body: 'one\ntwo\nthree', headers: { 'content-length': '8' } }));
    assert.equal(await response.text(), 'one\n|two\n');
  });

  test('a body shorter than its Content-Length makes the read reject (input.truncated)', async () => {
    let failure: unknown;
    const handler = toFetchHandler(async (environ, startResponse) => {
      failure = await environ['tsgi.input'].read().then(() => undefined, (error: unknown) => error);
      startResponse('200 OK', plain);
      return [];
    });
    await handler(new Request('http://localhost/', { method: 'POST', body: 'abc', headers: { 'content-length': '10' } }));
    assert.ok(failure instanceof Error);
  });

  test('a body the application does not read is left unread', async () => {
    const request = new Request('http://localhost/', { method: 'POST', body: 'abc' });
    const handler = toFetchHandler((_environ, startResponse) => {
      startResponse('204 No Content', []);
      return [];
    });
    await handler(request);
    assert.equal(request.bodyUsed, false);
  });

  test('a GET has an empty input (input.no-hang)', async () => {
    const handler = toFetchHandler(async (environ, startResponse) => {
      const body = await environ['tsgi.input'].read();
      startResponse('200 OK', plain);
      return [encode(String(body.length))];
    });
    assert.equal(await (await handler(new Request('http://localhost/'))).text(), '0');
  });
});

describe('toFetchHandler: the response', T, () => {
  test('status, reason phrase and headers, with each Set-Cookie kept (status.sent-as-is, header.order)', async () => {
    const handler = toFetchHandler((_environ, startResponse) => {
      startResponse('299 Very Custom \u00e9t\u00e9', [
        ['Content-Type', 'text/plain'],
        ['Set-Cookie', 'a=1; Path=/'],
        ['X-Twice', '1'],
        ['Set-Cookie', 'b=2, with a comma'],
        ['X-Twice', '2'],
      ]);
      return [encode('hi')];
    });
    const response = await handler(new Request('http://localhost/'));
    assert.equal(response.status, 299);
    assert.equal(response.statusText, 'Very Custom \u00e9t\u00e9');
    assert.deepEqual(response.headers.getSetCookie(), ['a=1; Path=/', 'b=2, with a comma']);
    assert.equal(response.headers.get('x-twice'), '1, 2');
    assert.equal(response.headers.get('content-length'), '2', 'the core computes it for an array body (framing.known-length)');
    assert.equal(await response.text(), 'hi');
  });

  test('the Response settles when the head is sent, not before (send.deferred)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let settled = false;
    const handler = toFetchHandler((_environ, startResponse) => {
      startResponse('200 OK', plain);
      return (async function* () {
        await gate;
        yield encode('late');
      })();
    });
    const pending = handler(new Request('http://localhost/')).then((response) => {
      settled = true;
      return response;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(settled, false);
    release();
    assert.equal(await (await pending).text(), 'late');
  });

  test('write(): each write is sent in order, and its Promise waits for the reader (write.promise, write.then-body)', async () => {
    let written = 0;
    const handler = toFetchHandler(async (_environ, startResponse) => {
      const write = startResponse('200 OK', plain);
      for (const part of ['one ', 'two ']) {
        await write(encode(part));
        written++;
      }
      return [encode('three')];
    });
    const response = await handler(new Request('http://localhost/'));
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    assert.equal(decoder.decode((await reader.read()).value), 'one ');
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(written, 0, 'the first write waits until the reader asks for more');
    let rest = '';
    for (let step = await reader.read(); !step.done; step = await reader.read()) rest += decoder.decode(step.value);
    assert.equal(rest, 'two three');
    assert.equal(written, 2);
  });

  test('a body whose close() returns a Promise ends only once it settled (close.await)', async () => {
    let settle!: () => void;
    const closing = new Promise<void>((resolve) => (settle = resolve));
    let closed = false;
    const handler = toFetchHandler((_environ, startResponse) => {
      startResponse('200 OK', plain);
      return Object.assign([encode('a'), encode('b')], { close: () => closing.then(() => void (closed = true)) });
    });
    const text = handler(new Request('http://localhost/')).then((response) => response.text());
    await new Promise((resolve) => setTimeout(resolve, 20));
    let done = false;
    void text.then(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(done, false, 'the response ended before close() settled');
    settle();
    assert.equal(await text, 'ab');
    assert.equal(closed, true);
  });

  test('a reader that cancels while close() is still running changes nothing for the exchange', async () => {
    let settle!: () => void;
    const closing = new Promise<void>((resolve) => (settle = resolve));
    const handler = toFetchHandler((_environ, startResponse) => {
      startResponse('200 OK', plain);
      return Object.assign([encode('a'), encode('b')], { close: () => closing });
    });
    const pending = handler(new Request('http://localhost/'));
    const settled = new Promise((resolve) => setTimeout(resolve, 20)).then(() => settle());
    const response = await pending;
    await response.body!.cancel();
    await settled;
    await new Promise((resolve) => setTimeout(resolve, 10));
  });

  test('204 and 304 have a null body', async () => {
    for (const status of ['204 No Content', '304 Not Modified']) {
      const handler = toFetchHandler((_environ, startResponse) => {
        startResponse(status, []);
        return [];
      });
      const response = await handler(new Request('http://localhost/'));
      assert.equal(response.body, null);
    }
  });

  test('HEAD: no body, an endless body stops at its first chunk, close() once (head.no-body, head.stop-early, close.once)', async () => {
    const body = tracked();
    const handler = toFetchHandler((_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', '1000000']]);
      return body.body;
    });
    const response = await handler(new Request('http://localhost/', { method: 'HEAD' }));
    assert.equal(response.body, null);
    assert.equal(response.headers.get('content-length'), '1000000', 'head.content-length');
    await until(() => body.closes === 1, 2000, 'close()');
    assert.ok(body.pulls <= 2, `the server pulled ${body.pulls} chunks for HEAD`);
    assert.equal(body.finallyRan, true, 'the iterator was returned (body.iterate.return)');
  });

  test('backpressure: a body of 1 GiB is pulled only as fast as a slow reader reads (body.transmit.backpressure)', async () => {
    const body = tracked(16384); // 16384 chunks of 64 KiB: 1 GiB
    const handler = toFetchHandler((_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
      return body.body;
    });
    const response = await handler(new Request('http://localhost/'));
    const reader = response.body!.getReader();
    for (let read = 1; read <= 5; read++) {
      const step = await reader.read();
      assert.equal(step.value?.length, 65536);
      await new Promise((resolve) => setTimeout(resolve, 10));
      assert.ok(body.pulls <= read + 1, `after ${read} reads the server had pulled ${body.pulls} chunks`);
    }
    await reader.cancel();
    await until(() => body.closes === 1, 2000, 'close()');
    assert.equal(body.finallyRan, true);
    assert.ok(body.pulls <= 7);
  });

  test('request.signal aborting mid-body: tsgi.signal aborts with an Error, iteration stops, close() once (disconnect.signal, disconnect.stop)', async () => {
    const { body, handler, signal } = endless();
    const controller = new AbortController();
    const response = await handler(new Request('http://localhost/', { signal: controller.signal }));
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    await assert.rejects(async () => {
      for (;;) if ((await reader.read()).done) break;
    }, 'the body fails instead of looking complete');
    await until(() => body.closes === 1, 2000, 'close()');
    assert.equal(signal()?.aborted, true);
    assert.ok(signal()?.reason instanceof Error, 'disconnect.reason');
    const pulls = body.pulls;
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(body.pulls, pulls, 'no chunk is asked for after the disconnect');
    assert.equal(body.closes, 1);
  });

  test('a disconnect before the head rejects with the signal reason, and close() runs once', async () => {
    let closes = 0;
    const controller = new AbortController();
    const handler = toFetchHandler((environ, startResponse) => {
      startResponse('200 OK', plain);
      const signal = environ['tsgi.signal'];
      return Object.assign(
        (async function* () {
          // The abort may come before the first step on a busy machine: a listener added then would never fire.
          if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve));
          yield encode('too late');
        })(),
        { close: () => void closes++ },
      );
    });
    const pending = handler(new Request('http://localhost/', { signal: controller.signal }));
    setTimeout(() => controller.abort(), 10);
    await assert.rejects(pending, (error: Error) => error.name === 'AbortError');
    await until(() => closes === 1, 2000, 'close()');
  });

  test('the response stream cancelled counts as the disconnect', async () => {
    const { body, handler, signal } = endless();
    const response = await handler(new Request('http://localhost/'));
    await response.body!.cancel('not interested');
    await until(() => body.closes === 1, 2000, 'close()');
    assert.equal(signal()?.aborted, true);
  });

  test('no abort once the whole response is handed over (disconnect.no-false-abort)', async () => {
    let signal: AbortSignal | undefined;
    const controller = new AbortController();
    const handler = toFetchHandler((environ, startResponse) => {
      signal = environ['tsgi.signal'];
      startResponse('200 OK', plain);
      return (async function* () {
        yield encode('a');
        yield encode('b');
      })();
    });
    const response = await handler(new Request('http://localhost/', { signal: controller.signal }));
    assert.equal(await response.text(), 'ab');
    controller.abort();
    assert.equal(signal?.aborted, false);
  });

  test('an error before the head is a generic 500, logged with its stack (error.before-headers, error.logged)', async () => {
    const errors = textSink();
    const handler = toFetchHandler(() => {
      throw new Error('secret detail');
    }, { errors });
    const response = await handler(new Request('http://localhost/'));
    assert.equal(response.status, 500);
    const text = await response.text();
    assert.ok(!text.includes('secret'));
    assert.match(errors.text, /secret detail/);
    assert.match(errors.text, /at /);
  });

  test('an error after the head fails the body stream, and close() runs once (error.after-headers)', async () => {
    let closes = 0;
    const handler = toFetchHandler((_environ, startResponse) => {
      startResponse('200 OK', plain);
      return Object.assign(
        (async function* () {
          yield encode('partial');
          throw new Error('midway');
        })(),
        { close: () => void closes++ },
      );
    }, { errors: quiet });
    const response = await handler(new Request('http://localhost/'));
    assert.equal(response.status, 200);
    await assert.rejects(response.text(), /midway/);
    await until(() => closes === 1, 2000, 'close()');
  });

  test('a short body with a Content-Length fails the stream (framing.content-length.short)', async () => {
    const handler = toFetchHandler((_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', '10']]);
      return (async function* () {
        yield encode('abc');
      })();
    }, { errors: quiet });
    const response = await handler(new Request('http://localhost/'));
    await assert.rejects(response.arrayBuffer());
  });

  test('it replaces or patches no global (Request, Response, Headers, fetch)', async () => {
    const before = [globalThis.Request, globalThis.Response, globalThis.Headers, globalThis.fetch, globalThis.ReadableStream];
    const module = await import('../src/fetch.js');
    await module.toFetchHandler((_e, startResponse) => {
      startResponse('200 OK', plain);
      return [];
    })(new Request('http://localhost/'));
    assert.deepEqual([globalThis.Request, globalThis.Response, globalThis.Headers, globalThis.fetch, globalThis.ReadableStream], before);
  });
});

describe('fromFetchHandler', T, () => {
  /** Runs a fetch handler as an application on the reference server. */
  async function served(handler: (request: Request) => Response | Promise<Response>, scriptName?: string) {
    const server = await serve(fromFetchHandler(handler), { port: 0, quiet: true, errors: quiet, ...(scriptName ? { scriptName } : {}) });
    return server;
  }

  test('the Request: URL rebuilt from the environ, method, headers, body, signal (url.reconstruct)', async () => {
    let seen: { url: string; method: string; headers: Array<[string, string]>; body: string; signal: AbortSignal } | undefined;
    const server = await served(async (request) => {
      seen = { url: request.url, method: request.method, headers: [...request.headers], body: await request.text(), signal: request.signal };
      return new Response('ok');
    }, '/mount');
    try {
      const response = await fetch(`${server.url}mount/caf%C3%A9?q=1`, { method: 'POST', body: 'payload', headers: { 'X-Custom': 'yes' } });
      assert.equal(await response.text(), 'ok');
      assert.equal(seen?.url, `http://127.0.0.1:${server.port}/mount/caf%C3%A9?q=1`);
      assert.equal(seen?.method, 'POST');
      assert.equal(seen?.body, 'payload');
      assert.ok(seen?.headers.some(([name, value]) => name === 'x-custom' && value === 'yes'));
      assert.ok(seen?.headers.some(([name, value]) => name === 'content-length' && value === '7'));
      assert.equal(seen?.signal.aborted, false);
    } finally {
      await server.close();
    }
  });

  test('the Response: reason phrase (standard when empty), Set-Cookie kept apart, hop-by-hop dropped (hop.response)', async () => {
    const server = await served(() => {
      const headers = new Headers([['Content-Type', 'text/plain'], ['Connection', 'close'], ['Keep-Alive', 'timeout=5'], ['Transfer-Encoding', 'chunked']]);
      headers.append('Set-Cookie', 'a=1');
      headers.append('Set-Cookie', 'b=2');
      return new Response('body', { status: 404, headers });
    });
    try {
      const response = await exchange(server.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.equal(response.status, 404);
      assert.equal(response.reason, 'Not Found');
      const names = response.headers.map(([name]) => name.toLowerCase());
      assert.deepEqual(response.headers.filter(([name]) => name.toLowerCase() === 'set-cookie').map(([, value]) => value), ['a=1', 'b=2']);
      assert.ok(!names.includes('keep-alive'));
      assert.ok(!names.includes('transfer-encoding') || response.header('content-length') === undefined, 'framing.not-both');
      assert.equal(response.body.toString(), 'body');
    } finally {
      await server.close();
    }
  });

  test('a given statusText is sent as the reason phrase', async () => {
    const server = await served(() => new Response('x', { status: 200, statusText: 'Fine Indeed' }));
    try {
      const response = await exchange(server.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.equal(response.statusLine, 'HTTP/1.1 200 Fine Indeed');
    } finally {
      await server.close();
    }
  });

  test('HEAD cancels a streaming response body at once', async () => {
    let cancelled = 0;
    let pulls = 0;
    const server = await served(
      () =>
        new Response(
          new ReadableStream({
            pull(controller) {
              pulls++;
              controller.enqueue(new Uint8Array(1024));
            },
            cancel() {
              cancelled++;
            },
          }),
        ),
    );
    try {
      const response = await exchange(server.port, 'HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { head: true });
      assert.equal(response.status, 200);
      await until(() => cancelled === 1, 2000, 'cancel()');
      assert.ok(pulls < 10, `${pulls} pulls for HEAD`);
    } finally {
      await server.close();
    }
  });

  test('a disconnect aborts request.signal and cancels the response stream', async () => {
    let cancelled = 0;
    let signal: AbortSignal | undefined;
    const app = fromFetchHandler((request) => {
      signal = request.signal;
      return new Response(
        new ReadableStream({
          pull: () => new Promise(() => {}), // a producer that never produces
          cancel() {
            cancelled++;
          },
        }),
      );
    });
    const controller = new AbortController();
    const pending = toFetchHandler(app, { errors: quiet })(new Request('http://localhost/', { signal: controller.signal }));
    await until(() => signal !== undefined, 2000, 'the handler');
    controller.abort();
    await assert.rejects(pending);
    await until(() => cancelled === 1, 2000, 'cancel()');
    assert.equal(signal?.aborted, true);
  });

  test('requests fetch cannot express: 501 for TRACE, 400 for a host that makes no URL', async () => {
    const app = fromFetchHandler(() => new Response('never'));
    const server = await serve(app, { port: 0, quiet: true });
    try {
      assert.equal((await exchange(server.port, 'TRACE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).status, 501);
      assert.equal((await exchange(server.port, 'GET / HTTP/1.1\r\nHost: bad host\r\nConnection: close\r\n\r\n')).status, 400);
    } finally {
      await server.close();
    }
  });

  test('a handler that returns no Response is an application error (500)', async () => {
    const errors = textSink();
    const handler = toFetchHandler(fromFetchHandler(() => 'not a response' as unknown as Response), { errors });
    const response = await handler(new Request('http://localhost/'));
    assert.equal(response.status, 500);
    assert.match(errors.text, /must return a Response/);
  });

  test('a request body is read only when the handler reads it', async () => {
    let reads = 0;
    const app = fromFetchHandler(async (request) => new Response(request.method === 'POST' ? 'unread' : 'x'));
    const environ = {
      REQUEST_METHOD: 'POST',
      'tsgi.input': {
        read: async () => (reads++, new Uint8Array(0)),
        readLine: async () => (reads++, new Uint8Array(0)),
        readLines: async () => (reads++, []),
        [Symbol.asyncIterator]: async function* () {
          reads++;
        },
      },
    };
    const handler = toFetchHandler((env, startResponse) => app({ ...env, ...environ } as Environ, startResponse));
    assert.equal(await (await handler(new Request('http://localhost/', { method: 'POST', body: 'x' }))).text(), 'unread');
    assert.equal(reads, 0);
  });
});

describe('the round trip fromFetchHandler(toFetchHandler(app))', T, () => {
  const headers: HeaderList = [
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['X-Custom', '  padded  '],
    ['Set-Cookie', 'a=1; Path=/'],
    ['x-lower', 'case kept'],
    ['Set-Cookie', 'b=2'],
    ['X-Custom', 'again'],
  ];
  const chunks = ['caf\u00e9 ', 'au ', 'lait\n'].map(encode);

  /** An app that streams its body (no computed Content-Length) and reports its close(). */
  function original(closes: { count: number }): Application {
    return (_environ, startResponse) => {
      startResponse('201 Made It', headers);
      return Object.assign(
        (async function* () {
          yield* chunks;
        })(),
        { close: () => void closes.count++ },
      );
    };
  }

  test('keeps status, reason, header order, case and duplicates, and body bytes (header.order, status.sent-as-is)', async () => {
    const closes = { count: 0 };
    const app = fromFetchHandler(toFetchHandler(original(closes), { errors: quiet }));
    const server = await serve(app, { port: 0, quiet: true });
    try {
      const response = await exchange(server.port, 'GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.equal(response.statusLine, 'HTTP/1.1 201 Made It');
      const sent = response.headers.filter(([name]) => !/^(date|server|connection|transfer-encoding)$/i.test(name));
      assert.deepEqual(sent, headers.map(([name, value]) => [name, value.trim()]));
      assert.deepEqual(response.body, Buffer.concat(chunks));
      await until(() => closes.count === 1, 2000, 'close()');
    } finally {
      await server.close();
    }
  });

  test('the same through the validator on both sides, with a request body', async () => {
    const violations: unknown[] = [];
    const inner = validator(async (environ, startResponse) => {
      const body = await environ['tsgi.input'].read();
      startResponse('200 OK', plain);
      return [encode('got '), body];
    }, { onViolation: (error) => violations.push(error) });
    const outer = validator(fromFetchHandler(toFetchHandler(inner, { errors: quiet })), { onViolation: (error) => violations.push(error) });
    const response = await toFetchHandler(outer)(new Request('http://localhost/', { method: 'POST', body: 'bytes \u00e9', headers: { 'content-length': '8' } }));
    assert.equal(await response.text(), 'got bytes \u00e9');
    assert.deepEqual(violations, []);
  });

  test('a Response whose headers were changed afterwards is sent from its Headers', async () => {
    const inner = toFetchHandler(original({ count: 0 }), { errors: quiet });
    const app = fromFetchHandler(async (request) => {
      const response = await inner(request);
      response.headers.set('X-Added', 'later');
      return response;
    });
    const server = await serve(app, { port: 0, quiet: true });
    try {
      const response = await exchange(server.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.equal(response.header('x-added'), 'later');
      assert.equal(response.headers.filter(([name]) => name === 'set-cookie').length, 2);
      assert.ok(response.headers.every(([name]) => name === name.toLowerCase() || /^(Date|Server|Connection|Transfer-Encoding)$/.test(name)));
    } finally {
      await server.close();
    }
  });
});
