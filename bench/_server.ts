// A benchmark target, run as its own process so that its memory is measured alone:
//   node --import tsx bench/_server.ts <raw|tsgi|validated> <hello|stream|upload>
// It prints its port on the first line of stdout, then serves until killed.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as Server from '../src/server.js';
import type * as Validate from '../src/validate.js';
import type { Application } from '../src/types.js';

// The compiled package, as users run it (`npm run bench` builds first). Loaded by URL so
// that type-checking a fresh clone, which has no dist/, does not depend on a build.
const { serve } = (await import(new URL('../dist/src/server.js', import.meta.url).href)) as typeof Server;
const { validator } = (await import(new URL('../dist/src/validate.js', import.meta.url).href)) as typeof Validate;

const [kind = 'tsgi', scenario = 'hello'] = process.argv.slice(2);
const HELLO = Buffer.from('Hello, world!\n');
const CHUNK = Buffer.alloc(64 * 1024, 'x');
export const STREAM_BYTES = 1024 ** 3;

/** The same 1 GiB, 64 KiB at a time, for both servers. */
async function* gibibyte(): AsyncGenerator<Uint8Array> {
  for (let sent = 0; sent < STREAM_BYTES; sent += CHUNK.length) yield CHUNK;
}

const apps: Record<string, Application> = {
  hello: (_environ, startResponse) => {
    startResponse('200 OK', [
      ['Content-Type', 'text/plain'],
      ['Content-Length', String(HELLO.length)],
    ]);
    return [HELLO];
  },
  stream: (_environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
    return gibibyte();
  },
  upload: async (environ, startResponse) => {
    let total = 0;
    for await (const chunk of environ['tsgi.input']) total += chunk.length;
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return [Buffer.from(`${total}\n`)];
  },
};

// The same bytes as tsgi sends: its responses carry a Server header too.
const listeners: Record<string, http.RequestListener> = {
  hello: (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': String(HELLO.length), Server: 'tsgi' });
    res.end(HELLO);
  },
  stream: async (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', Server: 'tsgi' });
    for await (const chunk of gibibyte()) {
      if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
    }
    res.end();
  },
  upload: async (req, res) => {
    let total = 0;
    for await (const chunk of req) total += (chunk as Buffer).length;
    res.writeHead(200, { 'Content-Type': 'text/plain', Server: 'tsgi' });
    res.end(`${total}\n`);
  },
};

if (kind === 'raw') {
  const server = http.createServer(listeners[scenario]);
  server.listen(0, '127.0.0.1', () => console.log((server.address() as AddressInfo).port));
} else {
  const app = apps[scenario]!;
  const server = await serve(kind === 'validated' ? validator(app) : app, { port: 0, quiet: true });
  console.log(server.port);
}
