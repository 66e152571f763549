/**
 * A middleware: `accessLog(app)` times each request, adds a `Server-Timing` header, and
 * writes one line per request to `tsgi.errors` once the response is over.
 *
 * A middleware is an application to its server and a server to the application it wraps.
 * This one shows the three places to hook in: `startResponse` (to add a header), the body
 * (passed through chunk by chunk, counting bytes) and `close()` (the one moment a request
 * is known to be finished, however it ended).
 *
 *     npm start -- examples/middleware.ts
 *     curl -i http://127.0.0.1:8000/
 */
import { performance } from 'node:perf_hooks';
import type { Application, ResponseBody } from '../src/types.js';
import hello from './hello.js';

const ms = (since: number) => (performance.now() - since).toFixed(1);

/** Wraps `app` to add `Server-Timing` (time until its headers) and log each request to `tsgi.errors`. */
export function accessLog(app: Application): Application {
  return async (environ, startResponse) => {
    const started = performance.now();
    // Read before the application runs: a router below shifts PATH_INFO in place.
    const { REQUEST_METHOD, SCRIPT_NAME, PATH_INFO, QUERY_STRING, SERVER_PROTOCOL, REMOTE_ADDR } = environ;
    const target = SCRIPT_NAME + PATH_INFO + (QUERY_STRING ? `?${QUERY_STRING}` : '');
    let status = '-';
    let bytes = 0;
    const body: ResponseBody = await app(environ, (statusLine, headers, excInfo) => {
      status = statusLine.slice(0, 3);
      const write = startResponse(statusLine, [...headers, ['Server-Timing', `app;dur=${ms(started)}`]], excInfo);
      // Bytes sent through the legacy write() count too.
      return (data) => {
        bytes += data.length;
        return write(data);
      };
    });
    return {
      // Chunk for chunk, and only when the server asks: the wrapped body keeps its pace,
      // and a server that stops early stops it too (for await calls its return()).
      async *[Symbol.asyncIterator]() {
        for await (const chunk of body) {
          bytes += chunk.length;
          yield chunk;
        }
      },
      async close() {
        try {
          await body.close?.();
        } finally {
          const line = `${REMOTE_ADDR} "${REQUEST_METHOD} ${target} ${SERVER_PROTOCOL}" ${status} ${bytes} ${ms(started)}ms\n`;
          environ['tsgi.errors'].write(line);
        }
      },
    };
  };
}

export default accessLog(hello);
