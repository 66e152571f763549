// The conformance suite against the CGI handler: runCgi, run for each request by a small
// node:http bridge that plays the web server (test/_cgi-bridge.ts). Every case must pass,
// except those that ask for what a CGI script cannot do or know, the malformed requests
// the web server refuses before any script starts, and one the in-process bridge cannot pose.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatReport, runServerConformance, type ConformanceReport, type ServerTarget } from '../conformance/index.js';
import { listenCgi, SCRIPT_NAME } from './_cgi-bridge.js';

/** Cases a CGI script cannot pass, whatever the web server, and why. */
const CGI_CASES = [
  // RFC 3875 (4.1) does not distinguish a zero-length variable from a missing one, and
  // http.server sets the variables of some absent headers to ''; runCgi leaves empty
  // ones out (env.cgi.absent), so a header sent with an empty value does not arrive.
  'environ.http-headers',
  // RFC 3875 (4.2) has the web server give the script a body of known length, so a
  // chunked body arrives de-chunked, with CONTENT_LENGTH.
  'environ.content-length-chunked',
  // The script learns that the client left only when its next write to stdout fails
  // (EPIPE): an application that waits without writing is not told.
  'disconnect.before-response',
];

/** Cases that are the web server's, not the script's. */
const WEB_SERVER_CASES = [
  // Malformed requests are the web server's to refuse (Node's parser, under the bridge),
  // before any script starts.
  'malformed',
];

/** Cases the in-process bridge cannot pose, and why. */
const BRIDGE_CASES = [
  // The env option holds text, which runCgi encodes back to UTF-8, so octets that are not
  // UTF-8 cannot be passed in; a real script reads them from /proc/self/environ (cgi.test.ts).
  'environ.header-value-octets',
];

const target: ServerTarget = {
  name: 'runCgi',
  capabilities: {
    // The script's stderr is the bridge's error log, which is the suite's sink.
    'error-log': true,
    // One request per script process: tsgi.run_once is true.
    persistent: false,
    // Each request runs in a process of its own: tsgi.multiprocess is true.
    multiprocess: true,
    // 100 Continue is the web server's: the script cannot send an interim response, and
    // does not know when the server feeds its stdin.
    'expect-continue': false,
    // runCgi offers no tsgi.file_wrapper.
    'file-wrapper': false,
  },
  async start(app, { errors }) {
    const server = await listenCgi(app, errors);
    return { host: '127.0.0.1', port: server.port, scriptName: SCRIPT_NAME, close: () => server.close() };
  },
};

function assertPassed(report: ConformanceReport): void {
  const failed = report.results.filter((r) => r.status === 'fail');
  assert.equal(failed.length, 0, formatReport(report, { failuresOnly: true }));
  for (const result of report.results.filter((r) => r.status === 'n/a')) {
    assert.ok(result.missing?.every((m) => ['expect-continue', 'file-wrapper'].includes(m)), `${result.id}: ${result.missing?.join(', ')}`);
  }
  assert.ok(report.results.filter((r) => r.status === 'pass').length >= 160);
}

describe('the CGI handler passes the conformance suite', { timeout: 30_000 }, () => {
  test('runCgi, behind a web server that runs it per request', async () => {
    const report = await runServerConformance(target, { skip: [...CGI_CASES, ...WEB_SERVER_CASES, ...BRIDGE_CASES] });
    assertPassed(report);
  });
});
