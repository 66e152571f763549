// fetchApp() throughput: sequential in-process hello-world calls on one core, each one
// awaited and its body read, as a test does. Validated (the default) and not.
// Target: >= 20,000 validated calls a second.
//   npm run build && node --import tsx bench/testing.bench.ts [--quick]
// `npm run bench` (bench/run.ts) runs it last, after the server's figures.
import { pathToFileURL } from 'node:url';
import type { Application } from '../src/types.js';

// The compiled package, as users run it: tsx's transform adds work to every closure. Typed
// from the sources, so that type-checking does not need a build.
const { fetchApp } = (await import(new URL('../dist/src/testing.js', import.meta.url).href)) as typeof import('../src/testing.js');

const HELLO = new TextEncoder().encode('Hello, world!\n');
const hello: Application = (_environ, startResponse) => {
  startResponse('200 OK', [
    ['Content-Type', 'text/plain'],
    ['Content-Length', String(HELLO.length)],
  ]);
  return [HELLO];
};

/** Calls a second over `seconds`, each call awaited and its body read. */
async function rate(validate: boolean, seconds: number): Promise<number> {
  const init = { validate };
  let calls = 0;
  const began = performance.now();
  const until = began + seconds * 1000;
  while (performance.now() < until) {
    for (let i = 0; i < 1000; i++) {
      const response = await fetchApp(hello, '/', init);
      if ((await response.arrayBuffer()).byteLength !== HELLO.length) throw new Error('wrong body');
    }
    calls += 1000;
  }
  return calls / ((performance.now() - began) / 1000);
}

/** Runs the benchmark and prints one row per mode; true when the target is met. */
export async function testingBench(quick = false): Promise<boolean> {
  const seconds = quick ? 1 : 3;
  const rounds = quick ? 1 : 3;
  await rate(true, 0.5); // warm-up
  const best = { validated: 0, plain: 0 };
  for (let round = 0; round < rounds; round++) {
    best.validated = Math.max(best.validated, await rate(true, seconds));
    best.plain = Math.max(best.plain, await rate(false, seconds));
  }
  const ok = best.validated >= 20_000;
  console.log(`${'fetchApp hello world, validated'.padEnd(34)} ${''.padStart(14)} ${`${best.validated.toFixed(0)} calls/s`.padStart(14)} ${''.padStart(7)}  ${'>= 20000'.padEnd(14)} ${ok ? 'ok' : 'MISSED'}`);
  console.log(`${'fetchApp hello world, validate: false'.padEnd(34)} ${''.padStart(14)} ${`${best.plain.toFixed(0)} calls/s`.padStart(14)}`);
  return ok;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(`node ${process.version}`);
  if (!(await testingBench(process.argv.includes('--quick')))) process.exitCode = 1;
}
