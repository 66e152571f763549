// The node:http server under the test bridges (_fetch-bridge.ts, _cgi-bridge.ts), which
// host a transport as another platform would: listening, half-close, and a graceful close.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A listening bridge: its port on 127.0.0.1, and `close()`. */
export interface Bridge {
  port: number;
  /** Stops accepting, waits for running exchanges (at most 5 s), then closes every connection. */
  close(): Promise<void>;
}

/** Serves each request with `serve` on a free port of 127.0.0.1. */
export async function listenBridge(serve: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<Bridge> {
  const running = new Set<Promise<void>>();
  const server = createServer((req, res) => {
    const exchange = serve(req, res).finally(() => running.delete(exchange));
    running.add(exchange);
  });
  // A client that half-closes after its request is still waiting for the response.
  (server as typeof server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(running), new Promise((resolve) => (timer = setTimeout(resolve, 5000)))]);
      clearTimeout(timer);
      server.closeAllConnections();
      await closed;
    },
  };
}
