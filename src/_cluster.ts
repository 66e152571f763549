/**
 * `tsgi serve --workers N`: the reference server in N processes with `node:cluster`.
 *
 * The primary process serves nothing itself: it forks the workers, which run the same
 * command and share one listening socket, reports where they listen, replaces a worker
 * that dies, and on SIGINT or SIGTERM asks each worker to finish its running requests
 * and waits for them all. A worker that fails before any listens (a module that does not
 * load, an address in use) stops the whole command with that worker's exit status: the
 * same mistake would stop every replacement.
 *
 * @module
 */
import cluster, { type Worker } from 'node:cluster';
import { createServer, type AddressInfo } from 'node:net';

/**
 * The port every worker listens on, when the command was asked for port 0. Left to the
 * workers, port 0 would give the cluster a free port while any worker listens, and a
 * replacement for the last one another port: so the primary picks the port once.
 */
const PORT_VARIABLE = 'TSGI_CLUSTER_PORT';

/** What a worker tells the primary once its server listens. */
interface ListeningMessage {
  readonly tsgi: 'listening';
  readonly url: string;
}

/** Options of {@link runPrimary}. */
export interface PrimaryOptions {
  /** The command's own script, which each worker runs. */
  readonly script: string;
  /** The command's arguments, which each worker gets too. */
  readonly args: readonly string[];
  readonly workers: number;
  /** What the announcement names: the module, or the demo application. */
  readonly what: string;
  /** The port every worker listens on instead of the one in `args` (see {@link freePort}). */
  readonly port?: number | undefined;
  /** How long a worker may take to finish its requests after SIGTERM, in milliseconds. */
  readonly shutdownTimeout: number;
  readonly out: NodeJS.WritableStream;
}

/** A worker that dies this soon after it started is failing, not crashing: it is restarted after a pause. */
const QUICK_DEATH_MS = 1000;
const RESTART_PAUSE_MS = 1000;
/** Time a worker gets, beyond the shutdown timeout, before it is killed. */
const EXIT_GRACE_MS = 2000;

/** Tells the primary that this worker's server listens at `url`. Does nothing outside a cluster. */
export function announceListening(url: string): void {
  const message: ListeningMessage = { tsgi: 'listening', url };
  process.send?.(message);
}

/** Lets a worker whose server has closed exit: its channel to the primary would keep it alive. */
export function leaveCluster(): void {
  // Through the worker, not the process: a bare disconnect makes Node exit with status 0.
  if (cluster.isWorker && cluster.worker?.isConnected()) cluster.worker.disconnect();
}

/** True in a process that `runPrimary` forked. */
export const isWorker = (): boolean => cluster.isWorker;

/** A port free on `hostname` now, for a cluster asked to listen on port 0. */
export async function freePort(hostname: string): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, hostname, resolve);
  });
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** In a worker, the port the primary chose for the cluster; otherwise undefined. */
export function clusterPort(): number | undefined {
  const port = cluster.isWorker ? process.env[PORT_VARIABLE] : undefined;
  return port ? Number(port) : undefined;
}

/**
 * Forks the workers and supervises them until a signal stops the command. Resolves to
 * the command's exit status: 0 after a graceful stop, else that of a worker that could
 * not start.
 */
export function runPrimary(options: PrimaryOptions): Promise<number> {
  cluster.setupPrimary({ exec: options.script, args: [...options.args] });
  return new Promise((finish) => {
    let stopping = false;
    let status = 0;
    let announced = false;
    const listening = new Set<Worker>();
    const started = new Map<Worker, number>();

    const fork = (): void => {
      const worker = cluster.fork(options.port === undefined ? {} : { [PORT_VARIABLE]: String(options.port) });
      started.set(worker, Date.now());
      worker.on('message', (message: Partial<ListeningMessage>) => {
        if (message?.tsgi !== 'listening') return;
        listening.add(worker);
        if (!announced && listening.size === options.workers) {
          announced = true;
          options.out.write(`tsgi: serving ${options.what} on ${message.url} with ${options.workers} worker processes\n`);
        }
      });
      worker.on('exit', (code, signal) => {
        const wasListening = listening.delete(worker);
        const age = Date.now() - (started.get(worker) ?? 0);
        started.delete(worker);
        if (stopping) {
          if (started.size === 0) finish(status);
          return;
        }
        if (!wasListening && !announced) {
          // It never served: the same mistake would stop every replacement too.
          stop(code ?? 1);
          return;
        }
        process.stderr.write(`tsgi: worker ${worker.process.pid} exited (${signal ?? `status ${code}`}); starting another\n`);
        // Not unref'd: when the last worker has died, this timer is what keeps the primary alive.
        setTimeout(() => stopping || fork(), age < QUICK_DEATH_MS ? RESTART_PAUSE_MS : 0);
      });
    };

    const stop = (exitStatus: number): void => {
      if (stopping) return;
      stopping = true;
      status = exitStatus;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (started.size === 0) {
        finish(status);
        return;
      }
      for (const worker of started.keys()) {
        worker.process.kill('SIGTERM');
        setTimeout(() => worker.process.kill('SIGKILL'), options.shutdownTimeout + EXIT_GRACE_MS).unref();
      }
    };

    const onSignal = (signal: NodeJS.Signals): void => {
      options.out.write(`tsgi: ${signal}: the workers are finishing their running requests\n`);
      stop(0);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    for (let i = 0; i < options.workers; i++) fork();
  });
}
