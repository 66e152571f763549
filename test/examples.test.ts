// The examples in examples/, each called as a user would: in-process through fetchApp
// (validated, so each example is shown to keep the contract), over HTTP through the
// reference server and the `tsgi serve` command, and as a CGI child process.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import cgiScript from '../examples/cgi-script.js';
import fileDownload, { FILE } from '../examples/file-download.js';
import fetchHandlerApp from '../examples/fetch-handler.js';
import formUpload, { MAX_BODY_BYTES } from '../examples/form-upload.js';
import hello from '../examples/hello.js';
import middlewareApp, { accessLog } from '../examples/middleware.js';
import router, { mount, where } from '../examples/router.js';
import streaming from '../examples/streaming.js';
import { serve } from '../src/server.js';
import { fetchApp } from '../src/testing.js';
import type { Application, FileLike, FileWrapper as FileWrapperFunction, ResponseBody } from '../src/types.js';
import { FileWrapper } from '../src/util.js';
import { validator } from '../src/validate.js';
import { startServe } from './_cli.js';
import { textSink } from './_text-sink.js';

const root = resolve(import.meta.dirname, '..');
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const encode = (text: string) => new TextEncoder().encode(text);

/** Polls `check` until it holds, for at most `ms` milliseconds. */
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 5));
  }
}

/** Rejects if `promise` has not settled within `ms` milliseconds. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('examples/hello.ts', () => {
  test('greets the name in the query, with a declared length', async () => {
    const response = await fetchApp(hello, '/?name=Ada');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(response.headers.get('content-length'), '12');
    assert.equal(await response.text(), 'Hello, Ada!\n');
  });

  test('greets the world without one, in UTF-8', async () => {
    assert.equal(await (await fetchApp(hello, '/')).text(), 'Hello, world!\n');
    assert.equal(await (await fetchApp(hello, '/?name=Zo%C3%AB')).text(), 'Hello, Zoë!\n');
  });

  test('answers HEAD without a body', async () => {
    const response = await fetchApp(hello, '/', { method: 'HEAD' });
    assert.equal(response.status, 200);
    assert.equal(response.body, null);
  });
});

describe('examples/streaming.ts', () => {
  test('sends its lines one chunk at a time, over time', async () => {
    const started = Date.now();
    const response = await fetchApp(streaming, '/?count=3&interval=30');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(response.headers.get('content-length'), null);
    const reader = response.body!.getReader();
    const chunks: string[] = [];
    for (;;) {
      const { done, value } = await within(reader.read(), 5000, 'a chunk');
      if (done) break;
      chunks.push(decode(value));
    }
    assert.equal(chunks.length, 3);
    chunks.forEach((chunk, i) => assert.match(chunk, new RegExp(`^line ${i + 1} of 3 at \\S+\\n$`)));
    assert.ok(Date.now() - started >= 55, 'the lines are spaced out by the interval');
  });

  test('stops at once when the client goes away, even in the middle of a long pause', async () => {
    const errors = textSink();
    let closes = 0;
    // Counts the server's close() of the example's body.
    const counted: Application = async (environ, startResponse) => {
      const body = await streaming(environ, startResponse);
      return Object.assign(body, {
        close: () => {
          closes++;
        },
      });
    };
    const response = await fetchApp(counted, '/?count=5&interval=60000', { errors });
    const reader = response.body!.getReader();
    const first = await within(reader.read(), 5000, 'the first line');
    assert.match(decode(first.value!), /^line 1 of 5/);
    await reader.cancel();
    // The pause is a minute long: only tsgi.signal can end the generator this soon.
    await until(() => errors.text.includes('client went away'), 2000, 'the generator to stop');
    assert.match(errors.text, /streaming: client went away after 1 of 5 lines\n/);
    await until(() => closes === 1, 2000, 'close()');
  });

  test('clamps the query to sane numbers', async () => {
    const response = await fetchApp(streaming, '/?count=-4&interval=soon');
    assert.equal(await response.text(), '');
  });
});

describe('examples/file-download.ts', () => {
  const expected = readFileSync(FILE);
  const realFile = realpathSync(FILE);

  /** How many of this process's file descriptors are open on the served file (Linux only). */
  function openDescriptors(): number {
    if (process.platform !== 'linux') return 0;
    let count = 0;
    for (const fd of readdirSync('/proc/self/fd')) {
      try {
        if (readlinkSync(`/proc/self/fd/${fd}`) === realFile) count++;
      } catch {
        // closed while we looked
      }
    }
    return count;
  }

  /** A tsgi.file_wrapper that counts its calls and the closes of the files it wraps. */
  function countingWrapper(blockSize?: number) {
    const counts = { wraps: 0, closes: 0 };
    const wrapper: FileWrapperFunction = (file, size) => {
      counts.wraps++;
      const counted: FileLike = {
        read: (n) => file.read(n),
        close: () => {
          counts.closes++;
          return file.close?.();
        },
      };
      return FileWrapper(counted, blockSize ?? size);
    };
    return { counts, wrapper };
  }

  test('sends the file with its type, length and disposition, through the fallback FileWrapper', async () => {
    const response = await fetchApp(fileDownload, '/');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.equal(response.headers.get('content-length'), String(statSync(FILE).size));
    assert.equal(response.headers.get('content-disposition'), 'attachment; filename="package.json"');
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), expected);
    assert.equal(openDescriptors(), 0, 'the file handle is closed');
  });

  test("uses the server's tsgi.file_wrapper, whose close() closes the file", async () => {
    const { counts, wrapper } = countingWrapper();
    const response = await fetchApp(fileDownload, '/', { environ: { 'tsgi.file_wrapper': wrapper } });
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), expected);
    assert.deepEqual(counts, { wraps: 1, closes: 1 });
    assert.equal(openDescriptors(), 0);
  });

  test('closes the file when the download is abandoned part-way', async () => {
    const { counts, wrapper } = countingWrapper(64);
    const response = await fetchApp(fileDownload, '/', { environ: { 'tsgi.file_wrapper': wrapper } });
    const reader = response.body!.getReader();
    const first = await within(reader.read(), 5000, 'the first block');
    assert.deepEqual(Buffer.from(first.value!), expected.subarray(0, 64));
    await reader.cancel();
    await until(() => counts.closes === 1, 2000, 'the file to be closed');
    await until(() => openDescriptors() === 0, 2000, 'the descriptor to be released');
  });

  test('closes the file for a HEAD request, which sends no body', async () => {
    const { counts, wrapper } = countingWrapper();
    const response = await fetchApp(fileDownload, '/', { method: 'HEAD', environ: { 'tsgi.file_wrapper': wrapper } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-length'), String(expected.length));
    assert.equal(response.body, null);
    await until(() => counts.closes === 1, 2000, 'the file to be closed');
    assert.equal(openDescriptors(), 0);
  });

  test('refuses other methods with 405 and Allow', async () => {
    const response = await fetchApp(fileDownload, '/', { method: 'DELETE' });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'GET, HEAD');
    await response.body?.cancel();
  });

  test('downloads over HTTP from the reference server, which offers tsgi.file_wrapper', async () => {
    const server = await serve(fileDownload, { port: 0, quiet: true });
    try {
      const response = await fetch(server.url, { signal: AbortSignal.timeout(5000) });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-length'), String(expected.length));
      assert.deepEqual(Buffer.from(await response.arrayBuffer()), expected);
    } finally {
      await server.close();
    }
    assert.equal(openDescriptors(), 0);
  });
});

describe('examples/form-upload.ts', () => {
  test('GET shows both forms', async () => {
    const response = await fetchApp(formUpload, '/');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
    const html = await response.text();
    assert.match(html, /<form method="post">/);
    assert.match(html, /<form method="post" enctype="multipart\/form-data">/);
  });

  test('echoes a urlencoded form, HTML-escaped', async () => {
    const body = new URLSearchParams({ name: 'Zoë', message: '<b>hi</b> & "bye"' });
    const response = await fetchApp(formUpload, '/', { method: 'POST', body });
    assert.equal(response.status, 200);
    const html = await response.text();
    assert.match(html, /<dt>name<\/dt><dd>Zoë<\/dd>/);
    assert.match(html, /<dt>message<\/dt><dd>&lt;b&gt;hi&lt;\/b&gt; &amp; &quot;bye&quot;<\/dd>/);
    assert.doesNotMatch(html, /<b>hi/);
  });

  test('echoes a multipart form with a file, sent without a Content-Length', async () => {
    const form = new FormData();
    form.append('note', 'a <note>');
    form.append('upload', new Blob(['line one\r\n--not a boundary\r\n<end>'], { type: 'text/plain' }), 'notes <1>.txt');
    const response = await fetchApp(formUpload, '/', { method: 'POST', body: form });
    assert.equal(response.status, 200);
    const html = await response.text();
    assert.match(html, /<dt>note<\/dt><dd>a &lt;note&gt;<\/dd>/);
    assert.match(html, /<dt>upload<\/dt><dd>notes &lt;1&gt;\.txt \(text\/plain, 33 bytes\)<pre>line one\r\n--not a boundary\r\n&lt;end&gt;<\/pre><\/dd>/);
  });

  test('keeps binary file content byte for byte, with a declared Content-Length', async () => {
    const content = new Uint8Array(256).map((_, i) => i);
    const boundary = 'XyZ-boundary';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="upload"; filename="bytes.bin"\r\n`),
      Buffer.from('Content-Type: application/octet-stream\r\n\r\n'),
      content,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const response = await fetchApp(formUpload, '/', {
      method: 'POST',
      headers: { 'Content-Type': `multipart/form-data; boundary="${boundary}"` },
      body,
    });
    assert.equal(response.status, 200);
    assert.match(await response.text(), /<dt>upload<\/dt><dd>bytes\.bin \(application\/octet-stream, 256 bytes\)<\/dd>/);
  });

  test('answers 413 to a declared length over the limit', async () => {
    const response = await fetchApp(formUpload, '/', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `a=${'x'.repeat(MAX_BODY_BYTES)}`,
    });
    assert.equal(response.status, 413);
    assert.match(await response.text(), /The limit is 65536 bytes/);
  });

  test('accepts a body of exactly the limit', async () => {
    const response = await fetchApp(formUpload, '/', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `a=${'x'.repeat(MAX_BODY_BYTES - 2)}`,
    });
    assert.equal(response.status, 200);
    await response.body?.cancel();
  });

  /** A request body of `size` bytes, streamed, so the request declares no length. */
  function streamedBody(size: number): ReadableStream<Uint8Array> {
    let left = size;
    return new ReadableStream({
      pull(controller) {
        if (left === 0) return controller.close();
        const n = Math.min(left, 16 * 1024);
        left -= n;
        controller.enqueue(encode('y'.repeat(n)));
      },
    });
  }

  test('answers 413 to a streamed body that runs over the limit, and accepts one that fits', async () => {
    const headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
    const over = await fetchApp(formUpload, '/', { method: 'POST', headers, body: streamedBody(MAX_BODY_BYTES + 1), duplex: 'half' } as RequestInit);
    assert.equal(over.status, 413);
    await over.body?.cancel();
    const fits = await fetchApp(formUpload, '/', { method: 'POST', headers, body: streamedBody(100), duplex: 'half' } as RequestInit);
    assert.equal(fits.status, 200);
    await fits.body?.cancel();
  });

  test('refuses a malformed multipart body, an unknown type and another method', async () => {
    const malformed = await fetchApp(formUpload, '/', {
      method: 'POST',
      headers: { 'Content-Type': 'multipart/form-data; boundary=abc' },
      body: '--abc\r\nno headers here',
    });
    assert.equal(malformed.status, 400);
    await malformed.body?.cancel();
    const json = await fetchApp(formUpload, '/', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(json.status, 415);
    await json.body?.cancel();
    const put = await fetchApp(formUpload, '/', { method: 'PUT', body: 'a=1' });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'GET, HEAD, POST');
    await put.body?.cancel();
  });
});

describe('examples/router.ts', () => {
  test('mounts an application under its segment: SCRIPT_NAME and PATH_INFO move', async () => {
    assert.equal(await (await fetchApp(router, '/where/a/b')).text(), 'SCRIPT_NAME=/where\nPATH_INFO=/a/b\n');
    assert.equal(await (await fetchApp(router, '/where')).text(), 'SCRIPT_NAME=/where\nPATH_INFO=\n');
    assert.equal(await (await fetchApp(router, '/where/')).text(), 'SCRIPT_NAME=/where\nPATH_INFO=/\n');
  });

  test('keeps the mount path it was given itself', async () => {
    const response = await fetchApp(router, '/app/where/x', { scriptName: '/app' });
    assert.equal(await response.text(), 'SCRIPT_NAME=/app/where\nPATH_INFO=/x\n');
  });

  test('reaches the other examples it mounts', async () => {
    assert.equal(await (await fetchApp(router, '/hello?name=Router')).text(), 'Hello, Router!\n');
    assert.match(await (await fetchApp(router, '/stream?count=1&interval=0')).text(), /^line 1 of 1 at /);
    assert.match(await (await fetchApp(router, '/')).text(), /^Try \/hello/);
  });

  test('answers 404 for anything else, with the path as it came', async () => {
    for (const path of ['/nope/x', '/constructor', '/__proto__', '/caf%C3%A9']) {
      const response = await fetchApp(router, path);
      assert.equal(response.status, 404, path);
      assert.equal(await response.text(), `Not found: ${decodeURIComponent(path)}\n`);
    }
  });

  test('gives its mounted applications a valid environ, the root included', async () => {
    // A validator on each side checks the router as a server, too.
    const checked = mount({ '': validator(where), where: validator(where) });
    assert.equal(await (await fetchApp(checked, '/')).text(), 'SCRIPT_NAME=\nPATH_INFO=/\n');
    assert.equal(await (await fetchApp(checked, '/where//x/')).text(), 'SCRIPT_NAME=/where\nPATH_INFO=/x/\n');
    assert.equal((await fetchApp(checked, '/elsewhere')).status, 404);
  });
});

describe('examples/middleware.ts', () => {
  test('adds Server-Timing and logs the request to tsgi.errors once it is over', async () => {
    const errors = textSink();
    const response = await fetchApp(middlewareApp, '/greet?name=MW', { errors });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('server-timing') ?? '', /^app;dur=\d+\.\d$/);
    assert.equal(await response.text(), 'Hello, MW!\n');
    await until(() => errors.text.length > 0, 2000, 'the log line');
    assert.match(errors.text, /^127\.0\.0\.1 "GET \/greet\?name=MW HTTP\/1\.1" 200 11 \d+\.\dms\n$/);
  });

  test('logs the path as requested, even when a router below shifts it', async () => {
    const errors = textSink();
    const response = await fetchApp(accessLog(router), '/where/x', { errors });
    assert.equal(await response.text(), 'SCRIPT_NAME=/where\nPATH_INFO=/x\n');
    await until(() => errors.text.length > 0, 2000, 'the log line');
    assert.match(errors.text, /"GET \/where\/x HTTP\/1\.1" 200 32 /);
  });

  test('keeps the contract on both sides around a streaming body', async () => {
    const errors = textSink();
    // The outer validator (in fetchApp) checks it as an application, the inner one as a server.
    const app = accessLog(validator(streaming));
    const response = await fetchApp(app, '/?count=3&interval=1', { errors });
    const text = await response.text();
    assert.equal(text.split('\n').length - 1, 3);
    await until(() => errors.text.length > 0, 2000, 'the log line');
    assert.match(errors.text, new RegExp(`"GET /\\?count=3&interval=1 HTTP/1.1" 200 ${Buffer.byteLength(text)} `));
  });

  test('counts bytes sent with write(), and closes the wrapped body when the client leaves', async () => {
    let closes = 0;
    const inner: Application = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      const body = (async function* () {
        for (;;) yield encode('tick\n');
      })();
      return Object.assign(body, { close: () => void closes++ }) as ResponseBody;
    };
    const errors = textSink();
    const response = await fetchApp(accessLog(validator(inner)), '/', { errors });
    const reader = response.body!.getReader();
    await within(reader.read(), 5000, 'a chunk');
    await reader.cancel();
    await until(() => closes === 1 && errors.text.length > 0, 2000, 'close() and the log line');
    assert.match(errors.text, /"GET \/ HTTP\/1\.1" 200 \d+ /);

    const writer: Application = async (_environ, startResponse) => {
      const write = startResponse('200 OK', [['Content-Type', 'text/plain']]);
      await write(encode('written, '));
      return [encode('returned')];
    };
    const log = textSink();
    assert.equal(await (await fetchApp(accessLog(validator(writer)), '/', { errors: log })).text(), 'written, returned');
    await until(() => log.text.length > 0, 2000, 'the log line');
    assert.match(log.text, / 200 17 /);
  });
});

describe('examples/fetch-handler.ts', () => {
  test('answers GET /greet with JSON', async () => {
    const response = await fetchApp(fetchHandlerApp, '/greet?name=Ada');
    assert.equal(response.status, 200);
    assert.equal(response.statusText, 'OK');
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await response.json(), { hello: 'Ada' });
  });

  test('echoes the JSON posted to /echo with 201, and refuses a body that is not JSON', async () => {
    const created = await fetchApp(fetchHandlerApp, '/echo', { method: 'POST', body: JSON.stringify({ x: [1, 'two'] }) });
    assert.equal(created.status, 201);
    assert.equal(created.statusText, 'Created');
    assert.deepEqual(await created.json(), { received: { x: [1, 'two'] } });
    const bad = await fetchApp(fetchHandlerApp, '/echo', { method: 'POST', body: '{nope' });
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), { error: 'the body is not JSON' });
  });

  test('answers 404 elsewhere, and works under a mount path', async () => {
    const missing = await fetchApp(fetchHandlerApp, '/nothing');
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: 'nothing at GET /nothing' });
    const mounted = await fetchApp(fetchHandlerApp, '/api/greet', { scriptName: '/api' });
    assert.deepEqual(await mounted.json(), { hello: 'world' });
  });
});

/** Runs examples/cgi-script.ts as a web server would, and parses its output. */
async function runScript(env: Record<string, string>, stdin: string | undefined) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'examples', 'cgi-script.ts')], {
    cwd: root,
    // Only what a web server passes, plus PATH, which the script must leave out of its environ.
    env: { PATH: process.env.PATH ?? '/usr/bin', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  try {
    // With no stdin given, the pipe stays open: the script must not wait for it.
    if (stdin !== undefined) child.stdin.end(stdin);
    const code = await within(exited, 15_000, 'the CGI script to exit');
    const output = Buffer.concat(stdout).toString('latin1');
    const split = output.indexOf('\r\n\r\n');
    assert.ok(split > 0, `no blank line after the headers in ${JSON.stringify(output)}; stderr: ${stderr}`);
    const [statusLine = '', ...headerLines] = output.slice(0, split).split('\r\n');
    const headers = new Map(headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
    return { code, statusLine, headers, body: Buffer.from(output.slice(split + 4), 'latin1'), stderr };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child.stdin.destroy();
  }
}

describe('examples/cgi-script.ts', () => {
  test('runs as a CGI script: environment and stdin in, Status line, headers and body out', async () => {
    const result = await runScript(
      {
        GATEWAY_INTERFACE: 'CGI/1.1',
        REQUEST_METHOD: 'POST',
        SCRIPT_NAME: '/cgi-bin/notes',
        PATH_INFO: '/new',
        QUERY_STRING: 'draft=1',
        CONTENT_TYPE: 'text/plain',
        CONTENT_LENGTH: '5',
        SERVER_NAME: 'example.test',
        SERVER_PORT: '8080',
        SERVER_PROTOCOL: 'HTTP/1.1',
        REMOTE_ADDR: '192.0.2.1',
      },
      'hello, and bytes past CONTENT_LENGTH',
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.statusLine, 'Status: 200 OK');
    assert.equal(result.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(result.headers.get('content-length'), String(result.body.length));
    assert.equal(
      result.body.toString('utf8'),
      'POST /cgi-bin/notes/new?draft=1\nserver: example.test:8080 HTTP/1.1\nrun once: true\nbody: "hello"\n',
    );
  });

  test('answers a GET without touching stdin, which stays open', async () => {
    const result = await runScript(
      { REQUEST_METHOD: 'GET', SCRIPT_NAME: '/cgi-bin/notes', PATH_INFO: '', QUERY_STRING: '', SERVER_NAME: 'localhost', SERVER_PORT: '80', SERVER_PROTOCOL: 'HTTP/1.0', REMOTE_ADDR: '127.0.0.1' },
      undefined,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.statusLine, 'Status: 200 OK');
    assert.match(result.body.toString('utf8'), /^GET \/cgi-bin\/notes\n.*\nbody: ""\n$/s);
  });

  test('is an ordinary application when imported, without running CGI', async () => {
    const response = await fetchApp(cgiScript, '/x?y=1', { method: 'PUT', body: 'data' });
    assert.equal(response.status, 200);
    assert.match(await response.text(), /^PUT \/x\?y=1\nserver: localhost:80 HTTP\/1\.1\nrun once: false\nbody: "data"\n$/);
  });
});

describe('tsgi serve examples/hello.ts', () => {
  test('serves the example over HTTP on 127.0.0.1 and exits 0 on SIGTERM', async () => {
    const server = await startServe(['examples/hello.ts', '--quiet']);
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const response = await fetch(`${server.url}?name=CLI`, { signal: AbortSignal.timeout(5000) });
      assert.equal(response.status, 200);
      assert.equal(await response.text(), 'Hello, CLI!\n');
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });
});

