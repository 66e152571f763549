// The application and middleware batteries: good applications pass every request, and
// each bad one fails naming the requirement it breaks.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatReport, runAppConformance, runMiddlewareConformance, type ConformanceReport, type RequirementId } from '../conformance/index.js';
import { demoApp } from '../src/server.js';
import type { Application, ResponseBody } from '../src/types.js';

const encode = (text: string) => new TextEncoder().encode(text);
const TEXT: [string, string] = ['Content-Type', 'text/plain'];

/** The requirements a report's failures name. */
const named = (report: ConformanceReport) => new Set(report.results.flatMap((r) => r.failures.map((f) => f.requirement)));

/** A streaming application that reads its body, watches its signal and closes its body. */
const streaming: Application = async (environ, startResponse) => {
  const body = await environ['tsgi.input'].read();
  startResponse('200 OK', [TEXT]);
  const signal = environ['tsgi.signal'];
  return Object.assign(
    (async function* () {
      yield encode(`${environ.REQUEST_METHOD} ${body.length}\n`);
      if (!signal.aborted) yield encode('done\n');
    })(),
    { close() {} },
  );
};

describe('good applications pass the battery', () => {
  for (const [name, app] of [
    ['demoApp', demoApp],
    ['a streaming application', streaming],
  ] as const) {
    test(name, async () => {
      const report = await runAppConformance(app, { name });
      assert.equal(report.ok, true, formatReport(report, { failuresOnly: true }));
      assert.equal(report.kind, 'application');
      assert.ok(report.results.length >= 15);
      assert.ok(report.results.every((r) => r.status === 'pass'));
    });
  }
});

const bad: Array<[string, RequirementId, Application]> = [
  ['returns a string', 'app.return.not-bytes', (_e, startResponse) => (startResponse('200 OK', [TEXT]), 'hello' as unknown as ResponseBody)],
  ['yields a string chunk', 'body.chunk.type', (_e, startResponse) => (startResponse('200 OK', [TEXT]), ['hello'] as unknown as ResponseBody)],
  ['sends no Content-Type with a body', 'header.content-type', (_e, startResponse) => (startResponse('200 OK', []), [encode('untyped')])],
  ['sends a hop-by-hop header', 'hop.response', (_e, startResponse) => (startResponse('200 OK', [TEXT, ['Connection', 'close']]), [encode('x')])],
  ['declares the wrong Content-Length', 'framing.content-length.match', (_e, startResponse) => (startResponse('200 OK', [TEXT, ['Content-Length', '10']]), [encode('short')])],
  ['calls startResponse twice', 'start.once', (_e, startResponse) => (startResponse('200 OK', [TEXT]), startResponse('200 OK', [TEXT]), [encode('x')])],
  ['sends a body with 204', 'body.no-content', (_e, startResponse) => (startResponse('204 No Content', []), [encode('x')])],
  ['sends a status without a reason phrase', 'status.format', (_e, startResponse) => (startResponse('200', [TEXT]), [encode('x')])],
  [
    'closes tsgi.input',
    'streams.members',
    (environ, startResponse) => {
      (environ['tsgi.input'] as unknown as { close(): void }).close();
      startResponse('200 OK', [TEXT]);
      return [encode('x')];
    },
  ],
  [
    'keeps state that breaks when calls overlap',
    'app.reentrant',
    (() => {
      let busy = false;
      return async (_e, startResponse) => {
        if (busy) throw new Error('already serving a request');
        busy = true;
        await new Promise((resolve) => setTimeout(resolve, 20));
        busy = false;
        startResponse('200 OK', [TEXT]);
        return [encode('one at a time')];
      };
    })() as Application,
  ],
  [
    'fails on an environ key it does not know',
    'ext.ignore-unknown',
    (environ, startResponse) => {
      const unknown = Object.keys(environ).filter((key) => key.includes('.') && !key.startsWith('tsgi.'));
      if (unknown.length) throw new Error(`unexpected ${unknown.join(', ')}`);
      startResponse('200 OK', [TEXT]);
      return [encode('strict')];
    },
  ],
];

describe('bad applications fail naming what they break', () => {
  for (const [what, requirement, app] of bad) {
    test(`an application that ${what} [${requirement}]`, async () => {
      const report = await runAppConformance(app, { only: ['app.get', 'app.head', 'app.post-form', 'app.repeated-and-overlapping', 'app.extension-keys'] });
      assert.equal(report.ok, false);
      assert.ok(named(report).has(requirement), formatReport(report, { failuresOnly: true }));
    });
  }
});

describe('the middleware battery checks both sides of middleware', () => {
  test('a middleware that adds a header passes', async () => {
    const poweredBy = (app: Application): Application => (environ, startResponse) =>
      app(environ, (status, headers, excInfo) => startResponse(status, [...headers, ['X-Powered-By', 'tsgi']], excInfo));
    const report = await runMiddlewareConformance(poweredBy);
    assert.equal(report.ok, true, formatReport(report, { failuresOnly: true }));
    assert.equal(report.kind, 'middleware');
    assert.ok(report.results.every((r) => r.id.startsWith('middleware.') && r.requirements.includes('mw.both-sides')));
  });

  test('a middleware that buffers the body before returning fails mw.return-promptly', async () => {
    const buffering = (app: Application): Application => async (environ, startResponse) => {
      const body = await app(environ, startResponse);
      const chunks: Uint8Array[] = [];
      for await (const chunk of body) chunks.push(chunk);
      return chunks;
    };
    const report = await runMiddlewareConformance(buffering, { only: ['middleware.get'] });
    assert.ok(named(report).has('mw.return-promptly'), formatReport(report));
  });

  test('a middleware that drops the close() of the body it wraps fails mw.close-inner', async () => {
    const dropping = (app: Application): Application => async (environ, startResponse) => {
      const body = await app(environ, startResponse);
      return (async function* () {
        yield* body;
      })();
    };
    const report = await runMiddlewareConformance(dropping, { only: ['middleware.get', 'middleware.head'] });
    assert.ok(named(report).has('mw.close-inner'), formatReport(report));
  });
});
