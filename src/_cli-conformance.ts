/**
 * `tsgi conformance`: runs the conformance suite from the command line.
 *
 *   tsgi conformance server <module>[:export] [options]       the export is a ServerTarget
 *   tsgi conformance app <module>[:export] [options]          the export is an Application
 *   tsgi conformance middleware <module>[:export] [options]   the export is (app) => Application
 *
 * Prints the report as text (or JSON with `--json`) and resolves to the exit status: 0
 * when every case passed or was not applicable, 1 when one failed, 2 for a usage error.
 */
import { parseArgs } from 'node:util';
import { LoadError, loadExport } from './_load.js';
import {
  DEFAULT_CAPABILITIES,
  formatReport,
  reportToJson,
  runAppConformance,
  runMiddlewareConformance,
  runServerConformance,
  type Capabilities,
  type Capability,
  type ConformanceReport,
  type ServerTarget,
} from '../conformance/index.js';
import type { Application } from './types.js';

const USAGE = `Usage:
  tsgi conformance server <module>[:export] [options]      test a server: the export is a target
  tsgi conformance app <module>[:export] [options]         test an application
  tsgi conformance middleware <module>[:export] [options]  test middleware: the export wraps an application

A server target is an object with start(app, { errors }) that starts the server with
app and resolves to { host, port, close() }, and optionally name and capabilities.

Options:
  --json                 print the report as JSON
  --failures             list only the cases that failed
  --only <selectors>     run only these cases: IDs, sections, requirement IDs, * patterns (comma-separated)
  --skip <selectors>     leave these cases out
  --with <capabilities>  capabilities the server has (server only, comma-separated)
  --without <capabilities>  capabilities it lacks
  --timeout <ms>         the longest a case may take (default: 5000 for servers, 10000 otherwise)

The module's default export is used, else its export named "target" (server), "app"
(app) or "middleware" (middleware); name another one after a colon: ./server.ts:target

Exit status: 0 when nothing failed, 1 when a case failed, 2 for a usage error.
`;

/** A mistake in the command line or the module: reported in one line, exit status 2. */
class CommandError extends Error {}

const KINDS = { server: 'target', app: 'app', middleware: 'middleware' } as const;
type Kind = keyof typeof KINDS;

/** Where the command writes: standard output and standard error unless a caller says otherwise. */
export interface CommandOutput {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/**
 * Runs `tsgi conformance <kind> <module>[:export] [options]` with `args` (the words after
 * `conformance`), prints the report to standard output, and resolves to the exit status.
 */
export async function conformanceCommand(args: string[], output: CommandOutput = process): Promise<number> {
  try {
    return await run(args, output);
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    output.stderr.write(`tsgi conformance: ${error.message}\n`);
    return 2;
  }
}

async function run(args: string[], output: CommandOutput): Promise<number> {
  const [kind, ...rest] = args;
  if (kind === undefined || kind === '--help' || kind === '-h' || kind === 'help') {
    output.stdout.write(USAGE);
    return kind === undefined ? 2 : 0;
  }
  if (!(kind in KINDS)) throw new CommandError(`unknown kind "${kind}": use server, app or middleware\n\n${USAGE}`);
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        failures: { type: 'boolean' },
        only: { type: 'string', multiple: true },
        skip: { type: 'string', multiple: true },
        with: { type: 'string', multiple: true },
        without: { type: 'string', multiple: true },
        timeout: { type: 'string' },
      },
    });
  } catch (error) {
    throw new CommandError(`${(error as Error).message}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new CommandError(`${kind} takes one module, got ${positionals.length}\n\n${USAGE}`);
  const selection = { only: list(values.only), skip: list(values.skip) };
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(Number.isInteger(timeout) && timeout > 0)) throw new CommandError(`--timeout must be a positive whole number of milliseconds, got "${values.timeout}"`);
  const spec = positionals[0] as string;
  const exported = await loadValue(spec, KINDS[kind as Kind]);

  let report: ConformanceReport;
  if (kind === 'server') {
    const target = asTarget(exported, spec);
    report = await runServerConformance(target, { ...selection, capabilities: capabilities(values.with, values.without), caseTimeout: timeout, name: target.name ?? spec });
  } else {
    if (values.with || values.without) throw new CommandError('--with and --without are for servers');
    if (typeof exported !== 'function') throw new CommandError(`the export of ${spec} is a ${typeof exported}, not a function`);
    const options = { ...selection, caseTimeout: timeout, name: spec };
    report =
      kind === 'app'
        ? await runAppConformance(exported as Application, options)
        : await runMiddlewareConformance(exported as (app: Application) => Application, options);
  }
  output.stdout.write(values.json ? reportToJson(report) : formatReport(report, { failuresOnly: values.failures ?? false }));
  return report.ok ? 0 : 1;
}

/** Comma-separated values of a repeatable option, or undefined. */
function list(values: string[] | undefined): string[] | undefined {
  const items = values?.flatMap((value) => value.split(',')).map((item) => item.trim()).filter(Boolean);
  return items?.length ? items : undefined;
}

function capabilities(on: string[] | undefined, off: string[] | undefined): Capabilities | undefined {
  const declared: Capabilities = {};
  for (const [names, value] of [[list(on), true], [list(off), false]] as const) {
    for (const name of names ?? []) {
      if (!(name in DEFAULT_CAPABILITIES)) throw new CommandError(`unknown capability "${name}"; known: ${Object.keys(DEFAULT_CAPABILITIES).join(', ')}`);
      declared[name as Capability] = value;
    }
  }
  return Object.keys(declared).length ? declared : undefined;
}

/** A target from an export: an object with `start`, or a bare `start` function. */
function asTarget(exported: unknown, spec: string): ServerTarget {
  if (typeof exported === 'function') return { name: spec, start: exported as ServerTarget['start'] };
  if (exported !== null && typeof exported === 'object' && typeof (exported as ServerTarget).start === 'function') return exported as ServerTarget;
  throw new CommandError(`the export of ${spec} is not a server target: it needs a start(app, context) method`);
}

/** Loads `path[:export]`: the export named, else the default, else the one named `fallback`. */
async function loadValue(spec: string, fallback: string): Promise<unknown> {
  try {
    return (await loadExport(spec, fallback)).value;
  } catch (error) {
    throw error instanceof LoadError ? new CommandError(error.message) : error;
  }
}
