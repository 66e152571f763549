// tsgi/testing: fetchApp() calls an application in-process as a fetch client would, with
// the validator around it by default. Every wait is bounded.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Application, Environ, HeaderList } from '../src/types.js';
import { fetchApp } from '../src/testing.js';
import { ValidationError } from '../src/validate.js';
import { textSink } from './_text-sink.js';
import { until } from './_wire.js';

const encode = (text: string) => new TextEncoder().encode(text);
const plain: HeaderList = [['Content-Type', 'text/plain']];
const quiet = { write: () => true };
const T = { timeout: 10_000 };

/** An application that answers with one line describing the request, and records its environ. */
function describing(): { app: Application; seen: Environ[] } {
  const seen: Environ[] = [];
  const app: Application = async (environ, startResponse) => {
    seen.push({ ...environ });
    const body = await environ['tsgi.input'].read();
    startResponse('200 OK', plain);
    return [encode(`${environ.REQUEST_METHOD} ${environ.PATH_INFO}?${environ.QUERY_STRING} ${body.length}`)];
  };
  return { app, seen };
}

describe('fetchApp: the request', T, () => {
  test('a path is resolved against http://localhost/', async () => {
    const { app, seen } = describing();
    const response = await fetchApp(app, '/users?id=1');
    assert.equal(await response.text(), 'GET /users?id=1 0');
    const environ = seen[0]!;
    assert.equal(environ.HTTP_HOST, 'localhost');
    assert.equal(environ.SERVER_NAME, 'localhost');
    assert.equal(environ.SERVER_PORT, '80');
    assert.equal(environ['tsgi.url_scheme'], 'http');
    assert.equal(environ.REMOTE_ADDR, '127.0.0.1');
    assert.equal(environ.REQUEST_URI, '/users?id=1');
  });

  test('an absolute URL, a URL object and a Request are taken as they are', async () => {
    const { app, seen } = describing();
    await (await fetchApp(app, 'https://example.com:8443/caf%C3%A9')).text();
    await (await fetchApp(app, new URL('http://example.org/u'))).text();
    await (await fetchApp(app, new Request('http://example.net/r', { method: 'DELETE' }))).text();
    await (await fetchApp(app, new Request('http://example.net/r'), { method: 'PUT', body: 'xy' })).text();
    assert.deepEqual(
      seen.map((e) => [e['tsgi.url_scheme'], e.HTTP_HOST, e.SERVER_PORT, e.REQUEST_METHOD, e.PATH_INFO]),
      [
        ['https', 'example.com:8443', '8443', 'GET', '/caf\u00c3\u00a9'],
        ['http', 'example.org', '80', 'GET', '/u'],
        ['http', 'example.net', '80', 'DELETE', '/r'],
        ['http', 'example.net', '80', 'PUT', '/r'],
      ],
    );
    assert.equal(seen[3]!.CONTENT_LENGTH, '2');
  });

  test('a fragment is not part of the request target', async () => {
    const { app, seen } = describing();
    await (await fetchApp(app, '/page?x=1#section')).text();
    assert.equal(seen[0]!.QUERY_STRING, 'x=1');
    assert.equal(seen[0]!.REQUEST_URI, '/page?x=1');
  });

  test('a body of known length is declared with Content-Length, as fetch would send it', async () => {
    const { app, seen } = describing();
    const bodies: Array<[NonNullable<RequestInit['body']>, string]> = [
      ['h\u00e9llo', '6'],
      [encode('bytes'), '5'],
      [new URLSearchParams({ a: '1', b: '\u00e9' }), '12'], // a=1&b=%C3%A9
      [new Blob(['blob!']), '5'],
    ];
    for (const [body, length] of bodies) {
      const response = await fetchApp(app, '/', { method: 'POST', body });
      assert.equal(await response.text(), `POST /? ${length}`);
      assert.equal(seen.at(-1)!.CONTENT_LENGTH, length);
    }
  });

  test('a streamed body has no CONTENT_LENGTH and is read to its end', async () => {
    const { app, seen } = describing();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encode('one '));
        controller.enqueue(encode('two'));
        controller.close();
      },
    });
    const response = await fetchApp(app, '/', { method: 'POST', body, duplex: 'half' } as RequestInit);
    assert.equal(await response.text(), 'POST /? 7');
    assert.equal(seen[0]!.CONTENT_LENGTH, undefined);
  });

  test('methods are normalised and checked as the Request constructor does', async () => {
    const { app, seen } = describing();
    await (await fetchApp(app, '/', { method: 'post' })).text();
    await (await fetchApp(app, '/', { method: 'patch' })).text();
    await (await fetchApp(app, '/', { method: 'PROPFIND' })).text();
    assert.deepEqual(seen.map((e) => e.REQUEST_METHOD), ['POST', 'patch', 'PROPFIND']);
    await assert.rejects(fetchApp(app, '/', { method: 'TRACE' }), TypeError);
    await assert.rejects(fetchApp(app, '/', { method: 'BAD METHOD' }), TypeError);
  });

  test('headers, remoteAddr, extra environ keys and scriptName', async () => {
    const { app, seen } = describing();
    const response = await fetchApp(app, '/app/page', {
      headers: { 'Accept-Language': 'de', Cookie: 'a=1' },
      remoteAddr: '192.0.2.7',
      environ: { REMOTE_USER: 'ada', 'myapp.flag': true },
      scriptName: '/app',
    });
    assert.equal(await response.text(), 'GET /page? 0');
    const environ = seen[0]!;
    assert.equal(environ.HTTP_ACCEPT_LANGUAGE, 'de');
    assert.equal(environ.HTTP_COOKIE, 'a=1');
    assert.equal(environ.REMOTE_ADDR, '192.0.2.7');
    assert.equal(environ.REMOTE_USER, 'ada');
    assert.equal(environ['myapp.flag'], true);
    assert.equal(environ.SCRIPT_NAME, '/app');
    assert.equal((await fetchApp(app, '/elsewhere', { scriptName: '/app' })).status, 404);
  });

  test('an aborted signal is the disconnect: fetchApp rejects as fetch does, and tsgi.signal aborts', async () => {
    let signal: AbortSignal | undefined;
    let closes = 0;
    const app: Application = (environ, startResponse) => {
      signal = environ['tsgi.signal'];
      startResponse('200 OK', plain);
      return Object.assign(
        (async function* () {
          if (!signal!.aborted) await new Promise((resolve) => signal!.addEventListener('abort', resolve));
        })(),
        { close: () => void closes++ },
      );
    };
    const controller = new AbortController();
    const pending = fetchApp(app, '/', { signal: controller.signal });
    await until(() => signal !== undefined, 2000, 'the application');
    controller.abort();
    await assert.rejects(pending, (error: Error) => error.name === 'AbortError');
    assert.equal(signal?.aborted, true);
    await until(() => closes === 1, 2000, 'close()');
  });
});

describe('fetchApp: validation and errors', T, () => {
  test('a contract violation rejects with the ValidationError that names it', async () => {
    const app: Application = (_environ, startResponse) => {
      startResponse('200', plain);
      return [];
    };
    await assert.rejects(fetchApp(app, '/'), (error: unknown) => error instanceof ValidationError && error.requirement === 'status.format' && error.side === 'application');
  });

  test('a violation found in the body, after the head, fails the body stream', async () => {
    const app: Application = (_environ, startResponse) => {
      startResponse('200 OK', plain);
      return (async function* () {
        yield encode('fine');
        yield 'a string' as unknown as Uint8Array;
      })();
    };
    const response = await fetchApp(app, '/', { errors: quiet });
    assert.equal(response.status, 200);
    await assert.rejects(response.text(), (error: unknown) => error instanceof ValidationError && error.requirement === 'body.chunk.type');
  });

  test('validate: false leaves the application unwrapped; the server still enforces what it checks', async () => {
    const app: Application = (_environ, startResponse) => {
      startResponse('200', plain);
      return [];
    };
    await assert.rejects(fetchApp(app, '/', { validate: false }), (error: unknown) => !(error instanceof ValidationError) && /status\.format/.test(String(error)));
  });

  test('an array body shorter than its Content-Length fails the body stream, as a cut connection would (framing.content-length.short)', async () => {
    const app: Application = (_environ, startResponse) => {
      startResponse('200 OK', [...plain, ['Content-Length', '10']]);
      return [new TextEncoder().encode('x')];
    };
    const errors = textSink();
    const response = await fetchApp(app, '/', { validate: false, errors });
    assert.equal(response.status, 200);
    await assert.rejects(response.text());
    assert.match(errors.text, /framing\.content-length\.match/);
  });

  test('an application error rejects, and is not logged a second time', async () => {
    const errors = textSink();
    const app: Application = () => {
      throw new Error('boom');
    };
    await assert.rejects(fetchApp(app, '/', { errors }), /boom/);
    assert.equal(errors.text, '');
  });

  test('rethrow: false gives the generic 500 page that a server would send, and logs the error', async () => {
    const errors = textSink();
    const app: Application = () => {
      throw new Error('boom');
    };
    const response = await fetchApp(app, '/', { rethrow: false, errors });
    assert.equal(response.status, 500);
    assert.ok(!(await response.text()).includes('boom'));
    assert.match(errors.text, /boom/);
  });

  test('other server log lines are still written when an error is rethrown (close.errors)', async () => {
    const errors = textSink();
    const app: Application = () =>
      Object.assign(
        (function* (): Generator<Uint8Array> {
          throw new Error('body failed');
        })(),
        {
          close() {
            throw new Error('close failed too');
          },
        },
      );
    await assert.rejects(fetchApp(app, '/', { errors, validate: false }), /body failed/);
    assert.match(errors.text, /close failed too/);
    assert.doesNotMatch(errors.text, /body failed/);
  });

  test("an application's own 500 response is returned, not thrown", async () => {
    const app: Application = (_environ, startResponse) => {
      startResponse('500 Internal Server Error', plain);
      return [encode('my own error page')];
    };
    const response = await fetchApp(app, '/');
    assert.equal(response.status, 500);
    assert.equal(await response.text(), 'my own error page');
  });

  test('the application runs through the validator once per application, concurrently', async () => {
    const { app } = describing();
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => fetchApp(app, `/${i}`)));
    const texts = await Promise.all(responses.map((response) => response.text()));
    assert.deepEqual(texts, Array.from({ length: 20 }, (_, i) => `GET /${i}? 0`));
  });

  test('a streaming response is produced as the test reads it, and closed once read', async () => {
    let pulls = 0;
    let closes = 0;
    const app: Application = (_environ, startResponse) => {
      startResponse('200 OK', plain);
      return Object.assign(
        (function* () {
          for (let i = 0; i < 1000; i++) {
            pulls++;
            yield encode('x');
          }
        })(),
        { close: () => void closes++ },
      );
    };
    const response = await fetchApp(app, '/');
    assert.ok(pulls <= 2, `${pulls} chunks produced before the test read any`);
    assert.equal((await response.text()).length, 1000);
    await until(() => closes === 1, 2000, 'close()');
  });
});
