// `tsgi conformance`: the command the lead wires into src/cli.ts. It runs in-process here,
// with its output captured, against modules written to a temporary directory.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { conformanceCommand } from '../src/_cli-conformance.js';

const src = (file: string) => pathToFileURL(join(import.meta.dirname, '..', 'src', file)).href;
let dir = '';

/** Runs the command and returns its exit status and what it printed. */
async function command(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await conformanceCommand(args, { stdout: { write: (text) => (out += text) }, stderr: { write: (text) => (err += text) } });
  return { code, out, err };
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsgi-conformance-'));
  writeFileSync(
    join(dir, 'target.ts'),
    `import { serve } from '${src('server.ts')}';
export const target = {
  name: 'reference from a module',
  capabilities: { 'error-log': true },
  async start(app: any, { errors }: any) {
    const server = await serve(app, { port: 0, quiet: true, errors });
    return { host: '127.0.0.1', port: server.port, close: () => server.close() };
  },
};
export default target;
`,
  );
  writeFileSync(
    join(dir, 'apps.mjs'),
    `const encode = (t) => new TextEncoder().encode(t);
export default (environ, startResponse) => { startResponse('200 OK', [['Content-Type', 'text/plain']]); return [encode('hi')]; };
export const untyped = (environ, startResponse) => { startResponse('200 OK', []); return [encode('hi')]; };
export const notAFunction = 42;
export const middleware = (app) => (environ, startResponse) => app(environ, startResponse);
`,
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('tsgi conformance', () => {
  test('server <module>: the default export is the target; text report, exit 0', async () => {
    const { code, out } = await command('server', join(dir, 'target.ts'), '--only', 'environ.path-utf8,head.*');
    assert.equal(code, 0, out);
    assert.match(out, /^tsgi conformance: server "reference from a module", TSGI 1\.0$/m);
    assert.match(out, /^ {2}pass {2}environ\.path-utf8/m);
    assert.match(out, /PASSED\n$/);
  });

  test('server <module>:export with --json and --without', async () => {
    const { code, out } = await command('server', `${join(dir, 'target.ts')}:target`, '--json', '--only', 'expect.*', '--without', 'expect-continue');
    assert.equal(code, 0);
    const report = JSON.parse(out) as { kind: string; totals: Record<string, number>; capabilities: Record<string, boolean> };
    assert.equal(report.kind, 'server');
    assert.equal(report.capabilities['expect-continue'], false);
    assert.ok(report.totals['n/a']! > 0 && report.totals.fail === 0);
  });

  test('app <module>: passes with exit 0, and a failing export gives exit 1 naming the requirement', async () => {
    const good = await command('app', join(dir, 'apps.mjs'), '--only', 'app.get');
    assert.equal(good.code, 0, good.out);
    const bad = await command('app', `${join(dir, 'apps.mjs')}:untyped`, '--only', 'app.get', '--failures');
    assert.equal(bad.code, 1);
    assert.match(bad.out, /FAIL {2}app\.get/);
    assert.match(bad.out, /\[header\.content-type\] SHOULD/);
    assert.doesNotMatch(bad.out, /^ {2}pass/m);
  });

  test('middleware <module>:export', async () => {
    const { code, out } = await command('middleware', `${join(dir, 'apps.mjs')}:middleware`, '--only', 'middleware.get');
    assert.equal(code, 0, out);
    assert.match(out, /^tsgi conformance: middleware /m);
  });

  test('usage errors: one line on stderr, exit 2', async () => {
    for (const [args, message] of [
      [[], /Usage:/],
      [['client', 'x.mjs'], /unknown kind "client"/],
      [['app'], /app takes one module, got 0/],
      [['app', 'x.txt'], /is not a \.js, \.mjs or \.ts file/],
      [['app', join(dir, 'missing.mjs')], /no such file/],
      [['app', `${join(dir, 'apps.mjs')}:nope`], /has no export named "nope"/],
      [['app', `${join(dir, 'apps.mjs')}:notAFunction`], /is a number, not a function/],
      [['server', `${join(dir, 'apps.mjs')}:notAFunction`], /not a server target/],
      [['server', join(dir, 'target.ts'), '--with', 'teleport'], /unknown capability "teleport"/],
      [['server', join(dir, 'target.ts'), '--timeout', 'soon'], /--timeout must be/],
      [['app', join(dir, 'apps.mjs'), '--bogus'], /Unknown option '--bogus'/],
    ] as const) {
      const { code, out, err } = await command(...args);
      assert.equal(code, 2, `${args.join(' ')}: ${err}`);
      assert.match(err + out, message);
    }
  });

  test('--help prints the usage and exits 0', async () => {
    const { code, out } = await command('--help');
    assert.equal(code, 0);
    assert.match(out, /tsgi conformance server <module>/);
  });
});
