/**
 * Loading a module named on the command line as `path[:export]`, for `tsgi serve` and
 * `tsgi conformance`. A `.ts` file loads through Node's own type stripping or an active
 * loader where there is one, and otherwise through the tsx package of the project.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** A module that cannot be loaded, or lacks the export: the user's to fix, in one line. */
export class LoadError extends Error {}

/**
 * Loads `path[:export]` and returns the export named after the colon, else the default
 * export, else the export named `fallback`.
 */
export async function loadExport(spec: string, fallback: string): Promise<{ value: unknown; name: string; path: string }> {
  // A colon after the file's extension names the export (Windows drive letters come first).
  const match = /^(.*\.(?:[cm]?js|[cm]?ts))(?::([A-Za-z_$][\w$]*))?$/.exec(spec);
  if (!match) throw new LoadError(`"${spec}" is not a .js, .mjs or .ts file (optionally followed by :exportName)`);
  const [, file = '', exportName] = match;
  const path = resolve(file);
  if (!existsSync(path)) throw new LoadError(`cannot read ${path}: no such file`);
  let module: Record<string, unknown>;
  try {
    module = await importFile(path);
  } catch (error) {
    throw error instanceof LoadError ? error : new LoadError(`cannot load ${path}: ${(error as Error).message}`);
  }
  const name = exportName ?? ('default' in module ? 'default' : fallback);
  if (!(name in module)) {
    throw new LoadError(`${path} has no export named "${name}" (its exports: ${Object.keys(module).join(', ') || 'none'})`);
  }
  return { value: module[name], name, path };
}

async function importFile(path: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path).href;
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !/\.[cm]?ts$/.test(path)) throw error;
  }
  // Node cached the failed import of `url`; tsImport loads it in a namespace of its own.
  const { tsImport } = (await import(tsxApi(path))) as {
    tsImport(url: string, parent: string): Promise<Record<string, unknown>>;
  };
  const module = await tsImport(url, import.meta.url);
  // A .ts file outside a "type": "module" package loads as CommonJS: unwrap its exports.
  const inner = module.default as Record<string, unknown> | undefined;
  return inner !== null && typeof inner === 'object' && inner.__esModule ? inner : module;
}

/** The URL of the ESM build of tsx's loader API, from the project or from tsgi's own install. */
function tsxApi(path: string): string {
  for (const base of [resolve('package.json'), new URL(import.meta.url).pathname]) {
    try {
      const manifest = createRequire(base).resolve('tsx/package.json');
      const exported = (
        JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: string | { default: string } }> }
      ).exports['./esm/api']?.import;
      const entry = typeof exported === 'string' ? exported : exported?.default;
      if (entry) return new URL(entry, pathToFileURL(manifest)).href;
    } catch {
      // not installed there
    }
  }
  throw new LoadError(
    `cannot load ${path}: a .ts file needs Node with type stripping (22.18 or later) or the tsx package (npm install --save-dev tsx)`,
  );
}
