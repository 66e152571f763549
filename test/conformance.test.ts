// The conformance suite against the servers that must pass it: the reference server
// (at the root and mounted below it) and toNodeListener on a plain node:http server.
// Every case must pass or be not applicable for a stated reason; the report's shape and
// its renderings are checked on the way.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { formatReport, reportToJson, runServerConformance, serverCases, type ConformanceReport, type RequirementId } from '../conformance/index.js';
import { serve } from '../src/server.js';
import { plainServerTarget, referenceTarget } from './_conformance.js';

/**
 * Cases the reference server fails today: each is a bug reported with its fix (src/_node.ts,
 * refuse(): answer 505 when req.httpVersionMajor is not 1, and 400 for `*` with a method
 * other than OPTIONS). The test checks that they fail naming the requirement, and fails
 * when one starts to pass: then delete its line.
 */
const KNOWN_FAILURES: Readonly<Record<string, RequirementId>> = {};

/** Fails with the text report when a case failed (other than as known), or was not applicable for another reason than `notApplicable`. */
function assertPassed(
  report: ConformanceReport,
  notApplicable: readonly string[] = ['https', 'multiprocess'],
  knownFailures: Readonly<Record<string, RequirementId>> = KNOWN_FAILURES,
): void {
  const failed = report.results.filter((r) => r.status === 'fail' && !(r.id in knownFailures));
  assert.equal(failed.length, 0, formatReport(report, { failuresOnly: true }));
  for (const [id, requirement] of Object.entries(knownFailures)) {
    const known = report.results.find((r) => r.id === id);
    if (!known) continue;
    assert.equal(known.status, 'fail', `${id} passes now: remove it from KNOWN_FAILURES`);
    assert.ok(known.failures.some((f) => f.requirement === requirement), formatReport(report, { failuresOnly: true }));
  }
  for (const result of report.results.filter((r) => r.status === 'n/a')) {
    assert.ok(result.missing?.every((m) => notApplicable.includes(m)), `${result.id} is not applicable: ${result.missing?.join(', ')}`);
  }
}

describe('the reference server passes every case', () => {
  test('serve() at the root, in under 15 seconds', async () => {
    const report = await runServerConformance(referenceTarget());
    assertPassed(report);
    assert.equal(report.results.length, serverCases.length);
    assert.ok(report.results.length >= 80);
    assert.ok(report.ms < 15_000, `the suite took ${report.ms} ms`);
  });

  test('serve() with the application mounted at /mount (SCRIPT_NAME)', async () => {
    assertPassed(await runServerConformance(referenceTarget({ scriptName: '/mount' }), { only: ['environ.*', 'head.*', 'keep-alive.*'] }));
  });
});

describe('over TLS', () => {
  // A self-signed certificate for 127.0.0.1 that expires in 2126, made once with openssl and
  // kept with the tests so that they need no openssl: a test key, guarding nothing.
  const fixture = (name: string) => readFileSync(new URL(`./fixtures/tls/${name}`, import.meta.url));

  test('serve() with a key and certificate passes every case, with tsgi.url_scheme https', async () => {
    const [key, cert] = [fixture('key.pem'), fixture('cert.pem')];
    const report = await runServerConformance({
      name: 'reference serve() over TLS',
      capabilities: { 'error-log': true, 'file-wrapper': true },
      async start(app, { errors }) {
        const server = await serve(app, { port: 0, quiet: true, errors, shutdownTimeout: 2000, key, cert });
        return { host: '127.0.0.1', port: server.port, tls: true, close: () => server.close() };
      },
    });
    assert.equal(report.capabilities?.https, true);
    // Reported with its fix (src/server.ts: allowHalfOpen: true for https.createServer, as httpAllowHalfOpen is for http).
    assertPassed(report, ['multiprocess']);
    assert.equal(report.results.find((r) => r.id === 'environ.url-scheme')?.status, 'pass');
  });
});

describe('toNodeListener on a plain node:http server passes every case', () => {
  test('registered for request and checkContinue, with httpAllowHalfOpen', async () => {
    assertPassed(await runServerConformance(plainServerTarget('toNodeListener on http.createServer')), ['https', 'multiprocess', 'graceful-shutdown']);
  });
});

describe('the report', () => {
  test('selects with only and skip, by case ID, section, requirement and pattern', async () => {
    const report = await runServerConformance(referenceTarget(), {
      only: ['environ.path-utf8', 'head', 'env.http.repeated', 'framing.http10*'],
      skip: ['head.304*'],
    });
    const ids = report.results.map((r) => r.id);
    assert.ok(ids.includes('environ.path-utf8'));
    assert.ok(ids.includes('head.array-body') && !ids.includes('head.304') && !ids.includes('head.304-length-from-app'));
    assert.ok(ids.includes('environ.header-repeated') && ids.includes('environ.cookie-repeated'));
    assert.ok(ids.includes('framing.http10-streamed') && ids.includes('framing.http10-keep-alive') && ids.includes('keep-alive.http10-close'));
    assert.ok(!ids.includes('input.read-all'));
  });

  test('marks cases that need a missing capability as not applicable', async () => {
    const report = await runServerConformance(referenceTarget(), { only: ['expect', 'errors.logged'], capabilities: { 'expect-continue': false, 'error-log': false } });
    assert.ok(report.results.length > 3);
    for (const result of report.results) {
      assert.equal(result.status, 'n/a', result.id);
      assert.ok(result.missing?.length);
    }
    assert.equal(report.totals['n/a'], report.results.length);
    assert.equal(report.ok, true);
  });

  test('is plain data: totals by case and by requirement level, and JSON that round-trips', async () => {
    const report = await runServerConformance(referenceTarget(), { only: ['response.*'] });
    const json = JSON.parse(reportToJson(report)) as ConformanceReport;
    assert.deepEqual(json, JSON.parse(JSON.stringify(report)));
    assert.equal(json.kind, 'server');
    assert.equal(json.spec, '1.0');
    assert.equal(json.totals.pass, report.results.length);
    const tallied = Object.values(json.levels).reduce((n, t) => n + t.pass + t.fail + t['n/a'] + t.skipped, 0);
    assert.equal(tallied, json.requirements.length);
    assert.ok(json.requirements.some((r) => r.id === 'header.order' && r.status === 'pass' && r.level === 'MUST'));
  });

  test('renders as text: one line per case, the totals, and PASSED', async () => {
    const report = await runServerConformance(referenceTarget(), { only: ['response.status-line', 'file.*'] });
    const text = formatReport(report);
    assert.match(text, /^tsgi conformance: server "reference serve\(\)", TSGI 1\.0$/m);
    assert.match(text, /^ {2}pass {2}response\.status-line +the status code and reason phrase go out exactly as given$/m);
    assert.match(text, /^ {2}pass {2}file\.discarded +a file wrapper reads nothing when its result is discarded$/m);
    assert.match(text, /^4 cases: 4 passed, 0 failed, 0 not applicable, 0 skipped/m);
    assert.match(text, /^ {2}MUST +5 passed/m); // status-line 1, from-position 3 (file.position is a SHOULD), length-from-app 1
    assert.match(text, /PASSED\n$/);
  });
});
