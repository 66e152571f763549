/**
 * Extracts the requirements of `spec/tsgi.md` into `src/_requirements.ts`, and checks
 * the spec's form on the way: every requirement paragraph has a well-formed ID equal
 * to its anchor, one or more known roles and exactly one BCP 14 key word; IDs are
 * unique; key words appear nowhere else; every internal link and every ID cited in
 * code font resolves.
 *
 * The spec is the single source: the validator and the conformance suite cite
 * requirements through the generated `RequirementId` type, so citing an ID that the
 * spec does not define fails to compile.
 *
 *   tsx scripts/extract-requirements.ts           check; exit 1 on errors or staleness
 *   tsx scripts/extract-requirements.ts --write   regenerate src/_requirements.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type Level = 'MUST' | 'MUST NOT' | 'SHOULD' | 'SHOULD NOT' | 'MAY';
export type Role = 'server' | 'application' | 'middleware';

export interface ExtractedRequirement {
  id: string;
  level: Level;
  roles: Role[];
  summary: string;
  untestable?: string;
  /** 1-based line of the paragraph in the spec, for error messages. */
  line: number;
}

export interface SpecReport {
  requirements: ExtractedRequirement[];
  /** Everything wrong with the spec's form; empty when it is sound. */
  errors: string[];
  /** Anchors of the headings, as GitHub renders them. */
  headingAnchors: Set<string>;
}

export const SPEC_PATH = 'spec/tsgi.md';
export const MODULE_PATH = 'src/_requirements.ts';

/** A dotted lowercase slug of two or more segments, such as `env.path-info.decoded`. */
export const ID_PATTERN = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)+$/;
const ROLES: readonly Role[] = ['server', 'application', 'middleware'];
const KEYWORD = /\b(MUST NOT|SHOULD NOT|MUST|SHOULD|MAY)\b/g;
// BCP 14 words this spec chooses not to use, so that every requirement has one of five levels.
const UNUSED_KEYWORD = /\b(SHALL|REQUIRED|RECOMMENDED|OPTIONAL)\b/;
const HEAD =
  /^<a id="([^"]*)"><\/a>\*\*`([^`]*)`\*\* \*\(([^)]*)\)\* ([\s\S]*)$/;
const UNTESTABLE = /\s*\[untestable: ([^\]]*)\]$/;
// The only section whose prose may use key words: it defines them.
const KEYWORD_SECTION = 'Keywords';

interface Paragraph {
  text: string;
  line: number;
  section: string;
}

/** Parses the spec and checks its form. */
export function parseSpec(markdown: string): SpecReport {
  const errors: string[] = [];
  const headingAnchors = new Set<string>();
  const paragraphs = splitParagraphs(markdown, (heading, line) => {
    const anchor = githubSlug(heading);
    if (headingAnchors.has(anchor)) errors.push(`line ${line}: heading anchor #${anchor} is used twice`);
    headingAnchors.add(anchor);
  });

  const requirements: ExtractedRequirement[] = [];
  const seen = new Map<string, number>();
  for (const paragraph of paragraphs) {
    if (!paragraph.text.startsWith('<a id=')) {
      checkProse(paragraph, errors);
      continue;
    }
    const requirement = parseRequirement(paragraph, errors);
    if (!requirement) continue;
    const earlier = seen.get(requirement.id);
    if (earlier !== undefined) {
      errors.push(`line ${paragraph.line}: ID ${requirement.id} is already defined on line ${earlier}`);
      continue;
    }
    seen.set(requirement.id, paragraph.line);
    requirements.push(requirement);
  }

  checkReferences(markdown, requirements, headingAnchors, errors);
  return { requirements, errors, headingAnchors };
}

function parseRequirement(paragraph: Paragraph, errors: string[]): ExtractedRequirement | undefined {
  const where = `line ${paragraph.line}`;
  const head = HEAD.exec(paragraph.text);
  if (!head) {
    errors.push(`${where}: a requirement paragraph must start <a id="ID"></a>**\`ID\`** *(role)* text`);
    return undefined;
  }
  const [, anchor = '', id = '', roleList = '', rest = ''] = head;
  let ok = true;
  const fail = (message: string) => {
    errors.push(`${where}: ${id || anchor}: ${message}`);
    ok = false;
  };
  if (anchor !== id) fail(`anchor "${anchor}" differs from the ID "${id}"`);
  if (!ID_PATTERN.test(id)) fail('the ID is not a dotted lowercase slug of two or more segments');

  const roles = roleList.split(', ');
  for (const role of roles) {
    if (!ROLES.includes(role as Role)) fail(`unknown role "${role}" (roles: ${ROLES.join(', ')})`);
  }
  if (new Set(roles).size !== roles.length) fail('a role is named twice');

  const untestableMatch = UNTESTABLE.exec(rest);
  const untestable = untestableMatch?.[1]?.trim();
  if (untestableMatch && !untestable) fail('an [untestable: ...] note needs a reason');
  const text = untestableMatch ? rest.slice(0, untestableMatch.index) : rest;

  const prose = stripCode(text);
  const keywords = [...prose.matchAll(KEYWORD)].map((m) => m[1] as Level);
  if (keywords.length !== 1) {
    fail(`has ${keywords.length} BCP 14 key words (${keywords.join(', ') || 'none'}); exactly one is required`);
  }
  if (UNUSED_KEYWORD.test(prose)) fail('uses a BCP 14 key word this spec does not use (SHALL, REQUIRED, RECOMMENDED, OPTIONAL)');

  if (!ok) return undefined;
  const requirement: ExtractedRequirement = {
    id,
    level: keywords[0] as Level,
    roles: roles as Role[],
    summary: summarise(text),
    line: paragraph.line,
  };
  if (untestable) requirement.untestable = untestable;
  return requirement;
}

function checkProse(paragraph: Paragraph, errors: string[]): void {
  if (paragraph.section === KEYWORD_SECTION) return;
  const prose = stripCode(paragraph.text);
  const keyword = prose.match(KEYWORD) ?? prose.match(UNUSED_KEYWORD);
  if (keyword) {
    errors.push(
      `line ${paragraph.line}: BCP 14 key word "${keyword[0]}" outside a requirement paragraph (quote it in code font, or make the paragraph a requirement)`,
    );
  }
  if (paragraph.text.includes('<a id=')) {
    errors.push(`line ${paragraph.line}: an anchor must start a requirement paragraph`);
  }
}

/** Internal links must resolve; IDs in code font that look like requirement IDs must exist. */
function checkReferences(
  markdown: string,
  requirements: ExtractedRequirement[],
  headingAnchors: Set<string>,
  errors: string[],
): void {
  const ids = new Set(requirements.map((r) => r.id));
  const prefixes = new Set(requirements.map((r) => r.id.split('.')[0]));
  const lines = withoutFences(markdown);
  lines.forEach((line, index) => {
    for (const match of line.matchAll(/\]\(#([^)]+)\)/g)) {
      const target = match[1] ?? '';
      if (!ids.has(target) && !headingAnchors.has(target)) {
        errors.push(`line ${index + 1}: link to #${target}, which is neither a requirement nor a heading`);
      }
    }
    for (const match of line.matchAll(/`([^`]+)`/g)) {
      const token = match[1] ?? '';
      if (ID_PATTERN.test(token) && prefixes.has(token.split('.')[0]) && !ids.has(token)) {
        errors.push(`line ${index + 1}: \`${token}\` looks like a requirement ID but none is defined`);
      }
    }
  });
}

/** Splits markdown into paragraphs outside fenced code, reporting each heading. */
function splitParagraphs(markdown: string, onHeading: (heading: string, line: number) => void): Paragraph[] {
  const paragraphs: Paragraph[] = [];
  let section = '';
  let current: string[] = [];
  let start = 0;
  const flush = () => {
    if (current.length) paragraphs.push({ text: current.join('\n'), line: start, section });
    current = [];
  };
  withoutFences(markdown).forEach((line, index) => {
    const heading = /^#{1,6} (.*)$/.exec(line);
    if (heading) {
      flush();
      section = heading[1] ?? '';
      onHeading(section, index + 1);
    } else if (line.trim() === '') {
      flush();
    } else {
      if (!current.length) start = index + 1;
      current.push(line);
    }
  });
  flush();
  return paragraphs;
}

/** The lines of the document with fenced code blocks blanked, so line numbers stay true. */
function withoutFences(markdown: string): string[] {
  let fenced = false;
  return markdown.split('\n').map((line) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line;
  });
}

function stripCode(text: string): string {
  return text.replace(/``[^`]*``|`[^`]*`/g, '');
}

/** One line of plain text: code ticks, emphasis and link targets removed. */
function summarise(text: string): string {
  return text
    .replace(/\[([^\]]*)\]\(#[^)]*\)/g, '$1')
    .replace(/``\s*([^`]*?)\s*``|`([^`]*)`/g, (_m, a: string | undefined, b: string | undefined) => a ?? b ?? '')
    .replace(/\*\*?([^*]+)\*\*?/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The anchor GitHub gives a heading. */
export function githubSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The source of `src/_requirements.ts` for these requirements. */
export function renderModule(requirements: readonly ExtractedRequirement[]): string {
  const entries = requirements.map((r) => {
    const fields = [
      `id: ${quote(r.id)}`,
      `level: ${quote(r.level)}`,
      `roles: [${r.roles.map(quote).join(', ')}]`,
      `anchor: ${quote(`${SPEC_PATH}#${r.id}`)}`,
      `summary: ${quote(r.summary)}`,
    ];
    if (r.untestable) fields.push(`untestable: ${quote(r.untestable)}`);
    return `  ${quote(r.id)}: {\n${fields.map((f) => `    ${f},`).join('\n')}\n  },`;
  });
  return `// Generated from ${SPEC_PATH} by scripts/extract-requirements.ts. Do not edit:
// change the spec, then run \`npm run spec\`. \`npm test\` fails while this file is stale.

/** A requirement level: one of the five BCP 14 key words the spec uses. */
export type Level = 'MUST' | 'MUST NOT' | 'SHOULD' | 'SHOULD NOT' | 'MAY';

/** A conformance role that a requirement binds. */
export type Role = 'server' | 'application' | 'middleware';

/** One normative statement of the TSGI specification. */
export interface Requirement {
  /** The stable ID, such as \`env.path-info.decoded\`. */
  readonly id: string;
  readonly level: Level;
  readonly roles: readonly Role[];
  /** Where the requirement is defined: the spec's path and the requirement's anchor. */
  readonly anchor: string;
  /** The requirement's text on one line. */
  readonly summary: string;
  /** Why neither the validator nor the conformance suite can check it, when that is so. */
  readonly untestable?: string;
}

/** Every requirement of the specification, by ID, in the order the spec states them. */
export const requirements = {
${entries.join('\n')}
} as const satisfies Record<string, Requirement>;

/** The ID of a requirement the specification defines. */
export type RequirementId = keyof typeof requirements;
`;
}

function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function main(): void {
  const write = process.argv.includes('--write');
  const report = parseSpec(readFileSync(SPEC_PATH, 'utf8'));
  if (report.errors.length) {
    for (const error of report.errors) console.error(`${SPEC_PATH}: ${error}`);
    process.exitCode = 1;
    return;
  }
  const source = renderModule(report.requirements);
  if (write) {
    writeFileSync(MODULE_PATH, source);
    console.log(`${MODULE_PATH}: ${report.requirements.length} requirements`);
  } else if (readFileSync(MODULE_PATH, 'utf8') !== source) {
    console.error(`${MODULE_PATH} is stale: run \`npm run spec\``);
    process.exitCode = 1;
  } else {
    console.log(`${MODULE_PATH} is up to date (${report.requirements.length} requirements)`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
