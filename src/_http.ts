/**
 * HTTP facts that the server side and the validator both check, written once:
 * what a status, a header name and a header value may look like, which headers are
 * hop-by-hop, and what counts as a chunk.
 */
import type { RequirementId } from './_requirements.js';
import type { HeaderList } from './types.js';

/** Three digits, one space, a reason phrase of HTAB, SP, VCHAR and obs-text (`status.format`). */
export const STATUS = /^[0-9]{3} [\t\x20-\x7e\x80-\xff]*$/;
/** An RFC 9110 token (`header.name`). */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A byte string without control characters other than HTAB (`header.value`). */
export const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** One or more ASCII digits (`framing.content-length.syntax`). */
export const DIGITS = /^[0-9]+$/;

/**
 * {@link FIELD_VALUE} as a loop, for the response hot path: a header value is short, and
 * for a short string a loop costs less than a call into the regular expression engine.
 */
export function isFieldValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 ? code !== 0x09 : code === 0x7f || code > 0xff) return false;
  }
  return true;
}

/** The value of a string of {@link DIGITS}, or -1 for any other string. */
export function digitsValue(value: string): number {
  if (value.length === 0) return -1;
  let total = 0;
  for (let i = 0; i < value.length; i++) {
    const digit = value.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    total = total * 10 + digit;
  }
  // Past 2^53 the sum loses precision differently from Number(); keep Number()'s value.
  return value.length > 15 ? Number(value) : total;
}

/** The hop-by-hop headers of the spec, lower-cased (`hop.response`). */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Whether `value` is a `Uint8Array` (a `Buffer` is one), also across realms, where
 * `instanceof` fails; other typed arrays and `DataView`s are not.
 */
export function isUint8Array(value: unknown): value is Uint8Array {
  return (
    value instanceof Uint8Array ||
    (ArrayBuffer.isView(value) && Object.prototype.toString.call(value) === '[object Uint8Array]')
  );
}

/** An error that names the requirement an application broke; `side` says who broke it. */
export interface ContractError extends Error {
  requirement: RequirementId;
  side: 'application' | 'server';
}

/** Creates a {@link ContractError} of the given class (`TypeError` where the spec says so). */
export function contractError(
  requirement: RequirementId,
  message: string,
  side: 'application' | 'server' = 'application',
  ErrorClass: new (message: string) => Error = Error,
): ContractError {
  const error = new ErrorClass(`[${requirement}] ${side}: ${message} (spec/tsgi.md#${requirement})`) as ContractError;
  error.requirement = requirement;
  error.side = side;
  return error;
}

/** A response head that passed the checks of {@link parseResponseHead}. */
export interface ResponseHead {
  code: number;
  reason: string;
  headers: HeaderList;
  /** The application's `Content-Length`, when it sent one. */
  contentLength: number | undefined;
}

/** A copy of `headers` with `header` appended: a plain loop, which costs a third of a spread. */
export function withHeader(headers: HeaderList, header: readonly [string, string]): HeaderList {
  const count = headers.length;
  const copy = new Array<readonly [string, string]>(count + 1);
  for (let i = 0; i < count; i++) copy[i] = headers[i] as readonly [string, string];
  copy[count] = header;
  return copy;
}

/** Shows a received value in an error message, quoted and cut short. */
export function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : Object.prototype.toString.call(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Checks the arguments of `startResponse` as a server does (`start.check`), throwing a
 * {@link ContractError} for the first rule they break. Written for the hot path: one
 * pass over the headers, no allocation when everything is right.
 */
export function parseResponseHead(status: unknown, headers: unknown): ResponseHead {
  const { code, reason } = parseStatus(status);
  if (!Array.isArray(headers)) {
    throw contractError('header.list', `headers must be an array of [name, value] pairs; got ${show(headers)}`);
  }
  let contentLength: number | undefined;
  for (let i = 0; i < headers.length; i++) {
    const pair: unknown = headers[i];
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
      throw contractError('header.list', `header ${i} must be a pair of two strings; got ${show(pair)}`);
    }
    const [name, value] = pair as [string, string];
    if (!isFieldValue(value)) {
      const problem = TOKEN.test(name) ? undefined : 'header.name';
      if (problem) throw contractError(problem, `header name must be an HTTP token; got ${show(name)}`);
      throw contractError(
        'header.value',
        `the value of ${name} must be a byte string without control characters other than HTAB; got ${show(value)}`,
      );
    }
    const kind = nameKind(name);
    if (kind === ORDINARY) continue;
    if (kind === CONTENT_LENGTH) {
      if (contentLength !== undefined) throw contractError('framing.content-length.syntax', 'Content-Length appears twice');
      contentLength = digitsValue(value);
      if (contentLength < 0) {
        throw contractError('framing.content-length.syntax', `Content-Length must be decimal digits; got ${show(value)}`);
      }
    } else if (kind === STATUS_HEADER) {
      throw contractError('header.no-status', 'the headers must not include Status; the status is the first argument');
    } else {
      throw contractError(
        kind === TRANSFER_ENCODING ? 'framing.no-transfer-coding' : 'hop.response',
        `${name} is a hop-by-hop header, which only the server may send`,
      );
    }
  }
  if (code === 204 && contentLength !== undefined) {
    throw contractError('framing.content-length.204', 'a 204 response must not carry Content-Length');
  }
  return { code, reason, headers: headers as HeaderList, contentLength };
}

// Status lines and header names repeat from response to response: each is checked once
// and remembered. The caches are bounded, so an application that invents names without
// end cannot grow them.
const MAX_CACHED = 1000;
const STATUSES = new Map<string, { code: number; reason: string }>();
const NAMES = new Map<string, number>();
const ORDINARY = 0;
const CONTENT_LENGTH = 1;
const STATUS_HEADER = 2;
const HOP = 3;
const TRANSFER_ENCODING = 4;

function parseStatus(status: unknown): { code: number; reason: string } {
  const known = typeof status === 'string' ? STATUSES.get(status) : undefined;
  if (known) return known;
  if (typeof status !== 'string' || !STATUS.test(status)) {
    throw contractError('status.format', `status must be three digits, a space and a reason phrase, such as "200 OK"; got ${show(status)}`);
  }
  const code = Number(status.slice(0, 3));
  if (code < 200 || code > 599) {
    throw contractError('status.range', `status code must be between 200 and 599; got ${code}`);
  }
  const parsed = { code, reason: status.slice(4) };
  if (STATUSES.size < MAX_CACHED) STATUSES.set(status, parsed);
  return parsed;
}

/** What a valid header name is to the server; throws for a name that is not a token. */
function nameKind(name: string): number {
  const known = NAMES.get(name);
  if (known !== undefined) return known;
  if (!TOKEN.test(name)) throw contractError('header.name', `header name must be an HTTP token; got ${show(name)}`);
  const lower = name.toLowerCase();
  const kind =
    lower === 'content-length'
      ? CONTENT_LENGTH
      : lower === 'status'
        ? STATUS_HEADER
        : lower === 'transfer-encoding'
          ? TRANSFER_ENCODING
          : HOP_BY_HOP.has(lower)
            ? HOP
            : ORDINARY;
  if (NAMES.size < MAX_CACHED) NAMES.set(name, kind);
  return kind;
}
