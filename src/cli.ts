#!/usr/bin/env node
/**
 * The `tsgi` command.
 *
 *   tsgi serve [<module>[:export]] [--hostname H] [--port P] [--validate] [--quiet]
 *   tsgi conformance server|app|middleware <module>[:export] [options]
 *   tsgi --help | --version
 *
 * `serve` loads an application from a `.js`, `.mjs` or `.ts` file (its default export,
 * else its export named `app`, or the export named after the colon) and serves it on
 * the reference server. Without a module it serves the demo application. SIGINT and
 * SIGTERM stop it gracefully.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { conformanceCommand } from './_cli-conformance.js';
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
  --validate             wrap the application in the validator
  --quiet                no access log

The module's default export is served, else its export named "app"; name another
one after a colon: tsgi serve ./app.ts:handler
`;

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
  const spec = positionals[0];
  let app = spec === undefined ? demoApp : await loadApplication(spec);
  if (values.validate) app = validator(app);
  const server = await serve(app, { hostname: values.hostname ?? '127.0.0.1', port, quiet: values.quiet ?? false });
  process.stdout.write(`tsgi: serving ${spec ?? 'the demo application'} on ${server.url}\n`);
  await stopped(server);
  return 0;
}

/** Loads `path[:export]` and returns the application it exports. */
export async function loadApplication(spec: string): Promise<Application> {
  // A colon after the file's extension names the export (Windows drive letters come first).
  const match = /^(.*\.(?:[cm]?js|[cm]?ts))(?::([A-Za-z_$][\w$]*))?$/.exec(spec);
  if (!match) throw new UsageError(`"${spec}" is not a .js, .mjs or .ts file (optionally followed by :exportName)`);
  const [, file = '', exportName] = match;
  const path = resolve(file);
  let module: Record<string, unknown>;
  try {
    readFileSync(path);
  } catch {
    throw new UsageError(`cannot read ${path}: no such file`);
  }
  try {
    module = await importFile(path);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot load ${path}: ${(error as Error).message}`);
  }
  const name = exportName ?? ('default' in module ? 'default' : 'app');
  if (!(name in module)) {
    const names = Object.keys(module).join(', ') || 'none';
    throw new UsageError(`${path} has no export named "${name}" (its exports: ${names})`);
  }
  const app = module[name];
  if (typeof app !== 'function') {
    throw new UsageError(`the export "${name}" of ${path} is a ${typeof app}, not an application function`);
  }
  return app as Application;
}

/**
 * Imports a module file. TypeScript loads through Node's own type stripping where it
 * exists, otherwise through the tsx package of the project being served (or of tsgi's
 * own development install).
 */
async function importFile(path: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path).href;
  const nativeTypeScript = Boolean((process.features as { typescript?: unknown }).typescript);
  if (/\.[cm]?ts$/.test(path) && !nativeTypeScript) {
    const api = findTsxApi();
    if (!api) {
      throw new UsageError(
        `cannot load ${path}: serving a .ts file needs Node with type stripping (22.18 or later) or the tsx package (npm install --save-dev tsx)`,
      );
    }
    const { tsImport } = (await import(api)) as { tsImport(url: string, parent: string): Promise<Record<string, unknown>> };
    const module = await tsImport(url, import.meta.url);
    // A .ts file outside a "type": "module" package loads as CommonJS: unwrap its exports.
    const inner = module.default as Record<string, unknown> | undefined;
    return inner !== null && typeof inner === 'object' && inner.__esModule ? inner : module;
  }
  return (await import(url)) as Record<string, unknown>;
}

/** The URL of tsx's ESM loader API, from the served project or from tsgi's own install. */
function findTsxApi(): string | undefined {
  for (const base of [resolve('package.json'), new URL(import.meta.url).pathname]) {
    try {
      const manifestPath = createRequire(base).resolve('tsx/package.json');
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
        exports: Record<string, { import: string | { default: string } }>;
      };
      const entry = manifest.exports['./esm/api']?.import;
      const relative = typeof entry === 'string' ? entry : entry?.default;
      if (relative) return new URL(relative, pathToFileURL(manifestPath)).href;
    } catch {
      // not installed there
    }
  }
  return undefined;
}

/** Resolves when a signal has stopped the server gracefully. */
function stopped(server: TsgiServer): Promise<void> {
  return new Promise((done) => {
    const stop = (signal: string) => {
      process.stdout.write(`tsgi: ${signal}: finishing running requests\n`);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void server.close().then(done);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function version(): string {
  const manifest = new URL('../../package.json', import.meta.url);
  const fromSource = new URL('../package.json', import.meta.url);
  for (const url of [manifest, fromSource]) {
    try {
      return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
    } catch {
      // Compiled, the manifest is two levels up; run from source, one.
    }
  }
  return 'unknown';
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
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
  );
}
