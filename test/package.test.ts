// The package as a consumer gets it: `npm pack` (which builds through `prepack`), the
// tarball unpacked into a scratch project's node_modules, then resolved through the
// `exports` map from outside this repository. A broken map, a missing `.d.ts`, a file
// left out of the `files` list, or types that need `@types/node` fail here.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import ts from 'typescript';

const root = resolve(import.meta.dirname, '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, string | Record<string, string>>;
  dependencies?: Record<string, string>;
  devDependencies: Record<string, string>;
  files: string[];
};

/**
 * The public surface, entry point by entry point: every name a consumer can import,
 * types included, and the names that exist at run time. A change here is a change to
 * the public API, and must be deliberate (and documented in docs/ and the README).
 */
/** Per entry point: the declared names (types included) and the run-time values among them. */
const MODULES: Record<string, { declared: string[]; values: string[] }> = {
  types: {
    declared: [
      'AbortSignalLike',
      'Application',
      'ByteString',
      'Environ',
      'ErrorStream',
      'FileLike',
      'FileWrapper',
      'HeaderList',
      'InputStream',
      'PlatformAbortSignal',
      'ResponseBody',
      'StartResponse',
      'Write',
    ],
    values: [],
  },
  server: {
    declared: ['NodeListener', 'NodeTransportOptions', 'ServeOptions', 'TsgiServer', 'demoApp', 'serve', 'toNodeListener'],
    values: ['demoApp', 'serve', 'toNodeListener'],
  },
  handler: { declared: ['AbortState', 'Outcome', 'OutgoingHead', 'Transport', 'runExchange'], values: ['runExchange'] },
  validate: {
    declared: ['Side', 'ValidationError', 'ValidationErrorInit', 'ValidatorOptions', 'validator'],
    values: ['ValidationError', 'validator'],
  },
  util: {
    declared: [
      'FileWrapper',
      'FileWrapperBody',
      'FileWrapperConstructor',
      'applicationUri',
      'createInput',
      'guessScheme',
      'isHopByHop',
      'requestUri',
      'setupTestingDefaults',
      'shiftPathInfo',
    ],
    values: [
      'FileWrapper',
      'applicationUri',
      'createInput',
      'guessScheme',
      'isHopByHop',
      'requestUri',
      'setupTestingDefaults',
      'shiftPathInfo',
    ],
  },
  headers: { declared: ['HeaderParams', 'ResponseHeaders', 'ResponseHeadersInit'], values: ['ResponseHeaders'] },
  fetch: {
    declared: ['FetchHandler', 'FetchHandlerOptions', 'PerRequest', 'fromFetchHandler', 'toFetchHandler'],
    values: ['fromFetchHandler', 'toFetchHandler'],
  },
  testing: { declared: ['FetchAppInit', 'fetchApp'], values: ['fetchApp'] },
  cgi: { declared: ['CgiOptions', 'CgiOutput', 'Outcome', 'runCgi'], values: ['runCgi'] },
  conformance: {
    declared: [
      'AppCase',
      'AppConformanceOptions',
      'AppExchange',
      'AppRequest',
      'Capabilities',
      'Capability',
      'CaseApp',
      'CaseContext',
      'CaseFailure',
      'CaseResult',
      'CaseStatus',
      'ConformanceReport',
      'DEFAULT_CAPABILITIES',
      'ErrorSink',
      'Failure',
      'FormatOptions',
      'Level',
      'LevelTally',
      'ProbeCall',
      'RecordedCall',
      'RemoteProbe',
      'RequestOptions',
      'RequirementId',
      'RequirementResult',
      'RunningServer',
      'SPEC_VERSION',
      'Selection',
      'ServerCase',
      'ServerConformanceOptions',
      'ServerTarget',
      'StartContext',
      'Tally',
      'WireConnection',
      'WireResponse',
      'appCases',
      'formatReport',
      'middlewareCases',
      'reportToJson',
      'runAppConformance',
      'runMiddlewareConformance',
      'runServerConformance',
      'serverCases',
    ],
    values: [
      'CaseFailure',
      'DEFAULT_CAPABILITIES',
      'SPEC_VERSION',
      'appCases',
      'formatReport',
      'middlewareCases',
      'reportToJson',
      'runAppConformance',
      'runMiddlewareConformance',
      'runServerConformance',
      'serverCases',
    ],
  },
};
const union = (lists: string[][]) => [...new Set(lists.flat())].sort();

/**
 * The public surface, entry point by entry point: every name a consumer can import,
 * types included, and the names that exist at run time. The root re-exports every
 * module. A change here is a change to the public API, and must be deliberate (and
 * documented in docs/ and the README).
 */
const SURFACE: Record<string, { declared: string[]; runtime: string[] }> = {
  tsgi: {
    declared: union(Object.values(MODULES).map((m) => m.declared)),
    runtime: union(Object.values(MODULES).map((m) => m.values)),
  },
  ...Object.fromEntries(
    Object.entries(MODULES).map(([name, m]) => [`tsgi/${name}`, { declared: m.declared, runtime: m.values }]),
  ),
};

const entryPoints = Object.keys(manifest.exports)
  .filter((key) => key !== './package.json')
  .map((key) => (key === '.' ? 'tsgi' : `tsgi/${key.slice(2)}`));

let project = '';
let packed: string[] = [];

before(() => {
  project = mkdtempSync(join(tmpdir(), 'tsgi-consumer-'));
  const output = execFileSync('npm', ['pack', '--json', '--pack-destination', project], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [info] = JSON.parse(output.slice(output.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  assert.ok(info);
  packed = info.files.map((f) => f.path);
  const modules = join(project, 'node_modules');
  mkdirSync(modules);
  execFileSync('tar', ['-xzf', join(project, info.filename), '-C', modules]);
  execFileSync('mv', [join(modules, 'package'), join(modules, 'tsgi')]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
});

after(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('package.json', () => {
  test('has no runtime dependencies and only the allowed dev dependencies', () => {
    assert.deepEqual(manifest.dependencies ?? {}, {});
    assert.deepEqual(Object.keys(manifest.devDependencies).sort(), ['@types/node', 'tsx', 'typescript']);
  });

  test('lists `types` first in every export condition', () => {
    for (const [key, target] of Object.entries(manifest.exports)) {
      if (typeof target === 'string') continue;
      assert.equal(Object.keys(target)[0], 'types', key);
    }
  });

  test('every entry point has a snapshot of its surface', () => {
    assert.deepEqual(entryPoints.sort(), Object.keys(SURFACE).sort());
  });
});

describe('the packed tarball', () => {
  test('ships every file the exports map points to', () => {
    for (const [key, target] of Object.entries(manifest.exports)) {
      const paths = typeof target === 'string' ? [target] : Object.values(target);
      for (const path of paths) assert.ok(packed.includes(path.slice(2)), `${key}: ${path} is not in the tarball`);
    }
  });

  test('ships the spec, the licence and the readme, and no tests', () => {
    for (const file of ['spec/tsgi.md', 'LICENSE', 'README.md']) assert.ok(packed.includes(file), file);
    assert.equal(packed.filter((p) => p.startsWith('test/') || p.includes('.test.')).length, 0);
  });

  test('compiles tsgi/types and tsgi/handler for a consumer with neither Node types nor the DOM library', () => {
    compileConsumer('bare', [], `
      import type { Application, Environ, ResponseBody } from 'tsgi/types';
      import * as handler from 'tsgi/handler';
      const app: Application = async (environ: Environ, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        environ['tsgi.signal'].throwIfAborted();
        const body: ResponseBody = [await environ['tsgi.input'].read()];
        return body;
      };
      export const run: (transport: handler.Transport) => Promise<handler.Outcome> = (transport) =>
        handler.runExchange(app, {} as Environ, transport);
    `);
  });

  test('gives a consumer with Node types the platform AbortSignal for tsgi.signal', () => {
    compileConsumer('node', ['node'], `
      import type { Application } from 'tsgi/types';
      export const app: Application = async (environ, startResponse) => {
        const response = await fetch('http://127.0.0.1:1/', { signal: environ['tsgi.signal'] });
        startResponse('200 OK', []);
        return [new Uint8Array(await response.arrayBuffer())];
      };
    `);
  });

  test('runs the tsgi command through the link npm makes in node_modules/.bin', () => {
    const bin = join(project, 'node_modules', '.bin');
    mkdirSync(bin, { recursive: true });
    const manifestBin = (manifest as unknown as { bin: Record<string, string> }).bin.tsgi!;
    // As npm installs a bin: its target made executable, and a relative link to it.
    chmodSync(join(project, 'node_modules', 'tsgi', manifestBin), 0o755);
    symlinkSync(join('..', 'tsgi', manifestBin), join(bin, 'tsgi'));
    const version = execFileSync(join(bin, 'tsgi'), ['--version'], { cwd: project, encoding: 'utf8', timeout: 15_000 });
    assert.equal(version.trim(), (manifest as unknown as { version: string }).version);
  });

  test('declares exactly the snapshotted names at each entry point', () => {
    const file = join(project, 'surface.ts');
    writeFileSync(file, entryPoints.map((e, i) => `import * as m${i} from '${e}';\nexport { m${i} };`).join('\n'));
    const program = ts.createProgram([file], consumerOptions(['node']));
    const checker = program.getTypeChecker();
    const source = program.getSourceFile(file);
    assert.ok(source);
    const declared: Record<string, string[]> = {};
    for (const statement of source.statements) {
      if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
      const symbol = checker.getSymbolAtLocation(statement.moduleSpecifier);
      assert.ok(symbol, `${statement.moduleSpecifier.text} does not resolve to declarations`);
      declared[statement.moduleSpecifier.text] = checker
        .getExportsOfModule(symbol)
        .map((s) => s.name)
        .sort();
    }
    assert.deepEqual(
      declared,
      Object.fromEntries(Object.entries(SURFACE).map(([entry, surface]) => [entry, surface.declared])),
    );
  });

  test('exports exactly the snapshotted runtime names at each entry point', () => {
    const script = `
      import { createRequire } from 'node:module';
      const names = {};
      for (const entry of ${JSON.stringify(entryPoints)}) names[entry] = Object.keys(await import(entry)).sort();
      names['package.json'] = createRequire(import.meta.url)('tsgi/package.json').name;
      console.log(JSON.stringify(names));
    `;
    writeFileSync(join(project, 'names.mjs'), script);
    const names = JSON.parse(execFileSync(process.execPath, ['names.mjs'], { cwd: project, encoding: 'utf8' }));
    assert.deepEqual(names, {
      ...Object.fromEntries(Object.entries(SURFACE).map(([entry, surface]) => [entry, surface.runtime])),
      'package.json': 'tsgi',
    });
  });
});

function consumerOptions(types: string[]): ts.CompilerOptions {
  return {
    strict: true,
    exactOptionalPropertyTypes: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    types,
    typeRoots: [join(root, 'node_modules', '@types')],
    skipLibCheck: false,
    noEmit: true,
  };
}

/** Compiles one consumer file in the scratch project, failing with tsc's diagnostics. */
function compileConsumer(name: string, types: string[], source: string): void {
  const file = join(project, `${name}.ts`);
  writeFileSync(file, source);
  const program = ts.createProgram([file], consumerOptions(types));
  const diagnostics = ts.getPreEmitDiagnostics(program);
  const text = ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => project,
    getNewLine: () => '\n',
  });
  assert.equal(text, '', `the consumer "${name}" did not compile`);
  // The consumer must have read the package's declarations, not some other copy.
  assert.ok(program.getSourceFiles().some((f) => f.fileName.includes('node_modules/tsgi/dist/src/types.d.ts')));
}
