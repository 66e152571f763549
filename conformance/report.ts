/**
 * The conformance report: built from case results, rendered as text for people and as
 * JSON for tools. The report is plain data, so `JSON.stringify(report)` is its JSON form.
 *
 * @module
 */
import { requirements as table, type Level, type RequirementId } from '../src/_requirements.js';
import { sectionOf } from './_select.js';
import type { Finding } from './_probe.js';
import type { Capability, CaseResult, CaseStatus, ConformanceReport, Failure, LevelTally, RequirementResult, Tally } from './types.js';

/** The version of the spec the suite checks. */
export const SPEC_VERSION = '1.0';

const LEVELS: readonly Level[] = ['MUST', 'MUST NOT', 'SHOULD', 'SHOULD NOT', 'MAY'];

const emptyTally = (): Tally => ({ pass: 0, fail: 0, 'n/a': 0, skipped: 0 });

/** A validator finding as a failure: the message without the ID the report prints anyway. */
export function violationFailure(error: Finding): Failure {
  return { requirement: error.requirement, level: error.level, message: error.message.replace(/^\[[^\]]+\] /, ''), source: 'validator' };
}

/** The result of a case that ran: failed when anything went wrong, the first failure's requirement named. */
export function resultOf(
  c: { readonly id: string; readonly description: string; readonly requirements: readonly RequirementId[] },
  failures: Failure[],
  warnings: Failure[],
  began: number,
): CaseResult {
  return {
    id: c.id,
    section: sectionOf(c.id),
    description: c.description,
    requirements: c.requirements,
    status: failures.length ? 'fail' : 'pass',
    requirement: failures[0]?.requirement,
    failures,
    warnings,
    ms: Math.round(performance.now() - began),
  };
}

/** Assembles a report from the results of a run. */
export function buildReport(init: {
  kind: ConformanceReport['kind'];
  name: string;
  capabilities: Readonly<Record<Capability, boolean>> | undefined;
  results: readonly CaseResult[];
  ms: number;
}): ConformanceReport {
  const totals = emptyTally();
  for (const result of init.results) totals[result.status]++;
  const reqs = requirementResults(init.results);
  const levels = Object.fromEntries(LEVELS.map((level) => [level, { ...emptyTally(), unproven: 0 }])) as Record<Level, LevelTally>;
  for (const r of reqs) levels[r.level][r.status]++;
  return {
    kind: init.kind,
    name: init.name,
    spec: SPEC_VERSION,
    ok: totals.fail === 0,
    capabilities: init.capabilities,
    results: init.results,
    totals,
    levels,
    requirements: reqs,
    ms: Math.round(init.ms),
  };
}

/**
 * A requirement fails when a failure names it; otherwise it passes when a case that cites
 * it passed. When every case citing it failed for another reason, it is unproven: the
 * client stopped at the first failure, before it was checked.
 */
function requirementResults(results: readonly CaseResult[]): RequirementResult[] {
  const cited = new Map<RequirementId, string[]>();
  const failed = new Set<RequirementId>();
  for (const result of results) {
    for (const id of result.requirements) cited.set(id, [...(cited.get(id) ?? []), result.id]);
    for (const failure of result.failures) {
      if (failure.requirement === undefined) continue;
      failed.add(failure.requirement);
      if (!cited.has(failure.requirement)) cited.set(failure.requirement, []);
      const cases = cited.get(failure.requirement) as string[];
      if (!cases.includes(result.id)) cases.push(result.id);
    }
  }
  const byId = new Map(results.map((r) => [r.id, r]));
  const out: RequirementResult[] = [];
  for (const [id, cases] of cited) {
    const statuses = cases.map((c) => byId.get(c)?.status).filter((s): s is CaseStatus => s !== undefined);
    let status: RequirementResult['status'];
    if (failed.has(id)) status = 'fail';
    else if (statuses.includes('pass')) status = 'pass';
    else if (statuses.includes('fail')) status = 'unproven';
    else if (statuses.includes('n/a')) status = 'n/a';
    else status = 'skipped';
    out.push({ id, level: table[id].level, status, cases });
  }
  const order = Object.keys(table);
  return out.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
}

/** Options of {@link formatReport}. */
export interface FormatOptions {
  /** List only the cases that failed (and the totals). Default: every case. */
  failuresOnly?: boolean;
}

const MARK: Record<CaseStatus, string> = { pass: 'pass', fail: 'FAIL', 'n/a': 'n/a ', skipped: 'skip' };

/**
 * Renders a report as text: one line per case, grouped by section, each failure with
 * the requirement it names, then the totals by case and by requirement level.
 *
 * @example
 * ```ts
 * import { formatReport, runServerConformance } from 'tsgi/conformance';
 * const report = await runServerConformance(target);
 * process.stdout.write(formatReport(report));
 * ```
 */
export function formatReport(report: ConformanceReport, options: FormatOptions = {}): string {
  const lines: string[] = [];
  lines.push(`tsgi conformance: ${report.kind} ${JSON.stringify(report.name)}, TSGI ${report.spec}`);
  if (report.capabilities) {
    const caps = Object.entries(report.capabilities) as Array<[Capability, boolean]>;
    const on = caps.filter(([, v]) => v).map(([k]) => k);
    const off = caps.filter(([, v]) => !v).map(([k]) => k);
    lines.push(`capabilities: ${on.join(' ') || 'none'}${off.length ? ` (without: ${off.join(' ')})` : ''}`);
  }
  const width = Math.max(0, ...report.results.map((r) => r.id.length));
  let section = '';
  for (const result of report.results) {
    if (options.failuresOnly && result.status !== 'fail') continue;
    const current = sectionOf(result.id);
    if (current !== section) {
      section = current;
      lines.push('', section);
    }
    let line = `  ${MARK[result.status]}  ${result.id.padEnd(width)}  ${result.description}`;
    if (result.status === 'n/a' && result.missing?.length) line += ` (needs ${result.missing.join(', ')})`;
    lines.push(line);
    for (const failure of result.failures) lines.push(`          ${cite(failure)}${oneLine(failure.message)}`);
    for (const warning of result.warnings) lines.push(`          warning${warning.requirement === undefined ? ':' : ''} ${cite(warning)}${oneLine(warning.message)}`);
  }
  const t = report.totals;
  const noun = report.kind === 'server' ? 'cases' : 'requests';
  lines.push(
    '',
    `${report.results.length} ${noun}: ${t.pass} passed, ${t.fail} failed, ${t['n/a']} not applicable, ${t.skipped} skipped (${(report.ms / 1000).toFixed(1)} s)`,
    'requirements, by level:',
  );
  for (const [level, tally] of Object.entries(report.levels) as Array<[Level, LevelTally]>) {
    const sum = tally.pass + tally.fail + tally['n/a'] + tally.skipped + tally.unproven;
    if (sum === 0) continue;
    const count = (n: number, what: string) => `${String(n).padStart(3)} ${what}`;
    let line = `  ${level.padEnd(10)}  ${count(tally.pass, 'passed')}  ${count(tally.fail, 'failed')}  ${count(tally['n/a'], 'n/a')}  ${count(tally.skipped, 'skipped')}`;
    if (tally.unproven) line += `  ${count(tally.unproven, 'unproven')}`;
    lines.push(line);
  }
  lines.push(report.ok ? 'PASSED' : 'FAILED', '');
  return lines.join('\n');
}

/** The report as indented JSON, with a final newline. */
export function reportToJson(report: ConformanceReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** `[id] LEVEL: ` for a finding that names a requirement; nothing for one the runner made (a timeout, an error the server caught). */
function cite(finding: Failure): string {
  if (finding.requirement === undefined) return '';
  return finding.level === undefined ? `[${finding.requirement}] ` : `[${finding.requirement}] ${finding.level}: `;
}

function oneLine(text: string): string {
  const line = text.replace(/\s*\n\s*/g, ' ');
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}
