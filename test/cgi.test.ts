// tsgi/cgi: runCgi() with in-memory streams, then as a real CGI script under a real web
// server (`python3 -m http.server --cgi`) that the test starts and stops. Every wait is
// bounded, every server closed and every child process killed.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { runCgi, type CgiOptions } from '../src/cgi.js';
import type { Application, Environ, HeaderList } from '../src/types.js';
import { validator } from '../src/validate.js';
import { textSink } from './_text-sink.js';
import { WireClient, until } from './_wire.js';

const encode = (text: string) => new TextEncoder().encode(text);
const plain: HeaderList = [['Content-Type', 'text/plain']];
const T = { timeout: 20_000 };

/** A CGI request as a web server would describe it. */
const request = {
  GATEWAY_INTERFACE: 'CGI/1.1',
  REQUEST_METHOD: 'GET',
  SCRIPT_NAME: '/cgi-bin/app',
  PATH_INFO: '/notes',
  QUERY_STRING: 'q=1',
  SERVER_NAME: 'example.com',
  SERVER_PORT: '80',
  SERVER_PROTOCOL: 'HTTP/1.1',
  SERVER_SOFTWARE: 'Apache/2.4',
  REMOTE_ADDR: '192.0.2.1',
};

/** A stdout that keeps what it is given, optionally slowly, optionally failing after some writes. */
class Output extends Writable {
  readonly chunks: Buffer[] = [];
  constructor(readonly options: { delay?: number; failAfter?: number; highWaterMark?: number } = {}) {
    super({ highWaterMark: options.highWaterMark ?? 16384 });
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.options.failAfter !== undefined && this.chunks.length >= this.options.failAfter) {
      callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      return;
    }
    this.chunks.push(Buffer.from(chunk));
    if (this.options.delay) setTimeout(callback, this.options.delay);
    else callback();
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }
}

/** Runs `app` with `env` and the given streams; resolves to the output and the environ seen. */
async function cgi(app: Application, env: Record<string, string | undefined>, options: CgiOptions = {}) {
  let seen: Environ | undefined;
  const stdout = (options.stdout as Output | undefined) ?? new Output();
  const stderr = textSink();
  const outcome = await runCgi(
    (environ, startResponse) => {
      seen = { ...environ };
      return app(environ, startResponse);
    },
    { stdin: [], stderr, ...options, env, stdout },
  );
  return { outcome, stdout, stderr, environ: seen as Environ };
}

const hello: Application = (_environ, startResponse) => {
  startResponse('200 OK', plain);
  return [encode('hello')];
};

describe('runCgi: the environ', T, () => {
  test("the request's variables only: no PATH or HOME, no OpenSSL configuration (env.no-process-env)", async () => {
    const { environ } = await cgi(hello, {
      ...request,
      PATH: '/usr/bin',
      HOME: '/root',
      SSL_CERT_FILE: '/etc/ssl/cert.pem',
      HTTP_ACCEPT: 'text/html',
      HTTP_X_FORWARDED_FOR: '198.51.100.1',
      DOCUMENT_ROOT: '/var/www',
    });
    const keys = Object.keys(environ).filter((key) => !key.includes('.')).sort();
    assert.deepEqual(keys, [...Object.keys(request), 'HTTP_ACCEPT', 'HTTP_X_FORWARDED_FOR'].sort());
  });

  test('over TLS: https scheme, SSL_* kept, SSL_CERT_* not (env.tsgi.url-scheme)', async () => {
    const { environ } = await cgi(hello, { ...request, HTTPS: 'on', SERVER_PORT: '443', SSL_PROTOCOL: 'TLSv1.3', SSL_CERT_DIR: '/etc/ssl' });
    assert.equal(environ['tsgi.url_scheme'], 'https');
    assert.equal(environ.SSL_PROTOCOL, 'TLSv1.3');
    assert.equal(environ.SSL_CERT_DIR, undefined);
    const plainText = await cgi(hello, { ...request, SSL_PROTOCOL: 'TLSv1.3' });
    assert.equal(plainText.environ['tsgi.url_scheme'], 'http');
    assert.equal(plainText.environ.SSL_PROTOCOL, undefined);
  });

  test('values become byte strings: the UTF-8 octets as latin-1 code units (str.environ)', async () => {
    const { environ } = await cgi(hello, { ...request, PATH_INFO: '/caf\u00e9', HTTP_X_NAME: '\u65e5' });
    assert.equal(environ.PATH_INFO, '/caf\u00c3\u00a9');
    assert.equal(environ.HTTP_X_NAME, '\u00e6\u0097\u00a5');
  });

  test("empty variables are absent, but SCRIPT_NAME, PATH_INFO and QUERY_STRING are always there (env.cgi.absent)", async () => {
    const { environ } = await cgi(hello, { ...request, PATH_INFO: '', QUERY_STRING: undefined, REMOTE_USER: '', HTTP_USER_AGENT: '', CONTENT_LENGTH: '' });
    assert.equal(environ.PATH_INFO, '');
    assert.equal(environ.QUERY_STRING, '');
    assert.ok(!('REMOTE_USER' in environ));
    assert.ok(!('HTTP_USER_AGENT' in environ));
    assert.ok(!('CONTENT_LENGTH' in environ));
  });

  test('the flags of a CGI gateway (env.tsgi.run-once, concurrency.multiprocess, concurrency.multithread)', async () => {
    const { environ } = await cgi(hello, request);
    assert.equal(environ['tsgi.run_once'], true);
    assert.equal(environ['tsgi.multiprocess'], true);
    assert.equal(environ['tsgi.multithread'], false);
    assert.equal(environ['tsgi.input_terminated'], true);
    assert.deepEqual(environ['tsgi.version'], [1, 0]);
    assert.ok(environ['tsgi.signal'] instanceof AbortSignal);
  });

  test('started by hand, without a web server, it still gives a valid environ', async () => {
    const violations: unknown[] = [];
    const { environ } = await cgi(validator(hello, { onViolation: (error) => error.level.startsWith('MUST') && violations.push(error) }), {});
    assert.deepEqual(violations, []);
    assert.equal(environ.REQUEST_METHOD, 'GET');
    assert.equal(environ.PATH_INFO, '/');
  });

  test('SCRIPT_NAME of / moves to PATH_INFO; a bad CONTENT_LENGTH and a transfer coding are dropped', async () => {
    const { environ } = await cgi(hello, { ...request, SCRIPT_NAME: '/', PATH_INFO: '', CONTENT_LENGTH: '12abc', HTTP_TRANSFER_ENCODING: 'chunked', HTTP_CONTENT_TYPE: 'x' });
    assert.equal(environ.SCRIPT_NAME, '');
    assert.equal(environ.PATH_INFO, '/');
    assert.ok(!('CONTENT_LENGTH' in environ));
    assert.ok(!('HTTP_TRANSFER_ENCODING' in environ));
    assert.ok(!('HTTP_CONTENT_TYPE' in environ));
  });

  test('a real request environ passes the validator', async () => {
    const violations: unknown[] = [];
    const app = validator(async (environ, startResponse) => {
      await environ['tsgi.input'].read();
      startResponse('200 OK', plain);
      return [];
    }, { onViolation: (error) => violations.push(error) });
    await cgi(app, { ...request, REQUEST_METHOD: 'POST', CONTENT_LENGTH: '3', CONTENT_TYPE: 'text/plain', REQUEST_URI: '/cgi-bin/app/notes?q=1' }, { stdin: [encode('abc')] });
    assert.deepEqual(violations, []);
  });
});

describe('runCgi: the body from stdin', T, () => {
  const echo: Application = async (environ, startResponse) => {
    const body = await environ['tsgi.input'].read();
    startResponse('200 OK', plain);
    return [body];
  };

  test('reads CONTENT_LENGTH bytes and never asks stdin for more (input.no-hang)', async () => {
    let pulls = 0;
    function* stdin() {
      for (const part of ['hel', 'lo, ', 'and the rest', ' never read']) {
        pulls++;
        yield encode(part);
      }
    }
    const { stdout } = await cgi(echo, { ...request, REQUEST_METHOD: 'POST', CONTENT_LENGTH: '9' }, { stdin: stdin() });
    assert.ok(stdout.text.endsWith('\r\n\r\nhello, an'));
    assert.equal(pulls, 3);
  });

  test('stdin that ends before CONTENT_LENGTH makes the read reject (input.truncated)', async () => {
    let failure: unknown;
    const app: Application = async (environ, startResponse) => {
      failure = await environ['tsgi.input'].read().then(() => undefined, (error: unknown) => error);
      startResponse('200 OK', plain);
      return [];
    };
    await cgi(app, { ...request, REQUEST_METHOD: 'POST', CONTENT_LENGTH: '10' }, { stdin: [encode('short')] });
    assert.ok(failure instanceof Error);
  });

  test('without CONTENT_LENGTH stdin is never touched', async () => {
    const stdin = {
      [Symbol.iterator]() {
        throw new Error('stdin was read');
      },
    };
    const { stdout } = await cgi(echo, { ...request, REQUEST_METHOD: 'POST' }, { stdin });
    assert.ok(stdout.text.endsWith('\r\n\r\n'));
  });
});

describe('runCgi: the response on stdout', T, () => {
  test('a Status line, the headers in order with CRLF, a blank line, the body; no Date (header.date, header.order)', async () => {
    const app: Application = (_environ, startResponse) => {
      startResponse('201 Created', [['Content-Type', 'text/plain'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2'], ['X-Latin', '\u00e9']]);
      return [encode('made')];
    };
    const { stdout, outcome } = await cgi(app, request);
    assert.equal(stdout.text, 'Status: 201 Created\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Latin: \u00e9\r\nContent-Length: 4\r\n\r\nmade');
    assert.deepEqual(outcome, { status: 201, bytes: 4, completed: true, disconnected: false });
  });

  test('HEAD: the headers only (head.no-body)', async () => {
    const { stdout } = await cgi(hello, { ...request, REQUEST_METHOD: 'HEAD' });
    assert.equal(stdout.text, 'Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n');
  });

  test('an error before the head: a generic 500, the error on stderr (error.before-headers, error.logged)', async () => {
    const app: Application = () => {
      throw new Error('secret detail');
    };
    const { stdout, stderr, outcome } = await cgi(app, request);
    assert.match(stdout.text, /^Status: 500 Internal Server Error\r\n/);
    assert.ok(!stdout.text.includes('secret'));
    assert.match(stderr.text, /secret detail/);
    assert.equal(outcome.completed, true);
    assert.ok(outcome.error instanceof Error);
  });

  test('an error after the head: the outcome says the response is incomplete (error.after-headers)', async () => {
    const app: Application = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', '100']]);
      return (async function* () {
        yield encode('partial');
        throw new Error('midway');
      })();
    };
    const { stdout, outcome } = await cgi(app, request);
    assert.ok(stdout.text.endsWith('\r\n\r\npartial'));
    assert.equal(outcome.completed, false);
  });

  test('backpressure: a slow stdout slows the body down (body.transmit.backpressure)', async () => {
    let pulls = 0;
    const stdout = new Output({ delay: 5, highWaterMark: 1 });
    const app: Application = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
      return (function* () {
        for (let i = 0; i < 20; i++) {
          pulls++;
          assert.ok(pulls <= stdout.chunks.length + 3, `chunk ${pulls} asked for with ${stdout.chunks.length} written`);
          yield new Uint8Array(1024);
        }
      })();
    };
    const { outcome } = await cgi(app, request, { stdout });
    assert.equal(outcome.completed, true);
    assert.equal(outcome.bytes, 20 * 1024);
  });

  test('stdout failing (EPIPE): tsgi.signal aborts, iteration stops, close() once (disconnect.signal, close.once)', async () => {
    let closes = 0;
    let pulls = 0;
    let signal: AbortSignal | undefined;
    const stdout = new Output({ failAfter: 2, highWaterMark: 1 });
    const app: Application = (environ, startResponse) => {
      signal = environ['tsgi.signal'];
      startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
      return Object.assign(
        (function* () {
          for (;;) {
            pulls++;
            yield new Uint8Array(1024);
          }
        })(),
        { close: () => void closes++ },
      );
    };
    const { outcome } = await cgi(app, request, { stdout });
    assert.equal(outcome.disconnected, true);
    assert.equal(signal?.aborted, true);
    assert.equal(closes, 1);
    assert.ok(pulls < 10);
  });
});

describe('runCgi under a real web server (python3 -m http.server --cgi)', { timeout: 60_000 }, () => {
  const tsx = import.meta.resolve('tsx');
  const fixture = join(import.meta.dirname, '_cgi-app.ts');
  let root = '';
  let server: ChildProcess | undefined;
  let port = 0;
  let available = true;

  before(async () => {
    try {
      execFileSync('python3', ['--version'], { stdio: 'ignore', timeout: 5000 });
    } catch {
      available = false;
      return;
    }
    root = mkdtempSync(join(tmpdir(), 'tsgi-cgi-'));
    mkdirSync(join(root, 'cgi-bin'));
    const script = join(root, 'cgi-bin', 'app.cgi');
    writeFileSync(script, `#!/bin/sh\nexec '${process.execPath}' --import '${tsx}' '${fixture}'\n`);
    // Run as root, the server drops the script to "nobody", who must reach it.
    chmodSync(root, 0o755);
    chmodSync(join(root, 'cgi-bin'), 0o755);
    chmodSync(script, 0o755);
    const child = spawn('python3', ['-u', '-m', 'http.server', '--cgi', '--bind', '127.0.0.1', '--directory', root, '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    server = child;
    let output = '';
    child.stdout!.on('data', (data: Buffer) => (output += data));
    child.stderr!.on('data', () => {}); // the access log and the script's stderr
    await until(() => /port (\d+)/.test(output), 10_000, 'python3 http.server to listen');
    port = Number(/port (\d+)/.exec(output)![1]);
  });

  after(() => {
    if (server && server.exitCode === null) server.kill('SIGKILL');
    if (root) rmSync(root, { recursive: true, force: true });
  });

  /** Sends a request on a new connection, which the server leaves open, and reads the whole response. */
  async function call(requestText: string) {
    const client = await WireClient.open(port);
    try {
      client.send(requestText);
      assert.ok(await client.waitClosed(15_000), 'the response ended');
      const raw = client.pending.toString('latin1');
      const [headText = '', ...rest] = raw.split('\r\n\r\n');
      const lines = headText.split('\r\n');
      const headers = lines.slice(1).map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()] as [string, string]);
      return { statusLine: lines[0], headers, body: rest.join('\r\n\r\n') };
    } finally {
      client.destroy();
    }
  }

  test('GET: the Status line and headers reach the client; the environ is the request, as bytes', async (t) => {
    if (!available) return t.skip('python3 is not installed');
    const response = await call(`GET /cgi-bin/app.cgi/caf%C3%A9?x=1 HTTP/1.0\r\nHost: 127.0.0.1:${port}\r\nUser-Agent: tsgi-test\r\n\r\n`);
    assert.match(response.statusLine ?? '', /^HTTP\/1\.0 200 /); // http.server's own line: it passes Status: through as is
    assert.deepEqual(response.headers.filter(([name]) => name === 'status'), [['status', '202 Accepted']]);
    assert.deepEqual(response.headers.filter(([name]) => name === 'set-cookie').map(([, value]) => value), ['a=1', 'b=2']);
    const seen = JSON.parse(response.body);
    assert.equal(seen.method, 'GET');
    assert.equal(Buffer.from(seen.scriptName, 'hex').toString('latin1'), '/cgi-bin/app.cgi');
    assert.equal(Buffer.from(seen.pathInfo, 'hex').toString('latin1'), '/caf\u00c3\u00a9');
    assert.equal(seen.query, 'x=1');
    assert.equal(seen.runOnce, true);
    assert.equal(seen.multiprocess, true);
    assert.equal(seen.multithread, false);
    assert.ok(!seen.cgiKeys.includes('PATH') && !seen.cgiKeys.includes('HOME'), `process variables leaked: ${seen.cgiKeys}`);
    assert.ok(seen.cgiKeys.includes('HTTP_USER_AGENT'));
    assert.deepEqual(seen.violations, []);
  });

  test('POST: the body is read to CONTENT_LENGTH from a socket that stays open', async (t) => {
    if (!available) return t.skip('python3 is not installed');
    const body = 'name=Ada&lang=fr';
    const response = await call(`POST /cgi-bin/app.cgi HTTP/1.0\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    const seen = JSON.parse(response.body);
    assert.equal(seen.method, 'POST');
    assert.equal(seen.contentLength, String(body.length));
    assert.equal(Buffer.from(seen.body, 'hex').toString('latin1'), body);
    assert.deepEqual(seen.violations, []);
  });

  test('HEAD: headers and no body', async (t) => {
    if (!available) return t.skip('python3 is not installed');
    const response = await call('HEAD /cgi-bin/app.cgi HTTP/1.0\r\nHost: x\r\n\r\n');
    assert.deepEqual(response.headers.filter(([name]) => name === 'status'), [['status', '202 Accepted']]);
    assert.equal(response.body, '');
  });

  test('an application error: Status 500 and a generic body', async (t) => {
    if (!available) return t.skip('python3 is not installed');
    const response = await call('GET /cgi-bin/app.cgi?fail HTTP/1.0\r\nHost: x\r\n\r\n');
    assert.deepEqual(response.headers.filter(([name]) => name === 'status'), [['status', '500 Internal Server Error']]);
    assert.ok(!response.body.includes('on purpose'));
  });
});

describe('runCgi with an environment that is not UTF-8', T, () => {
  test('the octets come from the raw environment, not the U+FFFD that Node decoded (str.environ)', async (t) => {
    if (process.platform !== 'linux') return t.skip('reads /proc/self/environ');
    const tsx = import.meta.resolve('tsx');
    const fixture = join(import.meta.dirname, '_cgi-app.ts');
    // printf turns \351 into the single octet 0xE9, which is not UTF-8.
    const child = spawn('/bin/sh', ['-c', `PATH_INFO="$(printf '/caf\\351')" exec "$0" --import "$1" "$2"`, process.execPath, tsx, fixture], {
      env: { ...request, PATH: process.env.PATH, PATH_INFO: undefined },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (data: Buffer) => (output += data.toString('latin1')));
    child.stderr.on('data', () => {});
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const code = await new Promise((resolve) => child.on('exit', resolve));
    clearTimeout(timer);
    assert.equal(code, 0, output);
    const seen = JSON.parse(output.slice(output.indexOf('\r\n\r\n') + 4));
    assert.equal(seen.pathInfo, Buffer.from('/caf\u00e9', 'latin1').toString('hex'));
  });
});
