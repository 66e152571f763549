// Raw HTTP/1.x over node:net for tests: send exact bytes, read exact responses, with the
// conformance suite's own strict client. fetch and http.request normalise what they send
// and what they accept, so edge cases on the wire are tested with these instead. Every
// wait here is bounded.
import { WireConnection, type ReadOptions, type WireResponse } from '../conformance/_wire.js';

/** The conformance suite's client, opened on 127.0.0.1 by port, as these tests use it. */
export const WireClient = {
  open: (port: number, host = '127.0.0.1'): Promise<WireConnection> => WireConnection.open(host, port),
};

/** Sends `request` on a new connection and reads one response. */
export async function exchange(port: number, request: string | Uint8Array, options: ReadOptions = {}): Promise<WireResponse> {
  const client = await WireClient.open(port);
  try {
    client.send(request);
    return await client.readResponse(options);
  } finally {
    client.destroy();
  }
}

/** Resolves after `ms` milliseconds. */
export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until `predicate()` is true, or fails after `ms`. */
export async function until(predicate: () => boolean, ms = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(5);
  }
}
