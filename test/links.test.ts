// The documentation's links: every relative link in the README, docs/ and examples/
// reaches a file that exists, and every #anchor in it reaches a heading or an
// `<a id>` of that file; the README links every guide.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const root = resolve(import.meta.dirname, '..');
const pages = [
  'README.md',
  'examples/README.md',
  ...readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f.split('\\').join('/')}`),
];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

const anchorCache = new Map<string, Set<string>>();

/** The anchors of a markdown file: its headings' slugs (numbered when repeated) and its `<a id>`s. */
function anchors(file: string): Set<string> {
  let found = anchorCache.get(file);
  if (found) return found;
  found = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (/^```/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (heading) {
      const base = slug(heading[1]!);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      found.add(n ? `${base}-${n}` : base);
    }
    for (const match of line.matchAll(/<a id="([^"]+)"/g)) found.add(match[1]!);
  }
  anchorCache.set(file, found);
  return found;
}

/** The relative links of a page, outside code blocks and code spans. */
function links(page: string): Array<{ target: string; line: number }> {
  const found: Array<{ target: string; line: number }> = [];
  let fenced = false;
  readFileSync(join(root, page), 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (/^```/.test(line)) fenced = !fenced;
      if (fenced) return;
      for (const match of line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1]!;
        if (!/^[a-z]+:/i.test(target)) found.push({ target, line: i + 1 });
      }
    });
  return found;
}

test('every relative link reaches a file, and every anchor a heading or an <a id>', () => {
  const broken: string[] = [];
  for (const page of pages) {
    for (const { target, line } of links(page)) {
      const [path = '', anchor] = target.split('#');
      const file = path ? resolve(dirname(join(root, page)), decodeURI(path)) : join(root, page);
      if (!existsSync(file)) {
        broken.push(`${page}:${line}: ${target}: no such file`);
        continue;
      }
      if (anchor && file.endsWith('.md') && statSync(file).isFile() && !anchors(file).has(decodeURIComponent(anchor))) {
        broken.push(`${page}:${line}: ${target}: no such anchor in ${relative(root, file)}`);
      }
    }
  }
  assert.deepEqual(broken, []);
});

test('the README links every guide', () => {
  const linked = new Set(links('README.md').map(({ target }) => target.split('#')[0]));
  const guides = readdirSync(join(root, 'docs', 'guides')).filter((f) => f.endsWith('.md'));
  assert.ok(guides.length >= 7);
  for (const guide of guides) assert.ok(linked.has(`docs/guides/${guide}`), `README.md does not link docs/guides/${guide}`);
});
