/**
 * Hello world: the smallest complete TSGI application.
 *
 * It answers every request with a line of plain text, greeting the `name` given in the
 * query string (`/?name=Ada`), or the world.
 *
 *     npm start -- examples/hello.ts
 *     curl 'http://127.0.0.1:8000/?name=Ada'
 */
import type { Application } from '../src/types.js';

const hello: Application = (environ, startResponse) => {
  const name = new URLSearchParams(environ.QUERY_STRING).get('name') ?? 'world';
  const body = new TextEncoder().encode(`Hello, ${name}!\n`);
  // Declaring the length lets the server skip chunked encoding for a body it already knows.
  startResponse('200 OK', [
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['Content-Length', String(body.length)],
  ]);
  return [body];
};

export default hello;
