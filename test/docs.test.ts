// Every ```ts example in the README and docs/ type-checks and runs as written: each
// block becomes a module whose `tsgi` and `tsgi/<module>` imports point at the sources,
// and it must exit 0 within a bound. Two kinds of block are exempt: one whose first line
// is `// fragment` shows part of a program (it uses names it does not define), and a
// ```typescript block lists declarations for reference (signatures, not a program).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import ts from 'typescript';

const root = resolve(import.meta.dirname, '..');
const tsx = import.meta.resolve('tsx');
const scratch = mkdtempSync(join(tmpdir(), 'tsgi-docs-'));
writeFileSync(join(scratch, 'package.json'), '{"type":"module"}');
after(() => rmSync(scratch, { recursive: true, force: true }));

interface Example {
  file: string;
  line: number;
  code: string;
}

/** The ```ts blocks of a markdown file, with the line each starts on. */
export function examples(file: string): Example[] {
  const found: Example[] = [];
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^```ts\s*$/.test(lines[i] ?? '')) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end] ?? '')) end++;
    found.push({ file, line: start + 1, code: lines.slice(start, end).join('\n') });
    i = end;
  }
  return found;
}

/** Points `tsgi` imports at the sources, as a consumer's imports would reach the package. */
function localise(code: string): string {
  return code.replace(/from '(tsgi(?:\/[a-z]+)?)'/g, (_match, specifier: string) => {
    if (specifier === 'tsgi/conformance') return `from '${join(root, 'conformance', 'index.ts')}'`;
    const module = specifier === 'tsgi' ? 'index' : specifier.slice(5);
    return `from '${join(root, 'src', `${module}.ts`)}'`;
  });
}

function runModule(path: string): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    // From the repository root, as a reader runs an example from their project.
    const child = spawn(process.execPath, ['--import', tsx, path], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.stderr.on('data', (d: Buffer) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

// TSGI_DOCS=docs/guides limits a run to the pages whose path starts with it, while writing them.
const only = process.env.TSGI_DOCS;
const pages = [
  'README.md',
  ...readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f.split('\\').join('/')}`)
    .sort(),
].filter((page) => only === undefined || page.startsWith(only));
const runnable = pages.flatMap((page) =>
  examples(page)
    .map((example, index) => ({ ...example, path: join(scratch, `${page.replace(/\W/g, '_')}_${index + 1}.ts`) }))
    .filter((example) => !example.code.trimStart().startsWith('// fragment')),
);

test('every runnable example type-checks under strict settings', () => {
  for (const example of runnable) writeFileSync(example.path, localise(example.code));
  const program = ts.createProgram(
    runnable.map((example) => example.path),
    {
      strict: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      types: ['node'],
      typeRoots: [join(root, 'node_modules', '@types')],
      allowImportingTsExtensions: true,
      noEmit: true,
      skipLibCheck: true,
    },
  );
  const problems = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && runnable.some((example) => example.path === d.file?.fileName))
    .map((d) => {
      const example = runnable.find((e) => e.path === d.file?.fileName)!;
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      return `${example.file}:${example.line + line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
  assert.deepEqual(problems, []);
});

for (const page of pages) {
  describe(page, () => {
    const blocks = examples(page);
    for (const [index, example] of blocks.entries()) {
      const fragment = example.code.trimStart().startsWith('// fragment');
      test(`example ${index + 1} (line ${example.line})${fragment ? ': a fragment, not run' : ''}`, { skip: fragment ? 'a fragment' : false }, async () => {
        const path = join(scratch, `${page.replace(/\W/g, '_')}_${index + 1}.ts`);
        writeFileSync(path, localise(example.code));
        const { code, output } = await runModule(path);
        assert.equal(code, 0, `${page}:${example.line} failed:\n${output}`);
      });
    }
  });
}
