// The `tsgi` command as a user runs it: a child process, its output and exit status.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cli, startServe, tsx } from './_cli.js';

const root = resolve(import.meta.dirname, '..');
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsgi-cli-'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(
    join(dir, 'app.ts'),
    `const greeting: string = 'hello from a .ts app';
export default (environ: { PATH_INFO: string }, startResponse: (s: string, h: [string, string][]) => unknown) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode(greeting + ' at ' + environ.PATH_INFO)];
};
export const other = (_e: unknown, startResponse: (s: string, h: [string, string][]) => unknown) => {
  startResponse('200 OK', []);
  return [new TextEncoder().encode('other export')];
};
export const notAFunction = 42;
`,
  );
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the command to completion (bounded), for the cases that exit at once. */
function run(args: string[]) {
  const result = spawnSync(process.execPath, ['--import', tsx, cli, ...args], { cwd: dir, encoding: 'utf8', timeout: 15_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Starts `tsgi serve`, waits for its URL, and hands it to `fn`; the process is always stopped. */
async function serving(args: string[], fn: (url: string) => Promise<void>): Promise<{ code: number | null; stdout: string }> {
  const server = await startServe([...args, '--quiet'], { cwd: dir });
  const ran = fn(server.url).then(
    () => undefined,
    (error: unknown) => ({ error }),
  );
  const failed = await ran;
  const code = await server.stop();
  if (failed) throw failed.error;
  assert.notEqual(code, 'hung', 'the server did not exit after SIGTERM');
  return { code: code as number | null, stdout: server.stdout() };
}

describe('tsgi serve', () => {
  test('serves the default export of a .ts module, and exits 0 on SIGTERM', async () => {
    const { code, stdout } = await serving(['app.ts'], async (url) => {
      const response = await fetch(`${url}there`);
      assert.equal(await response.text(), 'hello from a .ts app at /there');
    });
    assert.equal(code, 0);
    assert.match(stdout, /SIGTERM: finishing running requests/);
  });

  test('serves a named export', async () => {
    await serving(['app.ts:other'], async (url) => {
      assert.equal(await (await fetch(url)).text(), 'other export');
    });
  });

  test('serves the demo application without a module', async () => {
    await serving([], async (url) => {
      assert.match(await (await fetch(url)).text(), /^Hello from tsgi!/);
    });
  });

  const failures: Array<[string, string[], RegExp]> = [
    ['a missing file', ['serve', 'missing.ts'], /cannot read .*missing\.ts: no such file/],
    ['a missing export', ['serve', 'app.ts:nothing'], /has no export named "nothing" \(its exports: default, notAFunction, other\)/],
    ['an export that is not a function', ['serve', 'app.ts:notAFunction'], /"notAFunction" .* is a number, not an application function/],
    ['a file that is not a module', ['serve', 'app.txt'], /is not a \.js, \.mjs or \.ts file/],
    ['a bad port', ['serve', '--port', 'eighty'], /--port must be a whole number/],
    ['an unknown option', ['serve', '--colour'], /Unknown option '--colour'/],
    ['an unknown command', ['start'], /unknown command "start"/],
  ];
  for (const [what, args, message] of failures) {
    test(`reports ${what} in one line, with exit status 2`, () => {
      const result = run(args);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    });
  }
});

describe('tsgi --help and --version', () => {
  test('--help prints the usage and exits 0', () => {
    const result = run(['--help']);
    assert.equal(result.status, 0);
    assert.match(result.stdout, /tsgi serve \[<module>\[:export\]\]/);
  });

  test('--version prints the package version', () => {
    const result = run(['--version']);
    assert.equal(result.status, 0);
    assert.equal(result.stdout.trim(), version);
  });

  test('no arguments prints the usage and exits 2', () => {
    const result = run([]);
    assert.equal(result.status, 2);
    assert.match(result.stdout, /Usage:/);
  });
});
