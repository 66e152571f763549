// `tsgi serve --workers N`: several processes behind one port, as a user runs them. The
// whole server conformance suite runs against two workers, through the remote probe.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { formatReport, runServerConformance, serverCases, type ServerTarget } from '../conformance/index.js';
import { cli, startServe, tsx } from './_cli.js';

let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsgi-cluster-'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  // Answers with the process that served the request, and whether it knows of others.
  writeFileSync(
    join(dir, 'pid.ts'),
    `export default (environ: Record<string, unknown>, startResponse: (s: string, h: [string, string][]) => unknown) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode(process.pid + ' ' + environ['tsgi.multiprocess'])];
};
`,
  );
  writeFileSync(join(dir, 'broken.ts'), `throw new Error('this module cannot load');\n`);
  // Answers after half a second: a request still running when the signal comes.
  writeFileSync(
    join(dir, 'slow.ts'),
    `export default async (_environ: unknown, startResponse: (s: string, h: [string, string][]) => unknown) => {
  await new Promise((resolve) => setTimeout(resolve, 500));
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode('finished')];
};
`,
  );
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** Fetches `url` on a new connection each time, so that the cluster may hand each to another worker. */
async function servedBy(url: string): Promise<{ pid: number; multiprocess: string }> {
  const response = await fetch(url, { headers: { Connection: 'close' }, signal: AbortSignal.timeout(5000) });
  const [pid, multiprocess] = (await response.text()).split(' ');
  return { pid: Number(pid), multiprocess: multiprocess ?? '' };
}

/** Asks until `n` distinct worker processes have answered (at most 200 requests). */
async function workersSeen(url: string, n: number): Promise<Set<number>> {
  const pids = new Set<number>();
  for (let i = 0; i < 200 && pids.size < n; i++) pids.add((await servedBy(url)).pid);
  return pids;
}

describe('tsgi serve --workers', () => {
  test('runs that many processes on one port, each with tsgi.multiprocess true, and exits 0 on SIGTERM', async () => {
    const server = await startServe(['pid.ts', '--workers', '2', '--quiet'], { cwd: dir });
    try {
      assert.match(server.stdout(), /^tsgi: serving pid\.ts on http:\/\/127\.0\.0\.1:\d+\/ with 2 worker processes$/m);
      const pids = await workersSeen(server.url, 2);
      assert.equal(pids.size, 2, 'two workers answered');
      assert.ok(!pids.has(server.child.pid!), 'the primary process serves nothing itself');
      assert.equal((await servedBy(server.url)).multiprocess, 'true');
    } finally {
      assert.equal(await server.stop(), 0);
    }
    assert.match(server.stdout(), /SIGTERM: the workers are finishing their running requests/);
  });

  test('Ctrl-C, which signals the whole process group, lets running requests finish', async () => {
    const server = await startServe(['slow.ts', '--workers', '2', '--quiet'], { cwd: dir, group: true });
    try {
      const running = fetch(server.url, { signal: AbortSignal.timeout(5000) }).then((r) => r.text());
      await new Promise((r) => setTimeout(r, 150));
      // Every process of the group gets SIGINT, the workers too; then the primary sends its SIGTERM.
      process.kill(-server.child.pid!, 'SIGINT');
      assert.equal(await running, 'finished');
      // The command stops by itself: a second signal would be a second Ctrl-C, which forces it.
      const code =
        server.child.exitCode ??
        (await Promise.race([
          new Promise<number | null>((resolve) => server.child.once('exit', (exit) => resolve(exit))),
          new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 10_000)),
        ]));
      assert.equal(code, 0);
    } finally {
      await server.stop();
    }
    assert.match(server.stdout(), /SIGINT: the workers are finishing their running requests/);
  });

  test('one worker is the only copy: tsgi.multiprocess is false, and it is replaced when it dies', async () => {
    const server = await startServe(['pid.ts', '--workers', '1', '--quiet'], { cwd: dir });
    try {
      const first = await servedBy(server.url);
      assert.equal(first.multiprocess, 'false');
      // With no worker left, only the pending replacement keeps the primary going.
      process.kill(first.pid, 'SIGKILL');
      let next: number | undefined;
      for (const deadline = Date.now() + 10_000; next === undefined && Date.now() < deadline; ) {
        next = await servedBy(server.url).then(
          (answer) => answer.pid,
          () => undefined,
        );
        if (next === undefined) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(next !== undefined && next !== first.pid, 'no worker replaced the only one');
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  test('replaces a worker that dies, and keeps serving', async () => {
    const server = await startServe(['pid.ts', '--workers', '2', '--quiet'], { cwd: dir });
    try {
      const [victim] = await workersSeen(server.url, 2);
      process.kill(victim!, 'SIGKILL');
      const deadline = Date.now() + 10_000;
      let replaced = false;
      while (!replaced && Date.now() < deadline) {
        // A connection handed to the worker as it died fails: that is the request it took with it.
        const pids = await workersSeen(server.url, 2).catch(() => new Set<number>());
        replaced = pids.size === 2 && !pids.has(victim!);
        if (!replaced) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(replaced, `no new worker took the place of ${victim}`);
      assert.match(server.stderr(), new RegExp(`worker ${victim} exited \\(SIGKILL\\); starting another`));
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  test('a module that does not load stops the command with status 2, without respawning', async () => {
    const result = spawnSync(process.execPath, ['--import', tsx, cli, 'serve', 'broken.ts', '--workers', '2', '--port', '0'], { cwd: dir, encoding: 'utf8', timeout: 15_000 });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /^tsgi: cannot load .*broken\.ts: this module cannot load$/m);
    assert.doesNotMatch(result.stderr, /starting another/);
  });

  test('--workers must be a whole number from 1 to 256', async () => {
    for (const bad of ['0', 'two', '1.5', '257']) {
      await assert.rejects(startServe(['--workers', bad], { cwd: dir }), /--workers must be a whole number from 1 to 256/);
    }
  });
});

/** `tsgi serve --workers 2` serving the suite's remote probe: the target a cluster user would write. */
const clusterTarget: ServerTarget = {
  name: 'tsgi serve --workers 2',
  capabilities: { 'error-log': true, 'file-wrapper': true, multiprocess: true },
  async start(_app, { errors, remote }) {
    const server = await startServe([remote.module, '--workers', '2', '--quiet'], { env: { ...process.env, ...remote.env } });
    server.child.stderr!.on('data', (d: Buffer) => errors.write(d.toString()));
    const url = new URL(server.url);
    return {
      host: url.hostname,
      port: Number(url.port),
      close: async () => {
        assert.equal(await server.stop(), 0, 'the cluster did not stop cleanly');
      },
    };
  },
};

describe('the server conformance suite against tsgi serve --workers 2', () => {
  test('passes every case, with the multiprocess capability', async () => {
    const report = await runServerConformance(clusterTarget);
    assert.ok(report.ok, formatReport(report, { failuresOnly: true }));
    assert.equal(report.totals.pass, serverCases.length);
    assert.equal(report.results.find((r) => r.id === 'environ.multiprocess')?.status, 'pass');
  });
});
