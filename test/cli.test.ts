// The `tsgi` command as a user runs it: a child process, its output and exit status.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { version as versionOf } from '../src/cli.js';
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
  // No default export: serve falls back to the export named "app", which is not the first one.
  writeFileSync(
    join(dir, 'named.ts'),
    `export const helper = (_e: unknown, startResponse: (s: string, h: [string, string][]) => unknown) => {
  startResponse('200 OK', []);
  return [new TextEncoder().encode('the helper export')];
};
export const app = (_e: unknown, startResponse: (s: string, h: [string, string][]) => unknown) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode('the app export')];
};
`,
  );
  // Plain JavaScript modules, loaded by import() without tsx; the .js one is ESM through the "type" above.
  for (const file of ['esm.mjs', 'esm.js']) {
    writeFileSync(
      join(dir, file),
      `export default (_environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode('hello from ${file}')];
};
`,
    );
  }
  // Breaks header.app-no-mutate, which only the validator checks: the server answers 200 without it.
  writeFileSync(
    join(dir, 'mutates.ts'),
    `export default (_e: unknown, startResponse: (s: string, h: [string, string][]) => unknown) => {
  const headers: [string, string][] = [['Content-Type', 'text/plain']];
  startResponse('200 OK', headers);
  headers.push(['X-Late', 'added after startResponse']);
  return [new TextEncoder().encode('mutated')];
};
`,
  );
  // Says when a request has reached it, then takes 300 ms over the second half of its body:
  // a request still running when a signal comes.
  writeFileSync(
    join(dir, 'slow.ts'),
    `export default (_e: unknown, startResponse: (s: string, h: [string, string][]) => unknown) => {
  process.stdout.write('slow.ts: request started\\n');
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return (async function* () {
    yield new TextEncoder().encode('first half, ');
    await new Promise((resolve) => setTimeout(resolve, 300));
    yield new TextEncoder().encode('second half');
  })();
};
`,
  );
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the command to completion (bounded), for the cases that exit at once. */
function run(args: string[]) {
  const result = spawnSync(process.execPath, ['--import', tsx, cli, ...args], { cwd: dir, encoding: 'utf8', timeout: 15_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Polls `condition` every 20 ms; false when it has not held within `ms`. */
async function until(condition: () => boolean, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; !condition(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > deadline) return false;
  }
  return true;
}

/** Starts `tsgi serve`, waits for its URL, and hands it to `fn`; the process is always stopped. */
async function serving(
  args: string[],
  fn: (url: string, stderr: () => string) => Promise<void>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const server = await startServe([...args, '--quiet'], { cwd: dir });
  const ran = fn(server.url, server.stderr).then(
    () => undefined,
    (error: unknown) => ({ error }),
  );
  const failed = await ran;
  const code = await server.stop();
  if (failed) throw failed.error;
  assert.notEqual(code, 'hung', 'the server did not exit after SIGTERM');
  return { code: code as number | null, stdout: server.stdout(), stderr: server.stderr() };
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

  test('serves the export named "app" of a module without a default export', async () => {
    await serving(['named.ts'], async (url) => {
      assert.equal(await (await fetch(url, { signal: AbortSignal.timeout(5000) })).text(), 'the app export');
    });
  });

  for (const file of ['esm.mjs', 'esm.js']) {
    test(`serves the default export of a ${file.slice(3)} module`, async () => {
      await serving([file], async (url) => {
        assert.equal(await (await fetch(url, { signal: AbortSignal.timeout(5000) })).text(), `hello from ${file}`);
      });
    });
  }

  test('--hostname 127.0.0.1 listens there and prints that URL', async () => {
    const { stdout } = await serving(['app.ts', '--hostname', '127.0.0.1'], async (url) => {
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const response = await fetch(`${url}here`, { signal: AbortSignal.timeout(5000) });
      assert.equal(await response.text(), 'hello from a .ts app at /here');
    });
    assert.match(stdout, /^tsgi: serving app\.ts on http:\/\/127\.0\.0\.1:\d+\/$/m);
  });

  test('--validate reports an application that breaks header.app-no-mutate, naming the requirement', async () => {
    const { stderr } = await serving(['mutates.ts', '--validate'], async (url, stderr) => {
      const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
      assert.equal(response.status, 500);
      await response.arrayBuffer();
      // The server logs an application's error to its error stream (error.logged), here stderr.
      assert.ok(await until(() => /\[header\.app-no-mutate\]/.test(stderr()), 5000), `no validator message; stderr: ${stderr()}`);
    });
    assert.match(stderr, /ValidationError: \[header\.app-no-mutate\] application: .*\(spec\/tsgi\.md#header\.app-no-mutate\)/);
  });

  test('without --validate the same application is served as it is, with no validator message', async () => {
    const { stderr } = await serving(['mutates.ts'], async (url) => {
      const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
      assert.equal(response.status, 200);
      assert.equal(await response.text(), 'mutated');
    });
    assert.doesNotMatch(stderr, /header\.app-no-mutate|ValidationError/);
  });

  test('writes one Common Log Format line per request on standard error, and none with --quiet', async () => {
    const server = await startServe(['app.ts'], { cwd: dir });
    try {
      await (await fetch(`${server.url}logged?x=1`, { signal: AbortSignal.timeout(5000) })).text();
      const line = /^127\.0\.0\.1 - - \[\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET \/logged\?x=1 HTTP\/1\.1" 200 \d+$/m;
      assert.ok(await until(() => line.test(server.stderr()), 5000), `no access-log line; stderr: ${server.stderr()}`);
    } finally {
      await server.stop();
    }
    const { stderr } = await serving(['app.ts'], async (url) => {
      await (await fetch(url, { signal: AbortSignal.timeout(5000) })).text();
    });
    assert.doesNotMatch(stderr, /"GET \/ HTTP\/1\.1"/);
  });

  test('SIGINT lets a running request finish with its whole response, then exits 0', async () => {
    const server = await startServe(['slow.ts', '--quiet'], { cwd: dir });
    try {
      const running = fetch(server.url, { signal: AbortSignal.timeout(10_000) }).then(async (r) => ({
        status: r.status,
        body: await r.text(),
      }));
      // Caught at once so that a failure before the await below is not an unhandled rejection.
      running.catch(() => {});
      assert.ok(await until(() => server.stdout().includes('slow.ts: request started'), 5000), 'the request did not reach the app');
      process.kill(server.child.pid!, 'SIGINT');
      assert.deepEqual(await running, { status: 200, body: 'first half, second half' });
      assert.equal(await server.exited(10_000), 0);
    } finally {
      await server.stop();
    }
    assert.match(server.stdout(), /SIGINT: finishing running requests/);
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

  // Two levels up from src/cli.ts is the folder holding the package, whose package.json is
  // another package's: test/fixtures/cli/version/ lays out both, without writing outside the repository.
  test("the version comes from this package's manifest, never from a package.json of the folder around it", () => {
    const fixture = new URL('./fixtures/cli/version/tsgi/', import.meta.url);
    assert.equal(versionOf(new URL('src/cli.ts', fixture)), '1.2.3', 'run from source');
    assert.equal(versionOf(new URL('dist/src/cli.js', fixture)), '1.2.3', 'compiled');
    assert.equal(versionOf(new URL('./fixtures/cli/version/elsewhere/cli.ts', import.meta.url)), 'unknown', 'no manifest of this package');
  });

  test('no arguments prints the usage and exits 2', () => {
    const result = run([]);
    assert.equal(result.status, 2);
    assert.match(result.stdout, /Usage:/);
  });
});
