// A minimal node:http server that hands each request to a fetch handler, as Deno or Bun
// would: for running the conformance suite against toFetchHandler. It only translates.
// What a fetch platform owns, it does as they do: Node parses the request, the Headers
// object orders the response headers, and a failed body stream truncates the message.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { listenBridge, type Bridge } from './_bridge-server.js';

/** What the bridge passes as the handler's second argument, as platforms pass connection info. */
export interface BridgeInfo {
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  httpVersion: string;
}

export type BridgedHandler = (request: Request, info: BridgeInfo) => Promise<Response>;

/** Listens on a free port of 127.0.0.1; `close()` waits for running responses, as a graceful shutdown does. */
export function listenFetch(handler: BridgedHandler): Promise<Bridge> {
  return listenBridge((req, res) => bridge(handler, req, res));
}

async function bridge(handler: BridgedHandler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new Error('the client went away'));
  });
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const method = req.method ?? 'GET';
  const init: RequestInit & { duplex?: 'half' } = { method, headers, signal: controller.signal };
  if (method !== 'GET' && method !== 'HEAD') {
    init.body = Readable.toWeb(req) as ReadableStream<Uint8Array>;
    init.duplex = 'half';
  }
  let response: Response;
  try {
    const request = new Request(new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`), init);
    response = await handler(request, { remoteAddress: req.socket.remoteAddress, remotePort: req.socket.remotePort, httpVersion: req.httpVersion });
  } catch {
    if (!res.headersSent) res.destroy();
    return;
  }
  const flat: string[] = [];
  for (const [name, value] of response.headers) flat.push(name, value);
  // Node would chunk a response to HTTP/1.0 that offered TE: chunked; a platform must not
  // (RFC 9112), and the suite checks it (framing.http10-te-chunked).
  if (req.httpVersionMinor === 0) res.useChunkedEncodingByDefault = false;
  res.writeHead(response.status, response.statusText, flat);
  if (!response.body || method === 'HEAD') {
    await response.body?.cancel();
    res.end();
    return;
  }
  const reader = response.body.getReader();
  try {
    for (;;) {
      const step = await reader.read();
      if (step.done) break;
      if (!res.write(step.value)) await new Promise((resolve) => res.once('drain', resolve));
    }
    res.end();
  } catch {
    // A failed body: send what was written, then close without completing the message.
    const socket = res.socket;
    if (!socket) return void res.destroy();
    socket.end();
    setTimeout(() => socket.destroy(), 1000).unref();
  }
}
