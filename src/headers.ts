/**
 * `ResponseHeaders`: a list of response headers to build before `startResponse`, after
 * Python's `wsgiref.headers.Headers`, and named so that it does not shadow the global
 * `Headers` of fetch.
 *
 * Unlike the global `Headers`, it keeps the order and the case of names, never merges
 * repeated headers (several `Set-Cookie` stay separate), and checks every name and value
 * against the spec when it is added, so a bad header fails where it is written rather
 * than at `startResponse`.
 *
 * @example
 * ```ts
 * import { ResponseHeaders } from 'tsgi/headers';
 *
 * const headers = new ResponseHeaders([['Content-Type', 'text/plain']]);
 * headers.add('Set-Cookie', 'a=1');
 * headers.add('Set-Cookie', 'b=2');
 * headers.add('Content-Disposition', 'attachment', { filename: 'report.txt' });
 * startResponse('200 OK', headers.toList());
 * ```
 *
 * @module
 */
import { FIELD_VALUE, TOKEN, contractError, show } from './_http.js';

/** What a {@link ResponseHeaders} can start from: pairs (an array, a `Map`, a global `Headers`) or a plain object. */
export type ResponseHeadersInit = Iterable<readonly [string, string]> | Readonly<Record<string, string>>;

/** Parameter values for {@link ResponseHeaders.add}: `null` or `''` gives a bare name, `undefined` leaves the parameter out. */
export type HeaderParams = Readonly<Record<string, string | null | undefined>>;

const encoder = new TextEncoder();
/** RFC 8187 attr-char, kept as is in an ext-value. */
const ATTR_CHAR = /^[A-Za-z0-9!#$&+\-.^_`|~]$/;

function checkName(name: unknown): string {
  if (typeof name !== 'string' || !TOKEN.test(name)) {
    throw contractError('header.name', `header name must be a non-empty HTTP token (RFC 9110, section 5.6.2); got ${show(name)}`, 'application', TypeError);
  }
  return name;
}

function checkValue(name: string, value: unknown): string {
  if (typeof value !== 'string' || !FIELD_VALUE.test(value)) {
    throw contractError(
      'header.value',
      `the value of ${name} must be a byte string with no control character but HTAB and no code unit above U+00FF; got ${show(value)}`,
      'application',
      TypeError,
    );
  }
  return value;
}

/** Names are only compared, so a lookup with a non-token simply finds nothing. */
function key(name: unknown): string {
  if (typeof name !== 'string') {
    throw contractError('header.name', `header name must be a string; got ${show(name)}`, 'application', TypeError);
  }
  return name.toLowerCase();
}

/** An RFC 8187 ext-value: `UTF-8''` and the UTF-8 bytes, percent-encoded but for attr-char. */
function extValue(text: string): string {
  let out = "UTF-8''";
  for (const byte of encoder.encode(text)) {
    const char = String.fromCharCode(byte);
    out += ATTR_CHAR.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function formatParam(param: string, value: string | null): string {
  if (value === null || value === '') return param;
  if (param.endsWith('*')) return `${param}=${extValue(value)}`;
  if (/[^\x00-\xff]/.test(value)) {
    throw contractError(
      'str.response',
      `parameter ${param} must be a byte string; for other text use the parameter ${param}*, which is sent encoded (RFC 8187); got ${show(value)}`,
      'application',
      TypeError,
    );
  }
  return `${param}="${value.replace(/[\\"]/g, '\\$&')}"`;
}

/**
 * An ordered list of response header fields with case-insensitive lookup, for building
 * the `headers` argument of `startResponse`. Repeated names stay separate entries, in
 * order. Every name must be an HTTP token (`header.name`) and every value a byte string
 * without control characters other than HTAB (`header.value`); anything else throws a
 * `TypeError` whose `requirement` names the rule.
 *
 * The constructor copies the pairs it is given, and {@link toList} returns a fresh
 * array, so neither side can change the other's list afterwards (`wsgiref` wraps the
 * caller's list in place; the spec forbids changing a list once it is passed to
 * `startResponse`, `header.app-no-mutate`).
 *
 * @example
 * ```ts
 * const headers = new ResponseHeaders({ 'Content-Type': 'text/html' });
 * headers.setDefault('Cache-Control', 'no-store');
 * headers.get('content-type'); // 'text/html'
 * headers.toList();            // [['Content-Type', 'text/html'], ['Cache-Control', 'no-store']]
 * ```
 */
export class ResponseHeaders implements Iterable<[string, string]> {
  readonly #list: Array<[string, string]> = [];

  constructor(init?: ResponseHeadersInit) {
    if (init === undefined) return;
    if (init === null || typeof init !== 'object') {
      throw contractError('header.list', `headers must be [name, value] pairs or an object; got ${show(init)}`, 'application', TypeError);
    }
    const pairs: Iterable<unknown> =
      typeof (init as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function' ? (init as Iterable<unknown>) : Object.entries(init);
    for (const pair of pairs) {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw contractError('header.list', `each header must be a [name, value] pair; got ${show(pair)}`, 'application', TypeError);
      }
      const name = checkName(pair[0]);
      this.#list.push([name, checkValue(name, pair[1])]);
    }
  }

  /** The number of header fields, repeated names counted each time (`len()` in wsgiref). */
  get size(): number {
    return this.#list.length;
  }

  /** The same as {@link size}. */
  get length(): number {
    return this.#list.length;
  }

  /** The value of the first field named `name` (in any case), or `undefined`. */
  get(name: string): string | undefined {
    const wanted = key(name);
    return this.#list.find(([n]) => n.toLowerCase() === wanted)?.[1];
  }

  /** The values of every field named `name`, in order; `[]` when there is none. */
  getAll(name: string): string[] {
    const wanted = key(name);
    return this.#list.filter(([n]) => n.toLowerCase() === wanted).map(([, value]) => value);
  }

  /** Whether a field named `name` is present. */
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Removes every field named `name`, then appends `name: value` at the end. */
  set(name: string, value: string): this {
    const checked = checkName(name);
    checkValue(checked, value);
    this.delete(checked);
    this.#list.push([checked, value]);
    return this;
  }

  /** Removes every field named `name`; says whether there was one. */
  delete(name: string): boolean {
    const wanted = key(name);
    const before = this.#list.length;
    let kept = 0;
    for (const pair of this.#list) if (pair[0].toLowerCase() !== wanted) this.#list[kept++] = pair;
    this.#list.length = kept;
    return kept !== before;
  }

  /** The value of the first field named `name`; when there is none, appends `name: value` and returns `value`. */
  setDefault(name: string, value: string): string {
    const found = this.get(name);
    if (found !== undefined) return found;
    const checked = checkName(name);
    this.#list.push([checked, checkValue(checked, value)]);
    return value;
  }

  /**
   * Appends a field, with parameters (`add_header` in wsgiref). The value, when it is
   * neither `null`, `undefined` nor `''`, comes first; then each parameter, joined by
   * `; `. A parameter name has each `_` replaced by `-`. A parameter value is sent as a
   * quoted string (`"` and `\` escaped); `null` or `''` gives the bare name; `undefined`
   * leaves the parameter out. A name ending in `*` takes any text, sent encoded as RFC
   * 8187 requires (`UTF-8''` and percent-encoded UTF-8), for characters a byte string
   * cannot hold.
   *
   * @example
   * ```ts
   * headers.add('Content-Disposition', 'attachment', { filename: 'cafe.txt', 'filename*': 'café.txt' });
   * // Content-Disposition: attachment; filename="cafe.txt"; filename*=UTF-8''caf%C3%A9.txt
   * headers.add('X-Flags', null, { secure: null, max_age: '60' });
   * // X-Flags: secure; max-age="60"
   * ```
   */
  add(name: string, value: string | null | undefined, params: HeaderParams = {}): this {
    const checked = checkName(name);
    const parts: string[] = [];
    if (value !== null && value !== undefined && value !== '') parts.push(value);
    for (const [rawName, paramValue] of Object.entries(params)) {
      if (paramValue === undefined) continue;
      const param = rawName.replaceAll('_', '-');
      if (!TOKEN.test(param)) {
        throw contractError('header.value', `parameter name must be an HTTP token; got ${show(param)} in ${name}`, 'application', TypeError);
      }
      parts.push(formatParam(param, paramValue));
    }
    this.#list.push([checked, checkValue(checked, parts.join('; '))]);
    return this;
  }

  /** Every field name, in order, repeated names included. */
  keys(): string[] {
    return this.#list.map(([name]) => name);
  }

  /** Every field value, in order. */
  values(): string[] {
    return this.#list.map(([, value]) => value);
  }

  /** The fields as fresh `[name, value]` pairs, in order. */
  *[Symbol.iterator](): IterableIterator<[string, string]> {
    for (const [name, value] of this.#list) yield [name, value];
  }

  /** A fresh array of `[name, value]` pairs, ready for `startResponse`. */
  toList(): Array<[string, string]> {
    return this.#list.map(([name, value]) => [name, value]);
  }

  /** The fields as header lines, `Name: value\r\n` each, then a blank line (`str()` in wsgiref). */
  toString(): string {
    let out = '';
    for (const [name, value] of this.#list) out += `${name}: ${value}\r\n`;
    return `${out}\r\n`;
  }

  /** Shows the fields in `console.log` and `util.inspect`. */
  [Symbol.for('nodejs.util.inspect.custom')](_depth: number, options: object, inspect: (value: unknown, options: object) => string): string {
    return `ResponseHeaders ${inspect(this.#list, options)}`;
  }
}
