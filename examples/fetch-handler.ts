/**
 * A fetch-style handler, `(request: Request) => Response`, run as a TSGI application with
 * `fromFetchHandler` from `tsgi/fetch`.
 *
 * Code written for the fetch convention (as on Deno, Bun or Cloudflare Workers) then
 * runs on any TSGI server, under CGI, and in `fetchApp` tests. This one is a small JSON
 * API: `GET /greet?name=Ada` greets, `POST /echo` sends back the JSON it was given.
 *
 *     npm start -- examples/fetch-handler.ts
 *     curl 'http://127.0.0.1:8000/greet?name=Ada'
 *     curl -d '{"x":1}' -H 'Content-Type: application/json' http://127.0.0.1:8000/echo
 */
import { fromFetchHandler } from '../src/fetch.js';

/** The handler itself, free of TSGI: it could be handed to `Deno.serve` as it is. */
export async function handler(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname.endsWith('/greet') && request.method === 'GET') {
    return Response.json({ hello: url.searchParams.get('name') ?? 'world' });
  }
  if (url.pathname.endsWith('/echo') && request.method === 'POST') {
    let received: unknown;
    try {
      received = await request.json();
    } catch {
      return Response.json({ error: 'the body is not JSON' }, { status: 400 });
    }
    return Response.json({ received }, { status: 201 });
  }
  return Response.json({ error: `nothing at ${request.method} ${url.pathname}` }, { status: 404 });
}

export default fromFetchHandler(handler);
