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
  if (typeof status !== 'string' || !STATUS.test(status)) {
    throw contractError('status.format', `status must be three digits, a space and a reason phrase, such as "200 OK"; got ${show(status)}`);
  }
  const code = Number(status.slice(0, 3));
  if (code < 200 || code > 599) {
    throw contractError('status.range', `status code must be between 200 and 599; got ${code}`);
  }
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
    if (!TOKEN.test(name)) throw contractError('header.name', `header name must be an HTTP token; got ${show(name)}`);
    if (!FIELD_VALUE.test(value)) {
      throw contractError(
        'header.value',
        `the value of ${name} must be a byte string without control characters other than HTAB; got ${show(value)}`,
      );
    }
    // The longest name this loop cares about is proxy-authorization (19); skip lower-casing longer ones.
    const lower = name.length <= 19 ? name.toLowerCase() : '';
    if (lower === 'content-length') {
      if (contentLength !== undefined) throw contractError('framing.content-length.syntax', 'Content-Length appears twice');
      if (!DIGITS.test(value)) {
        throw contractError('framing.content-length.syntax', `Content-Length must be decimal digits; got ${show(value)}`);
      }
      contentLength = Number(value);
    } else if (lower === 'status') {
      throw contractError('header.no-status', 'the headers must not include Status; the status is the first argument');
    } else if (HOP_BY_HOP.has(lower)) {
      throw contractError(
        lower === 'transfer-encoding' ? 'framing.no-transfer-coding' : 'hop.response',
        `${name} is a hop-by-hop header, which only the server may send`,
      );
    }
  }
  if (code === 204 && contentLength !== undefined) {
    throw contractError('framing.content-length.204', 'a 204 response must not carry Content-Length');
  }
  return { code, reason: status.slice(4), headers: headers as HeaderList, contentLength };
}
