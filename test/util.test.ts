// tsgi/util (src/util.ts): wsgiref.util semantics, ported from CPython's test_wsgiref
// UtilityTests where wsgiref is right, and the spec's rules where it is not (URL
// reconstruction, env.script-name.not-slash, the hop-by-hop list, booleans). Expected
// values come from wsgiref's tests and the spec's text, not from running this code.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import process from 'node:process';
import { describe, test } from 'node:test';
import type { Environ, FileLike, FileWrapper as FileWrapperType, InputStream } from '../src/types.js';
import { fetchApp } from '../src/testing.js';
import { validator } from '../src/validate.js';
import {
  FileWrapper,
  applicationUri,
  createInput,
  guessScheme,
  isHopByHop,
  requestUri,
  setupTestingDefaults,
  shiftPathInfo,
} from '../src/util.js';

const bounded = { timeout: 5_000 };
const enc = (text: string): Uint8Array => new TextEncoder().encode(text);
const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

/** A test environ from `overrides`; a key set to `undefined` is removed after the defaults. */
function environ(overrides: Record<string, unknown> = {}): Environ {
  const env = setupTestingDefaults({ ...overrides } as Partial<Environ>);
  for (const [key, value] of Object.entries(overrides)) if (value === undefined) delete (env as unknown as Record<string, unknown>)[key];
  return env;
}

describe('applicationUri (wsgiref testAppURIs)', bounded, () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['http://127.0.0.1/', {}],
    ['http://127.0.0.1/spam', { SCRIPT_NAME: '/spam' }],
    ['http://127.0.0.1/sp%E4m', { SCRIPT_NAME: '/sp\u00e4m' }],
    ['http://spam.example.com:2071/', { HTTP_HOST: 'spam.example.com:2071', SERVER_PORT: '2071' }],
    ['http://spam.example.com/', { SERVER_NAME: 'spam.example.com' }],
    ['http://127.0.0.1/', { HTTP_HOST: '127.0.0.1', SERVER_NAME: 'spam.example.com' }],
    ['https://127.0.0.1/', { HTTPS: 'on' }],
    ['http://127.0.0.1:8000/', { SERVER_PORT: '8000', HTTP_HOST: undefined }],
  ];
  for (const [expected, overrides] of cases) {
    test(`${JSON.stringify(overrides)} gives ${expected}`, () => {
      assert.equal(applicationUri(environ(overrides)), expected);
    });
  }

  test('ignores PATH_INFO and QUERY_STRING', () => {
    assert.equal(applicationUri(environ({ SCRIPT_NAME: '/app', PATH_INFO: '/x', QUERY_STRING: 'q=1' })), 'http://127.0.0.1/app');
  });
});

describe('requestUri (wsgiref testReqURIs, and the spec’s URL reconstruction)', bounded, () => {
  const cases: Array<[string, Record<string, unknown>, boolean?]> = [
    ['http://127.0.0.1/', {}],
    ['http://127.0.0.1/spam', { SCRIPT_NAME: '/spam', PATH_INFO: '' }],
    ['http://127.0.0.1/sp%E4m', { SCRIPT_NAME: '/sp\u00e4m', PATH_INFO: '' }],
    ['http://127.0.0.1/spammity/spam', { SCRIPT_NAME: '/spammity', PATH_INFO: '/spam' }],
    ['http://127.0.0.1/spammity/sp%E4m', { SCRIPT_NAME: '/spammity', PATH_INFO: '/sp\u00e4m' }],
    ['http://127.0.0.1/spammity/spam?say=ni', { SCRIPT_NAME: '/spammity', PATH_INFO: '/spam', QUERY_STRING: 'say=ni' }],
    ['http://127.0.0.1/spammity/spam?s%E4y=ni', { SCRIPT_NAME: '/spammity', PATH_INFO: '/spam', QUERY_STRING: 's%E4y=ni' }],
    ['http://127.0.0.1/spammity/spam', { SCRIPT_NAME: '/spammity', PATH_INFO: '/spam', QUERY_STRING: 'say=ni' }, false],
  ];
  for (const [expected, overrides, includeQuery] of cases) {
    test(`${JSON.stringify(overrides)}${includeQuery === false ? ' without query' : ''} gives ${expected}`, () => {
      assert.equal(requestUri(environ(overrides), includeQuery), expected);
    });
  }

  test('keeps the first character of PATH_INFO when SCRIPT_NAME is empty (wsgiref drops it)', () => {
    assert.equal(requestUri(environ({ SCRIPT_NAME: '', PATH_INFO: '/spam' })), 'http://127.0.0.1/spam');
    assert.equal(requestUri(environ({ SCRIPT_NAME: '', PATH_INFO: '/' })), 'http://127.0.0.1/');
    // An environ that breaks env.path-info still loses no byte, and never glues onto the host.
    assert.equal(requestUri(environ({ SCRIPT_NAME: '', PATH_INFO: 'spam' })), 'http://127.0.0.1/spam');
  });

  test('quotes ;=, in PATH_INFO as the spec’s steps do (wsgiref keeps them)', () => {
    assert.equal(requestUri(environ({ SCRIPT_NAME: '/spammity', PATH_INFO: '/spam;ham' })), 'http://127.0.0.1/spammity/spam%3Bham');
    assert.equal(
      requestUri(environ({ SCRIPT_NAME: '/spammity', PATH_INFO: '/spam;cookie=1234,5678' })),
      'http://127.0.0.1/spammity/spam%3Bcookie%3D1234%2C5678',
    );
  });

  test('gives the same URL however shiftPathInfo split the path', () => {
    const env = environ({ SCRIPT_NAME: '', PATH_INFO: '/a;b=c,d/e f/\u00e4', QUERY_STRING: 'x=1' });
    const before = requestUri(env);
    assert.equal(before, 'http://127.0.0.1/a%3Bb%3Dc%2Cd/e%20f/%E4?x=1');
    while (shiftPathInfo(env) !== undefined) assert.equal(requestUri(env), before);
  });

  test('quotes each byte outside [A-Za-z0-9-._~/] as %XX, upper-case, and nothing else', () => {
    let all = '';
    let expected = '';
    for (let code = 0; code < 256; code++) {
      const char = String.fromCharCode(code);
      all += char;
      const keep = (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || '-._~/'.includes(char);
      expected += keep ? char : `%${code < 16 ? '0' : ''}${code.toString(16).toUpperCase()}`;
    }
    assert.equal(requestUri(environ({ SCRIPT_NAME: '', PATH_INFO: `/${all}` })), `http://127.0.0.1/${expected}`);
    assert.equal(applicationUri(environ({ SCRIPT_NAME: `/${all}` })), `http://127.0.0.1/${expected}`);
    for (const [char, escape] of [[' ', '%20'], ['%', '%25'], ['?', '%3F'], ['#', '%23'], ['\x00', '%00'], ['\u00e4', '%E4'], ['\u00ff', '%FF']]) {
      assert.equal(requestUri(environ({ PATH_INFO: `/${char}` })), `http://127.0.0.1/${escape}`);
    }
  });

  test('the UTF-8 octets of a decoded path come back as the client sent them', () => {
    assert.equal(requestUri(environ({ PATH_INFO: '/caf\u00c3\u00a9' })), 'http://127.0.0.1/caf%C3%A9');
  });

  test('leaves QUERY_STRING as it is', () => {
    assert.equal(requestUri(environ({ QUERY_STRING: 'a=%20 b&c=\u00e4' })), 'http://127.0.0.1/?a=%20 b&c=\u00e4');
  });

  test('refuses a path that is not a byte string (str.environ)', () => {
    assert.throws(() => requestUri(environ({ PATH_INFO: '/\u20ac' })), (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.equal((error as { requirement?: string }).requirement, 'str.environ');
      return true;
    });
  });

  test('OPTIONS * gives the bare origin (RFC 9112, section 3.3)', () => {
    assert.equal(requestUri(environ({ REQUEST_METHOD: 'OPTIONS', PATH_INFO: '*' })), 'http://127.0.0.1');
  });

  test('default ports are left out, others kept, by scheme', () => {
    const uri = (overrides: Record<string, unknown>) => requestUri(environ({ HTTP_HOST: undefined, ...overrides }));
    assert.equal(uri({ SERVER_PORT: '80' }), 'http://127.0.0.1/');
    assert.equal(uri({ SERVER_PORT: '443' }), 'http://127.0.0.1:443/');
    assert.equal(uri({ 'tsgi.url_scheme': 'https', SERVER_PORT: '443' }), 'https://127.0.0.1/');
    assert.equal(uri({ 'tsgi.url_scheme': 'https', SERVER_PORT: '80' }), 'https://127.0.0.1:80/');
    assert.equal(uri({ 'tsgi.url_scheme': 'https', SERVER_PORT: '8443' }), 'https://127.0.0.1:8443/');
  });

  test('HTTP_HOST wins when non-empty; an empty one falls back to SERVER_NAME', () => {
    assert.equal(requestUri(environ({ HTTP_HOST: 'example.com:81', SERVER_PORT: '8080' })), 'http://example.com:81/');
    assert.equal(requestUri(environ({ HTTP_HOST: '', SERVER_NAME: 'example.org', SERVER_PORT: '8080' })), 'http://example.org:8080/');
  });

  test('an IPv6 SERVER_NAME is bracketed, whether or not the server did it', () => {
    assert.equal(requestUri(environ({ HTTP_HOST: undefined, SERVER_NAME: '[::1]', SERVER_PORT: '8080' })), 'http://[::1]:8080/');
    assert.equal(requestUri(environ({ HTTP_HOST: undefined, SERVER_NAME: '::1', SERVER_PORT: '8080' })), 'http://[::1]:8080/');
    assert.equal(requestUri(environ({ HTTP_HOST: undefined, SERVER_NAME: 'fe80::1', SERVER_PORT: '80' })), 'http://[fe80::1]/');
  });
});

describe('shiftPathInfo (wsgiref testSimpleShifts, testNormalizedShifts)', bounded, () => {
  // [SCRIPT_NAME before, PATH_INFO before, returned, SCRIPT_NAME after, PATH_INFO after]
  const cases: Array<[string, string, string | undefined, string, string]> = [
    ['', '/x', 'x', '/x', ''],
    ['/', '', undefined, '/', ''],
    ['/a', '/x/y', 'x', '/a/x', '/y'],
    ['/a', '/x/', 'x', '/a/x', '/'],
    ['/a/b', '/../y', '..', '/a', '/y'],
    ['', '/../y', '..', '', '/y'],
    ['/a/b', '//y', 'y', '/a/b/y', ''],
    ['/a/b', '//y/', 'y', '/a/b/y', '/'],
    ['/a/b', '/./y', 'y', '/a/b/y', ''],
    ['/a/b', '/./y/', 'y', '/a/b/y', '/'],
    ['/a/b', '///./..//y/.//', '..', '/a', '/y/'],
    ['/a/b', '///', '', '/a/b/', ''],
    ['/a/b', '/.//', '', '/a/b/', ''],
    ['/a/b', '/x//', 'x', '/a/b/x', '/'],
    ['/a/b', '/.', undefined, '/a/b', ''],
    // Beyond wsgiref's table:
    ['', '/a//b', 'a', '/a', '/b'],
    ['/a', '/b', 'b', '/a/b', ''],
    ['/a/x/y', '/', '', '/a/x/y/', ''],
    ['', '/caf\u00c3\u00a9/x', 'caf\u00c3\u00a9', '/caf\u00c3\u00a9', '/x'],
    ['', '', undefined, '', ''],
    ['', '*', undefined, '', '*'],
  ];
  for (const [scriptName, pathInfo, part, scriptAfter, pathAfter] of cases) {
    test(`${JSON.stringify(scriptName)} + ${JSON.stringify(pathInfo)} shifts ${JSON.stringify(part)}`, () => {
      const env = environ({ SCRIPT_NAME: scriptName, PATH_INFO: pathInfo });
      assert.equal(shiftPathInfo(env), part);
      assert.equal(env.SCRIPT_NAME, scriptAfter);
      assert.equal(env.PATH_INFO, pathAfter);
    });
  }

  test('/ at the root is left as it is: SCRIPT_NAME is never "/" and the path is never lost (env.script-name.not-slash, env.path.split)', () => {
    // wsgiref shifts '' here and leaves SCRIPT_NAME "/", which TSGI forbids; moving the
    // slash nowhere would leave SCRIPT_NAME and PATH_INFO both empty, which is no path.
    const env = environ({ SCRIPT_NAME: '', PATH_INFO: '/' });
    assert.equal(shiftPathInfo(env), undefined);
    assert.equal(env.SCRIPT_NAME, '');
    assert.equal(env.PATH_INFO, '/');
  });

  test('a dispatcher that shifts at the root hands on an environ the validator accepts', async () => {
    const inner = validator((environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [new TextEncoder().encode(`${environ.SCRIPT_NAME}|${environ.PATH_INFO}`)];
    });
    const response = await fetchApp((environ, startResponse) => {
      shiftPathInfo(environ);
      return inner(environ, startResponse);
    }, '/');
    assert.equal(await response.text(), '|/');
  });

  test('a dispatch loop ends, and the trailing slash ends up on SCRIPT_NAME', () => {
    const env = environ({ SCRIPT_NAME: '', PATH_INFO: '/a/b/' });
    const parts: Array<string | undefined> = [];
    for (let part = shiftPathInfo(env); part !== undefined; part = shiftPathInfo(env)) parts.push(part);
    assert.deepEqual(parts, ['a', 'b', '']);
    assert.equal(env.SCRIPT_NAME, '/a/b/');
    assert.equal(env.PATH_INFO, '');
    assert.equal(applicationUri(env), 'http://127.0.0.1/a/b/');
  });
});

describe('setupTestingDefaults', bounded, () => {
  test('gives wsgiref’s defaults, as the spec types them', () => {
    const env = setupTestingDefaults();
    const { 'tsgi.input': input, 'tsgi.errors': errors, 'tsgi.signal': signal, ...rest } = env;
    assert.deepEqual(rest, {
      SERVER_NAME: '127.0.0.1',
      SERVER_PROTOCOL: 'HTTP/1.1',
      REQUEST_METHOD: 'GET',
      SCRIPT_NAME: '',
      PATH_INFO: '/',
      QUERY_STRING: '',
      REMOTE_ADDR: '127.0.0.1',
      'tsgi.version': [1, 0],
      'tsgi.url_scheme': 'http',
      'tsgi.multithread': false,
      'tsgi.multiprocess': false,
      'tsgi.run_once': false,
      'tsgi.input_terminated': true,
      SERVER_PORT: '80',
      HTTP_HOST: '127.0.0.1',
      REQUEST_URI: '/',
    });
    assert.equal(typeof input.read, 'function');
    assert.equal(typeof errors.write, 'function');
    assert.ok(signal instanceof AbortSignal);
  });

  test('meets every server requirement of the spec on the environ', async () => {
    const env = setupTestingDefaults();
    const proto = Object.getPrototypeOf(env);
    assert.ok(proto === Object.prototype || proto === null, 'env.plain-object');
    for (const key of Object.keys(env)) {
      const descriptor = Object.getOwnPropertyDescriptor(env, key)!;
      assert.ok('value' in descriptor && descriptor.writable && descriptor.enumerable, `${key} is a writable data property`);
      if (!key.includes('.')) {
        const value = descriptor.value as unknown;
        assert.equal(typeof value, 'string', `env.cgi.strings: ${key}`);
        assert.ok(/^[\x00-\xff]*$/.test(value as string), `str.environ: ${key}`);
      }
    }
    assert.match(env.REQUEST_METHOD, /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, 'env.request-method');
    assert.ok(env.SCRIPT_NAME === '' || (env.SCRIPT_NAME.startsWith('/') && env.SCRIPT_NAME !== '/'), 'env.script-name');
    assert.ok(env.PATH_INFO === '' || env.PATH_INFO.startsWith('/'), 'env.path-info');
    assert.equal(typeof env.QUERY_STRING, 'string', 'env.query-string');
    assert.ok(env.SERVER_NAME.length > 0, 'env.server-name');
    assert.match(env.SERVER_PORT, /^[0-9]+$/, 'env.server-port');
    assert.match(env.SERVER_PROTOCOL, /^HTTP\/(1\.0|1\.1|2|3)$/, 'env.server-protocol');
    assert.ok(env.REMOTE_ADDR.length > 0, 'env.remote-addr');
    for (const absent of ['CONTENT_TYPE', 'CONTENT_LENGTH', 'HTTP_CONTENT_TYPE', 'HTTP_CONTENT_LENGTH']) {
      assert.ok(!(absent in env), `${absent} is absent: no body, no such header`);
    }
    assert.deepEqual(env['tsgi.version'], [1, 0], 'env.tsgi.version');
    assert.ok(['http', 'https'].includes(env['tsgi.url_scheme']), 'env.tsgi.url-scheme');
    for (const flag of ['tsgi.multithread', 'tsgi.multiprocess', 'tsgi.run_once', 'tsgi.input_terminated'] as const) {
      assert.equal(typeof env[flag], 'boolean', `env.tsgi.flags: ${flag}`);
    }
    assert.equal(env['tsgi.input_terminated'], true, 'env.tsgi.input-terminated');
    assert.ok(env['tsgi.signal'] instanceof AbortSignal, 'env.tsgi.signal');
    assert.equal(env['tsgi.signal'].aborted, false);
    const input = env['tsgi.input'];
    for (const method of ['read', 'readLine', 'readLines', Symbol.asyncIterator] as const) {
      assert.equal(typeof input[method], 'function', 'input.methods');
    }
    assert.equal((await input.read()).length, 0, 'the body is empty');
    assert.deepEqual(await input.readLines(), []);
    const errors = env['tsgi.errors'];
    for (const method of ['write', 'writeLines', 'flush'] as const) assert.equal(typeof errors[method], 'function', 'errors.methods');
    assert.ok(!('tsgi.file_wrapper' in env), 'the optional file wrapper is left out');
  });

  test('tsgi.errors writes text to process.stderr, and flush settles', async () => {
    const written: string[] = [];
    const original = process.stderr.write;
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      written.push(String(chunk));
      const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }) as typeof process.stderr.write;
    try {
      const errors = setupTestingDefaults()['tsgi.errors'];
      errors.write('one\n');
      errors.writeLines(['two', '\n', 'lone \ud800 surrogate\n']);
      await errors.flush();
    } finally {
      process.stderr.write = original;
    }
    assert.equal(written.join(''), 'one\ntwo\nlone \ud800 surrogate\n');
  });

  test('fills only what is missing, and keeps falsy values it is given', () => {
    const input = createInput('x');
    const env = setupTestingDefaults({
      SCRIPT_NAME: '/app',
      QUERY_STRING: '',
      SERVER_NAME: 'example.com',
      'tsgi.multithread': true,
      'tsgi.input': input,
      HTTP_HOST: undefined,
    });
    assert.equal(env.SCRIPT_NAME, '/app');
    assert.equal(env.PATH_INFO, '', 'PATH_INFO is empty when only SCRIPT_NAME was given');
    assert.equal(env['tsgi.multithread'], true);
    assert.equal(env['tsgi.input'], input);
    assert.equal(env.HTTP_HOST, 'example.com', 'a key set to undefined counts as missing');
    assert.equal(setupTestingDefaults({ PATH_INFO: '/x' }).SCRIPT_NAME, '');
  });

  test('returns the object it was given', () => {
    const given: Partial<Environ> = { PATH_INFO: '/x' };
    assert.equal(setupTestingDefaults(given), given);
  });

  test('is idempotent', () => {
    const env = setupTestingDefaults({ PATH_INFO: '/a b', QUERY_STRING: 'q=1' });
    const snapshot = { ...env };
    assert.equal(setupTestingDefaults(env), env);
    assert.deepEqual({ ...env }, snapshot);
    for (const key of Object.keys(snapshot) as Array<keyof typeof snapshot>) assert.equal(env[key], snapshot[key], key);
  });

  test('gives each environ its own stream, error stream and signal; the version no environ can change', () => {
    const a = setupTestingDefaults();
    const b = setupTestingDefaults();
    assert.notEqual(a['tsgi.input'], b['tsgi.input']);
    assert.notEqual(a['tsgi.signal'], b['tsgi.signal']);
    // One array for every environ is safe only because it is frozen.
    assert.throws(() => {
      (a['tsgi.version'] as unknown as number[])[0] = 2;
    }, TypeError);
    assert.deepEqual(b['tsgi.version'], [1, 0]);
  });

  test('derives scheme, port, HTTP_HOST and REQUEST_URI from what it is given', () => {
    const https = setupTestingDefaults({ HTTPS: 'on' });
    assert.equal(https['tsgi.url_scheme'], 'https');
    assert.equal(https.SERVER_PORT, '443');
    assert.equal(https.HTTP_HOST, '127.0.0.1');
    assert.equal(setupTestingDefaults({ 'tsgi.url_scheme': 'https' }).SERVER_PORT, '443');
    assert.equal(setupTestingDefaults({ SERVER_PORT: '8080' }).HTTP_HOST, '127.0.0.1:8080');
    assert.equal(setupTestingDefaults({ SERVER_NAME: '::1', SERVER_PORT: '8080' }).HTTP_HOST, '[::1]:8080');
    const env = setupTestingDefaults({ SCRIPT_NAME: '/app', PATH_INFO: '/sp\u00e4m', QUERY_STRING: 'x=1' });
    assert.equal(env.REQUEST_URI, '/app/sp%E4m?x=1');
    assert.equal(setupTestingDefaults({ REQUEST_METHOD: 'OPTIONS', PATH_INFO: '*' }).REQUEST_URI, '*');
  });

  test('does not read the process environment (env.no-process-env)', () => {
    const saved = process.env.HTTPS;
    process.env.HTTPS = 'on';
    try {
      assert.equal(setupTestingDefaults()['tsgi.url_scheme'], 'http');
      assert.equal(guessScheme({}), 'http');
    } finally {
      if (saved === undefined) delete process.env.HTTPS;
      else process.env.HTTPS = saved;
    }
  });
});

describe('guessScheme', bounded, () => {
  test('HTTPS on, yes or 1, in any case, means https', () => {
    for (const value of ['on', 'yes', '1', 'ON', 'Yes']) assert.equal(guessScheme({ HTTPS: value }), 'https', value);
    for (const value of ['off', 'no', '0', '', 'true', ' on']) assert.equal(guessScheme({ HTTPS: value }), 'http', value);
    assert.equal(guessScheme({}), 'http');
  });

  test('without HTTPS, REQUEST_SCHEME decides', () => {
    assert.equal(guessScheme({ REQUEST_SCHEME: 'https' }), 'https');
    assert.equal(guessScheme({ REQUEST_SCHEME: 'http' }), 'http');
    assert.equal(guessScheme({ HTTPS: 'off', REQUEST_SCHEME: 'https' }), 'http');
  });

  test('takes a CGI environment or an environ', () => {
    assert.equal(guessScheme({ ...process.env, HTTPS: 'on' }), 'https');
    assert.equal(guessScheme(setupTestingDefaults({ HTTPS: '1' })), 'https');
  });
});

describe('isHopByHop', bounded, () => {
  test('knows the spec’s list, Proxy-Connection included, in any case', () => {
    for (const name of ['Connection', 'Keep-Alive', 'Proxy-Authenticate', 'Proxy-Authorization', 'Proxy-Connection', 'TE', 'Trailer', 'Transfer-Encoding', 'Upgrade']) {
      assert.equal(isHopByHop(name), true, name);
      assert.equal(isHopByHop(name.toLowerCase()), true, name);
      assert.equal(isHopByHop(name.toUpperCase()), true, name);
    }
  });

  test('end-to-end headers are not hop-by-hop', () => {
    for (const name of ['Content-Type', 'Set-Cookie', 'Content-Length', 'Keep-Alive-X', 'Trailers', '', 'Date']) {
      assert.equal(isHopByHop(name), false, name);
    }
  });
});

describe('createInput', bounded, () => {
  test('over a string, sent as UTF-8', async () => {
    const input = createInput('caf\u00e9\nline two');
    assert.equal(latin1(await input.readLine()), 'caf\u00c3\u00a9\n');
    assert.equal(latin1(await input.read()), 'line two');
    assert.equal((await input.read()).length, 0);
  });

  test('over bytes, without copying them', async () => {
    const bytes = enc('hello world');
    const input = createInput(bytes);
    const first = await input.read(5);
    assert.equal(first.buffer, bytes.buffer, 'a view of the same memory');
    assert.equal(latin1(first), 'hello');
    assert.equal(latin1(await input.read()), ' world');
  });

  test('over a Buffer, giving plain Uint8Arrays', async () => {
    const read = await createInput(Buffer.from('abc')).read();
    assert.equal(Object.getPrototypeOf(read), Uint8Array.prototype);
    assert.equal(latin1(read), 'abc');
  });

  test('over sync and async iterables of chunks', async () => {
    assert.deepEqual((await createInput([enc('a\n'), enc('b')]).readLines()).map(latin1), ['a\n', 'b']);
    async function* chunks(): AsyncGenerator<Uint8Array> {
      yield enc('x');
      yield enc('yz');
    }
    const seen: string[] = [];
    for await (const chunk of createInput(chunks())) seen.push(latin1(chunk));
    assert.deepEqual(seen, ['x', 'yz']);
  });

  test('empty without a source, and for an empty string', async () => {
    for (const input of [createInput(), createInput(''), createInput(new Uint8Array(0)), createInput([])]) {
      assert.equal((await input.read()).length, 0);
      assert.equal((await input.readLine()).length, 0);
    }
  });

  test('an async source that fails makes the reads reject', async () => {
    const boom = new Error('gone');
    async function* chunks(): AsyncGenerator<Uint8Array> {
      yield enc('partial');
      throw boom;
    }
    await assert.rejects(createInput(chunks()).read(), (error) => error === boom);
  });
});

describe('FileWrapper (file.*)', bounded, () => {
  /** A file-like object over `text` that records its calls. */
  function fakeFile(text: string, { async = false, withClose = true } = {}) {
    const bytes = enc(text);
    const calls = { reads: [] as number[], closes: 0 };
    let position = 0;
    const read = (size: number) => {
      calls.reads.push(size);
      const block = bytes.subarray(position, position + size);
      position += block.length;
      return async ? Promise.resolve(block) : block;
    };
    const file: FileLike = withClose ? { read, close: () => void calls.closes++ } : { read };
    return { file, calls };
  }

  async function collect(body: AsyncIterable<Uint8Array>): Promise<string[]> {
    const out: string[] = [];
    for await (const chunk of body) out.push(latin1(chunk));
    return out;
  }

  test('works called as a function and with new; both are instanceof FileWrapper', () => {
    const { file } = fakeFile('x');
    const called = FileWrapper(file);
    const constructed = new FileWrapper(file);
    assert.ok(called instanceof FileWrapper);
    assert.ok(constructed instanceof FileWrapper);
    assert.equal(called.file, file);
    assert.equal(called.blockSize, 65536);
    const asTsgiFileWrapper: FileWrapperType = FileWrapper;
    assert.equal(typeof asTsgiFileWrapper, 'function');
  });

  test('reads nothing before iteration (file.lazy)', async () => {
    const { file, calls } = fakeFile('abc');
    const body = FileWrapper(file, 2);
    const iterator = body[Symbol.asyncIterator]();
    assert.deepEqual(calls.reads, []);
    await iterator.next();
    assert.deepEqual(calls.reads, [2]);
  });

  test('iterates read(blockSize) until a read is empty (file.iterate)', async () => {
    const { file, calls } = fakeFile('abcdefg');
    assert.deepEqual(await collect(FileWrapper(file, 3)), ['abc', 'def', 'g']);
    assert.deepEqual(calls.reads, [3, 3, 3, 3]);
  });

  test('reads that return Promises, and the default block size', async () => {
    const { file, calls } = fakeFile('hello', { async: true });
    assert.deepEqual(await collect(FileWrapper(file)), ['hello']);
    assert.deepEqual(calls.reads, [65536, 65536]);
  });

  test('stops at the first empty read, as wsgiref does', async () => {
    const blocks = [enc('a'), new Uint8Array(0), enc('never')];
    assert.deepEqual(await collect(FileWrapper({ read: () => blocks.shift() ?? new Uint8Array(0) })), ['a']);
  });

  test('close() calls the file’s close, once (file.close)', async () => {
    const { file, calls } = fakeFile('x');
    const body = FileWrapper(file);
    await body.close();
    await body.close();
    assert.equal(calls.closes, 1);
    const { file: noClose } = fakeFile('x', { withClose: false });
    assert.equal(FileWrapper(noClose).close(), undefined);
  });

  test('close() passes on the Promise of an async close', async () => {
    let closed = false;
    const body = FileWrapper({
      read: () => new Uint8Array(0),
      close: async () => {
        await new Promise((resolve) => setImmediate(resolve));
        closed = true;
      },
    });
    await body.close();
    assert.equal(closed, true);
  });

  test('wraps tsgi.input, which is file-like', async () => {
    assert.deepEqual(await collect(FileWrapper(createInput('abcde'), 2)), ['ab', 'cd', 'e']);
  });

  test('a real file through node:fs/promises, as the docs show', async () => {
    const { open } = await import('node:fs/promises');
    const handle = await open(new URL('../package.json', import.meta.url));
    const file: FileLike = {
      read: async (size) => {
        const { buffer, bytesRead } = await handle.read(new Uint8Array(size), 0, size, null);
        return buffer.subarray(0, bytesRead);
      },
      close: () => handle.close(),
    };
    const body = FileWrapper(file, 100);
    const text = (await collect(body)).join('');
    await body.close();
    assert.match(text, /"name": "tsgi"/);
    await assert.rejects(handle.stat(), 'the handle is closed');
  });

  test('refuses a bad file, a bad block size, and a read that gives no bytes', async () => {
    for (const bad of [null, {}, { read: 'x' }, 'file']) {
      assert.throws(() => FileWrapper(bad as unknown as FileLike), TypeError);
    }
    const { file } = fakeFile('x');
    for (const size of [0, -1, 1.5, Number.NaN, '10']) {
      assert.throws(() => FileWrapper(file, size as number), TypeError, String(size));
    }
    const body = FileWrapper({ read: () => 'text' as unknown as Uint8Array });
    await assert.rejects(collect(body), (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.equal((error as { requirement?: string }).requirement, 'file.readable');
      return true;
    });
  });
});

// Compile-time checks: the returned environ is an Environ, and an input is an InputStream.
const typed: Environ = setupTestingDefaults({ PATH_INFO: '/x', 'myapp.config': 1 });
const stream: InputStream = createInput('x');
void typed;
void stream;
