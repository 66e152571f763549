// Applications that break the contract, each named by the requirement the validator must
// report first, on the application's side. Used by validate.test.ts (and by its check that
// every requirement the validator cites has a case).
import type { Application, HeaderList, ResponseBody, StartResponse } from '../src/types.js';
import { type BadCase, encode, hello, helloApp, plain } from './_validate-harness.js';

const ok = '200 OK';

/** An application that calls startResponse(status, headers) and returns `body`. */
export const respond =
  (status: unknown, headers: unknown, body: unknown = [hello]): Application =>
  (_environ, startResponse) => {
    startResponse(status as string, headers as HeaderList);
    return body as ResponseBody;
  };

/** An application that does `fn` with startResponse, then answers hello. */
const calling =
  (fn: (startResponse: StartResponse) => void): Application =>
  (_environ, startResponse) => {
    fn(startResponse);
    return [hello];
  };

export const badApps: BadCase[] = [
  // The call and the value returned.
  { id: 'app.callable', side: 'application', name: 'validator() given something that is not a function', wrap: (validate) => {
    try {
      return validate(42 as unknown as Application);
    } catch (error) {
      return () => {
        throw error;
      };
    }
  } },
  { id: 'app.return.not-bytes', side: 'application', name: 'returns a string', app: respond(ok, [plain], 'Hello') },
  { id: 'app.return.not-bytes', side: 'application', name: 'returns a Uint8Array instead of [bytes]', app: respond(ok, [plain], hello) },
  { id: 'app.return.not-bytes', side: 'application', name: 'returns undefined', app: (_e, sr) => {
    sr(ok, [plain]);
    return undefined as unknown as ResponseBody;
  } },
  { id: 'app.return.not-bytes', side: 'application', name: 'resolves with null', app: async (_e, sr) => { sr(ok, [plain]); return null as unknown as ResponseBody; } },
  { id: 'app.return.not-bytes', side: 'application', name: 'returns a Uint16Array', app: respond(ok, [plain], new Uint16Array(2)) },
  { id: 'app.return', side: 'application', name: 'returns a number', app: respond(ok, [plain], 42) },
  { id: 'body.iterable', side: 'application', name: 'returns a plain object', app: respond(ok, [plain], { body: 'x' }) },
  { id: 'body.iterable', side: 'application', name: 'returns the generator function instead of calling it', app: respond(ok, [plain], function* () { yield hello; }) },
  { id: 'body.iterable', side: 'application', name: '[Symbol.iterator]() returns no iterator', app: respond(ok, [plain], { [Symbol.iterator]: () => 5 }) },
  { id: 'body.iterable', side: 'application', name: 'next() returns a non-object', app: respond(ok, [plain], { [Symbol.iterator]: () => ({ next: () => 7 }) }) },
  { id: 'body.close.function', side: 'application', name: 'close is not a function', app: respond(ok, [plain], Object.assign([hello], { close: 'yes' })) },
  { id: 'write.return-body', side: 'application', name: 'uses write() and returns nothing', app: (_e, sr) => { void sr(ok, [plain])(hello); return undefined as unknown as ResponseBody; } },

  // The status.
  { id: 'status.format', side: 'application', name: 'status without a reason phrase', app: respond('200', [plain]) },
  { id: 'status.format', side: 'application', name: 'status as a number', app: respond(200, [plain]) },
  { id: 'status.format', side: 'application', name: 'CR LF in the status', app: respond('200 OK\r\nX-Injected: 1', [plain]) },
  { id: 'status.format', side: 'application', name: 'two-digit code', app: respond('20 OK', [plain]) },
  { id: 'str.response', side: 'application', name: 'a code unit above U+00FF in the status', app: respond('200 \u014cK', [plain]) },
  { id: 'status.range', side: 'application', name: 'a 1xx status', app: respond('100 Continue', [plain]) },
  { id: 'status.range', side: 'application', name: 'status 600', app: respond('600 Beyond', [plain]) },
  { id: 'status.reason', side: 'application', name: 'an empty reason phrase', app: respond('200 ', [plain]) },

  // The headers.
  { id: 'header.list', side: 'application', name: 'headers as an object', app: respond(ok, { 'Content-Type': 'text/plain' }) },
  { id: 'header.list', side: 'application', name: 'a pair of three', app: respond(ok, [['Content-Type', 'text/plain', 'x']]) },
  { id: 'header.list', side: 'application', name: 'a value that is a number', app: respond(ok, [plain, ['Content-Length', 14]]) },
  { id: 'header.list', side: 'application', name: 'a pair that is a string', app: respond(ok, ['Content-Type: text/plain']) },
  { id: 'header.name', side: 'application', name: 'a space in a name', app: respond(ok, [plain, ['Bad Name', 'x']]) },
  { id: 'header.name', side: 'application', name: 'a colon in a name', app: respond(ok, [plain, ['X:Y', 'x']]) },
  { id: 'header.name', side: 'application', name: 'an empty name', app: respond(ok, [plain, ['', 'x']]) },
  { id: 'str.response', side: 'application', name: 'a code unit above U+00FF in a name', app: respond(ok, [plain, ['X-\u0100', 'x']]) },
  { id: 'header.value', side: 'application', name: 'CR LF in a value (response splitting)', app: respond(ok, [plain, ['X-A', 'a\r\nSet-Cookie: evil=1']]) },
  { id: 'header.value', side: 'application', name: 'DEL in a value', app: respond(ok, [plain, ['X-A', 'a\x7f']]) },
  { id: 'header.value', side: 'application', name: 'NUL in a value', app: respond(ok, [plain, ['X-A', 'a\0']]) },
  { id: 'str.response', side: 'application', name: 'raw UTF-16 text in a value', app: respond(ok, [plain, ['Content-Disposition', 'attachment; filename="\u20ac.txt"']]) },
  { id: 'header.value.whitespace', side: 'application', name: 'a value with a leading space', app: respond(ok, [plain, ['X-A', ' padded']]) },
  { id: 'header.no-status', side: 'application', name: 'a Status header', app: respond(ok, [plain, ['status', '200 OK']]) },
  { id: 'hop.response', side: 'application', name: 'Connection: close', app: respond(ok, [plain, ['Connection', 'close']]) },
  { id: 'hop.response', side: 'application', name: 'Keep-Alive', app: respond(ok, [plain, ['Keep-Alive', 'timeout=5']]) },
  { id: 'hop.response', side: 'application', name: 'Upgrade', app: respond(ok, [plain, ['UPGRADE', 'websocket']]) },
  { id: 'framing.no-transfer-coding', side: 'application', name: 'Transfer-Encoding: chunked', app: respond(ok, [plain, ['Transfer-Encoding', 'chunked']]) },
  { id: 'framing.content-length.syntax', side: 'application', name: 'Content-Length that is not digits', app: respond(ok, [plain, ['Content-Length', '14 bytes']]) },
  { id: 'framing.content-length.syntax', side: 'application', name: 'Content-Length twice', app: respond(ok, [plain, ['Content-Length', '14'], ['content-length', '14']]) },
  { id: 'framing.content-length.204', side: 'application', name: 'Content-Length with 204', app: respond('204 No Content', [['Content-Length', '0']], []) },
  { id: 'header.content-type', side: 'application', name: 'a body without Content-Type', app: respond(ok, [['X-A', 'b']]) },
  { id: 'header.app-no-mutate', side: 'application', name: 'headers changed after startResponse', app: (_e, sr) => {
    const headers: Array<[string, string]> = [plain];
    sr(ok, headers);
    headers.push(['X-Late', 'too late']);
    return [hello];
  } },
  { id: 'header.app-no-mutate', side: 'application', name: 'a pair changed after startResponse', app: (_e, sr) => {
    const headers: Array<[string, string]> = [['Content-Type', 'text/plain']];
    sr(ok, headers);
    return (function* () {
      headers[0]![1] = 'text/html';
      yield hello;
    })();
  } },

  // startResponse calls and excInfo.
  { id: 'start.once', side: 'application', name: 'called twice without excInfo', app: calling((sr) => { sr(ok, [plain]); sr(ok, [plain]); }) },
  { id: 'start.once', side: 'application', name: 'called again after its first call failed', serve: { startResponse: (real) => {
    let calls = 0;
    return (status, headers, excInfo) => {
      if (calls++ === 0) throw new Error('the server refused these headers');
      return real(status, headers, excInfo);
    };
  } }, app: calling((sr) => {
    try {
      sr(ok, [plain]);
    } catch {
      // A retry is still a second call (start.once, start.once.enforced).
    }
    sr(ok, [plain]);
  }) },
  { id: 'exc.value', side: 'application', name: 'excInfo is true', app: calling((sr) => { sr(ok, [plain]); sr('500 Internal Server Error', [plain], true); }) },
  { id: 'exc.value', side: 'application', name: "excInfo is a WSGI-style (type, value, traceback) triple", app: calling((sr) => { sr(ok, [plain]); sr('500 Internal Server Error', [plain], [Error, new Error('x'), null]); }) },
  { id: 'exc.only-on-error', side: 'application', name: 'excInfo with a 200 response', app: calling((sr) => { sr(ok, [plain]); sr(ok, [plain], new Error('why')); }) },
  { id: 'exc.no-catch', side: 'application', name: 'the body catches the error startResponse threw back', app: (_e, sr) =>
    (function* () {
      sr(ok, [plain]);
      yield encode('partial');
      try {
        sr('500 Internal Server Error', [plain], new Error('late'));
      } catch {
        // swallowed: the server never learns the response is broken
      }
      yield encode(' and more');
    })() },
  { id: 'exc.no-catch', side: 'application', name: 'the application catches the error startResponse threw back', app: async (_e, sr) => {
    const write = sr(ok, [plain]);
    await write(encode('sent'));
    try {
      sr('500 Internal Server Error', [plain], new Error('late'));
    } catch {
      // swallowed
    }
    return [];
  } },

  // write().
  { id: 'write.args', side: 'application', name: 'write() given a string', app: (_e, sr) => { void sr(ok, [plain])('text' as unknown as Uint8Array); return []; } },
  { id: 'write.args', side: 'application', name: 'write() given two chunks at once', app: (_e, sr) => {
    const write = sr(ok, [plain]) as unknown as (...chunks: Uint8Array[]) => Promise<void>;
    void write(hello, hello);
    return [];
  } },
  { id: 'write.args', side: 'application', name: 'write() given a Uint16Array', app: (_e, sr) => { void sr(ok, [plain])(new Uint16Array(3) as unknown as Uint8Array); return []; } },
  { id: 'write.before-return', side: 'application', name: 'write() from inside the body', app: (_e, sr) => {
    const write = sr(ok, [plain]);
    return (function* () {
      void write(encode('late'));
      yield hello;
    })();
  } },
  { id: 'body.chunk.owned', side: 'application', name: 'the buffer passed to write() is reused', app: (_e, sr) => {
    const write = sr(ok, [plain]);
    const buffer = encode('first');
    void write(buffer);
    buffer.set(encode('secnd'));
    void write(buffer);
    return [];
  } },

  // The body.
  { id: 'body.chunk.type', side: 'application', name: 'an array of strings', app: respond(ok, [plain], ['Hello']) },
  { id: 'body.chunk.type', side: 'application', name: 'a generator that yields a string', app: respond(ok, [plain], (function* () { yield 'Hello'; })()) },
  { id: 'body.chunk.type', side: 'application', name: 'an ArrayBuffer chunk', app: respond(ok, [plain], [hello.buffer]) },
  { id: 'body.chunk.type', side: 'application', name: 'an async generator that yields a number', app: respond(ok, [plain], (async function* () { yield 42; })()) },
  { id: 'body.chunk.type', side: 'application', name: 'a null chunk after a good one', app: respond(ok, [plain], (function* () { yield hello; yield null; })()) },
  { id: 'app.start-before-body', side: 'application', name: 'an array body and no startResponse', app: () => [hello] },
  { id: 'app.start-before-body', side: 'application', name: 'a generator that yields before startResponse', app: (_e, sr) => (function* () { yield hello; sr(ok, [plain]); })() },
  { id: 'app.start-before-body', side: 'application', name: 'an empty body and no startResponse at all', app: () => (function* () {})() },
  { id: 'app.start-before-body', side: 'application', name: 'an empty array and no startResponse', app: () => [] },
  { id: 'body.no-content', side: 'application', name: 'a body with 204', app: respond('204 No Content', [], [hello]) },
  { id: 'body.no-content', side: 'application', name: 'a body with 304, from a generator', app: respond('304 Not Modified', [], (function* () { yield hello; })()) },
  { id: 'framing.content-length.match', side: 'application', name: 'fewer bytes than Content-Length', app: respond(ok, [plain, ['Content-Length', '100']]) },
  { id: 'framing.content-length.match', side: 'application', name: 'more bytes than Content-Length, from a generator', app: respond(ok, [plain, ['Content-Length', '3']], (function* () { yield encode('ab'); yield encode('cd'); })()) },
  { id: 'framing.content-length.match', side: 'application', name: 'write() and body together exceed Content-Length', app: (_e, sr) => {
    void sr(ok, [plain, ['Content-Length', '4']])(encode('abc'));
    return [encode('de')];
  } },
  { id: 'framing.content-length.match', side: 'application', name: 'a short body from an async application', app: async (_e, sr) => {
    sr(ok, [plain, ['Content-Length', '15']]);
    return (async function* () { yield hello; })();
  } },
  { id: 'body.chunk.owned', side: 'application', name: 'a generator that reuses one buffer', app: (_e, sr) => {
    sr(ok, [plain]);
    return (function* () {
      const buffer = new Uint8Array(4);
      for (const text of ['aaaa', 'bbbb', 'cccc']) {
        buffer.set(encode(text));
        yield buffer;
      }
    })();
  } },

  // The streams.
  { id: 'input.args', side: 'application', name: 'read() with a string size', app: async (environ, sr) => {
    await environ['tsgi.input'].read('10' as unknown as number);
    sr(ok, [plain]);
    return [];
  } },
  { id: 'input.args', side: 'application', name: 'readLine() with a fraction', app: async (environ, sr) => {
    await environ['tsgi.input'].readLine(1.5);
    sr(ok, [plain]);
    return [];
  } },
  { id: 'input.args', side: 'application', name: 'readLines() with NaN', app: async (environ, sr) => {
    await environ['tsgi.input'].readLines(Number.NaN);
    sr(ok, [plain]);
    return [];
  } },
  { id: 'streams.members', side: 'application', name: 'closes tsgi.input', app: (environ, sr) => {
    (environ['tsgi.input'] as unknown as { close(): void }).close();
    sr(ok, [plain]);
    return [];
  } },
  { id: 'streams.members', side: 'application', name: 'ends tsgi.errors', app: (environ, sr) => {
    (environ['tsgi.errors'] as unknown as { end(): void }).end();
    sr(ok, [plain]);
    return [];
  } },
  { id: 'streams.members', side: 'application', name: "uses a member of the server's input stream that the spec does not list", serve: { environ: (env) => {
    (env['tsgi.input'] as Record<string, unknown>).pipe = () => {};
  } }, app: (environ, sr) => {
    (environ['tsgi.input'] as unknown as { pipe(): void }).pipe();
    sr(ok, [plain]);
    return [];
  } },
  { id: 'errors.text', side: 'application', name: 'writes bytes to tsgi.errors', app: (environ, sr) => {
    environ['tsgi.errors'].write(encode('oops') as unknown as string);
    sr(ok, [plain]);
    return [];
  } },
  { id: 'errors.text', side: 'application', name: 'writeLines() given a string', app: (environ, sr) => {
    environ['tsgi.errors'].writeLines('one line\n');
    sr(ok, [plain]);
    return [];
  } },
  { id: 'errors.text', side: 'application', name: 'writeLines() given numbers', app: (environ, sr) => {
    environ['tsgi.errors'].writeLines([1, 2] as unknown as string[]);
    sr(ok, [plain]);
    return [];
  } },
  { id: 'errors.newline', side: 'application', name: 'CRLF line endings in tsgi.errors', app: (environ, sr) => {
    environ['tsgi.errors'].write('failed\r\n');
    sr(ok, [plain]);
    return [];
  } },

  // The file wrapper.
  { id: 'file.readable', side: 'application', name: 'file_wrapper given an object without read()', app: (environ, sr) => {
    sr(ok, [plain]);
    return environ['tsgi.file_wrapper']!({} as never);
  } },
  { id: 'file.readable', side: 'application', name: "the file's read() gives a string", app: (environ, sr) => {
    sr(ok, [plain]);
    let done = false;
    return environ['tsgi.file_wrapper']!({ read: () => (done ? '' : ((done = true), 'text')) as unknown as Uint8Array });
  } },
];

