// The spec is the single source of the contract: these tests keep it well-formed and
// keep src/_requirements.ts, which the validator and the conformance suite import,
// generated from it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { MODULE_PATH, SPEC_PATH, githubSlug, parseSpec, renderModule } from '../scripts/extract-requirements.js';
import { requirements } from '../src/_requirements.js';

const spec = readFileSync(SPEC_PATH, 'utf8');
const report = parseSpec(spec);

describe('spec/tsgi.md', () => {
  test('is well-formed: IDs, anchors, roles, one key word each, links', () => {
    assert.deepEqual(report.errors, []);
  });

  test('src/_requirements.ts is generated from the current spec (run `npm run spec`)', () => {
    assert.equal(readFileSync(MODULE_PATH, 'utf8'), renderModule(report.requirements));
  });

  test('has the sections a reader of PEP 3333 expects, in order', () => {
    const order = [
      'abstract',
      'rationale-and-goals',
      'conformance-and-terminology',
      'the-application-side',
      'the-server-side',
      'middleware',
      'specification-details',
      'differences-from-pep-3333',
      'questions-and-answers',
      'changelog',
      'retired-and-renamed-ids',
      'appendix-a-pep-3333-requirement-by-requirement',
    ];
    const headings = [...spec.matchAll(/^## (.*)$/gm)].map((m) => githubSlug(m[1] ?? ''));
    const positions = order.map((anchor) => headings.indexOf(anchor));
    assert.ok(positions.every((p) => p >= 0), `missing: ${order.filter((_, i) => positions[i]! < 0).join(', ')}`);
    assert.deepEqual([...positions].sort((a, b) => a - b), positions);
  });

  test('the details cover every subject the contract needs', () => {
    for (const subject of [
      'byte-strings',
      'the-environ',
      'the-input-stream',
      'the-error-stream',
      'startresponse',
      'excinfo-replacing-a-response',
      'when-the-headers-are-sent',
      'the-write-function',
      'the-response-body',
      'content-length-and-framing',
      'buffering-and-streaming',
      'responses-without-a-body',
      'expect-100-continue',
      'hop-by-hop-headers',
      'client-disconnect',
      'malformed-requests',
      'concurrency',
      'url-reconstruction',
      'tsgifile_wrapper',
      'extension-keys',
      'error-handling',
    ]) {
      assert.ok(report.headingAnchors.has(subject), subject);
    }
  });

  test('every requirement is a short paragraph with at least one role', () => {
    for (const r of report.requirements) {
      assert.ok(r.roles.length > 0, r.id);
      assert.ok(r.summary.length > 20 && r.summary.length <= 400, `${r.id}: ${r.summary.length} characters`);
    }
  });

  test('uses every level and binds every role', () => {
    const levels = new Set(report.requirements.map((r) => r.level));
    assert.deepEqual([...levels].sort(), ['MAY', 'MUST', 'MUST NOT', 'SHOULD', 'SHOULD NOT']);
    const roles = new Set(report.requirements.flatMap((r) => r.roles));
    assert.deepEqual([...roles].sort(), ['application', 'middleware', 'server']);
  });

  test('every environ key in the table has a requirement that defines it', () => {
    const table = spec.slice(spec.indexOf('| Key | Type |'), spec.indexOf('#### General'));
    const keys = [...table.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1] ?? '');
    assert.ok(keys.length >= 20);
    const texts = report.requirements.map((r) => r.summary);
    for (const key of keys) {
      const name = key.replace('*', '');
      assert.ok(
        texts.some((t) => t.includes(name)),
        `no requirement mentions ${key}`,
      );
    }
  });

  test('the retired-ID table names no live requirement', () => {
    const section = spec.slice(spec.indexOf('## Retired and renamed IDs'), spec.indexOf('## Appendix A'));
    const retired = [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
    for (const id of retired) assert.ok(!(id! in requirements), `${id} is retired but still defined`);
  });
});

describe('Appendix A maps every requirement of PEP 3333', () => {
  const appendix = spec.slice(spec.indexOf('## Appendix A'), spec.indexOf('## Appendix B'));
  const rows = [...appendix.matchAll(/^\| (\d+) \| [^|]+ \| ([^|]+) \| ([^|]+) \| ([^|]*) \|$/gm)];

  test('has one row for each of the 159 requirements, numbered in order', () => {
    assert.deepEqual(
      rows.map((m) => Number(m[1])),
      Array.from({ length: 159 }, (_, i) => i + 1),
    );
  });

  test('each row cites the TSGI requirements that carry it, or says why none does', () => {
    for (const [, number, , cited = '', note = ''] of rows) {
      const ids = [...cited.matchAll(/\[`([^`]+)`\]/g)].map((m) => m[1] ?? '');
      for (const id of ids) assert.ok(id in requirements, `row ${number}: unknown ID ${id}`);
      if (ids.length === 0) assert.match(note, /^Not carried: \S/, `row ${number} cites nothing and gives no reason`);
    }
  });
});

describe('the extractor rejects a malformed spec', () => {
  const good = '<a id="env.example"></a>**`env.example`** *(server)* A server MUST do one thing.';
  const errorsFor = (markdown: string) => parseSpec(markdown).errors;

  test('accepts a well-formed requirement and extracts it', () => {
    const parsed = parseSpec(`# T\n\n${good}\n`);
    assert.deepEqual(parsed.errors, []);
    assert.equal(parsed.requirements.length, 1);
    assert.deepEqual(
      { ...parsed.requirements[0] },
      { id: 'env.example', level: 'MUST', roles: ['server'], summary: 'A server MUST do one thing.', line: 3 },
    );
  });

  const cases: Array<[string, string, RegExp]> = [
    ['a duplicated ID', `${good}\n\n${good}`, /already defined/],
    ['an anchor that differs from the ID', good.replace('id="env.example"', 'id="env.other"'), /differs from the ID/],
    ['an ID with a number for a segment name', good.replaceAll('env.example', 'env.Example'), /dotted lowercase slug/],
    ['an ID of one segment', good.replaceAll('env.example', 'example'), /dotted lowercase slug/],
    ['an unknown role', good.replace('(server)', '(client)'), /unknown role/],
    ['a missing role', good.replace(' *(server)*', ''), /must start/],
    ['no key word', good.replace('MUST ', ''), /0 BCP 14 key words/],
    ['two key words', good.replace('one thing.', 'one thing and MAY do another.'), /2 BCP 14 key words/],
    ['an unused key word', good.replace('do one', 'do one REQUIRED'), /does not use/],
    ['a key word in prose', `Servers MUST behave.\n\n${good}`, /outside a requirement paragraph/],
    ['an untestable note without a reason', `${good} [untestable: ]`, /needs a reason/],
    ['a link to nowhere', `${good}\n\nSee [this](#env.missing).`, /neither a requirement nor a heading/],
    ['an unknown ID in code font', `${good}\n\nSee \`env.missing\`.`, /looks like a requirement ID/],
    ['a duplicated heading', `## A\n\n## A\n\n${good}`, /used twice/],
  ];
  for (const [what, markdown, message] of cases) {
    test(what, () => {
      const errors = errorsFor(markdown);
      assert.ok(errors.some((e) => message.test(e)), `expected ${message} in ${JSON.stringify(errors)}`);
    });
  }

  test('ignores key words and anchors inside fenced code', () => {
    assert.deepEqual(errorsFor('```md\nServers MUST <a id="x.y"></a>\n```\n'), []);
  });

  test('reads the level after code spans are removed', () => {
    const parsed = parseSpec(good.replace('MUST do', 'SHOULD NOT do `MAY`'));
    assert.deepEqual(parsed.errors, []);
    assert.equal(parsed.requirements[0]?.level, 'SHOULD NOT');
  });
});

describe('the generated module', () => {
  test('holds every requirement of the spec with its anchor', () => {
    assert.equal(Object.keys(requirements).length, report.requirements.length);
    const decoded = requirements['env.path-info.decoded'];
    assert.equal(decoded.level, 'MUST');
    assert.deepEqual(decoded.roles, ['server']);
    assert.equal(decoded.anchor, 'spec/tsgi.md#env.path-info.decoded');
    assert.equal(requirements['status.reason'].level, 'SHOULD NOT');
    assert.deepEqual(requirements['ext.reserved'].roles, ['server', 'middleware']);
    assert.match(requirements['exc.no-retain'].untestable, /not observable/);
  });
});
