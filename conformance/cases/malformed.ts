/** Malformed requests never reach the application: the server answers them itself, and closes when the framing cannot be trusted. */
import type { RequirementId } from '../../src/_requirements.js';
import type { Capability, CaseContext, ServerCase } from '../types.js';
import { defineCases, notCalled, reply, status } from './_helpers.js';

interface Refusal {
  id: string;
  requirement: RequirementId;
  description: string;
  /** The request, given the context (so that it can carry Host and the case header). */
  request: (t: CaseContext) => string;
  statuses: readonly number[];
  /** Also require the connection to close (`request.framing`). */
  close?: boolean;
  needs?: readonly Capability[];
  /** Closing the connection without an answer is enough. */
  closeIsAnswer?: boolean;
  /** The application may be called instead, if it sees exactly this (an alternative the spec allows). */
  allowed?: (env: Readonly<Record<string, unknown>>) => boolean;
}

const GET = (t: CaseContext, extra: string) => `GET ${t.path('/')} HTTP/1.1\r\nHost: ${t.authority}\r\n${t.tag}\r\n${extra}\r\n`;
const POST = (t: CaseContext, extra: string, body: string) => `POST ${t.path('/')} HTTP/1.1\r\nHost: ${t.authority}\r\n${t.tag}\r\n${extra}\r\n${body}`;

function refusal(r: Refusal): ServerCase {
  return {
    id: r.id,
    requirements: [r.requirement],
    description: r.description,
    ...(r.needs ? { needs: r.needs } : {}),
    app: (_environ, startResponse) => reply(startResponse, 'the application answered'),
    async client(t) {
      const connection = await t.connect();
      connection.send(r.request(t));
      const response = await connection.readResponse({ ms: 2000 }).catch((error: Error) => {
        if (r.closeIsAnswer && connection.closed && connection.pending.length === 0) return undefined;
        return t.fail(r.requirement, `no answer: ${error.message}`);
      });
      if (response === undefined) return notCalled(t, r.requirement);
      if (r.allowed && response.status === 200 && t.callCount === 1) {
        const [call] = await t.calls();
        t.ok(call && r.allowed(call.env), r.requirement, 'the application was called with what the request did not mean');
        return;
      }
      notCalled(t, r.requirement);
      status(t, response, r.statuses, r.requirement);
      if (r.close) t.ok(await connection.waitClosed(1500), r.requirement, 'the connection stayed open after a request whose framing cannot be trusted');
    },
  };
}

/** The cases about malformed requests. */
export const malformedCases = defineCases([
  refusal({
    id: 'malformed.request-line',
    requirement: 'request.malformed',
    description: 'a request line without a target and version gets 400',
    request: (t) => `GET\r\nHost: ${t.authority}\r\n${t.tag}\r\n\r\n`,
    statuses: [400],
  }),
  refusal({
    id: 'malformed.method',
    requirement: 'request.malformed',
    description: 'a method that is not a token gets 400',
    request: (t) => `GE(T ${t.path('/')} HTTP/1.1\r\nHost: ${t.authority}\r\n${t.tag}\r\n\r\n`,
    statuses: [400, 405, 501],
  }),
  refusal({
    id: 'malformed.space-before-colon',
    requirement: 'request.malformed',
    description: 'whitespace between a header name and its colon gets 400',
    request: (t) => GET(t, 'X-A : b\r\n'),
    statuses: [400],
  }),
  refusal({
    id: 'malformed.header-line',
    requirement: 'request.malformed',
    description: 'a header line without a colon gets 400',
    request: (t) => GET(t, 'no colon here\r\n'),
    statuses: [400],
  }),
  refusal({
    id: 'malformed.nul-in-header',
    requirement: 'request.malformed',
    description: 'a NUL in a header value gets 400',
    request: (t) => GET(t, 'X-A: a\u0000b\r\n'),
    statuses: [400],
  }),
  refusal({
    id: 'malformed.target-no-slash',
    requirement: 'request.malformed',
    description: 'an origin-form target that does not start with / gets 400',
    request: (t) => `GET x/y HTTP/1.1\r\nHost: ${t.authority}\r\n${t.tag}\r\n\r\n`,
    statuses: [400],
  }),
  refusal({
    id: 'malformed.asterisk-not-options',
    requirement: 'request.malformed',
    description: 'an asterisk-form target with a method other than OPTIONS gets 400',
    request: (t) => `GET * HTTP/1.1\r\nHost: ${t.authority}\r\n${t.tag}\r\n\r\n`,
    statuses: [400],
  }),
  refusal({
    id: 'malformed.version-2',
    requirement: 'request.malformed',
    description: 'an HTTP/1 request line that claims version 2.0 gets 505 or 400',
    request: (t) => `GET ${t.path('/')} HTTP/2.0\r\nHost: ${t.authority}\r\n${t.tag}\r\n\r\n`,
    statuses: [400, 505],
  }),
  refusal({
    id: 'malformed.target-space',
    requirement: 'request.malformed',
    description: 'a space inside the request target gets 400',
    request: (t) => `GET ${t.path('/a b')} HTTP/1.1\r\nHost: ${t.authority}\r\n${t.tag}\r\n\r\n`,
    statuses: [400],
  }),
  refusal({
    id: 'malformed.length-plus',
    requirement: 'request.framing',
    description: 'a Content-Length with a sign gets 400 and a closed connection',
    request: (t) => POST(t, 'Content-Length: +5\r\n', 'hello'),
    statuses: [400],
    close: true,
  }),
  refusal({
    id: 'malformed.obs-fold',
    requirement: 'request.obs-fold',
    description: 'obsolete line folding gets 400, or the fold becomes one space',
    request: (t) => GET(t, 'X-Folded: one\r\n two\r\n'),
    statuses: [400],
    allowed: (env) => env.HTTP_X_FOLDED === 'one two',
  }),
  refusal({
    id: 'malformed.no-host',
    requirement: 'request.host',
    description: 'an HTTP/1.1 request without Host gets 400',
    request: (t) => `GET ${t.path('/')} HTTP/1.1\r\n${t.tag}\r\n\r\n`,
    statuses: [400],
  }),
  refusal({
    id: 'malformed.two-hosts',
    requirement: 'request.host',
    description: 'an HTTP/1.1 request with two Host headers gets 400',
    request: (t) => GET(t, 'Host: other.test\r\n'),
    statuses: [400],
  }),
  refusal({
    id: 'malformed.length-and-chunked',
    requirement: 'request.framing',
    description: 'Content-Length together with Transfer-Encoding gets 400 and a closed connection',
    request: (t) => POST(t, 'Content-Length: 4\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'),
    statuses: [400],
    close: true,
  }),
  refusal({
    id: 'malformed.length-not-number',
    requirement: 'request.framing',
    description: 'a Content-Length that is not a decimal number gets 400 and a closed connection',
    request: (t) => POST(t, 'Content-Length: 0x10\r\n', '0123456789abcdef'),
    statuses: [400],
    close: true,
  }),
  refusal({
    id: 'malformed.length-negative',
    requirement: 'request.framing',
    description: 'a negative Content-Length gets 400 and a closed connection',
    request: (t) => POST(t, 'Content-Length: -1\r\n', 'x'),
    statuses: [400],
    close: true,
  }),
  refusal({
    id: 'malformed.lengths-differ',
    requirement: 'request.framing',
    description: 'two differing Content-Length values get 400 and a closed connection',
    request: (t) => POST(t, 'Content-Length: 1\r\nContent-Length: 2\r\n', 'ab'),
    statuses: [400],
    close: true,
  }),
  refusal({
    id: 'malformed.coding-unknown',
    requirement: 'request.coding',
    description: 'a transfer coding other than chunked gets 501 and a closed connection',
    request: (t) => POST(t, 'Transfer-Encoding: gzip\r\n', 'xyz'),
    statuses: [501],
    close: true,
  }),
  refusal({
    id: 'malformed.coding-stacked',
    requirement: 'request.coding',
    description: 'chunked after another coding gets 501 and a closed connection',
    request: (t) => POST(t, 'Transfer-Encoding: gzip, chunked\r\n', '0\r\n\r\n'),
    statuses: [501],
    close: true,
  }),
  refusal({
    id: 'malformed.target-too-long',
    requirement: 'request.target-length',
    description: 'a 12 KiB request target gets 414',
    needs: ['size-limits'],
    request: (t) => `GET ${t.path(`/${'a'.repeat(12 * 1024)}`)} HTTP/1.1\r\nHost: ${t.authority}\r\n${t.tag}\r\n\r\n`,
    statuses: [414],
  }),
  refusal({
    id: 'malformed.header-too-large',
    requirement: 'request.header-size',
    description: 'a 64 KiB header section gets 431',
    needs: ['size-limits'],
    request: (t) => GET(t, `X-Big: ${'b'.repeat(64 * 1024)}\r\n`),
    statuses: [431],
  }),
  refusal({
    id: 'malformed.connect',
    requirement: 'request.connect',
    description: 'a CONNECT request is refused or closed by the server, never passed to the application',
    request: (t) => `CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n${t.tag}\r\n\r\n`,
    statuses: [400, 403, 405, 501],
    closeIsAnswer: true,
  }),
  {
    id: 'malformed.close-after',
    requirements: ['request.close-after-reject'],
    description: 'after answering a malformed request, the server closes the connection',
    async client(t) {
      const connection = await t.connect();
      connection.send(`GET / HTTP/1.1\r\nHost: ${t.authority}\r\nX-A : b\r\n\r\n`);
      status(t, await connection.readResponse(), 400, 'request.malformed');
      t.ok(await connection.waitClosed(1500), 'request.close-after-reject', 'the connection stayed open after a 400');
    },
  },
  {
    id: 'malformed.smuggling',
    requirements: ['request.framing', 'request.malformed'],
    description: 'a request smuggled in a body with conflicting framing never reaches the application',
    async client(t) {
      const connection = await t.connect();
      connection.send(
        `POST ${t.path('/')} HTTP/1.1\r\nHost: ${t.authority}\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n`,
      );
      await connection.readResponse().catch(() => undefined);
      await connection.waitClosed(1500);
      notCalled(t, 'request.framing');
    },
  },
]);
