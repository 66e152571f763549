// Middleware that breaks the contract between two validators (one outside it, one around
// the application it calls), named by the requirement the validator must report first.
// Middleware is a server to the application it wraps: its faults there are on the
// server's side. Used by validate-middleware.test.ts.
import type { Application, ResponseBody } from '../src/types.js';
import { type BadCase, concat, encode, hello, plain } from './_validate-harness.js';

/** An application whose body is an async generator of `texts`. */
export const streaming =
  (...texts: string[]): Application =>
  (_environ, startResponse) => {
    startResponse('200 OK', [plain]);
    return (async function* () {
      for (const text of texts) yield encode(text);
    })();
  };

type Middleware = (app: Application) => Application;

/** validator(middleware(validator(app))): both sides of the middleware checked. */
const around =
  (middleware: Middleware, app: Application = streaming('a', 'b')): NonNullable<BadCase['wrap']> =>
  (validate) =>
    validate(middleware(validate(app)));

const close = (body: ResponseBody): void | Promise<void> => body.close?.();

export const badMiddleware: BadCase[] = [
  {
    id: 'mw.return-promptly',
    side: 'server',
    name: 'reads the whole wrapped body before returning its own',
    wrap: around((app) => async (environ, startResponse) => {
      const body = (await app(environ, startResponse)) as AsyncIterable<Uint8Array> & ResponseBody;
      const chunks: Uint8Array[] = [];
      try {
        for await (const chunk of body) chunks.push(chunk);
      } finally {
        await close(body);
      }
      return [concat(chunks)];
    }),
  },
  {
    id: 'mw.pace',
    side: 'server',
    name: 'a body that gathers the wrapped chunks into one',
    wrap: around((app) => (environ, startResponse) => {
      const body = app(environ, startResponse) as AsyncIterable<Uint8Array> & ResponseBody;
      return {
        async *[Symbol.asyncIterator]() {
          const chunks: Uint8Array[] = [];
          for await (const chunk of body) chunks.push(chunk);
          yield concat(chunks);
        },
        close: () => close(body),
      };
    }),
  },
  {
    id: 'mw.pace',
    side: 'server',
    name: 'a body that drops the empty chunks of the wrapped body',
    wrap: around(
      (app) => (environ, startResponse) => {
        const body = app(environ, startResponse) as AsyncIterable<Uint8Array> & ResponseBody;
        return {
          async *[Symbol.asyncIterator]() {
            for await (const chunk of body) if (chunk.length) yield chunk;
          },
          close: () => close(body),
        };
      },
      (_environ, startResponse) => {
        startResponse('200 OK', [plain]);
        return (async function* () {
          yield new Uint8Array(0);
          yield hello;
        })();
      },
    ),
  },
  {
    id: 'mw.write-passthrough',
    side: 'application',
    name: "passes the wrapped body's chunks to its server's write()",
    wrap: around(
      (app) => (environ, startResponse) => {
        let write: ((data: Uint8Array) => Promise<void>) | undefined;
        const body = app(environ, (status, headers, excInfo) => (write = startResponse(status, headers, excInfo))) as Uint8Array[] & ResponseBody;
        for (let i = 0; i < body.length; i++) void write?.(body[i]!);
        void close(body);
        return [];
      },
      (_environ, startResponse) => {
        startResponse('200 OK', [plain]);
        return [hello];
      },
    ),
  },
  {
    id: 'mw.close-inner',
    side: 'server',
    name: 'replaces the body and never closes the wrapped one',
    wrap: around((app) => (environ, startResponse) => {
      const body = app(environ, startResponse) as AsyncIterable<Uint8Array>;
      return (async function* () {
        for await (const chunk of body) yield chunk;
      })();
    }),
  },
];
