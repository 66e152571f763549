#!/usr/bin/env node
/**
 * The `tsgi` command.
 *
 *   tsgi serve [<module>[:export]] [--hostname H] [--port P] [--workers N] [--validate] [--quiet]
 *   tsgi conformance server|app|middleware <module>[:export] [options]
 *   tsgi --help | --version
 *
 * `serve` loads an application from a `.js`, `.mjs` or `.ts` file (its default export,
 * else its export named `app`, or the export named after the colon) and serves it on
 * the reference server. Without a module it serves the demo application. With
 * `--workers N` it runs N server processes with `node:cluster` (see `_cluster.ts`). SIGINT
 * and SIGTERM stop it gracefully.
 *
 * @module
 */
import { readFileSync, realpathSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { announceListening, clusterPort, freePort, isWorker, leaveCluster, runPrimary } from './_cluster.js';
import { conformanceCommand } from './_cli-conformance.js';
import { LoadError, loadExport } from './_load.js';
import { demoApp, serve, type TsgiServer } from './server.js';
import type { Application } from './types.js';
import { validator } from './validate.js';

const USAGE = `Usage:
  tsgi serve [<module>[:export]] [options]   serve an application (default: the demo app)
  tsgi conformance server <module>[:export]  run the server conformance suite against a target
  tsgi conformance app <module>[:export]     run the application battery against an app
  tsgi conformance --help                    options of the conformance commands
  tsgi --help                                show this help
  tsgi --version                             show the version

Options of serve:
  --hostname <address>   address to listen on (default 127.0.0.1)
  --port <number>        port to listen on; 0 picks a free one (default 8000)
  --workers <number>     run this many server processes (node:cluster), sharing the port
  --validate             wrap the application in the validator
  --quiet                no access log

The module's default export is served, else its export named "app"; name another
one after a colon: tsgi serve ./app.ts:handler
`;

/** How long a stopping server lets running requests finish, in milliseconds. */
const SHUTDOWN_TIMEOUT = 10_000;
/** More processes than this is a typing mistake, not a deployment. */
const MAX_WORKERS = 256;

/** An error the user can fix: printed without a stack trace, exit status 2. */
export class UsageError extends Error {}

/** Runs the command with `argv` (without `node` and the script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (command === 'conformance') return conformanceCommand(rest);
  if (command !== 'serve') throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
  return runServe(rest);
}

async function runServe(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        hostname: { type: 'string' },
        port: { type: 'string' },
        workers: { type: 'string' },
        validate: { type: 'boolean' },
        quiet: { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new UsageError(`serve takes one module, got ${positionals.length}\n\n${USAGE}`);
  const port = values.port === undefined ? 8000 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port must be a whole number from 0 to 65535, got "${values.port}"`);
  }
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS)) {
    throw new UsageError(`--workers must be a whole number from 1 to ${MAX_WORKERS}, got "${values.workers}"`);
  }
  const spec = positionals[0];
  const what = spec ?? 'the demo application';
  const hostname = values.hostname ?? '127.0.0.1';
  if (workers !== undefined && !isWorker()) {
    return runPrimary({
      script: fileURLToPath(import.meta.url),
      args: ['serve', ...args],
      workers,
      what,
      port: port === 0 ? await freePort(hostname) : undefined,
      shutdownTimeout: SHUTDOWN_TIMEOUT,
      out: process.stdout,
    });
  }
  let app = spec === undefined ? demoApp : await loadApplication(spec);
  if (values.validate) app = validator(app);
  const server = await serve(app, {
    hostname,
    port: clusterPort() ?? port,
    quiet: values.quiet ?? false,
    // One worker is one copy: a replacement starts only after it has gone.
    multiprocess: workers !== undefined && workers > 1,
    shutdownTimeout: SHUTDOWN_TIMEOUT,
  });
  if (workers === undefined) {
    process.stdout.write(`tsgi: serving ${what} on ${server.url}\n`);
    await stopped(server, false);
  } else {
    // A worker: the primary speaks for all of them.
    announceListening(server.url);
    await stopped(server, true);
  }
  return 0;
}

/** Loads `path[:export]` and returns the application it exports (default, else `app`). */
export async function loadApplication(spec: string): Promise<Application> {
  let loaded;
  try {
    loaded = await loadExport(spec, 'app');
  } catch (error) {
    throw error instanceof LoadError ? new UsageError(error.message) : error;
  }
  if (typeof loaded.value !== 'function') {
    throw new UsageError(`the export "${loaded.name}" of ${loaded.path} is a ${typeof loaded.value}, not an application function`);
  }
  return loaded.value as Application;
}

/**
 * Resolves when a signal has stopped the server gracefully. A second signal stops a lone
 * server at once, as a second Ctrl-C is meant to. A worker keeps ignoring repeats: Ctrl-C
 * and service managers signal the whole process group, and the primary's SIGTERM follows.
 */
function stopped(server: TsgiServer, worker: boolean): Promise<void> {
  return new Promise((done) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      if (!worker) {
        process.stdout.write(`tsgi: ${signal}: finishing running requests\n`);
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
      void server.close().then(done);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** The name in this package's manifest: how `version()` tells it from another package's. */
const PACKAGE_NAME = 'tsgi';

/**
 * The version in this package's manifest, found from `from` (this module's URL); 'unknown'
 * when there is none.
 */
export function version(from: string | URL = import.meta.url): string {
  // Compiled (dist/src/cli.js) the manifest is two levels up, run from source (src/cli.ts)
  // one; two levels up from the source is outside the package, where a package.json is
  // someone else's, so a candidate counts only when it names this package.
  for (const candidate of ['../../package.json', '../package.json']) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(candidate, from), 'utf8')) as { name?: unknown; version?: unknown };
      if (manifest.name === PACKAGE_NAME && typeof manifest.version === 'string') return manifest.version;
    } catch {
      // Absent or not JSON: not this package's manifest.
    }
  }
  return 'unknown';
}

/** True when this module is the program: run directly, or through a link such as the one npm puts in `node_modules/.bin`. */
function isProgram(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isProgram()) {
  main(process.argv.slice(2))
    .then(
      (code) => {
        process.exitCode = code;
      },
      (error: unknown) => {
        if (error instanceof UsageError) {
          process.stderr.write(`tsgi: ${error.message}\n`);
          process.exitCode = 2;
        } else {
          process.stderr.write(`tsgi: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
          process.exitCode = 1;
        }
      },
    )
    .finally(leaveCluster);
}
