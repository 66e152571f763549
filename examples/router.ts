/**
 * A tiny router built on `shiftPathInfo` from `tsgi/util`: it mounts applications under
 * the first segment of the path and answers 404 for anything else.
 *
 * Shifting moves the segment from `PATH_INFO` to `SCRIPT_NAME`, so each mounted
 * application sees itself mounted there: `/hello/x` reaches `hello` with `SCRIPT_NAME`
 * `/hello` and `PATH_INFO` `/x`, and the URLs it builds from the environ stay right.
 *
 *     npm start -- examples/router.ts
 *     curl http://127.0.0.1:8000/where/are/we
 */
import { Buffer } from 'node:buffer';
import type { Application, StartResponse } from '../src/types.js';
import { shiftPathInfo } from '../src/util.js';
import hello from './hello.js';
import streaming from './streaming.js';

function reply(startResponse: StartResponse, status: string, text: string): Uint8Array[] {
  const body = new TextEncoder().encode(text);
  startResponse(status, [
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['Content-Length', String(body.length)],
  ]);
  return [body];
}

/** Answers 404 with the path that was not found. */
export const notFound: Application = (environ, startResponse) => {
  // The path is a byte string (the octets of the URL); show it as the UTF-8 it usually is.
  const path = Buffer.from(environ.SCRIPT_NAME + environ.PATH_INFO, 'latin1').toString('utf8');
  return reply(startResponse, '404 Not Found', `Not found: ${path}\n`);
};

/**
 * Dispatches on the first path segment: `routes[segment]` answers, with that segment
 * moved onto `SCRIPT_NAME`. The empty segment `''` is the root, `/`. Anything else goes to
 * `fallback`, with the environ as it came.
 */
export function mount(routes: Readonly<Record<string, Application>>, fallback: Application = notFound): Application {
  // A Map, not the object: `routes['constructor']` would find Object's own constructor.
  const table = new Map(Object.entries(routes));
  return (environ, startResponse) => {
    const { SCRIPT_NAME, PATH_INFO } = environ;
    // shiftPathInfo leaves `/` at the root in place (SCRIPT_NAME may not be `/`): that is the route ''.
    const atRoot = SCRIPT_NAME === '' && PATH_INFO === '/';
    const segment = atRoot ? '' : shiftPathInfo(environ);
    const app = segment === undefined ? undefined : table.get(segment);
    if (app) return app(environ, startResponse);
    environ.SCRIPT_NAME = SCRIPT_NAME;
    environ.PATH_INFO = PATH_INFO;
    return fallback(environ, startResponse);
  };
}

/** Shows where a request landed: what a mounted application sees of its path. */
export const where: Application = (environ, startResponse) =>
  reply(startResponse, '200 OK', `SCRIPT_NAME=${environ.SCRIPT_NAME}\nPATH_INFO=${environ.PATH_INFO}\n`);

const index: Application = (_environ, startResponse) =>
  reply(startResponse, '200 OK', 'Try /hello?name=you, /stream?count=3&interval=500 or /where/any/path\n');

export default mount({ '': index, hello, stream: streaming, where });
