// Coverage both ways: every MUST and SHOULD of the spec is checked by the validator, by a
// conformance case (of the server suite or the application battery), or is marked
// untestable with a reason; and nothing cites an ID the spec does not define. The
// validator's side is its exported list of checked requirements (src/_validate-checks.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { appCases, middlewareCases, serverCases } from '../conformance/index.js';
import { requirements, type Requirement } from '../src/_requirements.js';
import { checkedRequirements } from '../src/_validate-checks.js';

const table: Record<string, Requirement> = requirements;
const all = [...serverCases, ...appCases, ...middlewareCases];
const cited = new Set<string>(all.flatMap((c) => c.requirements));
const checked = new Set<string>(checkedRequirements);
const SECTIONS = ['environ', 'input', 'expect', 'response', 'body', 'write', 'framing', 'head', 'errors', 'disconnect', 'keep-alive', 'hop', 'malformed', 'file'];

describe('coverage of the spec', () => {
  test('every MUST and SHOULD has a validator check, a conformance case, or an untestable note', () => {
    const uncovered = Object.values(table).filter(
      (r) => r.level !== 'MAY' && r.untestable === undefined && !checked.has(r.id) && !cited.has(r.id),
    );
    assert.deepEqual(
      uncovered.map((r) => `${r.id} (${r.level}, ${r.roles.join('/')})`),
      [],
      'requirements nobody checks',
    );
  });

  test('every case cites at least one requirement, and only IDs the spec defines', () => {
    for (const c of all) {
      assert.ok(c.requirements.length > 0, `${c.id} cites nothing`);
      for (const id of c.requirements) assert.ok(id in table, `${c.id} cites ${id}, which the spec does not define`);
    }
  });

  test('no case cites a requirement the spec calls untestable', () => {
    const contradictions = all.flatMap((c) => c.requirements.filter((id) => table[id]?.untestable !== undefined).map((id) => `${c.id}: ${id}`));
    assert.deepEqual(contradictions, []);
  });

  test('the validator cites only IDs the spec defines', () => {
    for (const id of checkedRequirements) assert.ok(id in table, id);
  });
});

describe('the cases as data', () => {
  test('case IDs are unique, never equal to a requirement ID, and name their section', () => {
    const ids = all.map((c) => c.id);
    assert.equal(new Set(ids).size, ids.length, 'duplicate case IDs');
    for (const id of ids) assert.ok(!(id in table), `the case ID ${id} is also a requirement ID`);
    for (const c of serverCases) assert.ok(SECTIONS.includes(c.id.split('.')[0] ?? ''), `${c.id} has no known section`);
    for (const c of appCases) assert.match(c.id, /^app\./);
    for (const c of middlewareCases) assert.match(c.id, /^middleware\./);
  });

  test('there are at least 80 server cases, with a description each', () => {
    assert.ok(serverCases.length >= 80, `${serverCases.length} server cases`);
    for (const c of all) assert.ok(c.description.length > 10 && !c.description.endsWith('.'), c.id);
  });

  test('the server cases cover every server MUST and SHOULD the wire can show, beyond what the validator checks', () => {
    const serverOnly = Object.values(table).filter(
      (r) => r.roles.includes('server') && r.level !== 'MAY' && r.untestable === undefined && !checked.has(r.id),
    );
    const missing = serverOnly.filter((r) => !serverCases.some((c) => c.requirements.includes(r.id as never))).map((r) => r.id);
    assert.deepEqual(missing, []);
  });
});
