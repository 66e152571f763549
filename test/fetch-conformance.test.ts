// The conformance suite against the fetch transport: toFetchHandler, and fetchApp (the
// test client), each behind a small node:http bridge that plays the fetch platform. Every
// case must pass, except those that ask for what a fetch Request or Headers object cannot
// carry, and the malformed requests that the platform's own HTTP parser decides.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatReport, runServerConformance, type ConformanceReport, type ServerTarget } from '../conformance/index.js';
import { toFetchHandler } from '../src/fetch.js';
import { fetchApp } from '../src/testing.js';
import type { Application } from '../src/types.js';
import { listenFetch, type BridgeInfo, type BridgedHandler } from './_fetch-bridge.js';

/** Cases a fetch platform decides, not the transport, and why. */
const PLATFORM_CASES = [
  // The URL parser has resolved dot segments and re-encoded the target before the handler runs.
  'environ.path-no-normalize',
  'environ.request-uri',
  // A Request's URL cannot be `*`, and always has a host, even for an HTTP/1.0 request without Host.
  'environ.asterisk-form',
  'environ.server-protocol-http10',
  // The platform writes the response headers from a Headers object, which sorts them.
  'response.header-order',
  // Malformed requests are the platform's HTTP parser's to refuse (Node's here, under the
  // bridge), before any handler runs. The checks toFetchHandler repeats on a Request are
  // in fetch.test.ts.
  'malformed',
];

function target(name: string, make: (app: Application, errors: { write(chunk: string): boolean }) => BridgedHandler): ServerTarget {
  return {
    name,
    // 100 Continue is the platform's: a fetch handler cannot send an interim response.
    capabilities: { 'error-log': true, 'expect-continue': false },
    async start(app, { errors }) {
      const server = await listenFetch(make(app, errors));
      return { host: '127.0.0.1', port: server.port, close: () => server.close() };
    },
  };
}

function assertPassed(report: ConformanceReport): void {
  const failed = report.results.filter((r) => r.status === 'fail');
  assert.equal(failed.length, 0, formatReport(report, { failuresOnly: true }));
  for (const result of report.results.filter((r) => r.status === 'n/a')) {
    assert.ok(result.missing?.every((m) => ['expect-continue', 'file-wrapper', 'https', 'multiprocess'].includes(m)), `${result.id}: ${result.missing?.join(', ')}`);
  }
  assert.ok(report.results.filter((r) => r.status === 'pass').length >= 150);
}

describe('the fetch transport passes the conformance suite', { timeout: 60_000 }, () => {
  test('toFetchHandler, with the platform context for the client and protocol', async () => {
    const report = await runServerConformance(
      target('toFetchHandler', (app, errors) =>
        toFetchHandler(app, {
          errors,
          remoteAddr: (_request, info: BridgeInfo) => info.remoteAddress,
          remotePort: (_request, info: BridgeInfo) => info.remotePort,
          serverProtocol: (_request, info: BridgeInfo) => `HTTP/${info.httpVersion}`,
        }),
      ),
      { skip: PLATFORM_CASES },
    );
    assertPassed(report);
  });

  test('fetchApp, unvalidated and answering errors as a server does', async () => {
    const report = await runServerConformance(
      target('fetchApp', (app, errors) => (request, info) =>
        fetchApp(app, request, {
          validate: false,
          rethrow: false,
          errors,
          ...(info.remoteAddress ? { remoteAddr: info.remoteAddress } : {}),
          environ: { REMOTE_PORT: String(info.remotePort), SERVER_PROTOCOL: `HTTP/${info.httpVersion}` },
        }),
      ),
      { skip: PLATFORM_CASES },
    );
    assertPassed(report);
  });
});
