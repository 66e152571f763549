/**
 * The validator's checks of the environ a server hands over: the server's side of the
 * call, made once per request before the application runs. Every failure is thrown to
 * the server (from the validated application's call), which handles it like an error of
 * the application: a 500 response and a line in its error log.
 */
import { isIP } from 'node:net';
import { DIGITS, TOKEN } from './_http.js';
import { describe, said, type MustId, type Reporter } from './_validate-report.js';
import type { ErrorStream, InputStream } from './types.js';
import { REQUIRED_TSGI_KEYS } from './_keys.js';

const SERVER = 'server';

/** The CGI keys every environ has, and the requirements that say so. */
const REQUIRED_CGI = ['REQUEST_METHOD', 'SCRIPT_NAME', 'PATH_INFO', 'QUERY_STRING', 'SERVER_NAME', 'SERVER_PORT', 'SERVER_PROTOCOL', 'REMOTE_ADDR'];
const REQUIRED_CGI_IDS: readonly MustId[] = [
  'env.request-method',
  'env.script-name',
  'env.path-info',
  'env.query-string',
  'env.server-name',
  'env.server-port',
  'env.server-protocol',
  'env.remote-addr',
];


/** Every `tsgi.*` key the spec defines; a server adds no other (`ext.reserved`). */
const TSGI_KEYS: ReadonlySet<string> = new Set([...REQUIRED_TSGI_KEYS, 'tsgi.file_wrapper']);

/** CGI names a server commonly sets: known good, so the name check can skip its pattern. */
const KNOWN_CGI: ReadonlySet<string> = new Set([
  ...REQUIRED_CGI,
  'REQUEST_URI',
  'CONTENT_TYPE',
  'CONTENT_LENGTH',
  'REMOTE_PORT',
  'REMOTE_HOST',
  'REMOTE_USER',
  'REMOTE_IDENT',
  'AUTH_TYPE',
  'PATH_TRANSLATED',
  'SERVER_SOFTWARE',
  'GATEWAY_INTERFACE',
  'HTTPS',
]);

/** Optional CGI variables that a server fills with `''` when it means "absent" (`env.cgi.absent`). */
const PLACEHOLDER_PRONE = ['REMOTE_USER', 'AUTH_TYPE', 'REMOTE_HOST', 'REMOTE_IDENT', 'PATH_TRANSLATED', 'HTTPS', 'SERVER_SOFTWARE', 'GATEWAY_INTERFACE'];

/** Variables of a process environment that are no CGI variable: their presence means a wholesale copy (`env.no-process-env`). */
const PROCESS_ONLY = ['PATH', 'HOME', 'PWD', 'SHELL'];

/** Methods known to be tokens, so the check can skip its pattern. */
const COMMON_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']);
const FLAGS = ['tsgi.multithread', 'tsgi.multiprocess', 'tsgi.run_once', 'tsgi.input_terminated'];

const CGI_NAME = /^[A-Z][A-Z0-9_]*$/;
const HTTP_NAME = /^HTTP_[A-Z0-9_]+$/;
const NOT_BYTES = /[^\x00-\xff]/;
const PROTOCOL = /^HTTP\/(?:1\.[0-9]|2|3)$/;
const EXTENSION_KEY = /^[a-z0-9_.]+$/;
const MAPPED_IPV4 = /^::ffff:[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/i;
const INPUT_METHODS = ['read', 'readLine', 'readLines', Symbol.asyncIterator] as const;
const ERRORS_METHODS = ['write', 'writeLines', 'flush'] as const;

const hasOwn = (object: object, key: string): boolean => Object.prototype.hasOwnProperty.call(object, key);

/** The last `REMOTE_ADDR` found valid: clients repeat, and `isIP()` is not free. */
let knownAddress = '';

/**
 * Checks the environ; throws a `ValidationError` (side `server`) for the first MUST it
 * breaks. Written for the hot path: presence by property reads (the prototype is checked
 * first, so nothing is inherited), patterns only where a cheaper test cannot decide.
 * `thorough` adds the property-descriptor checks (see `Reporter.thorough()`). Returns the
 * property descriptor of `tsgi.signal`, for the exchange to read it when it needs it.
 */
export function checkEnviron(r: Reporter, environ: unknown, thorough: boolean): PropertyDescriptor {
  if (typeof environ !== 'object' || environ === null || Array.isArray(environ)) {
    r.fail('env.plain-object', SERVER, 'the environ must be a plain object', environ);
  }
  const proto: unknown = Object.getPrototypeOf(environ);
  if (proto !== Object.prototype && proto !== null) {
    r.fail('env.plain-object', SERVER, "the environ's prototype must be Object.prototype or null", said(`an object whose prototype is ${proto?.constructor?.name ?? 'another object'}`));
  }
  const env = environ as Record<string, unknown>;
  // Named reads are monomorphic on the environs a server builds, where a loop over the key
  // names is not; the loops run only to name the key that is missing.
  if (
    env.REQUEST_METHOD === undefined ||
    env.SCRIPT_NAME === undefined ||
    env.PATH_INFO === undefined ||
    env.QUERY_STRING === undefined ||
    env.SERVER_NAME === undefined ||
    env.SERVER_PORT === undefined ||
    env.SERVER_PROTOCOL === undefined ||
    env.REMOTE_ADDR === undefined
  ) {
    for (let i = 0; i < REQUIRED_CGI.length; i++) {
      const key = REQUIRED_CGI[i] as string;
      if (env[key] === undefined) r.fail(REQUIRED_CGI_IDS[i] as MustId, SERVER, `${key} must be present`, said('an environ without it'));
    }
  }
  // `in`, not a read: a server may create tsgi.signal on first read (env.plain-object).
  if (
    !(
      'tsgi.version' in env &&
      'tsgi.url_scheme' in env &&
      'tsgi.input' in env &&
      'tsgi.errors' in env &&
      'tsgi.multithread' in env &&
      'tsgi.multiprocess' in env &&
      'tsgi.run_once' in env &&
      'tsgi.input_terminated' in env &&
      'tsgi.signal' in env
    )
  ) {
    for (const key of REQUIRED_TSGI_KEYS) {
      if (!(key in env)) r.fail('env.tsgi.required', SERVER, `${key} must be present`, said('an environ without it'));
    }
  }
  // Getters come from how a server is written, not from the request: check a sample.
  if (thorough) {
    for (const key of REQUIRED_CGI) dataProperty(r, env, key);
    for (const key of TSGI_KEYS) if (hasOwn(env, key)) dataProperty(r, env, key);
  }
  // for...in walks the engine's enumeration cache, and reading env[key] right in the loop
  // uses it too; with no enumerable inherited keys (the prototype was checked), it gives
  // the own enumerable keys, as Object.keys would. tsgi.signal is not read: see checkTsgi.
  for (const key in env) {
    if (key !== 'tsgi.signal') checkKey(r, key, env[key]);
  }
  checkCgi(r, env);
  return checkTsgi(r, env);
}

/**
 * `env.plain-object`: a key the spec defines is an own, enumerable, writable data
 * property; `tsgi.signal` may instead be an accessor with both a getter and a setter.
 */
function dataProperty(r: Reporter, env: Record<string, unknown>, key: string): void {
  const d = Object.getOwnPropertyDescriptor(env, key);
  if (!d) return;
  const accessor = d.get !== undefined || d.set !== undefined;
  if (accessor && key === 'tsgi.signal' && typeof d.get === 'function' && typeof d.set === 'function' && d.enumerable) return;
  if (accessor || !d.enumerable || !d.writable) {
    r.fail('env.plain-object', SERVER, `${key} must be an enumerable, writable data property${key === 'tsgi.signal' ? ', or an accessor with a getter and a setter' : ''}`, said(accessor ? 'an accessor' : 'a read-only or hidden property'));
  }
}

const NAME_HTTP = 1;
const NAME_CGI = 2;
const NAME_EXTENSION = 3;
const MAX_NAMES = 4096;

/**
 * Environ key names already found valid, with their kind: a name seen before costs one
 * lookup rather than its patterns. Names are the same from one request to the next
 * (the server's variables, the headers clients send), and the map is bounded, so that
 * clients sending invented header names cannot grow it.
 */
const knownNames = new Map<string, number>([...[...KNOWN_CGI].map((key) => [key, NAME_CGI] as const), ...[...TSGI_KEYS].map((key) => [key, NAME_EXTENSION] as const)]);

/** The checks that apply to every key by its kind: `HTTP_*`, CGI variable, `tsgi.*` or another extension. */
function checkKey(r: Reporter, key: string, value: unknown): void {
  const kind = knownNames.get(key) ?? classify(r, key);
  if (kind === NAME_EXTENSION) return;
  if (typeof value !== 'string') r.fail('env.cgi.strings', SERVER, `${key} is a CGI variable, so its value must be a string`, value);
  if (NOT_BYTES.test(value)) r.fail('str.environ', SERVER, `${key} must be a byte string (code units up to U+00FF)`, value, 'map each octet to one code unit (latin-1)');
  if (kind === NAME_HTTP) {
    const first = value.charCodeAt(0);
    const last = value.charCodeAt(value.length - 1);
    if (first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09) {
      r.fail('env.http.value', SERVER, `the value of ${key} must have no leading or trailing spaces or tabs`, value);
    }
  }
}

/** Checks a key name not seen before, and remembers it when it is clean. */
function classify(r: Reporter, key: string): number {
  let kind: number;
  if (key.startsWith('HTTP_')) {
    if (!HTTP_NAME.test(key)) {
      if (/[a-z-]/.test(key)) r.fail('env.http', SERVER, "an HTTP_ key is the header name upper-cased, with '-' replaced by '_'", key);
      r.fail('env.http.name-charset', SERVER, 'a header whose name has characters other than letters, digits and "-" must be left out', key);
    }
    if (key === 'HTTP_CONTENT_TYPE' || key === 'HTTP_CONTENT_LENGTH') {
      r.fail('env.no-http-content', SERVER, `the environ must not contain ${key}`, key, `use ${key.slice(5)}`);
    }
    kind = NAME_HTTP;
  } else if (key.includes('.')) {
    if (key.startsWith('tsgi.')) r.fail('ext.reserved', SERVER, 'only the spec defines tsgi.* keys', key, 'give the extension a prefix of its own, such as "myserver."');
    if (!EXTENSION_KEY.test(key)) {
      r.warn('ext.prefix', SERVER, 'an extension key should be lowercase letters, digits, dots and underscores', key);
      return NAME_EXTENSION; // not remembered, so that the warning is made for each validator
    }
    kind = NAME_EXTENSION;
  } else {
    if (key.charCodeAt(0) === 0x3a) r.fail('env.http.pseudo', SERVER, 'pseudo-header fields must not appear as environ keys', key);
    if (!CGI_NAME.test(key)) r.fail('ext.dotted', SERVER, 'a key that is not a CGI variable must contain a dot', key, 'name it with a prefix, such as "myserver.name"');
    kind = NAME_CGI;
  }
  if (knownNames.size < MAX_NAMES) knownNames.set(key, kind);
  return kind;
}

/** The CGI variables with rules of their own (their types were checked by {@link checkKey}). */
function checkCgi(r: Reporter, env: Record<string, unknown>): void {
  const method = env.REQUEST_METHOD as string;
  if (!COMMON_METHODS.has(method) && !TOKEN.test(method)) r.fail('env.request-method', SERVER, 'REQUEST_METHOD must be a non-empty token', method);
  const script = env.SCRIPT_NAME as string;
  const path = env.PATH_INFO as string;
  if (script === '/') {
    r.fail('env.script-name.not-slash', SERVER, 'SCRIPT_NAME must not be "/"', script, "at the root, SCRIPT_NAME is '' and PATH_INFO starts with '/'");
  }
  if (script !== '' && script[0] !== '/') r.fail('env.script-name', SERVER, "SCRIPT_NAME must be empty or start with '/'", script);
  if (path !== '' && path[0] !== '/' && path !== '*') r.fail('env.path-info', SERVER, "PATH_INFO must be empty, start with '/', or be '*'", path);
  if (path === '*' && method !== 'OPTIONS') r.fail('env.path-info', SERVER, "PATH_INFO may be '*' only for OPTIONS *", said(`'*' for ${method}`));
  if ((path === '*' && script !== '') || script + path === '') {
    r.fail('env.path.split', SERVER, 'SCRIPT_NAME followed by PATH_INFO must be the decoded path of the request target', said(`SCRIPT_NAME ${describe(script)} and PATH_INFO ${describe(path)}`));
  }
  if (script.endsWith('/') && path !== '') r.warn('env.script-name.trailing-slash', SERVER, "SCRIPT_NAME should not end with '/' unless PATH_INFO is empty", script);
  if (env.CONTENT_LENGTH !== undefined) {
    if (!DIGITS.test(env.CONTENT_LENGTH as string)) r.fail('env.content-length', SERVER, 'CONTENT_LENGTH must be decimal digits', env.CONTENT_LENGTH, 'leave it out when the request has no Content-Length');
    if (env.HTTP_TRANSFER_ENCODING !== undefined) r.fail('env.content-length', SERVER, 'CONTENT_LENGTH must be absent when the request has Transfer-Encoding', env.CONTENT_LENGTH);
  }
  const name = env.SERVER_NAME as string;
  if (name === '') r.fail('env.server-name', SERVER, 'SERVER_NAME must not be empty', name);
  if (name.includes(':') && !(name.startsWith('[') && name.endsWith(']'))) r.fail('env.server-name', SERVER, 'an IPv6 SERVER_NAME must be in square brackets', name);
  if (!DIGITS.test(env.SERVER_PORT as string)) r.fail('env.server-port', SERVER, 'SERVER_PORT must be decimal digits', env.SERVER_PORT);
  if (env.SERVER_PROTOCOL !== 'HTTP/1.1' && !PROTOCOL.test(env.SERVER_PROTOCOL as string)) r.fail('env.server-protocol', SERVER, 'SERVER_PROTOCOL must be HTTP/1.x, HTTP/2 or HTTP/3', env.SERVER_PROTOCOL);
  const addr = env.REMOTE_ADDR as string;
  if (addr !== knownAddress) {
    if (isIP(addr) === 0) r.fail('env.remote-addr', SERVER, 'REMOTE_ADDR must be an IPv4 or IPv6 address, without brackets', addr);
    if (MAPPED_IPV4.test(addr)) r.fail('env.remote-addr', SERVER, 'an IPv4-mapped REMOTE_ADDR must be given in its IPv4 form', addr, `use ${addr.slice(7)}`);
    knownAddress = addr;
  }
  if (env.REMOTE_PORT !== undefined && !DIGITS.test(env.REMOTE_PORT as string)) r.warn('env.remote-port', SERVER, 'REMOTE_PORT should be decimal digits', env.REMOTE_PORT);
  if (env.REQUEST_URI === undefined) r.warn('env.request-uri', SERVER, 'REQUEST_URI should hold the request target as received', said('an environ without it'));
  if (
    env.REMOTE_USER === '' ||
    env.AUTH_TYPE === '' ||
    env.REMOTE_HOST === '' ||
    env.REMOTE_IDENT === '' ||
    env.PATH_TRANSLATED === '' ||
    env.HTTPS === '' ||
    env.SERVER_SOFTWARE === '' ||
    env.GATEWAY_INTERFACE === ''
  ) {
    for (const key of PLACEHOLDER_PRONE) {
      if (env[key] === '') r.warn('env.cgi.absent', SERVER, `a variable that does not apply should be absent, not ''`, said(`${key} = ''`), `delete ${key}`);
    }
  }
  if (env.PATH !== undefined || env.HOME !== undefined || env.PWD !== undefined || env.SHELL !== undefined) {
    for (const key of PROCESS_ONLY) {
      if (env[key] !== undefined) r.warn('env.no-process-env', SERVER, 'the process environment should not be copied into the environ', said(`${key} in the environ`));
    }
  }
}

/** The `tsgi.*` keys; returns the property descriptor of `tsgi.signal`. */
function checkTsgi(r: Reporter, env: Record<string, unknown>): PropertyDescriptor {
  const version = env['tsgi.version'];
  if (!Array.isArray(version) || version.length !== 2 || version[0] !== 1 || version[1] !== 0) {
    r.fail('env.tsgi.version', SERVER, 'tsgi.version must be [1, 0]', version);
  }
  const scheme = env['tsgi.url_scheme'];
  if (scheme !== 'http' && scheme !== 'https') r.fail('env.tsgi.url-scheme', SERVER, 'tsgi.url_scheme must be "http" or "https"', scheme);
  const input = env['tsgi.input'] as Partial<InputStream> | null;
  if (typeof input !== 'object' || input === null) r.fail('env.tsgi.input', SERVER, 'tsgi.input must be an input stream', input);
  if (typeof input.read !== 'function' || typeof input.readLine !== 'function' || typeof input.readLines !== 'function' || typeof input[Symbol.asyncIterator] !== 'function') {
    for (const method of INPUT_METHODS) {
      if (typeof (input as Record<PropertyKey, unknown>)[method] !== 'function') r.fail('input.methods', SERVER, `tsgi.input must have a ${String(method)} method`, input);
    }
  }
  const errors = env['tsgi.errors'] as Partial<ErrorStream> | null;
  if (typeof errors !== 'object' || errors === null) r.fail('env.tsgi.errors', SERVER, 'tsgi.errors must be an error stream', errors);
  if (typeof errors.write !== 'function' || typeof errors.writeLines !== 'function' || typeof errors.flush !== 'function') {
    for (const method of ERRORS_METHODS) {
      if (typeof (errors as Record<string, unknown>)[method] !== 'function') r.fail('errors.methods', SERVER, `tsgi.errors must have a ${method} method`, errors);
    }
  }
  if (
    typeof env['tsgi.multithread'] !== 'boolean' ||
    typeof env['tsgi.multiprocess'] !== 'boolean' ||
    typeof env['tsgi.run_once'] !== 'boolean' ||
    typeof env['tsgi.input_terminated'] !== 'boolean'
  ) {
    for (const key of FLAGS) {
      if (typeof env[key] !== 'boolean') r.fail('env.tsgi.flags', SERVER, `${key} must be true or false`, env[key]);
    }
  }
  if (env['tsgi.input_terminated'] !== true) r.fail('env.tsgi.input-terminated', SERVER, 'tsgi.input_terminated must be true', env['tsgi.input_terminated']);
  const wrapper = env['tsgi.file_wrapper'];
  if (wrapper !== undefined && typeof wrapper !== 'function') r.fail('file.signature', SERVER, 'tsgi.file_wrapper, when present, must be a function', wrapper);
  // An accessor is read (and checked) only when needed, by the exchange: see Exchange.signal.
  const signal = Object.getOwnPropertyDescriptor(env, 'tsgi.signal') as PropertyDescriptor;
  if (!signal.get) checkSignal(r, signal.value);
  return signal;
}

/** `env.tsgi.signal`: the signal is the platform's `AbortSignal`. */
export function checkSignal(r: Reporter, signal: unknown): asserts signal is AbortSignal {
  if (!(signal instanceof AbortSignal)) r.fail('env.tsgi.signal', SERVER, 'tsgi.signal must be an AbortSignal', signal);
}
