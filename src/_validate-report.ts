/**
 * How the validator reports: the `ValidationError` class, the one message shape, the
 * level of each finding (taken from the generated requirement table, so it cannot
 * disagree with the spec), warnings through `process.emitWarning`, and the table of
 * every requirement the validator checks.
 */
import { Buffer } from 'node:buffer';
import { inspect } from 'node:util';
import { isUint8Array } from './_http.js';
import { requirements, type Level, type RequirementId } from './_requirements.js';

type Table = typeof requirements;

/**
 * A requirement the validator may cite: one the spec does not mark untestable, and not a
 * MAY, which nothing can violate. Citing any other ID fails to compile.
 */
export type CheckId = {
  [K in RequirementId]: Table[K] extends { untestable: string } ? never : Table[K]['level'] extends 'MAY' ? never : K;
}[RequirementId];

/** A requirement whose violation throws: MUST and MUST NOT. */
export type MustId = { [K in CheckId]: Table[K]['level'] extends 'MUST' | 'MUST NOT' ? K : never }[CheckId];

/** A requirement whose violation is a warning (an error with `strict`): SHOULD and SHOULD NOT. */
export type ShouldId = Exclude<CheckId, MustId>;

/** Who broke the contract: the application (or middleware toward its server) or the server (or middleware toward its application). */
export type Side = 'application' | 'server';

/** The fields of a {@link ValidationError}. */
export interface ValidationErrorInit {
  /** The ID of the requirement that was broken, such as `status.format`. */
  requirement: RequirementId;
  /** Who broke it. */
  side: Side;
  /** The rule, in plain words, as it applies here. */
  rule: string;
  /** The value the validator received (or a description of what happened). */
  actual: unknown;
  /** How to fix it, when there is one obvious way. */
  fix?: string | undefined;
}

const BRAND = Symbol.for('tsgi.ValidationError');

/**
 * A violation of the TSGI contract, found by `validator()`. The message has one shape:
 *
 * ```text
 * [<id>] <side>: <rule>; got <value>. <fix> (spec/tsgi.md#<id>)
 * ```
 *
 * Test code checks `requirement` and `side`, never the message. `instanceof` works
 * across copies of the package (the class is recognised by a `Symbol.for` brand).
 *
 * @example
 * ```ts
 * import { ValidationError } from 'tsgi/validate';
 *
 * const error = new ValidationError({
 *   requirement: 'status.format',
 *   side: 'application',
 *   rule: 'the status must be three digits, a space and a reason phrase',
 *   actual: '200',
 *   fix: 'pass "200 OK"',
 * });
 * console.log(error.message);
 * // [status.format] application: the status must be three digits, a space and a reason phrase; got '200'. pass "200 OK" (spec/tsgi.md#status.format)
 * ```
 */
export class ValidationError extends Error {
  /** Always `'ERR_TSGI_VALIDATION'`, so generic error handlers can tell these errors apart. */
  readonly code = 'ERR_TSGI_VALIDATION';
  /** The ID of the broken requirement: a key of the spec's requirement table. */
  readonly requirement: RequirementId;
  /** Who broke it: `'application'` or `'server'`. */
  readonly side: Side;
  /** The requirement's level in the spec: MUST and MUST NOT throw; SHOULD and SHOULD NOT only with `strict`. */
  readonly level: Level;
  /** The rule, in plain words. */
  readonly rule: string;
  /** The value received, or a description of what happened. */
  readonly actual: unknown;
  /** How to fix it, when there is one obvious way. */
  readonly fix: string | undefined;

  constructor(init: ValidationErrorInit) {
    const shown = init.actual instanceof Verbatim ? init.actual.text : describe(init.actual);
    const fix = init.fix ? sentence(init.fix) : undefined;
    super(`[${init.requirement}] ${init.side}: ${init.rule}; got ${shown}.${fix ? ` ${fix}` : ''} (spec/tsgi.md#${init.requirement})`);
    this.name = 'ValidationError';
    this.requirement = init.requirement;
    this.side = init.side;
    this.level = requirements[init.requirement].level;
    this.rule = init.rule;
    this.actual = init.actual instanceof Verbatim ? init.actual.text : init.actual;
    this.fix = fix;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** True for a `ValidationError` from any copy of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}

/** A description of what happened, shown as it is rather than quoted like a value. */
export class Verbatim {
  constructor(readonly text: string) {}
}

/** Marks `text` as a description to show unquoted in a message. */
export const said = (text: string): Verbatim => new Verbatim(text);

/** Shows a received value in a message: escaped, one line, cut short; bytes as latin-1 text. */
export function describe(value: unknown): string {
  const text = isUint8Array(value)
    ? `${value.constructor.name}(${value.length}) ${inspect(Buffer.from(value.buffer, value.byteOffset, Math.min(value.length, 60)).toString('latin1'))}`
    : inspect(value, { depth: 1, maxArrayLength: 6, maxStringLength: 80, breakLength: Infinity, compact: true });
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** A fix as a sentence: a capital first letter and a full stop. */
function sentence(text: string): string {
  const capital = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** The options the reporter needs. */
export interface ReportOptions {
  readonly strict?: boolean | undefined;
  readonly onViolation?: ((error: ValidationError) => void) | undefined;
}

/**
 * Turns findings into errors and warnings for one validator. MUST-level findings are
 * thrown; SHOULD-level ones are emitted once per rule as `TsgiWarning`s, or thrown with
 * `strict`. Every finding reaches `onViolation` first.
 */
export class Reporter {
  readonly #strict: boolean;
  readonly #onViolation: ((error: ValidationError) => void) | undefined;
  readonly #warned = new Set<string>();
  #exchanges = 0;

  constructor(options: ReportOptions) {
    this.#strict = options.strict === true;
    this.#onViolation = options.onViolation;
  }

  /** Records a finding; returns the error to throw, or undefined when it became a warning. */
  report(requirement: CheckId, side: Side, rule: string, actual: unknown, fix?: string): ValidationError | undefined {
    const error = new ValidationError({ requirement, side, rule, actual, fix });
    this.#onViolation?.(error);
    if (error.level === 'MUST' || error.level === 'MUST NOT' || this.#strict) return error;
    this.emit(error);
    return undefined;
  }

  /** Throws a MUST-level violation. */
  fail(requirement: MustId, side: Side, rule: string, actual: unknown, fix?: string): never {
    throw this.report(requirement, side, rule, actual, fix) as ValidationError;
  }

  /** Reports a SHOULD-level finding: a warning, or a thrown error with `strict`. */
  warn(requirement: ShouldId, side: Side, rule: string, actual: unknown, fix?: string): void {
    const error = this.report(requirement, side, rule, actual, fix);
    if (error) throw error;
  }

  /**
   * Reports a violation found when no call is in progress to throw it into (a body
   * garbage-collected without `close()`): to `onViolation`, and as a warning.
   */
  detached(requirement: CheckId, side: Side, rule: string, actual: unknown, fix?: string): void {
    const error = new ValidationError({ requirement, side, rule, actual, fix });
    this.#onViolation?.(error);
    this.emit(error);
  }

  /**
   * Whether this exchange gets the checks that cost more than the rest of the validation
   * of a small request and find faults in how a server or application is written rather
   * than in one request: the environ's property descriptors, watching the body for garbage
   * collection without `close()`, and comparing the headers array with a copy. A validator makes them for its first 256 exchanges, then
   * for one in 256, so that a test sees every one and a busy validated server stays fast
   * while a server that goes wrong on some path is still caught.
   */
  thorough(): boolean {
    const n = this.#exchanges++;
    return n < 256 || n % 256 === 0;
  }

  /** Emits `error` as a process warning, once per requirement and rule for this validator. */
  emit(error: ValidationError): void {
    const key = `${error.requirement}\0${error.rule}`;
    if (this.#warned.has(key)) return;
    // Bounded: past it, a warning is emitted each time rather than remembered for ever.
    if (this.#warned.size < 1024) this.#warned.add(key);
    process.emitWarning(error.message, { type: 'TsgiWarning', code: error.requirement });
  }
}
