/**
 * `runServerConformance(target)`: starts the server under test once with the probe
 * application, runs every selected case against it over TCP, one at a time, and
 * reports each case with the requirements it names.
 *
 * @module
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requirements as table, type RequirementId } from '../src/_requirements.js';
import { createContext } from './_context.js';
import { Hub } from './_hub.js';
import { Board, Probe } from './_probe.js';
import { missingCapabilities, selected, settleCapabilities } from './_select.js';
import { serverCases } from './cases/index.js';
import { buildReport, resultOf, violationFailure } from './report.js';
import {
  CaseFailure,
  type Capability,
  type CaseResult,
  type ConformanceReport,
  type ErrorSink,
  type Failure,
  type RunningServer,
  type ServerCase,
  type ServerConformanceOptions,
  type ServerTarget,
} from './types.js';

const START_TIMEOUT = 10_000;
/** The module a server of several processes loads in each (`StartContext.remote`): this module's sibling, compiled or not. */
const REMOTE_PROBE = fileURLToPath(new URL(`./remote-probe${extname(import.meta.url)}`, import.meta.url));
const CLOSE_TIMEOUT = 10_000;

/** Keeps the server's error output of the running case. */
class CaseLog implements ErrorSink {
  text = '';
  write(chunk: string, callback?: (error?: Error | null) => void): boolean {
    // Bounded: a server that logs in a loop must not exhaust the suite's memory.
    if (this.text.length < 1_000_000) this.text += chunk;
    callback?.();
    return true;
  }
}

/**
 * Runs the conformance suite against a server. `target.start(app, context)` must start
 * the server with `app` (the suite's probe application) and resolve to its address and
 * a `close()`. Cases run one at a time; the report lists each as passed, failed (with the
 * requirement it names), not applicable (a capability is missing) or skipped.
 *
 * @example
 * ```ts
 * import { serve } from 'tsgi/server';
 * import { formatReport, runServerConformance } from 'tsgi/conformance';
 *
 * const report = await runServerConformance({
 *   name: 'my server',
 *   capabilities: { 'error-log': true },
 *   async start(app, { errors }) {
 *     const server = await serve(app, { port: 0, quiet: true, errors });
 *     return { host: '127.0.0.1', port: server.port, close: () => server.close() };
 *   },
 * });
 * process.stdout.write(formatReport(report));
 * ```
 */
export async function runServerConformance(target: ServerTarget, options: ServerConformanceOptions = {}): Promise<ConformanceReport> {
  if (!target || typeof target.start !== 'function') throw new TypeError('the target must have a start(app, context) method');
  const began = performance.now();
  const log = new CaseLog();
  const reported = new Set<string>();
  const probe = new Probe(reported);
  const hub = await Hub.start(probe);
  const remote = hub.remote(REMOTE_PROBE);
  const restore = muteReportedWarnings(reported);
  const start = () => bounded(Promise.resolve(target.start(probe.app, { errors: log, remote })), START_TIMEOUT, 'the target did not start');
  const results: CaseResult[] = [];
  let capabilities: Record<Capability, boolean> | undefined;
  let main: RunningServer | undefined;
  try {
    main = await start();
    capabilities = settleCapabilities(target.capabilities, options.capabilities, main.tls);
    const settled = capabilities;
    for (const c of serverCases) {
      if (!selected(c, options)) continue;
      const result = await runCase(c, {
        main,
        start,
        probe,
        hub,
        log,
        capabilities: settled,
        timeout: options.caseTimeout ?? 5000,
      });
      results.push(result);
      options.onResult?.(result);
    }
  } finally {
    restore();
    if (main) await bounded(Promise.resolve(main.close()), CLOSE_TIMEOUT, 'the target did not close').catch(() => {});
    await hub.close();
  }
  return buildReport({ kind: 'server', name: options.name ?? target.name ?? 'server', capabilities, results, ms: performance.now() - began });
}

interface RunInit {
  readonly main: RunningServer;
  readonly start: () => Promise<RunningServer>;
  readonly probe: Probe;
  readonly hub: Hub;
  readonly log: CaseLog;
  readonly capabilities: Readonly<Record<Capability, boolean>>;
  readonly timeout: number;
}

async function runCase(c: ServerCase, run: RunInit): Promise<CaseResult> {
  const began = performance.now();
  const missing = missingCapabilities([...(c.needs ?? []), ...(c.isolated ? (['restart'] as const) : [])], run.capabilities);
  if (missing.length) return { ...resultOf(c, [], [], began), status: 'n/a', missing, ms: 0 };

  const board = new Board();
  const failures: Failure[] = [];
  const closers: Array<() => void | Promise<void>> = [];
  run.log.text = '';
  run.probe.enter(c, board);
  try {
    let server = run.main;
    let stopped: Promise<void> | undefined;
    const stop = (): Promise<void> =>
      (stopped ??= bounded(Promise.resolve(server.close()), 5000, 'the server did not stop within 5000 ms'));
    if (c.isolated) {
      server = await run.start();
      closers.push(() => stop().catch(() => {}));
    }
    const context = createContext({
      id: c.id,
      server,
      board,
      capabilities: new Set((Object.keys(run.capabilities) as Capability[]).filter((k) => run.capabilities[k])),
      errorLog: () => run.log.text,
      stopServer: () => (c.isolated ? stop() : Promise.reject(new Error('stopServer() is for isolated cases'))),
      closers,
      settle: () => run.hub.sync(),
    });
    const client = c.client(context);
    client.catch(() => {}); // after a timeout it may still settle; the result is decided
    await bounded(client, run.timeout, `the case did not finish within ${run.timeout} ms`);
  } catch (error) {
    failures.push(clientFailure(c, error));
  }
  // Findings the server provokes as it finishes the exchange (closing the body) come a moment after the response.
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 5));
  for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => {});
  await run.hub.sync();
  run.probe.leave(c.id);

  const warnings: Failure[] = [];
  const found: Failure[] = [];
  for (const violation of board.violations) {
    const failure = violationFailure(violation);
    const should = violation.level === 'SHOULD' || violation.level === 'SHOULD NOT';
    if (should && !c.requirements.includes(violation.requirement)) warnings.push(failure);
    else if (!found.some((f) => f.message === failure.message)) found.push(failure);
  }
  // What the validator found is the root cause of what the client saw.
  return resultOf(c, [...found, ...failures], warnings, began);
}

function clientFailure(c: ServerCase, error: unknown): Failure {
  if (error instanceof CaseFailure) {
    return { requirement: error.requirement, level: table[error.requirement].level, message: error.message, source: 'client' };
  }
  const first: RequirementId | undefined = c.requirements[0];
  const message = error instanceof Error ? error.message : String(error);
  return { requirement: first, level: first && table[first].level, message, source: 'runner' };
}

/** Rejects with `message` when `promise` has not settled within `ms`. */
export function bounded<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Keeps the validator's SHOULD-level warnings that the report already lists off the
 * console while the suite runs: a server that misses one recommendation would otherwise
 * print it once per case. Other warnings pass through.
 */
export function muteReportedWarnings(reported: ReadonlySet<string>): () => void {
  const original = process.emitWarning;
  const filtered = function (this: unknown, warning: string | Error, ...rest: unknown[]) {
    if (reported.has(typeof warning === 'string' ? warning : warning.message)) return;
    return (original as (...args: unknown[]) => void).call(process, warning, ...rest);
  };
  process.emitWarning = filtered as typeof process.emitWarning;
  return () => {
    if (process.emitWarning === filtered) process.emitWarning = original;
  };
}
