// The validator (src/validate.ts) on both sides of middleware: validator(mw(validator(app))).
// Correct middleware passes with no error and no warning; each bad middleware trips the
// requirement it is named after.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ValidationError, validator } from '../src/validate.js';
import type { Application, HeaderList, ResponseBody } from '../src/types.js';
import { badMiddleware, streaming } from './_validate-bad-middleware.js';
import { decode, encode, expectViolation, hello, helloApp, plain, serveOnce } from './_validate-harness.js';

const bounded = { timeout: 10_000 };

type Middleware = (app: Application) => Application;

interface GoodMiddleware {
  name: string;
  middleware: Middleware;
  app?: Application;
  request?: { method?: string; path?: string; query?: string };
  status: string;
  body: string;
}

const goodMiddleware: GoodMiddleware[] = [
  {
    name: 'passes the request and the body through',
    middleware: (app) => (environ, startResponse) => app(environ, startResponse),
    status: '200 OK',
    body: 'ab',
  },
  {
    name: 'transforms each chunk as it comes, and closes the wrapped body',
    middleware: (app) => (environ, startResponse) => {
      const body = app(environ, startResponse) as AsyncIterable<Uint8Array> & ResponseBody;
      return {
        async *[Symbol.asyncIterator]() {
          for await (const chunk of body) yield encode(decode(chunk).toUpperCase());
        },
        close: () => body.close?.(),
      };
    },
    status: '200 OK',
    body: 'AB',
  },
  {
    name: 'adds a header, on a copy of the list it was given',
    middleware: (app) => (environ, startResponse) =>
      app(environ, (status, headers, excInfo) => startResponse(status, [...headers, ['X-Frame-Options', 'DENY']], excInfo)),
    app: helloApp,
    status: '200 OK',
    body: 'Hello, world!\n',
  },
  {
    name: 'mounts the application under /api, moving a segment to SCRIPT_NAME',
    middleware: (app) => (environ, startResponse) => {
      environ.SCRIPT_NAME += '/api';
      environ.PATH_INFO = environ.PATH_INFO.slice(4) || '/';
      return app(environ, startResponse);
    },
    app: (environ, startResponse) => {
      startResponse('200 OK', [plain]);
      return [encode(`${environ.SCRIPT_NAME}${environ.PATH_INFO}`)];
    },
    status: '200 OK',
    body: '/api/',
  },
  {
    name: 'rewrites the request, leaving REQUEST_URI as it came (mw.rewrite)',
    middleware: (app) => (environ, startResponse) => {
      // /old/x?a=1 is served as /new/x?a=1&from=old.
      environ.PATH_INFO = environ.PATH_INFO.replace(/^\/old(?=\/|$)/, '/new');
      environ.QUERY_STRING += `${environ.QUERY_STRING ? '&' : ''}from=old`;
      return app(environ, startResponse);
    },
    app: (environ, startResponse) => {
      startResponse('200 OK', [plain]);
      return [encode(`${environ.REQUEST_URI} -> ${environ.SCRIPT_NAME}${environ.PATH_INFO}?${environ.QUERY_STRING}`)];
    },
    request: { path: '/old/x', query: 'a=1' },
    status: '200 OK',
    body: '/old/x?a=1 -> /new/x?a=1&from=old',
  },
  {
    name: 'turns an error response of the application into its own page (mw.exc-info)',
    middleware: (app) => (environ, startResponse) => {
      let failed = false;
      let head: [string, HeaderList] | undefined;
      const body = app(environ, (status, headers, excInfo) => {
        if (excInfo) failed = true;
        head = [status, headers];
        return async () => {};
      }) as Uint8Array[] & ResponseBody;
      void body.close?.();
      if (failed) {
        startResponse('502 Bad Gateway', [plain]);
        return [encode('upstream failed\n')];
      }
      startResponse(head![0], head![1]);
      return body;
    },
    app: (_environ, startResponse) => {
      startResponse('200 OK', [plain]);
      startResponse('500 Internal Server Error', [plain], new Error('broken'));
      return [encode('error')];
    },
    status: '502 Bad Gateway',
    body: 'upstream failed\n',
  },
  {
    // head.stop-early binds the server that frames the message, not middleware (spec: Wire requirements).
    name: 'reads the whole body of a HEAD request to compute a header from it',
    middleware: (app) => (environ, startResponse) => {
      let head: [string, HeaderList] | undefined;
      const body = app(environ, (status, headers) => {
        head = [status, headers];
        return async () => {};
      }) as AsyncIterable<Uint8Array> & ResponseBody;
      return {
        async *[Symbol.asyncIterator]() {
          let length = 0;
          // One chunk out (an empty one) for each chunk in (mw.pace), the head once the body is known.
          for await (const chunk of body) {
            length += chunk.length;
            yield new Uint8Array(0);
          }
          startResponse(head![0], [...head![1], ['X-Body-Length', String(length)]]);
        },
        close: () => body.close?.(),
      };
    },
    request: { method: 'HEAD' },
    status: '200 OK',
    body: '',
  },
  {
    name: "passes on what the application wrote with the write() it supplied (mw.write-own)",
    middleware: (app) => (environ, startResponse) => {
      let write: ((data: Uint8Array) => Promise<void>) | undefined;
      return app(environ, (status, headers, excInfo) => {
        write = startResponse(status, headers, excInfo);
        return (data) => write!(data);
      });
    },
    app: (_environ, startResponse) => {
      void startResponse('200 OK', [plain])(hello);
      return [];
    },
    status: '200 OK',
    body: 'Hello, world!\n',
  },
];

describe('middleware between two validators', bounded, () => {
  for (const c of goodMiddleware) {
    test(`good: ${c.name}`, async () => {
      const seen: ValidationError[] = [];
      const warnings: Error[] = [];
      const listener = (warning: Error) => void (warning.name === 'TsgiWarning' && warnings.push(warning));
      process.on('warning', listener);
      const validate = (app: Application) => validator(app, { onViolation: (error) => seen.push(error) });
      let outcome;
      try {
        outcome = await serveOnce(validate(c.middleware(validate(c.app ?? streaming('a', 'b')))), c.request ? { request: c.request } : {});
        await new Promise((resolve) => setImmediate(resolve));
      } finally {
        process.off('warning', listener);
      }
      assert.deepEqual(seen.map((e) => e.message), []);
      assert.deepEqual(warnings.map((w) => w.message), []);
      assert.deepEqual(outcome.caught, []);
      assert.equal(outcome.status, c.status);
      assert.equal(decode(outcome.body), c.body);
    });
  }

  test('good: an inner validator past its thorough phase under a fresh outer one, with an array passed through', async () => {
    const seen: ValidationError[] = [];
    const onViolation = (error: ValidationError) => void seen.push(error);
    const inner = validator(helloApp, { onViolation });
    // Past its first 256 exchanges, the inner validator hands close-less arrays over as they are.
    for (let i = 0; i < 300; i++) await serveOnce(inner);
    const outcome = await serveOnce(validator((environ, startResponse) => inner(environ, startResponse), { onViolation }));
    assert.deepEqual(seen.map((e) => e.message), []);
    assert.deepEqual(outcome.caught, []);
    assert.equal(decode(outcome.body), 'Hello, world!\n');
  });

  for (const c of badMiddleware) {
    test(`bad: ${c.id}: ${c.name}`, () => expectViolation(c));
  }
});
