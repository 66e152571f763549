/** The environ: every key, and how the request line and headers are decoded into it. */
import { bytes, defineCases, environFor, latin1, marker, reply, requestEnviron, status } from './_helpers.js';
import { REQUIRED_TSGI_KEYS } from '../../src/_keys.js';

/** Environs the environ.fresh case has seen, in this process. */
const seenEnvirons = new WeakSet<object>();

/** The cases about the environ. */
export const environCases = defineCases([
  {
    id: 'environ.required-keys',
    requirements: ['env.tsgi.required', 'env.request-method', 'env.script-name', 'env.path-info', 'env.query-string', 'env.server-protocol', 'env.tsgi.version', 'env.tsgi.flags', 'env.tsgi.input-terminated', 'env.plain-object', 'env.cgi.strings'],
    description: 'every required key is present, with its type',
    async client(t) {
      const env = await environFor(t, '/', 'env.tsgi.required');
      for (const key of REQUIRED_TSGI_KEYS) t.ok(key in env, 'env.tsgi.required', `${key} is missing`);
      for (const key of ['REQUEST_METHOD', 'SCRIPT_NAME', 'PATH_INFO', 'QUERY_STRING', 'SERVER_NAME', 'SERVER_PORT', 'SERVER_PROTOCOL', 'REMOTE_ADDR']) {
        t.equal(typeof env[key], 'string', key === 'QUERY_STRING' ? 'env.query-string' : 'env.cgi.strings', `typeof ${key}`);
      }
      t.equal(env.REQUEST_METHOD, 'GET', 'env.request-method', 'REQUEST_METHOD');
      t.equal(env.SCRIPT_NAME, t.scriptName, 'env.script-name', 'SCRIPT_NAME');
      t.equal(env.PATH_INFO, '/', 'env.path-info', 'PATH_INFO');
      t.equal(env.SERVER_PROTOCOL, 'HTTP/1.1', 'env.server-protocol', 'SERVER_PROTOCOL');
      t.equal(env['tsgi.version'], [1, 0], 'env.tsgi.version', 'tsgi.version');
      t.equal(env['tsgi.input_terminated'], true, 'env.tsgi.input-terminated', 'tsgi.input_terminated');
      for (const flag of ['tsgi.multithread', 'tsgi.multiprocess', 'tsgi.run_once']) t.equal(typeof env[flag], 'boolean', 'env.tsgi.flags', `typeof ${flag}`);
    },
  },
  {
    id: 'environ.plain-object',
    requirements: ['env.plain-object', 'env.tsgi.signal', 'env.tsgi.input', 'env.tsgi.errors', 'input.methods', 'errors.methods'],
    description: 'the environ is a plain object; tsgi.signal is an AbortSignal; the streams have their methods',
    async client(t) {
      await environFor(t, '/', 'env.plain-object');
      const [call] = await t.calls();
      const environ = call?.environ as unknown as Record<string, unknown>;
      const proto: unknown = Object.getPrototypeOf(environ);
      t.ok(proto === Object.prototype || proto === null, 'env.plain-object', 'the environ is not a plain object');
      t.ok(call?.env['tsgi.signal'] instanceof AbortSignal, 'env.tsgi.signal', 'tsgi.signal is not an AbortSignal');
      const input = call?.env['tsgi.input'] as Record<string | symbol, unknown>;
      for (const m of ['read', 'readLine', 'readLines', Symbol.asyncIterator]) t.equal(typeof input[m], 'function', 'input.methods', `typeof tsgi.input[${String(m)}]`);
      const errors = call?.env['tsgi.errors'] as Record<string, unknown>;
      for (const m of ['write', 'writeLines', 'flush']) t.equal(typeof errors[m], 'function', 'errors.methods', `typeof tsgi.errors.${m}`);
    },
  },
  {
    id: 'environ.path-utf8',
    requirements: ['env.path-info.decoded', 'str.environ'],
    description: 'a percent-encoded UTF-8 path arrives as the latin-1 code units of its octets',
    async client(t) {
      const env = await environFor(t, '/caf%C3%A9/x%20y', 'env.path-info.decoded');
      t.equal(env.PATH_INFO, '/caf\u00c3\u00a9/x y', 'env.path-info.decoded', 'PATH_INFO');
    },
  },
  {
    id: 'environ.path-lowercase-hex',
    requirements: ['env.path-info.decoded'],
    description: 'percent-escapes in lower case are decoded too',
    async client(t) {
      t.equal((await environFor(t, '/caf%c3%a9', 'env.path-info.decoded')).PATH_INFO, '/caf\u00c3\u00a9', 'env.path-info.decoded', 'PATH_INFO');
    },
  },
  {
    id: 'environ.path-raw-octets',
    requirements: ['str.environ', 'request.malformed'],
    description: 'raw octets above 0x7F in the target are refused with 400, or arrive as latin-1 code units, never decoded as UTF-8',
    async client(t) {
      const response = await t.exchange(Buffer.concat([Buffer.from(`GET ${t.path('/caf')}`, 'latin1'), Buffer.from([0xc3, 0xa9]), Buffer.from(` HTTP/1.1\r\nHost: ${t.authority}\r\n${t.tag}\r\n\r\n`, 'latin1')]));
      if (response.status === 400) return;
      const [call] = await t.calls(1, 1000, 'str.environ');
      t.equal(call?.env.PATH_INFO, '/caf\u00c3\u00a9', 'str.environ', 'PATH_INFO');
    },
  },
  {
    id: 'environ.path-encoded-slash',
    requirements: ['env.path-info.decoded', 'env.request-uri'],
    description: '%2F decodes to / in PATH_INFO and stays raw in REQUEST_URI',
    async client(t) {
      const env = await environFor(t, '/a%2Fb?q=%2F', 'env.path-info.decoded');
      t.equal(env.PATH_INFO, '/a/b', 'env.path-info.decoded', 'PATH_INFO');
      t.equal(env.REQUEST_URI, t.path('/a%2Fb?q=%2F'), 'env.request-uri', 'REQUEST_URI');
    },
  },
  {
    id: 'environ.path-decoded-once',
    requirements: ['env.path-info.decoded'],
    description: '%252F decodes once, to %2F',
    async client(t) {
      t.equal((await environFor(t, '/a%252Fb', 'env.path-info.decoded')).PATH_INFO, '/a%2Fb', 'env.path-info.decoded', 'PATH_INFO');
    },
  },
  {
    id: 'environ.path-bad-escape',
    requirements: ['env.path-info.bad-escape'],
    description: 'a % without two hex digits is kept as it is',
    async client(t) {
      t.equal((await environFor(t, '/100%/%zz/%4', 'env.path-info.bad-escape')).PATH_INFO, '/100%/%zz/%4', 'env.path-info.bad-escape', 'PATH_INFO');
    },
  },
  {
    id: 'environ.path-no-normalize',
    requirements: ['env.path-info.no-normalize', 'env.path.split'],
    description: 'dot segments and repeated slashes are not normalised',
    async client(t) {
      t.equal((await environFor(t, '//a/../b/./c', 'env.path-info.no-normalize')).PATH_INFO, '//a/../b/./c', 'env.path-info.no-normalize', 'PATH_INFO');
    },
  },
  {
    id: 'environ.path-split',
    requirements: ['env.path.split', 'env.script-name', 'env.script-name.not-slash'],
    description: 'SCRIPT_NAME followed by PATH_INFO is the decoded path, and SCRIPT_NAME is never /',
    async client(t) {
      const env = await environFor(t, '/x/y%20z/', 'env.path.split');
      t.equal(`${String(env.SCRIPT_NAME)}${String(env.PATH_INFO)}`, `${t.scriptName}/x/y z/`, 'env.path.split', 'SCRIPT_NAME + PATH_INFO');
      t.ok(env.SCRIPT_NAME !== '/', 'env.script-name.not-slash', 'SCRIPT_NAME is "/"');
    },
  },
  {
    id: 'environ.query-absent',
    requirements: ['env.query-string'],
    description: 'QUERY_STRING is present and empty without a ?, and with a bare ?',
    async client(t) {
      t.equal((await environFor(t, '/', 'env.query-string')).QUERY_STRING, '', 'env.query-string', 'QUERY_STRING without ?');
      const response = await t.exchange(t.request('GET', '/?'));
      t.ok(response.status === 200, 'env.query-string', `GET /? answered ${response.statusLine}`);
      const calls = await t.calls(2);
      t.equal(calls[1]?.env.QUERY_STRING, '', 'env.query-string', 'QUERY_STRING with a bare ?');
    },
  },
  {
    id: 'environ.query-raw',
    requirements: ['env.query-string'],
    description: 'QUERY_STRING is everything after the first ?, undecoded, repeated keys and all',
    async client(t) {
      const env = await environFor(t, '/p?a=1&a=2&b=%C3%A9&c=%2F&d=x?y', 'env.query-string');
      t.equal(env.QUERY_STRING, 'a=1&a=2&b=%C3%A9&c=%2F&d=x?y', 'env.query-string', 'QUERY_STRING');
      t.equal(env.PATH_INFO, '/p', 'env.path.split', 'PATH_INFO');
    },
  },
  {
    id: 'environ.query-encoded-question-mark',
    requirements: ['env.path.split', 'env.query-string'],
    description: 'an encoded ? belongs to the path; the query starts at the first literal ?',
    async client(t) {
      const env = await environFor(t, '/a%3Fb?c', 'env.path.split');
      t.equal(env.PATH_INFO, '/a?b', 'env.path.split', 'PATH_INFO');
      t.equal(env.QUERY_STRING, 'c', 'env.query-string', 'QUERY_STRING');
    },
  },
  {
    id: 'environ.request-uri',
    requirements: ['env.request-uri'],
    description: 'REQUEST_URI is the request target exactly as received',
    async client(t) {
      t.equal((await environFor(t, '/caf%C3%A9/%2e?x=%20', 'env.request-uri')).REQUEST_URI, t.path('/caf%C3%A9/%2e?x=%20'), 'env.request-uri', 'REQUEST_URI');
    },
  },
  {
    id: 'environ.absolute-form',
    requirements: ['env.path.split', 'env.http.host'],
    description: 'an absolute-form target gives its path and query, and its authority becomes HTTP_HOST',
    async client(t) {
      const target = `http://example.test:81${t.path('/p%41th')}?x=1`;
      const env = await environFor(t, target, 'env.path.split', { mount: false });
      t.equal(env.PATH_INFO, '/pAth', 'env.path.split', 'PATH_INFO');
      t.equal(env.QUERY_STRING, 'x=1', 'env.query-string', 'QUERY_STRING');
      t.equal(env.HTTP_HOST, 'example.test:81', 'env.http.host', 'HTTP_HOST');
    },
  },
  {
    id: 'environ.asterisk-form',
    requirements: ['env.path-info', 'env.path.split'],
    description: 'OPTIONS * gives PATH_INFO "*"',
    async client(t) {
      if (t.scriptName) return; // an application mounted below the root is not asked for *
      const { env } = await requestEnviron(t, 'OPTIONS', '*', 'env.path-info');
      t.equal(env.PATH_INFO, '*', 'env.path-info', 'PATH_INFO');
      t.equal(env.SCRIPT_NAME, '', 'env.path.split', 'SCRIPT_NAME');
      t.equal(env.REQUEST_METHOD, 'OPTIONS', 'env.request-method', 'REQUEST_METHOD');
    },
  },
  {
    id: 'environ.methods',
    requirements: ['env.request-method'],
    description: 'REQUEST_METHOD holds the method as received, for less common methods too',
    async client(t) {
      for (const [i, method] of ['PATCH', 'DELETE', 'PURGE'].entries()) {
        const response = await t.exchange(t.request(method, '/'));
        if (method === 'PURGE' && response.status >= 400 && t.callCount === i) return; // a server may refuse a method it does not know
        const calls = await t.calls(i + 1, 2000, 'env.request-method');
        t.equal(calls[i]?.env.REQUEST_METHOD, method, 'env.request-method', 'REQUEST_METHOD');
      }
    },
  },
  {
    id: 'environ.http-headers',
    requirements: ['env.http', 'env.http.absent'],
    description: 'each request header becomes HTTP_<NAME>, and no HTTP_ key appears for a header not sent',
    async client(t) {
      const env = await environFor(t, '/', 'env.http', { headers: [['Accept-Language', 'fr'], ['x-lower-case', 'v'], ['X-Empty', '']] });
      t.equal(env.HTTP_ACCEPT_LANGUAGE, 'fr', 'env.http', 'HTTP_ACCEPT_LANGUAGE');
      t.equal(env.HTTP_X_LOWER_CASE, 'v', 'env.http', 'HTTP_X_LOWER_CASE');
      t.equal(env.HTTP_X_EMPTY, '', 'env.http', 'HTTP_X_EMPTY');
      t.equal(env.HTTP_HOST, t.authority, 'env.http', 'HTTP_HOST');
      const sent = new Set(['HTTP_ACCEPT_LANGUAGE', 'HTTP_X_LOWER_CASE', 'HTTP_X_EMPTY', 'HTTP_HOST', 'HTTP_X_TSGI_CASE']);
      const extra = Object.keys(env).filter((key) => key.startsWith('HTTP_') && !sent.has(key));
      t.equal(extra, [], 'env.http.absent', 'HTTP_ keys for headers the request did not carry');
    },
  },
  {
    id: 'environ.header-underscore',
    requirements: ['env.http.name-charset'],
    description: 'a header whose name holds _ is dropped, never mapped onto the header with -',
    async client(t) {
      const env = await environFor(t, '/', 'env.http.name-charset', { headers: [['X-User_Id', 'evil'], ['X-User-Id', 'good']] });
      t.equal(env.HTTP_X_USER_ID, 'good', 'env.http.name-charset', 'HTTP_X_USER_ID');
    },
  },
  {
    id: 'environ.header-underscore-alone',
    requirements: ['env.http.name-charset'],
    description: 'a header whose name holds _ leaves no key at all when it comes alone',
    async client(t) {
      const env = await environFor(t, '/', 'env.http.name-charset', { headers: [['X-Auth_User', 'admin']] });
      t.ok(!('HTTP_X_AUTH_USER' in env), 'env.http.name-charset', `X-Auth_User reached the environ as HTTP_X_AUTH_USER = ${JSON.stringify(env.HTTP_X_AUTH_USER)}`);
    },
  },
  {
    id: 'environ.header-dot',
    requirements: ['env.http.name-charset', 'ext.dotted'],
    description: 'a header whose name holds . never produces a dotted key',
    async client(t) {
      const env = await environFor(t, '/', 'env.http.name-charset', { headers: [['X.Dotted', 'no'], ['tsgi.version', '9']] });
      const dotted = Object.keys(env).filter((key) => key.toUpperCase().startsWith('HTTP') && key.includes('.'));
      t.equal(dotted, [], 'env.http.name-charset', 'dotted keys from headers');
      t.equal(env['tsgi.version'], [1, 0], 'env.http.name-charset', 'tsgi.version');
    },
  },
  {
    id: 'environ.header-repeated',
    requirements: ['env.http.repeated'],
    description: 'a repeated header is joined with ", " in the order received',
    async client(t) {
      const env = await environFor(t, '/', 'env.http.repeated', { headers: [['Accept', 'text/html'], ['X-Mid', 'm'], ['Accept', 'text/plain'], ['Accept', '*/*']] });
      t.equal(env.HTTP_ACCEPT, 'text/html, text/plain, */*', 'env.http.repeated', 'HTTP_ACCEPT');
    },
  },
  {
    id: 'environ.cookie-repeated',
    requirements: ['env.http.repeated'],
    description: 'repeated Cookie headers are joined with "; "',
    async client(t) {
      const env = await environFor(t, '/', 'env.http.repeated', { headers: [['Cookie', 'a=1'], ['Cookie', 'b=2']] });
      t.equal(env.HTTP_COOKIE, 'a=1; b=2', 'env.http.repeated', 'HTTP_COOKIE');
    },
  },
  {
    id: 'environ.header-value-trimmed',
    requirements: ['env.http.value'],
    description: 'a header value loses its surrounding spaces and tabs, and keeps inner ones',
    async client(t) {
      const env = await environFor(t, '/', 'env.http.value', { headers: [['X-Pad', ' \t a  b \t ']] });
      t.equal(env.HTTP_X_PAD, 'a  b', 'env.http.value', 'HTTP_X_PAD');
    },
  },
  {
    id: 'environ.header-value-octets',
    requirements: ['env.http.value', 'str.environ'],
    description: 'octets above 0x7F in a header value arrive as latin-1 code units',
    async client(t) {
      const env = await environFor(t, '/', 'str.environ', { headers: [['X-Name', 'caf\u00c3\u00a9 \u00ff']] });
      t.equal(env.HTTP_X_NAME, 'caf\u00c3\u00a9 \u00ff', 'str.environ', 'HTTP_X_NAME');
    },
  },
  {
    id: 'environ.header-value-long',
    requirements: ['env.http.value'],
    description: 'a 4000-byte header value arrives whole',
    async client(t) {
      const value = 'v'.repeat(4000);
      t.ok((await environFor(t, '/', 'env.http.value', { headers: [['X-Long', value]] })).HTTP_X_LONG === value, 'env.http.value', 'HTTP_X_LONG is not the value sent');
    },
  },
  {
    id: 'environ.content-headers',
    requirements: ['env.content-type', 'env.content-length', 'env.no-http-content'],
    description: 'Content-Type and Content-Length become CONTENT_TYPE and CONTENT_LENGTH, never HTTP_ keys',
    async client(t) {
      const { env } = await requestEnviron(t, 'POST', '/', 'env.content-type', { headers: [['Content-Type', 'text/x; charset=latin1'], ['Content-Length', '2']], body: 'hi' });
      t.equal(env.CONTENT_TYPE, 'text/x; charset=latin1', 'env.content-type', 'CONTENT_TYPE');
      t.equal(env.CONTENT_LENGTH, '2', 'env.content-length', 'CONTENT_LENGTH');
      t.ok(!('HTTP_CONTENT_TYPE' in env) && !('HTTP_CONTENT_LENGTH' in env), 'env.no-http-content', 'HTTP_CONTENT_TYPE or HTTP_CONTENT_LENGTH is present');
    },
  },
  {
    id: 'environ.content-absent',
    requirements: ['env.content-type', 'env.content-length', 'env.cgi.absent'],
    description: 'without those headers, CONTENT_TYPE and CONTENT_LENGTH are absent: no default, no empty placeholder',
    async client(t) {
      const env = await environFor(t, '/', 'env.content-type');
      t.ok(!('CONTENT_TYPE' in env), 'env.content-type', `CONTENT_TYPE is ${JSON.stringify(env.CONTENT_TYPE)}`);
      t.ok(!('CONTENT_LENGTH' in env), 'env.content-length', `CONTENT_LENGTH is ${JSON.stringify(env.CONTENT_LENGTH)}`);
      const empty = Object.keys(env).filter((key) => !key.includes('.') && !key.startsWith('HTTP_') && env[key] === '' && !['SCRIPT_NAME', 'QUERY_STRING'].includes(key));
      t.equal(empty, [], 'env.cgi.absent', 'CGI variables present as empty strings');
    },
  },
  {
    id: 'environ.content-length-chunked',
    requirements: ['env.content-length'],
    description: 'a chunked request has no CONTENT_LENGTH',
    async client(t) {
      const { env } = await requestEnviron(t, 'POST', '/', 'env.content-length', { headers: [['Transfer-Encoding', 'chunked']], body: '2\r\nhi\r\n0\r\n\r\n' });
      t.ok(!('CONTENT_LENGTH' in env), 'env.content-length', `CONTENT_LENGTH is ${JSON.stringify(env.CONTENT_LENGTH)}`);
    },
  },
  {
    id: 'environ.server-address',
    requirements: ['env.server-name', 'env.server-port', 'env.remote-addr', 'env.remote-port'],
    description: 'SERVER_NAME, SERVER_PORT, REMOTE_ADDR and REMOTE_PORT describe the connection',
    async client(t) {
      const connection = await t.connect();
      connection.send(t.request('GET', '/'));
      await connection.readResponse();
      const [call] = await t.calls(1, 2000, 'env.server-name');
      const env = call?.env ?? {};
      t.ok(typeof env.SERVER_NAME === 'string' && env.SERVER_NAME !== '', 'env.server-name', 'SERVER_NAME is empty');
      t.ok(/^\d+$/.test(String(env.SERVER_PORT)), 'env.server-port', `SERVER_PORT is ${JSON.stringify(env.SERVER_PORT)}`);
      const local = connection.socket.localAddress?.replace(/^::ffff:(?=\d+\.)/, '');
      t.equal(env.REMOTE_ADDR, local, 'env.remote-addr', 'REMOTE_ADDR');
      t.equal(env.REMOTE_PORT, String(connection.socket.localPort), 'env.remote-port', 'REMOTE_PORT');
    },
  },
  {
    id: 'environ.server-protocol-http10',
    requirements: ['env.server-protocol', 'env.http.absent'],
    description: 'an HTTP/1.0 request has SERVER_PROTOCOL HTTP/1.0, and no HTTP_HOST when it sent no Host',
    needs: ['http10'],
    async client(t) {
      const { env } = await requestEnviron(t, 'GET', '/', 'env.server-protocol', { version: '1.0' });
      t.equal(env.SERVER_PROTOCOL, 'HTTP/1.0', 'env.server-protocol', 'SERVER_PROTOCOL');
      t.ok(!('HTTP_HOST' in env), 'env.http.absent', `HTTP_HOST is ${JSON.stringify(env.HTTP_HOST)}`);
    },
  },
  {
    id: 'environ.url-scheme',
    requirements: ['env.tsgi.url-scheme'],
    description: 'tsgi.url_scheme is https over TLS and http otherwise',
    async client(t) {
      t.equal((await environFor(t, '/', 'env.tsgi.url-scheme'))['tsgi.url_scheme'], t.tls ? 'https' : 'http', 'env.tsgi.url-scheme', 'tsgi.url_scheme');
    },
  },
  {
    id: 'environ.run-once',
    requirements: ['env.tsgi.run-once'],
    description: 'tsgi.run_once is false for a server that serves many requests from one process, true otherwise',
    async client(t) {
      t.equal((await environFor(t, '/', 'env.tsgi.run-once'))['tsgi.run_once'], !t.has('persistent'), 'env.tsgi.run-once', 'tsgi.run_once');
    },
  },
  {
    id: 'environ.multiprocess',
    requirements: ['concurrency.multiprocess'],
    description: 'tsgi.multiprocess says whether other copies of the application run (the multiprocess capability)',
    async client(t) {
      t.equal((await environFor(t, '/', 'concurrency.multiprocess'))['tsgi.multiprocess'], t.has('multiprocess'), 'concurrency.multiprocess', 'tsgi.multiprocess');
    },
  },
  {
    id: 'environ.multithread',
    requirements: ['concurrency.multithread'],
    description: 'when the server calls the application again before a call has finished, tsgi.multithread is true',
    async app(environ, startResponse, probe) {
      if (probe.index === 0) {
        probe.note('overlapped', await probe.when('second', 500));
      } else probe.fire('second');
      probe.note('multithread', environ['tsgi.multithread']);
      return reply(startResponse, 'ok');
    },
    async client(t) {
      const first = await t.connect();
      first.send(t.request('GET', '/first'));
      await t.calls(1, 2000, 'server.invoke.once');
      const second = await t.connect();
      second.send(t.request('GET', '/second'));
      await Promise.all([first.readResponse(), second.readResponse()]);
      const calls = await t.calls(2);
      if (calls[0]?.notes.overlapped) {
        for (const call of calls) t.equal(call.notes.multithread, true, 'concurrency.multithread', 'tsgi.multithread of overlapping calls');
      }
    },
  },
  {
    id: 'environ.fresh',
    requirements: ['server.invoke.fresh-environ'],
    description: 'each request gets a new environ: changes an application makes do not leak into the next request',
    app(environ, startResponse, probe) {
      const record = environ as unknown as Record<string, unknown>;
      // Checked here too, where the environ itself is: the client sees only records of it when the server runs in several processes.
      probe.note('reused', seenEnvirons.has(environ));
      seenEnvirons.add(environ);
      probe.note('leaked', 'conformance.mark' in record || record.HTTP_X_LEAK !== undefined);
      record['conformance.mark'] = probe.index;
      record.HTTP_X_LEAK = 'yes';
      return reply(startResponse, 'ok');
    },
    async client(t) {
      const connection = await t.connect();
      connection.send(Buffer.concat([t.request('GET', '/1'), t.request('GET', '/2')]));
      await connection.readResponse();
      await connection.readResponse();
      const calls = await t.calls(2);
      t.ok(calls[0]?.environ !== calls[1]?.environ, 'server.invoke.fresh-environ', 'both requests got the same environ object');
      t.equal(calls[1]?.notes.reused, false, 'server.invoke.fresh-environ', 'the second request got an environ object used before');
      t.equal(calls[1]?.notes.leaked, false, 'server.invoke.fresh-environ', 'keys set by the first call seen by the second');
    },
  },
  {
    id: 'environ.no-process-env',
    requirements: ['env.no-process-env'],
    description: 'the process environment is not copied into the environ',
    async client(t) {
      const env = await environFor(t, '/', 'env.no-process-env');
      const copied = ['PATH', 'HOME', 'PWD', 'NODE_OPTIONS', 'SHELL'].filter((key) => key in env && env[key] === process.env[key]);
      t.equal(copied, [], 'env.no-process-env', 'process variables in the environ');
    },
  },
  {
    id: 'environ.error-stream',
    requirements: ['errors.write', 'errors.write-lines', 'errors.flush'],
    description: 'tsgi.errors takes any string, writeLines writes in order, and flush() resolves',
    async app(environ, startResponse, probe) {
      const errors = environ['tsgi.errors'];
      const mark = marker(environ.HTTP_X_TSGI_CASE ?? '');
      errors.write(`${mark} caf\u00e9 \u2603 \ud800 lone\n`);
      errors.writeLines([`${mark} one\n`, `${mark} two\n`]);
      probe.note('flushed', await Promise.race([errors.flush().then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 1000))]));
      return reply(startResponse, 'ok');
    },
    async client(t) {
      const response = await t.exchange(t.request('GET', '/'));
      status(t, response, 200, 'errors.write');
      const [call] = await t.calls();
      t.equal(call?.notes.flushed, true, 'errors.flush', 'flush() resolved within 1000 ms');
      if (t.has('error-log')) {
        const mark = marker(t);
        const log = t.errorLog;
        t.ok(log.includes(`${mark} caf\u00e9 \u2603`), 'errors.write', 'the text written is not in the error log');
        t.ok(log.indexOf(`${mark} one\n`) >= 0 && log.indexOf(`${mark} one\n`) < log.indexOf(`${mark} two\n`), 'errors.write-lines', 'writeLines() did not write its lines in order');
      }
    },
  },
  {
    id: 'environ.signal-idle',
    requirements: ['env.tsgi.signal', 'disconnect.no-false-abort'],
    description: 'tsgi.signal is an AbortSignal that is not aborted while the client waits',
    async app(environ, startResponse, probe) {
      const signal = environ['tsgi.signal'];
      probe.note('type', signal instanceof AbortSignal);
      await new Promise((resolve) => setTimeout(resolve, 30));
      probe.note('aborted', signal.aborted);
      return reply(startResponse, latin1(bytes('ok')));
    },
    async client(t) {
      const response = await t.exchange(t.request('GET', '/'));
      status(t, response, 200, 'env.tsgi.signal');
      const [call] = await t.calls();
      t.equal(call?.notes.type, true, 'env.tsgi.signal', 'tsgi.signal instanceof AbortSignal');
      t.equal(call?.notes.aborted, false, 'disconnect.no-false-abort', 'tsgi.signal.aborted while the client waits');
    },
  },
]);
