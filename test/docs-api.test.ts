// The API reference matches the exports: each public entry point (every key of the
// `exports` map but the root and package.json) has its page, docs/<module>.md, which
// mentions every name the module exports, types included, as code; a heading that
// starts with a code span (`## \`serve(app, options?)\``) documents an export and must
// name one the module has; and docs/README.md's table lists every entry point with its
// page. The names come from the sources as a consumer's compiler and Node see them: the
// type checker's exports of each module, and the keys of the module object at run time,
// as test/package.test.ts reads them from the packed package (its MODULES table is not
// imported: importing that file would run its tests, packing included, in this one).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { before, describe, test } from 'node:test';
import ts from 'typescript';

const root = resolve(import.meta.dirname, '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, string | Record<string, string>>;
};

/** The public modules, by the name after `tsgi/`. */
const modules = Object.keys(manifest.exports)
  .filter((key) => key !== '.' && key !== './package.json')
  .map((key) => key.slice(2));

/** The source file behind an entry point, from its `types` path in the exports map. */
function sourceOf(key: string): string {
  const target = manifest.exports[key];
  const types = typeof target === 'string' ? target : target?.['types'];
  assert.ok(types, `${key} has no types path`);
  // ./dist/src/util.d.ts -> src/util.ts; ./dist/conformance/index.d.ts -> conformance/index.ts
  return join(root, types.replace(/^\.\/dist\//, '').replace(/\.d\.ts$/, '.ts'));
}

interface Surface {
  declared: string[];
  runtime: string[];
}

const surface: Record<string, Surface> = {};
let rootDeclared: string[] = [];

before(async () => {
  const sources = ['.', ...modules.map((m) => `./${m}`)].map((key) => [key, sourceOf(key)] as const);
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => assert.fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')),
  });
  assert.ok(config);
  const program = ts.createProgram(
    sources.map(([, file]) => file),
    { ...config.options, noEmit: true },
  );
  const checker = program.getTypeChecker();
  const declaredOf = (file: string): string[] => {
    const source = program.getSourceFile(file);
    assert.ok(source, `${file} is not in the program`);
    const symbol = checker.getSymbolAtLocation(source);
    assert.ok(symbol, `${file} is not a module`);
    return checker
      .getExportsOfModule(symbol)
      .map((s) => s.name)
      .sort();
  };
  for (const [key, file] of sources) {
    const declared = declaredOf(file);
    if (key === '.') {
      rootDeclared = declared;
      continue;
    }
    const runtime = Object.keys((await import(pathToFileURL(file).href)) as object).sort();
    surface[key.slice(2)] = { declared, runtime };
  }
});

// ---- Markdown, as far as code spans, headings and fences go -------------------------

interface Page {
  /** Lines outside fenced code blocks, with their 1-based line numbers. */
  prose: Array<{ line: number; text: string }>;
}

function readPage(page: string): Page {
  return parsePage(readFileSync(join(root, page), 'utf8'));
}

/** Splits markdown into the lines outside fenced code blocks. */
function parsePage(markdown: string): Page {
  const lines = markdown.split('\n');
  const prose: Page['prose'] = [];
  let fence: string | undefined;
  for (const [index, text] of lines.entries()) {
    const opener = /^ {0,3}(`{3,}|~{3,})/.exec(text)?.[1];
    if (fence === undefined && opener) {
      fence = opener;
      continue;
    }
    if (fence !== undefined) {
      if (new RegExp(`^ {0,3}${fence[0]}{${fence.length},}\\s*$`).test(text)) fence = undefined;
      continue;
    }
    prose.push({ line: index + 1, text });
  }
  return { prose };
}

/** The contents of the inline code spans in `text` (CommonMark: a run of N backticks closed by a run of exactly N). */
function codeSpans(text: string): string[] {
  const spans: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] !== '`') {
      i++;
      continue;
    }
    let n = 0;
    while (text[i + n] === '`') n++;
    const open = i + n;
    let j = open;
    let close = -1;
    while (j < text.length) {
      if (text[j] !== '`') {
        j++;
        continue;
      }
      let m = 0;
      while (text[j + m] === '`') m++;
      if (m === n) {
        close = j;
        break;
      }
      j += m;
    }
    if (close === -1) {
      i = open; // an unmatched run is literal text
      continue;
    }
    spans.push(text.slice(open, close).replace(/\n/g, ' '));
    i = close + n;
  }
  return spans;
}

/** Every inline code span of a page, paragraph by paragraph (a span never crosses a blank line). */
function pageSpans(page: Page): string[] {
  const paragraphs: string[] = [];
  let current: string[] = [];
  for (const { text } of page.prose) {
    if (text.trim() === '') {
      if (current.length) paragraphs.push(current.join('\n'));
      current = [];
    } else current.push(text);
  }
  if (current.length) paragraphs.push(current.join('\n'));
  return paragraphs.flatMap(codeSpans);
}

const identifiers = (code: string): string[] => code.match(/[A-Za-z_$][\w$]*/g) ?? [];

/** The names a page mentions as code: every identifier inside an inline code span. */
function mentioned(page: Page): Set<string> {
  return new Set(pageSpans(page).flatMap(identifiers));
}

/**
 * The names a page documents as exports: for each `##` or `###` heading that starts with a
 * code span, the leading identifier of each code span in it (`new ResponseHeaders(init?)`
 * documents `ResponseHeaders`).
 */
function documented(page: Page): Array<{ line: number; name: string; heading: string }> {
  const found: Array<{ line: number; name: string; heading: string }> = [];
  for (const { line, text } of page.prose) {
    const heading = /^#{2,3}\s+(`.*)$/.exec(text)?.[1];
    if (heading === undefined) continue;
    for (const span of codeSpans(heading)) {
      const name = /^\s*(?:new\s+)?([A-Za-z_$][\w$]*)/.exec(span)?.[1];
      found.push({ line, name: name ?? span, heading: text });
    }
  }
  return found;
}

// ---- The checks ----------------------------------------------------------------------

describe('the API reference', () => {
  test('the exports map has public modules, each with its source', () => {
    assert.ok(modules.length > 0);
    for (const module of modules) assert.ok(existsSync(sourceOf(`./${module}`)), `tsgi/${module}`);
  });

  test('every run-time export is also a declared one', () => {
    for (const module of modules) {
      const { declared, runtime } = surface[module]!;
      assert.deepEqual(runtime.filter((name) => !declared.includes(name)), [], `tsgi/${module}`);
    }
  });

  test('the package root exports nothing that no module page documents', () => {
    const all = new Set(modules.flatMap((m) => surface[m]!.declared));
    assert.deepEqual(rootDeclared.filter((name) => !all.has(name)), []);
  });

  for (const module of modules) {
    const file = `docs/${module}.md`;
    describe(file, () => {
      test('exists, titled with its entry point', () => {
        assert.ok(existsSync(join(root, file)), `${file} is missing`);
        const title = readFileSync(join(root, file), 'utf8').split('\n')[0] ?? '';
        assert.match(title, new RegExp(`^# .*\`tsgi/${module}\``), `${file} has no title naming tsgi/${module}`);
      });

      test(`mentions every name tsgi/${module} exports, as code`, () => {
        const names = mentioned(readPage(file));
        const { declared, runtime } = surface[module]!;
        const exported = [...new Set([...declared, ...runtime])].sort();
        assert.ok(exported.length > 0, `tsgi/${module} exports nothing`);
        assert.deepEqual(exported.filter((name) => !names.has(name)), [], `${file} does not mention these exports of tsgi/${module}`);
      });

      test(`documents no name tsgi/${module} does not export`, () => {
        const { declared, runtime } = surface[module]!;
        const exported = new Set([...declared, ...runtime]);
        const strays = documented(readPage(file))
          .filter(({ name }) => !exported.has(name))
          .map(({ line, name, heading }) => `${file}:${line}: \`${name}\` in "${heading}"`);
        assert.deepEqual(strays, [], `headings of ${file} document names tsgi/${module} does not export`);
      });
    });
  }

  test('docs/README.md lists every entry point with its page, and nothing else', () => {
    const rows = readPage('docs/README.md')
      .prose.map(({ text }) => /^\|\s*`tsgi\/([a-z]+)`\s*\|\s*\[[^\]]*\]\(([^)\s]+)\)\s*\|/.exec(text))
      .filter((match) => match !== null)
      .map((match) => [match[1]!, match[2]!] as const);
    assert.deepEqual(
      rows.map(([module]) => module).sort(),
      [...modules].sort(),
      'the entry points in the table of docs/README.md',
    );
    for (const [module, link] of rows) assert.equal(link, `${module}.md`, `the page linked for tsgi/${module}`);
  });
});

// The test itself: a name missing from a page, or a heading naming a stray, is found.
describe('the checks themselves', () => {
  test('code spans: single, double and unmatched backticks', () => {
    assert.deepEqual(codeSpans('a `b` c ``d ` e`` f ` g'), ['b', 'd ` e']);
  });

  test('a name counts only inside a code span, not in prose or fenced code', () => {
    const names = mentioned(parsePage('Serve with serve.\n\n```ts\nfetchApp();\n```\n\nSee `toNodeListener(app)`.\n'));
    assert.ok(names.has('toNodeListener'));
    assert.ok(!names.has('serve'));
    assert.ok(!names.has('fetchApp'));
  });

  test('headings that start with a code span document their leading names', () => {
    const found = documented(parsePage('## `serve(app, options?)`\n### `new ResponseHeaders(init?)` and `Side`\n## Reading: `get`\n# `tsgi/x`'));
    assert.deepEqual(
      found.map(({ name }) => name),
      ['serve', 'ResponseHeaders', 'Side'],
    );
  });
});
