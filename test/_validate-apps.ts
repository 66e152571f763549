// Applications that obey the contract in every way the validator can see: each must pass
// through `validator()` with no error and no warning, on the fake server and on the
// reference gateway core. Shared by validate.test.ts and validate-handler.test.ts.
import { Readable } from 'node:stream';
import { encode, hello, plain, sleep, type Request } from './_validate-harness.js';
import type { Application, Environ, ResponseBody } from '../src/types.js';

export interface GoodCase {
  name: string;
  app: Application;
  request?: Request;
  /** The status the client gets. */
  status: string;
  /** The body the client gets, as text. */
  body: string;
  /** An error the application means to end with (excInfo after the headers went out). */
  ends?: 'aborted';
}

const text = (environ: Environ, value: string) => encode(`${environ.REQUEST_METHOD} ${value}`);
const ok = '200 OK';

export const goodApps: GoodCase[] = [
  {
    name: 'sync, an array of one chunk',
    app: (_environ, startResponse) => {
      startResponse(ok, [plain]);
      return [hello];
    },
    status: ok,
    body: 'Hello, world!\n',
  },
  {
    name: 'async, awaiting before startResponse',
    app: async (environ, startResponse) => {
      await sleep(1);
      startResponse(ok, [plain, ['Content-Length', '7']]);
      return [text(environ, 'hi\n')];
    },
    status: ok,
    body: 'GET hi\n',
  },
  {
    name: 'a generator that calls startResponse in its first step (app.start-lazily)',
    app: (_environ, startResponse) =>
      (function* () {
        startResponse(ok, [plain]);
        yield encode('a');
        yield encode('b');
      })(),
    status: ok,
    body: 'ab',
  },
  {
    name: 'empty chunks before a late startResponse (send.empty-chunk)',
    app: (_environ, startResponse) =>
      (async function* () {
        yield new Uint8Array(0);
        await sleep(1);
        yield new Uint8Array(0);
        startResponse(ok, [plain]);
        yield encode('late');
      })(),
    status: ok,
    body: 'late',
  },
  {
    name: 'an async generator that matches its Content-Length',
    app: (_environ, startResponse) => {
      startResponse(ok, [plain, ['content-length', '5']]);
      return (async function* () {
        yield encode('Hel');
        await sleep(1);
        yield encode('lo');
      })();
    },
    status: ok,
    body: 'Hello',
  },
  {
    name: 'write() only, then an empty array (write.return-body)',
    app: (_environ, startResponse) => {
      const write = startResponse(ok, [plain]);
      void write(encode('one '));
      void write(encode('two'));
      return [];
    },
    status: ok,
    body: 'one two',
  },
  {
    name: 'awaited write() followed by a body (write.then-body)',
    app: async (_environ, startResponse) => {
      const write = startResponse(ok, [plain, ['Content-Length', '6']]);
      await write(encode('abc'));
      await write(new Uint8Array(0));
      return [encode('def')];
    },
    status: ok,
    body: 'abcdef',
  },
  {
    name: 'excInfo replaces a response that was not sent (exc.replace)',
    app: (_environ, startResponse) => {
      try {
        startResponse(ok, [['Content-Type', 'application/json']]);
        throw new Error('compute failed');
      } catch (error) {
        startResponse('500 Internal Server Error', [plain], error);
        return [encode('Something went wrong.\n')];
      }
    },
    status: '500 Internal Server Error',
    body: 'Something went wrong.\n',
  },
  {
    name: 'excInfo on the first call, from an error handler',
    app: (_environ, startResponse) => {
      try {
        throw new Error('early');
      } catch (error) {
        startResponse('503 Service Unavailable', [plain], error);
        return [encode('later\n')];
      }
    },
    status: '503 Service Unavailable',
    body: 'later\n',
  },
  {
    name: 'excInfo after the headers went out, rethrown and not caught (exc.rethrow, exc.no-catch)',
    app: (_environ, startResponse) =>
      (function* () {
        startResponse(ok, [plain]);
        yield encode('partial');
        try {
          throw new Error('late failure');
        } catch (error) {
          startResponse('500 Internal Server Error', [plain], error); // throws error back
        }
        yield encode('never');
      })(),
    status: ok,
    body: 'partial',
    ends: 'aborted',
  },
  {
    name: 'HEAD, with the GET body and its Content-Length (head.app-body)',
    request: { method: 'HEAD' },
    app: (_environ, startResponse) => {
      startResponse(ok, [plain, ['Content-Length', String(hello.length)]]);
      return [hello];
    },
    status: ok,
    body: '',
  },
  {
    name: 'HEAD, with an endless generator the server stops',
    request: { method: 'HEAD' },
    app: (_environ, startResponse) => {
      startResponse(ok, [plain]);
      return (function* () {
        for (;;) yield encode('more ');
      })();
    },
    status: ok,
    body: '',
  },
  {
    name: '304 with the Content-Length of the GET body, and no body',
    app: (_environ, startResponse) => {
      startResponse('304 Not Modified', [['Content-Length', '1234'], ['ETag', '"x"']]);
      return [];
    },
    status: '304 Not Modified',
    body: '',
  },
  {
    name: '204 with an empty chunk',
    app: (_environ, startResponse) => {
      startResponse('204 No Content', []);
      return [new Uint8Array(0)];
    },
    status: '204 No Content',
    body: '',
  },
  {
    name: 'a 302 without Content-Type or body (wsgiref wrongly demands one)',
    app: (_environ, startResponse) => {
      startResponse('302 Found', [['Location', '/elsewhere']]);
      return [];
    },
    status: '302 Found',
    body: '',
  },
  {
    name: 'a TAB inside a header value and a latin-1 reason phrase (both allowed)',
    app: (_environ, startResponse) => {
      startResponse('200 Tr\u00e8s bien', [plain, ['X-List', 'a\tb'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']]);
      return [hello];
    },
    status: '200 Tr\u00e8s bien',
    body: 'Hello, world!\n',
  },
  {
    name: 'reads the whole body with read() and no size (wsgiref wrongly requires one)',
    request: { method: 'POST', body: encode('posted data') },
    app: async (environ, startResponse) => {
      const body = await environ['tsgi.input'].read();
      startResponse(ok, [['Content-Type', 'application/octet-stream']]);
      return [body];
    },
    status: ok,
    body: 'posted data',
  },
  {
    name: 'reads with read(0), read(size), readLine, readLines, iteration and after the end',
    request: { method: 'PUT', body: encode('ab\ncd\nef\ngh\nrest of it') },
    app: async (environ, startResponse) => {
      const input = environ['tsgi.input'];
      const parts: Uint8Array[] = [await input.read(0), await input.read(1), await input.readLine(), await input.readLine(1)];
      parts.push(...(await input.readLines(3)));
      for await (const chunk of input) parts.push(chunk);
      parts.push(await input.read(), await input.readLine(), ...(await input.readLines()));
      startResponse(ok, [plain]);
      return parts.filter((part) => part.length);
    },
    status: ok,
    body: 'ab\ncd\nef\ngh\nrest of it',
  },
  {
    name: 'logs text to tsgi.errors and awaits flush()',
    app: async (environ, startResponse) => {
      const errors = environ['tsgi.errors'];
      errors.write('one line\n');
      errors.writeLines(['two\n', 'three\n']);
      errors.writeLines(new Set(['four\n']));
      await errors.flush();
      startResponse(ok, [plain]);
      return [hello];
    },
    status: ok,
    body: 'Hello, world!\n',
  },
  {
    name: 'sends a file through tsgi.file_wrapper, with a fallback',
    app: (environ, startResponse) => {
      const data = encode('file contents');
      let at = 0;
      const file = {
        read: async (size: number) => data.slice(at, (at += size)),
        close: () => {},
      };
      startResponse(ok, [plain]);
      const wrap = environ['tsgi.file_wrapper'];
      return wrap ? wrap(file, 4) : [data];
    },
    status: ok,
    body: 'file contents',
  },
  {
    name: 'a Node Readable as the body',
    app: (_environ, startResponse) => {
      startResponse(ok, [plain]);
      return Readable.from([encode('from '), encode('a stream')]);
    },
    status: ok,
    body: 'from a stream',
  },
  {
    name: 'a web ReadableStream as the body',
    app: (_environ, startResponse) => {
      startResponse(ok, [plain]);
      return new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(encode('web '));
          controller.enqueue(encode('stream'));
          controller.close();
        },
      }) as unknown as ResponseBody;
    },
    status: ok,
    body: 'web stream',
  },
  {
    name: 'an iterable object of its own, with a close() that returns a Promise',
    app: (_environ, startResponse) => {
      startResponse(ok, [plain]);
      return {
        *[Symbol.iterator]() {
          yield Buffer.from('buffer ');
          yield encode('chunks');
        },
        close: () => sleep(1),
      };
    },
    status: ok,
    body: 'buffer chunks',
  },
  {
    name: 'a body with both iteration methods',
    app: (_environ, startResponse) => {
      startResponse(ok, [plain]);
      return {
        *[Symbol.iterator]() {
          yield encode('sync');
        },
        async *[Symbol.asyncIterator]() {
          yield encode('async');
        },
      };
    },
    status: ok,
    body: 'async',
  },
  {
    name: 'Content-Length: 0 and an empty body',
    app: (_environ, startResponse) => {
      startResponse(ok, [['Content-Length', '0']]);
      return [];
    },
    status: ok,
    body: '',
  },
  {
    name: 'watches tsgi.signal between chunks',
    app: (environ, startResponse) => {
      const signal = environ['tsgi.signal'];
      startResponse(ok, [['Content-Type', 'text/event-stream']]);
      return (async function* () {
        for (let i = 0; i < 3 && !signal.aborted; i++) yield encode(`data: ${i}\n\n`);
      })();
    },
    status: ok,
    body: 'data: 0\n\ndata: 1\n\ndata: 2\n\n',
  },
  {
    name: 'changes the environ (app.environ.modify) and returns a Promise of a generator',
    request: { path: '/api/users' },
    app: async (environ, startResponse) => {
      environ.SCRIPT_NAME = '/api';
      environ.PATH_INFO = '/users';
      environ['myapp.user'] = 'someone';
      startResponse(ok, [plain]);
      return (function* () {
        yield encode(`${environ.SCRIPT_NAME}|${environ.PATH_INFO}`);
      })();
    },
    status: ok,
    body: '/api|/users',
  },
];
