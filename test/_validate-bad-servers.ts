// Servers that break the contract, each in one way, named by the requirement the validator
// must report first, on the server's side. The fake server of _validate-harness.ts is
// correct; each case replaces one of its steps. Used by validate-server.test.ts.
import { FileWrapper } from '../src/util.js';
import type { Application, ErrorStream, FileLike, InputStream, ResponseBody, StartResponse, Write } from '../src/types.js';
import { type BadCase, type ServeOptions, encode, hello, makeEnviron, memoryErrors, memoryInput, plain, serveOnce, sleep } from './_validate-harness.js';

const ok = '200 OK';

/** A server that builds the environ with these keys changed (`undefined` deletes one). */
const set = (patch: Record<string, unknown>, more: ServeOptions = {}): ServeOptions => ({
  ...more,
  environ: (environ) => {
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined) delete environ[key];
      else environ[key] = value;
    }
  },
});

/** A correct input stream over `body` with some methods replaced. */
const input = (replace: Partial<InputStream>, body = encode('ab\ncd\n')): ServeOptions => set({ 'tsgi.input': { ...memoryInput(body), ...replace } });

/** A correct error stream with some methods replaced. */
const errors = (replace: Partial<ErrorStream>): ServeOptions => set({ 'tsgi.errors': { ...memoryErrors(), ...replace } });

/** An application that does `fn` with tsgi.input, then answers hello. */
const reading =
  (fn: (input: InputStream) => Promise<unknown>): Application =>
  async (environ, startResponse) => {
    await fn(environ['tsgi.input']);
    startResponse(ok, [plain]);
    return [hello];
  };

/** An application whose body is a generator of `parts`, calling startResponse first. */
const parts =
  (...texts: string[]): Application =>
  (_environ, startResponse) =>
    (function* () {
      startResponse(ok, [plain]);
      for (const text of texts) yield encode(text);
    })();

/** The same as an async generator that pauses before each chunk. */
const slowParts =
  (...texts: string[]): Application =>
  (_environ, startResponse) =>
    (async function* () {
      startResponse(ok, [plain]);
      for (const text of texts) {
        await sleep(5);
        yield encode(text);
      }
    })();

const iterator = (body: ResponseBody): Iterator<unknown> => (body as Iterable<unknown>)[Symbol.iterator]();
const asyncIterator = (body: ResponseBody): AsyncIterator<unknown> => (body as AsyncIterable<unknown>)[Symbol.asyncIterator]();
const noClose: ServeOptions['close'] = () => {};

/** A file over `text` that reads from where it left off. */
function memoryFile(text: string): FileLike {
  let at = 0;
  return {
    read(size: number) {
      const chunk = encode(text.slice(at, at + size));
      at += chunk.length;
      return chunk;
    },
  };
}

export const badServers: BadCase[] = [
  // The environ.
  { id: 'env.plain-object', side: 'server', name: 'the environ is an instance of a class', serve: { call: (app, environ, sr) => app(Object.assign(new (class Environ {})(), environ) as never, sr) } },
  { id: 'env.plain-object', side: 'server', name: 'PATH_INFO is a getter', serve: { environ: (e) => Object.defineProperty(e, 'PATH_INFO', { get: () => '/', enumerable: true, configurable: true }) } },
  { id: 'env.plain-object', side: 'server', name: 'tsgi.signal an accessor without a setter', serve: { environ: (e) => {
    const signal = new AbortController().signal;
    Object.defineProperty(e, 'tsgi.signal', { get: () => signal, enumerable: true, configurable: true });
  } } },
  { id: 'env.plain-object', side: 'server', name: "tsgi.signal's getter gives a new signal each time", serve: { environ: (e) => {
    Object.defineProperty(e, 'tsgi.signal', { get: () => new AbortController().signal, set() {}, enumerable: true, configurable: true });
  } } },
  { id: 'env.tsgi.signal', side: 'server', name: "tsgi.signal's getter gives a look-alike", serve: { environ: (e) => {
    const fake = { aborted: false };
    Object.defineProperty(e, 'tsgi.signal', { get: () => fake, set() {}, enumerable: true, configurable: true });
  } } },
  { id: 'env.request-method', side: 'server', name: 'REQUEST_METHOD missing', serve: set({ REQUEST_METHOD: undefined }) },
  { id: 'env.request-method', side: 'server', name: 'REQUEST_METHOD with a space', serve: set({ REQUEST_METHOD: 'GE T' }) },
  { id: 'env.script-name', side: 'server', name: 'SCRIPT_NAME without a leading slash', serve: set({ SCRIPT_NAME: 'app' }) },
  { id: 'env.script-name.not-slash', side: 'server', name: 'SCRIPT_NAME is "/"', serve: set({ SCRIPT_NAME: '/', PATH_INFO: '' }) },
  { id: 'env.script-name.trailing-slash', side: 'server', name: 'SCRIPT_NAME ends with "/" before a PATH_INFO', serve: set({ SCRIPT_NAME: '/app/', PATH_INFO: '/x' }) },
  { id: 'env.path-info', side: 'server', name: 'PATH_INFO without a leading slash', serve: set({ PATH_INFO: 'index.html' }) },
  { id: 'env.path-info', side: 'server', name: 'PATH_INFO "*" for GET', serve: set({ PATH_INFO: '*' }) },
  { id: 'env.path.split', side: 'server', name: 'SCRIPT_NAME and PATH_INFO both empty', serve: set({ PATH_INFO: '' }) },
  { id: 'env.path.split', side: 'server', name: 'PATH_INFO "*" under a SCRIPT_NAME', serve: set({ REQUEST_METHOD: 'OPTIONS', SCRIPT_NAME: '/app', PATH_INFO: '*' }) },
  { id: 'env.query-string', side: 'server', name: 'QUERY_STRING missing', serve: set({ QUERY_STRING: undefined }) },
  { id: 'env.content-length', side: 'server', name: "CONTENT_LENGTH ''", serve: set({ CONTENT_LENGTH: '' }) },
  { id: 'env.content-length', side: 'server', name: 'CONTENT_LENGTH together with Transfer-Encoding', serve: set({ CONTENT_LENGTH: '5', HTTP_TRANSFER_ENCODING: 'chunked' }) },
  { id: 'env.no-http-content', side: 'server', name: 'HTTP_CONTENT_TYPE', serve: set({ HTTP_CONTENT_TYPE: 'text/plain' }) },
  { id: 'env.server-name', side: 'server', name: "SERVER_NAME ''", serve: set({ SERVER_NAME: '' }) },
  { id: 'env.server-name', side: 'server', name: 'an IPv6 SERVER_NAME without brackets', serve: set({ SERVER_NAME: '::1' }) },
  { id: 'env.server-port', side: 'server', name: 'SERVER_PORT not digits', serve: set({ SERVER_PORT: 'http' }) },
  { id: 'env.server-protocol', side: 'server', name: 'SERVER_PROTOCOL malformed', serve: set({ SERVER_PROTOCOL: 'HTTP/x' }) },
  { id: 'env.remote-addr', side: 'server', name: 'REMOTE_ADDR a host name', serve: set({ REMOTE_ADDR: 'localhost' }) },
  { id: 'env.remote-addr', side: 'server', name: 'REMOTE_ADDR IPv4-mapped', serve: set({ REMOTE_ADDR: '::ffff:127.0.0.1' }) },
  { id: 'env.remote-addr', side: 'server', name: 'REMOTE_ADDR in brackets', serve: set({ REMOTE_ADDR: '[::1]' }) },
  { id: 'env.remote-port', side: 'server', name: 'REMOTE_PORT not digits', serve: set({ REMOTE_PORT: 'abc' }) },
  { id: 'env.request-uri', side: 'server', name: 'REQUEST_URI missing', serve: set({ REQUEST_URI: undefined }) },
  { id: 'env.cgi.absent', side: 'server', name: "REMOTE_USER '' without authentication", serve: set({ REMOTE_USER: '' }) },
  { id: 'env.no-process-env', side: 'server', name: 'the process environment copied in', serve: set({ HOME: '/root', PATH: '/usr/bin' }) },
  { id: 'env.cgi.strings', side: 'server', name: 'SERVER_PORT a number', serve: set({ SERVER_PORT: 8000 }) },
  { id: 'str.environ', side: 'server', name: 'PATH_INFO decoded as UTF-16 text, not bytes', serve: set({ PATH_INFO: '/\u2603' }) },
  { id: 'ext.dotted', side: 'server', name: 'an extension key without a dot', serve: set({ serverThing: 1 }) },
  { id: 'ext.reserved', side: 'server', name: 'an invented tsgi.* key', serve: set({ 'tsgi.streaming': true }) },
  { id: 'ext.prefix', side: 'server', name: 'an extension key with capitals', serve: set({ 'MyServer.Thing': 1 }) },
  { id: 'env.http', side: 'server', name: 'an HTTP_ key not upper-cased', serve: set({ HTTP_x_custom: 'a' }) },
  { id: 'env.http', side: 'server', name: "an HTTP_ key with '-' kept", serve: set({ 'HTTP_X-FORWARDED-FOR': '10.0.0.1' }) },
  { id: 'env.http.name-charset', side: 'server', name: 'a header with "$" in its name kept', serve: set({ HTTP_X$Y: 'a' }) },
  { id: 'env.http.value', side: 'server', name: 'a header value not trimmed', serve: set({ HTTP_ACCEPT: ' text/html' }) },
  { id: 'env.http.pseudo', side: 'server', name: 'an HTTP/2 pseudo-header as a key', serve: set({ ':authority': 'example.com' }) },
  { id: 'env.tsgi.required', side: 'server', name: 'tsgi.signal missing', serve: set({ 'tsgi.signal': undefined }) },
  { id: 'env.tsgi.version', side: 'server', name: 'tsgi.version [1, 1]', serve: set({ 'tsgi.version': [1, 1] }) },
  { id: 'env.tsgi.version', side: 'server', name: 'tsgi.version a string', serve: set({ 'tsgi.version': '1.0' }) },
  { id: 'env.tsgi.url-scheme', side: 'server', name: 'tsgi.url_scheme upper case', serve: set({ 'tsgi.url_scheme': 'HTTP' }) },
  { id: 'env.tsgi.input', side: 'server', name: 'tsgi.input null', serve: set({ 'tsgi.input': null }) },
  { id: 'input.methods', side: 'server', name: 'tsgi.input without readLines', serve: set({ 'tsgi.input': { read: async () => new Uint8Array(0), readLine: async () => new Uint8Array(0), async *[Symbol.asyncIterator]() {} } }) },
  { id: 'env.tsgi.errors', side: 'server', name: 'tsgi.errors a string', serve: set({ 'tsgi.errors': 'stderr' }) },
  { id: 'errors.methods', side: 'server', name: 'tsgi.errors without flush', serve: set({ 'tsgi.errors': { write() {}, writeLines() {} } }) },
  { id: 'env.tsgi.flags', side: 'server', name: 'tsgi.multithread 1', serve: set({ 'tsgi.multithread': 1 }) },
  { id: 'env.tsgi.input-terminated', side: 'server', name: 'tsgi.input_terminated false', serve: set({ 'tsgi.input_terminated': false }) },
  { id: 'env.tsgi.signal', side: 'server', name: 'tsgi.signal a look-alike object', serve: set({ 'tsgi.signal': { aborted: false, addEventListener() {} } }) },
  { id: 'file.signature', side: 'server', name: 'tsgi.file_wrapper not a function', serve: set({ 'tsgi.file_wrapper': 'sendfile' }) },

  // The call.
  { id: 'server.invoke.args', side: 'server', name: 'called with a this', serve: { call: (app, environ, sr) => app.call({ server: true }, environ, sr) } },
  { id: 'server.invoke.args', side: 'server', name: 'called with a third argument', serve: { call: (app, environ, sr) => (app as (...args: unknown[]) => unknown)(environ, sr, {}) } },
  { id: 'server.invoke.fresh-environ', side: 'server', name: 'the same environ for two requests', drive: async (app) => {
    const shared = makeEnviron().environ;
    const call = (a: Application, _environ: unknown, sr: StartResponse) => a(shared, sr);
    const first = await serveOnce(app, { call });
    const second = await serveOnce(app, { call });
    return [...first.caught, ...second.caught];
  } },
  { id: 'start.signature', side: 'server', name: 'startResponse not a function', serve: { call: (app, environ) => app(environ, 'startResponse' as never) } },
  { id: 'start.signature', side: 'server', name: 'startResponse returns no write function', serve: { startResponse: (real) => (status, headers, excInfo) => {
    real(status, headers, excInfo);
    return undefined as unknown as Write;
  } } },
  { id: 'concurrency.multithread', side: 'server', name: 'overlapping calls with tsgi.multithread false', app: async (_e, sr) => {
    await sleep(5);
    sr(ok, [plain]);
    return [hello];
  }, drive: async (app) => {
    const serial = set({ 'tsgi.multithread': false });
    const outcomes = await Promise.all([serveOnce(app, serial), serveOnce(app, serial)]);
    return outcomes.flatMap((outcome) => outcome.caught);
  } },

  // The answers of startResponse and write.
  { id: 'exc.replace', side: 'server', name: 'startResponse throws excInfo back although nothing was sent', serve: { startResponse: (real) => (status, headers, excInfo) => {
    if (excInfo) throw excInfo;
    return real(status, headers);
  } }, app: (_e, sr) => {
    sr(ok, [plain]);
    sr('500 Internal Server Error', [plain], new Error('failed'));
    return [encode('error page')];
  } },
  { id: 'exc.rethrow', side: 'server', name: 'startResponse returns normally with excInfo after the headers went out', serve: { startResponse: (real) => {
    let write: Write | undefined;
    return (status, headers) => (write ??= real(status, headers));
  } }, app: (_e, sr) => (function* () {
    sr(ok, [plain]);
    yield encode('sent');
    sr('500 Internal Server Error', [plain], new Error('late'));
    yield encode('error page');
  })() },
  { id: 'header.server-no-mutate', side: 'server', name: 'the server appends Date to the headers array it received', serve: { startResponse: (real) => (status, headers, excInfo) => {
    (headers as Array<[string, string]>).push(['Date', new Date().toUTCString()]);
    return real(status, headers, excInfo);
  } } },
  { id: 'write.promise', side: 'server', name: 'write() returns nothing', serve: { startResponse: (real) => (status, headers, excInfo) => {
    const write = real(status, headers, excInfo);
    return (data) => {
      void write(data);
      return undefined as unknown as Promise<void>;
    };
  } }, app: (_e, sr) => {
    void sr(ok, [plain])(hello);
    return [];
  } },

  // How the body is consumed.
  { id: 'body.iterate.protocol', side: 'server', name: 'gets the iterator twice', app: parts('a', 'b'), serve: { consume: (body) => {
    iterator(body);
    iterator(body);
  } } },
  { id: 'body.iterate.protocol', side: 'server', name: 'uses [Symbol.iterator] when there is [Symbol.asyncIterator]', app: (_e, sr) => {
    sr(ok, [plain]);
    return { *[Symbol.iterator]() { yield hello; }, async *[Symbol.asyncIterator]() { yield hello; } };
  }, serve: { consume: (body, ctx) => {
    for (const chunk of body as Iterable<Uint8Array>) ctx.send(chunk);
  } } },
  { id: 'body.iterate.one-at-a-time', side: 'server', name: 'calls next() again before the first settled', app: slowParts('a', 'b'), serve: { consume: async (body) => {
    const it = asyncIterator(body);
    await Promise.all([it.next(), it.next()]);
  } } },
  { id: 'body.iterate.return', side: 'server', name: 'stops early without return()', app: parts('a', 'b'), serve: { consume: (body, ctx) => {
    ctx.send(iterator(body).next().value);
  } } },
  { id: 'close.once', side: 'server', name: 'closes twice', serve: { close: async (body) => {
    await body.close?.();
    await body.close?.();
  } } },
  { id: 'close.after-iteration', side: 'server', name: 'closes while next() is pending', app: slowParts('a'), serve: { consume: (body) => {
    void asyncIterator(body).next().catch(() => {});
  } } },
  { id: 'close.no-iterate-after', side: 'server', name: 'next() after close()', app: parts('a', 'b'), serve: { close: noClose, consume: async (body) => {
    const it = iterator(body);
    it.next();
    it.return?.();
    await body.close?.();
    it.next();
  } } },
  { id: 'close.no-iterate-after', side: 'server', name: 'reads an array element after close()', serve: { close: noClose, consume: async (body) => {
    await body.close?.();
    void (body as Uint8Array[])[0];
  } } },
  { id: 'disconnect.stop', side: 'server', name: 'asks for a chunk after the client went away', app: parts('a', 'b'), serve: { consume: async (body, ctx) => {
    const it = iterator(body);
    ctx.send(it.next().value);
    ctx.controller.abort(new Error('client went away'));
    it.next();
  } } },
  { id: 'disconnect.reason', side: 'server', name: 'aborts tsgi.signal with a string reason', serve: { consume: (body, ctx) => {
    for (const chunk of body as Iterable<Uint8Array>) ctx.send(chunk);
    ctx.controller.abort('gone');
  } } },
  { id: 'head.stop-early', side: 'server', name: 'iterates a HEAD body past its first chunk', app: parts('a', 'b'), serve: { request: { method: 'HEAD' }, consume: (body, ctx) => {
    for (const chunk of body as Iterable<Uint8Array>) ctx.send(chunk);
  } } },
  { id: 'server.body.protocol-only', side: 'server', name: 'uses an array method on an array body', serve: { consume: (body, ctx) => {
    (body as Uint8Array[]).forEach((chunk) => ctx.send(chunk));
  } } },
  { id: 'server.body.protocol-only', side: 'server', name: 'calls the next() of a generator body directly', app: parts('a'), serve: { consume: (body, ctx) => {
    ctx.send((body as unknown as Iterator<Uint8Array>).next().value);
  } } },
  { id: 'server.invoke.start-not-assumed', side: 'server', name: 'closes a body unread because startResponse was not called yet', app: parts('a'), serve: { consume: () => {} } },
  { id: 'body.chunk.server-no-mutate', side: 'server', name: 'zeroes each chunk once sent', app: parts('a', 'b'), serve: { consume: (body, ctx) => {
    for (const chunk of body as Iterable<Uint8Array>) {
      ctx.send(chunk);
      chunk.fill(0);
    }
  } } },
  { id: 'body.chunk.server-no-mutate', side: 'server', name: 'changes a chunk of an array body', app: (_e, sr) => {
    sr(ok, [plain]);
    return [encode('abc')];
  }, serve: { consume: (body, ctx) => {
    for (const chunk of body as Iterable<Uint8Array>) {
      ctx.send(chunk);
      chunk[0] = 0;
    }
  } } },

  // The input stream.
  { id: 'input.methods', side: 'server', name: 'read() returns bytes, not a Promise', serve: input({ read: (() => new Uint8Array(0)) as never }), app: reading((i) => i.read()) },
  { id: 'input.bytes', side: 'server', name: 'read() resolves with a string', serve: input({ read: async () => 'ab' as never }), app: reading((i) => i.read()) },
  { id: 'input.bytes', side: 'server', name: 'readLines() resolves with strings', serve: input({ readLines: async () => ['ab\n'] as never }), app: reading((i) => i.readLines()) },
  { id: 'input.read', side: 'server', name: 'read(2) resolves with 5 bytes', serve: input({ read: async () => encode('12345') }), app: reading((i) => i.read(2)) },
  { id: 'input.read', side: 'server', name: 'a short read(4) followed by more data', serve: input({ read: async (size) => encode('ab'.slice(0, size)) }, encode('abcd')), app: reading(async (i) => {
    await i.read(4);
    await i.read(2);
  }) },
  { id: 'input.read.all', side: 'server', name: 'read() gives part of the body', serve: input({ read: async () => encode('ab') }, encode('abcd')), app: reading(async (i) => {
    await i.read();
    await i.read();
  }) },
  { id: 'input.read.zero', side: 'server', name: 'read(0) consumes bytes', serve: input({ read: async () => encode('a') }), app: reading((i) => i.read(0)) },
  { id: 'input.readline', side: 'server', name: 'readLine() goes past the line feed', serve: input({ readLine: async () => encode('ab\ncd') }), app: reading((i) => i.readLine()) },
  { id: 'input.readline', side: 'server', name: 'readLine(1) gives 3 bytes', serve: input({ readLine: async () => encode('ab\n') }), app: reading((i) => i.readLine(1)) },
  { id: 'input.readlines', side: 'server', name: 'readLines() resolves with a Uint8Array', serve: input({ readLines: async () => encode('ab\n') as never }), app: reading((i) => i.readLines()) },
  { id: 'input.readlines', side: 'server', name: 'readLines(1) gives more lines than the hint asks for', serve: input({ readLines: async () => [encode('ab\n'), encode('cd\n')] }), app: reading((i) => i.readLines(1)) },
  { id: 'input.iterate', side: 'server', name: 'iteration yields an empty chunk', serve: input({ async *[Symbol.asyncIterator]() { yield new Uint8Array(0); } }), app: reading(async (i) => {
    for await (const chunk of i) void chunk;
  }) },
  { id: 'input.end', side: 'server', name: 'data after an empty read', serve: input({ read: (() => {
    let calls = 0;
    return async () => (calls++ === 0 ? new Uint8Array(0) : encode('late'));
  })() }), app: reading(async (i) => {
    await i.read(10);
    await i.read(10);
  }) },
  { id: 'input.order', side: 'server', name: 'a later read settles before an earlier one', serve: input({ read: (() => {
    let calls = 0;
    return async () => {
      if (calls++ === 0) await sleep(10);
      return encode('a');
    };
  })() }), app: reading((i) => Promise.all([i.read(1), i.read(1)])) },
  { id: 'input.no-hang', side: 'server', name: 'more bytes than CONTENT_LENGTH', serve: set({ 'tsgi.input': memoryInput(encode('abcd')), CONTENT_LENGTH: '2' }), app: reading((i) => i.read()) },
  { id: 'input.truncated', side: 'server', name: 'the body ends before CONTENT_LENGTH bytes', serve: set({ 'tsgi.input': memoryInput(encode('abcd')), CONTENT_LENGTH: '10' }), app: reading((i) => i.read()) },

  // The error stream.
  { id: 'errors.write', side: 'server', name: 'write() throws for a lone surrogate', serve: errors({ write: (text) => {
    if (/[\ud800-\udfff]/.test(text)) throw new TypeError('invalid string');
  } }), app: (environ, sr) => {
    environ['tsgi.errors'].write('broken \ud800\n');
    sr(ok, [plain]);
    return [hello];
  } },
  { id: 'errors.write-lines', side: 'server', name: 'writeLines() throws for an array', serve: errors({ writeLines: () => {
    throw new TypeError('not a stream');
  } }), app: (environ, sr) => {
    environ['tsgi.errors'].writeLines(['a\n']);
    sr(ok, [plain]);
    return [hello];
  } },
  { id: 'errors.flush', side: 'server', name: 'flush() returns nothing', serve: errors({ flush: (() => undefined) as never }), app: async (environ, sr) => {
    await environ['tsgi.errors'].flush();
    sr(ok, [plain]);
    return [hello];
  } },

  // The file wrapper.
  { id: 'file.signature', side: 'server', name: 'the file wrapper returns a number', serve: set({ 'tsgi.file_wrapper': () => 42 }), app: (environ, sr) => {
    sr(ok, [plain]);
    return environ['tsgi.file_wrapper']!({ read: () => new Uint8Array(0) });
  } },
  { id: 'file.close', side: 'server', name: "the wrapper's body has no close() although the file has", serve: set({ 'tsgi.file_wrapper': () => [] }), app: (environ, sr) => {
    sr(ok, [plain]);
    return environ['tsgi.file_wrapper']!({ read: () => new Uint8Array(0), close: () => {} });
  } },
  { id: 'file.close', side: 'server', name: "the wrapper's close() does not close the file", serve: set({ 'tsgi.file_wrapper': (file: { read(n: number): Promise<Uint8Array> }) => ({
    async *[Symbol.asyncIterator]() {
      for (let chunk = await file.read(4); chunk.length; chunk = await file.read(4)) yield chunk;
    },
    close() {},
  }) }), app: (environ, sr) => {
    sr(ok, [plain]);
    return environ['tsgi.file_wrapper']!({ read: async () => new Uint8Array(0), close: () => {} });
  } },
  { id: 'file.length', side: 'server', name: 'a wrapped file is read past the Content-Length the application declared', serve: set({ 'tsgi.file_wrapper': FileWrapper }), app: (environ, sr) => {
    sr(ok, [plain, ['Content-Length', '2']]);
    return environ['tsgi.file_wrapper']!(memoryFile('abcdef'), 2);
  } },
  { id: 'file.lazy', side: 'server', name: 'the wrapper reads the file at once', serve: set({ 'tsgi.file_wrapper': (file: { read(n: number): unknown }) => {
    file.read(4);
    return [];
  } }), app: (environ, sr) => {
    sr(ok, [plain]);
    return environ['tsgi.file_wrapper']!({ read: () => new Uint8Array(0) });
  } },
  { id: 'file.iterate', side: 'server', name: "the wrapper's body stops before the end of the file", serve: set({ 'tsgi.file_wrapper': (file: { read(n: number): Promise<Uint8Array> }) => ({
    async *[Symbol.asyncIterator]() {
      yield await file.read(4);
    },
  }) }), app: (environ, sr) => {
    sr(ok, [plain]);
    let left = 2;
    return environ['tsgi.file_wrapper']!({ read: async () => (left-- > 0 ? encode('data') : new Uint8Array(0)) });
  } },
];
