// The application and middleware batteries: what counts as a failure signal in the error
// log, how the report prints findings without a requirement, and the headers option.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import zlib from 'node:zlib';
import { formatReport, runAppConformance, runMiddlewareConformance, type ConformanceReport } from '../conformance/index.js';
import { buildReport } from '../conformance/report.js';
import { accessLog } from '../examples/middleware.js';
import { ResponseHeaders } from '../src/headers.js';
import type { Application, HeaderList, ResponseBody, StartResponse } from '../src/types.js';

const encode = (text: string) => new TextEncoder().encode(text);
const TEXT: [string, string] = ['Content-Type', 'text/plain'];

const findings = (report: ConformanceReport) => report.results.flatMap((r) => [...r.failures, ...r.warnings]);

describe('the error log: only what the server caught is a failure signal', () => {
  test('a middleware that writes an access line to tsgi.errors passes with no findings', async () => {
    const report = await runMiddlewareConformance(accessLog);
    assert.equal(report.ok, true, formatReport(report));
    assert.deepEqual(findings(report), [], formatReport(report));
  });

  test('an application that logs to tsgi.errors (write and writeLines, even text that looks like the server) passes with no findings', async () => {
    const chatty: Application = (environ, startResponse) => {
      environ['tsgi.errors'].write(`served ${environ.REQUEST_METHOD} ${environ.PATH_INFO}\n`);
      environ['tsgi.errors'].writeLines(['tsgi: application error in GET /: not really\n', 'second line\n']);
      startResponse('200 OK', [TEXT]);
      return [encode('ok')];
    };
    const report = await runAppConformance(chatty, { only: ['app.get', 'app.head', 'app.post-form', 'app.client-gone'] });
    assert.equal(report.ok, true, formatReport(report));
    assert.deepEqual(findings(report), [], formatReport(report));
  });

  test('an application that throws is still reported as failing, on every request, with what the server logged', async () => {
    const throwing: Application = (environ) => {
      environ['tsgi.errors'].write('about to fail\n');
      throw new Error('boom');
    };
    const report = await runAppConformance(throwing, { only: ['app.get', 'app.head', 'app.post-form'] });
    assert.equal(report.results.length, 3);
    for (const result of report.results) {
      assert.equal(result.warnings.length, 1, formatReport(report));
      const [warning] = result.warnings;
      assert.match(warning!.message, /^the application failed: tsgi: application error in (GET|HEAD|POST) \/: Error: boom/);
      assert.doesNotMatch(warning!.message, /about to fail/);
      assert.equal(warning!.source, 'runner');
    }
    assert.match(formatReport(report), /warning: the application failed: tsgi: application error in GET \/: Error: boom/);
  });

  test('a body whose close() throws is reported too', async () => {
    const failingClose: Application = (_environ, startResponse) => {
      startResponse('200 OK', [TEXT]);
      return Object.assign([encode('x')], {
        close() {
          throw new Error('close broke');
        },
      });
    };
    const report = await runAppConformance(failingClose, { only: ['app.get'] });
    assert.match(report.results[0]!.warnings[0]?.message ?? '', /close\(\) failed in GET \/: Error: close broke/, formatReport(report));
  });
});

describe('formatReport never prints an undefined requirement or level', () => {
  test('findings without a requirement print without brackets', () => {
    const runner = { requirement: undefined, level: undefined, source: 'runner' } as const;
    const report = buildReport({
      kind: 'application',
      name: 'made up',
      capabilities: undefined,
      ms: 1,
      results: [
        {
          id: 'app.get',
          section: 'app',
          description: 'GET / (the root)',
          requirements: ['app.return'],
          status: 'fail',
          requirement: undefined,
          failures: [
            { ...runner, message: 'no usable response: timed out' },
            { requirement: 'app.return', level: 'MUST', message: 'returned nothing', source: 'validator' },
          ],
          warnings: [
            { ...runner, message: 'the application failed: tsgi: application error' },
            { requirement: 'header.content-type', level: 'SHOULD', message: 'no Content-Type', source: 'validator' },
          ],
          ms: 1,
        },
      ],
    });
    const text = formatReport(report);
    assert.doesNotMatch(text, /undefined/);
    assert.match(text, /^ {10}no usable response: timed out$/m);
    assert.match(text, /^ {10}\[app\.return\] MUST: returned nothing$/m);
    assert.match(text, /^ {10}warning: the application failed: tsgi: application error$/m);
    assert.match(text, /^ {10}warning \[header\.content-type\] SHOULD: no Content-Type$/m);
  });

  test('a real report of a failing application prints no undefined either', async () => {
    const report = await runAppConformance(() => {
      throw new Error('boom');
    }, { only: ['app.get', 'app.repeated-and-overlapping'] });
    assert.doesNotMatch(formatReport(report), /undefined/);
  });
});

/** A gzip stream that answers each chunk with the bytes a client can decode at once. */
class Gzipper {
  readonly #gzip = zlib.createGzip();
  readonly #out: Buffer[] = [];
  constructor() {
    this.#gzip.on('data', (data: Buffer) => this.#out.push(data));
  }
  async push(chunk: Uint8Array): Promise<Uint8Array> {
    this.#gzip.write(chunk);
    await new Promise<void>((resolve) => this.#gzip.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()));
    return Buffer.concat(this.#out.splice(0));
  }
  async end(): Promise<Uint8Array> {
    const ended = once(this.#gzip, 'end');
    this.#gzip.end();
    await ended;
    return Buffer.concat(this.#out.splice(0));
  }
  destroy(): void {
    this.#gzip.destroy();
  }
}

/** A streaming gzip middleware (as in the middleware guide) that counts the responses it compressed. */
function gzip(app: Application, compressed: { count: number }): Application {
  return async (environ, startResponse) => {
    const accepted = /\bgzip\b/i.test(environ.HTTP_ACCEPT_ENCODING ?? '');
    let gzipper: Gzipper | undefined;
    let compress = false;
    const start: StartResponse = (status, headers, excInfo) => {
      const list = new ResponseHeaders(headers);
      const code = Number(status.slice(0, 3));
      compress = accepted && code !== 204 && code !== 304 && !list.has('Content-Encoding');
      list.add('Vary', 'Accept-Encoding');
      if (compress) {
        list.delete('Content-Length');
        list.set('Content-Encoding', 'gzip');
        compressed.count++;
      }
      return startResponse(status, list.toList(), excInfo);
    };
    const inner = await app(environ, start);
    const body: ResponseBody = (async function* () {
      for await (const chunk of inner) {
        if (!compress || chunk.length === 0) yield chunk;
        else yield await (gzipper ??= new Gzipper()).push(chunk);
      }
      if (compress) yield await (gzipper ??= new Gzipper()).end();
    })();
    return Object.assign(body, {
      async close() {
        gzipper?.destroy();
        await inner.close?.();
      },
    });
  };
}

describe('the headers option', () => {
  test('reaches the environ of every call as HTTP_*, and a case keeps its own header of the same name', async () => {
    const seen: Array<{ encoding: string | undefined; accept: string | undefined; token: string | undefined }> = [];
    const recording: Application = (environ, startResponse) => {
      seen.push({ encoding: environ.HTTP_ACCEPT_ENCODING, accept: environ.HTTP_ACCEPT, token: environ.HTTP_X_TOKEN });
      startResponse('200 OK', [TEXT]);
      return [encode('ok')];
    };
    const report = await runAppConformance(recording, {
      headers: [['Accept-Encoding', 'gzip'], ['Accept', 'text/plain'], ['X-Token', 'secret']],
    });
    assert.equal(report.ok, true, formatReport(report, { failuresOnly: true }));
    assert.ok(seen.length >= report.results.length);
    assert.ok(seen.every((call) => call.encoding === 'gzip' && call.token === 'secret'), JSON.stringify(seen));
    // app.headers sends Accept twice itself: the option adds no third.
    assert.ok(seen.some((call) => call.accept === 'text/html, application/json'));
    assert.ok(seen.filter((call) => call.accept !== 'text/html, application/json').every((call) => call.accept === 'text/plain'));
  });

  test('lets a gzip middleware run its compression path through the whole battery', async () => {
    const withGzip = { count: 0 };
    const report = await runMiddlewareConformance((app) => gzip(app, withGzip), { headers: [['Accept-Encoding', 'gzip']] });
    assert.equal(report.ok, true, formatReport(report, { failuresOnly: true }));
    assert.deepEqual(findings(report), [], formatReport(report));
    assert.ok(withGzip.count >= report.results.length, `compressed ${withGzip.count} of ${report.results.length}+ responses`);

    const without = { count: 0 };
    const plain = await runMiddlewareConformance((app) => gzip(app, without), { only: ['middleware.get', 'middleware.head'] });
    assert.equal(plain.ok, true, formatReport(plain));
    assert.equal(without.count, 0);
  });

  test('refuses headers the battery frames its requests with, and malformed ones', async () => {
    const app: Application = (_environ, startResponse) => (startResponse('200 OK', [TEXT]), [encode('ok')]);
    for (const headers of [
      [['Content-Length', '3']],
      [['transfer-encoding', 'chunked']],
      [['Host', 'example.com']],
      [['Expect', '100-continue']],
      [['Connection', 'close']],
      [['X-Tsgi-Conformance', 'extension']],
      [['Bad Name', 'x']],
      [['X-Split', 'a\r\nInjected: yes']],
      [['X-Only-Name']],
    ]) {
      await assert.rejects(runAppConformance(app, { headers: headers as Array<[string, string]> }), TypeError, JSON.stringify(headers));
      await assert.rejects(runMiddlewareConformance((inner) => inner, { headers: headers as Array<[string, string]> }), TypeError, JSON.stringify(headers));
    }
  });
});

describe('middleware that needs the whole body', () => {
  // It computes a header from the body, so it reads all of it, HEAD included: the wire
  // requirements, head.stop-early among them, bind the server, not middleware.
  const etag = (app: Application): Application => (environ, startResponse) => {
    let head: [string, HeaderList] | undefined;
    let write: ((data: Uint8Array) => Promise<void>) | undefined;
    const inner = app(environ, (status, headers, excInfo) => {
      if (excInfo && head) startResponse(status, headers, excInfo);
      head = [status, headers];
      return async (data) => {
        await write?.(data);
      };
    });
    return {
      async *[Symbol.asyncIterator]() {
        const body = (await inner) as AsyncIterable<Uint8Array> & ResponseBody;
        const chunks: Uint8Array[] = [];
        // One chunk out, an empty one, for each chunk in (mw.pace).
        for await (const chunk of body) {
          chunks.push(chunk);
          yield new Uint8Array(0);
        }
        const all = Buffer.concat(chunks);
        const headers = head![1].filter(([name]) => name.toLowerCase() !== 'content-length');
        write = startResponse(head![0], [...headers, ['ETag', `"${all.length}"`]]);
        if (all.length) yield new Uint8Array(all);
      },
      async close() {
        // An application that failed (a client gone mid-upload) left no body to close.
        const body = (await Promise.resolve(inner).catch(() => undefined)) as ResponseBody | undefined;
        await body?.close?.();
      },
    };
  };

  test('passes the battery with no finding, HEAD included', async () => {
    const report = await runMiddlewareConformance(etag);
    assert.ok(report.ok, formatReport(report, { failuresOnly: true }));
    assert.deepEqual(findings(report), []);
    assert.ok(report.results.some((r) => r.id.includes('head')), 'the battery sends a HEAD request');
  });
});

describe('middleware that rewrites the request (mw.rewrite)', () => {
  // Every request is served under /v2, with a query parameter added; REQUEST_URI stays as
  // it came. The battery's inner validator sees a split path that no longer matches
  // REQUEST_URI, which the spec allows of middleware.
  const rewrite = (app: Application): Application => (environ, startResponse) => {
    if (environ.PATH_INFO.startsWith('/')) environ.PATH_INFO = `/v2${environ.PATH_INFO}`;
    environ.QUERY_STRING += `${environ.QUERY_STRING ? '&' : ''}rewritten=1`;
    return app(environ, startResponse);
  };

  test('passes the battery with no finding', async () => {
    const report = await runMiddlewareConformance(rewrite);
    assert.ok(report.ok, formatReport(report, { failuresOnly: true }));
    assert.deepEqual(findings(report), []);
  });
});
