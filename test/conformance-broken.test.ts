// Proof that the suite catches what it claims to: deliberately broken variants of the
// reference setup (toNodeListener on node:http), each one small change away from it, must
// fail the case that names the requirement they break, and still pass unrelated cases.
// The changes are made from outside src/: an app wrapper inside the server, a modified
// environ, a patched ServerResponse, or a different node:http setting.
import assert from 'node:assert/strict';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { describe, test } from 'node:test';
import { formatReport, runServerConformance, type RequirementId } from '../conformance/index.js';
import type { Application, Environ, HeaderList, InputStream, ResponseBody, StartResponse } from '../src/types.js';
import { plainServerTarget, type PlainServerSetup } from './_conformance.js';

type Chunks = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** Calls `app`, then passes its body through `map`; keeps its close() unless `keepClose` is false. */
function mapBody(app: Application, map: (body: Chunks) => AsyncIterable<Uint8Array>, keepClose = true): Application {
  return async (environ, startResponse) => {
    const body = await app(environ, startResponse);
    const mapped = map(body) as ResponseBody;
    if (keepClose && typeof body.close === 'function') return Object.assign(mapped, { close: () => body.close?.() });
    return mapped;
  };
}

/** Changes the environ before the application sees it. */
function withEnviron(change: (environ: Environ, req: IncomingMessage) => void): NonNullable<PlainServerSetup['app']> {
  return (app, req) => (environ, startResponse) => {
    change(environ, req);
    return app(environ, startResponse);
  };
}

/** Rewrites the flat header list (and status) that reaches `res.writeHead`. */
function patchWriteHead(res: ServerResponse, change: (code: number, reason: string, flat: string[]) => [number, string, string[]]): void {
  type Headers = ReadonlyArray<string | readonly [string, string]>;
  const original = res.writeHead.bind(res) as unknown as (code: number, reason: string, headers: Headers) => ServerResponse;
  // The transport hands Node [name, value] pairs (or a flat list): the change sees a flat copy.
  (res as unknown as { writeHead: typeof original }).writeHead = (code, reason, headers) =>
    original(...change(code, reason, headers.flat() as string[]));
}

const flatten = (headers: HeaderList) => headers.flatMap(([n, v]) => [n, v]);

interface Broken {
  /** What is wrong with it. */
  readonly what: string;
  readonly setup: PlainServerSetup;
  /** The case that must fail, and the requirement its first failure must name. */
  readonly fails: string;
  readonly requirement: RequirementId;
}

const broken: Broken[] = [
  {
    what: 'never calls close()',
    setup: { app: (app) => mapBody(app, (body) => (async function* () { yield* body; })(), false) },
    fails: 'body.close-on-complete',
    requirement: 'close.once',
  },
  {
    what: 'sends the head on an empty chunk',
    setup: {
      app: (app, _req, res) => (environ, startResponse) => {
        let head: [string, HeaderList] | undefined;
        const flush = () => {
          if (!head || res.headersSent) return;
          const [status, headers] = head;
          res.writeHead(Number(status.slice(0, 3)), status.slice(4), flatten(headers));
          res.flushHeaders();
          (res as unknown as { writeHead: () => ServerResponse }).writeHead = () => res;
        };
        const start: StartResponse = (status, headers, excInfo) => {
          head = [status, headers];
          return startResponse(status, headers, excInfo);
        };
        return mapBody(app, (body) =>
          (async function* () {
            for await (const chunk of body) {
              if (chunk.length === 0) flush();
              yield chunk;
            }
          })(),
        )(environ, start);
      },
    },
    fails: 'body.empty-chunk-sends-nothing',
    requirement: 'send.empty-chunk',
  },
  {
    what: 'does not percent-decode PATH_INFO',
    setup: { app: withEnviron((environ) => void (environ.PATH_INFO = (environ.REQUEST_URI ?? '').split('?')[0] ?? '')) },
    fails: 'environ.path-utf8',
    requirement: 'env.path-info.decoded',
  },
  {
    what: 'maps headers whose names hold _ onto HTTP_ keys',
    setup: {
      app: withEnviron((environ, req) => {
        for (let i = 0; i < req.rawHeaders.length; i += 2) {
          const name = req.rawHeaders[i] ?? '';
          if (name.includes('_')) (environ as unknown as Record<string, string>)[`HTTP_${name.toUpperCase().replaceAll('-', '_')}`] = req.rawHeaders[i + 1] ?? '';
        }
      }),
    },
    fails: 'environ.header-underscore',
    requirement: 'env.http.name-charset',
  },
  {
    what: 'does not enforce Content-Length',
    setup: {
      app: (app, _req, res) => (environ, startResponse) =>
        app(environ, (status, headers, excInfo) => {
          const length = headers.find(([name]) => name.toLowerCase() === 'content-length');
          if (length) patchWriteHead(res, (code, reason, flat) => [code, reason, [...flat, 'Content-Length', length[1]]]);
          return startResponse(status, headers.filter((header) => header !== length), excInfo);
        }),
    },
    fails: 'framing.overrun',
    requirement: 'framing.content-length.no-overrun',
  },
  {
    what: 'sends a body in answer to HEAD',
    setup: {
      request(req, res) {
        if (req.method !== 'HEAD') return;
        req.method = 'GET';
        (res as unknown as { _hasBody: boolean })._hasBody = true;
      },
    },
    fails: 'head.array-body',
    requirement: 'head.no-body',
  },
  {
    what: 'sends 100 Continue before the application reads (no checkContinue listener)',
    setup: { checkContinue: false },
    fails: 'expect.on-first-read',
    requirement: 'expect.not-early',
  },
  {
    what: 'adds no Date header',
    setup: { request: (_req, res) => void (res.sendDate = false) },
    fails: 'response.date',
    requirement: 'header.date',
  },
  {
    what: 'merges repeated response headers, Set-Cookie included',
    setup: {
      request: (_req, res) =>
        patchWriteHead(res, (code, reason, flat) => {
          const merged = new Map<string, [string, string]>();
          for (let i = 0; i < flat.length; i += 2) {
            const [name, value] = [flat[i] ?? '', flat[i + 1] ?? ''];
            const earlier = merged.get(name.toLowerCase());
            merged.set(name.toLowerCase(), earlier ? [earlier[0], `${earlier[1]}, ${value}`] : [name, value]);
          }
          return [code, reason, [...merged.values()].flat()];
        }),
    },
    fails: 'response.header-order',
    requirement: 'header.order',
  },
  {
    what: 'replaces the reason phrase with the standard one',
    setup: { request: (_req, res) => patchWriteHead(res, (code, _reason, flat) => [code, STATUS_CODES[code] ?? '', flat]) },
    fails: 'response.status-line',
    requirement: 'status.sent-as-is',
  },
  {
    what: 'aborts tsgi.signal when the request body ends',
    setup: {
      app: withEnviron((environ, req) => {
        const controller = new AbortController();
        const fire = () => controller.abort(new Error('the request ended'));
        if (req.complete) fire();
        else req.once('end', fire);
        environ['tsgi.signal'] = controller.signal;
      }),
    },
    fails: 'disconnect.after-body-read',
    requirement: 'disconnect.no-false-abort',
  },
  {
    what: 'never aborts tsgi.signal',
    setup: { app: withEnviron((environ) => void (environ['tsgi.signal'] = new AbortController().signal)) },
    fails: 'disconnect.streaming',
    requirement: 'disconnect.signal',
  },
  {
    what: 'makes reads past the end of the body wait',
    setup: {
      app: withEnviron((environ) => {
        const input = environ['tsgi.input'];
        let ended = false;
        const slow: InputStream = {
          async read(size?: number) {
            if (ended) await new Promise((resolve) => setTimeout(resolve, 800));
            const chunk = await input.read(size);
            if (size === undefined || chunk.length === 0) ended = true;
            return chunk;
          },
          readLine: (size) => input.readLine(size),
          readLines: (hint) => input.readLines(hint),
          [Symbol.asyncIterator]: () => input[Symbol.asyncIterator](),
        };
        environ['tsgi.input'] = slow;
      }),
    },
    fails: 'input.after-end',
    requirement: 'input.no-hang',
  },
  {
    what: 'completes the message normally when the body fails after the head',
    setup: {
      app: (app) =>
        mapBody(app, (body) =>
          (async function* () {
            try {
              yield* body;
            } catch {
              // Swallowed: the message ends as if the body had finished.
            }
          })(),
        ),
    },
    fails: 'errors.after-head',
    requirement: 'error.after-headers',
  },
  {
    what: 'does not require Host on HTTP/1.1',
    setup: { server: { requireHostHeader: false } },
    fails: 'malformed.no-host',
    requirement: 'request.host',
  },
  {
    what: 'treats a half-closed connection as gone (httpAllowHalfOpen not set)',
    setup: { halfOpen: false },
    fails: 'disconnect.half-close',
    requirement: 'disconnect.no-false-abort',
  },
  {
    what: 'percent-decodes QUERY_STRING',
    setup: { app: withEnviron((environ) => void (environ.QUERY_STRING = decodeURIComponent(environ.QUERY_STRING))) },
    fails: 'environ.query-raw',
    requirement: 'env.query-string',
  },
  {
    what: 'overlaps calls while tsgi.multithread says it does not',
    setup: { app: withEnviron((environ) => void (environ['tsgi.multithread'] = false)) },
    fails: 'environ.multithread',
    requirement: 'concurrency.multithread',
  },
];

/** Cases every broken server still passes: each is broken in one place only. */
const CONTROL = ['environ.required-keys', 'body.generator', 'input.read-all'];

describe('broken servers fail the case that names what they break', () => {
  test(`there are at least 12 of them (${broken.length})`, () => {
    assert.ok(broken.length >= 12);
  });

  for (const b of broken) {
    test(`a server that ${b.what} fails ${b.fails} [${b.requirement}]`, async () => {
      const report = await runServerConformance(plainServerTarget(`broken: ${b.what}`, b.setup), { only: [b.fails, ...CONTROL] });
      const result = report.results.find((r) => r.id === b.fails);
      assert.equal(result?.status, 'fail', formatReport(report));
      assert.equal(result?.requirement, b.requirement, formatReport(report));
      for (const control of report.results.filter((r) => r.id !== b.fails)) {
        assert.equal(control.status, 'pass', `${control.id}\n${formatReport(report)}`);
      }
    });
  }
});
