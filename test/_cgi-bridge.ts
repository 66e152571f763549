// A minimal node:http server that runs a TSGI application as a CGI script for each
// request, as Apache's mod_cgi would (RFC 3875), but in-process, through runCgi's env,
// stdin and stdout: for running the conformance suite against runCgi. What a web server
// owns, it does itself: parsing and framing, keep-alive, 100 Continue, Date and Server,
// HEAD. The script gets only meta-variables, a body of known length and a pipe to write to.
import { Buffer } from 'node:buffer';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { runCgi, type CgiOptions } from '../src/cgi.js';
import type { Application } from '../src/types.js';
import { listenBridge, type Bridge } from './_bridge-server.js';

/** Where the script is mounted, as by `ScriptAlias /cgi-bin/app /srv/app.cgi`. */
export const SCRIPT_NAME = '/cgi-bin/app';
const SOFTWARE = 'tsgi-cgi-bridge';
/** A chunked body is held in memory to learn its length; past this it is refused. */
const MAX_BUFFERED = 16 * 1024 * 1024;
const MAX_HEAD = 64 * 1024;
/** How long a script waits for the one before it to exit; as a web server's script timeout, a bound. */
const TURN_TIMEOUT = 10_000;
/** Header fields that are not passed as HTTP_*: framing the host has dealt with, credentials (RFC 3875, 4.1.18), and httpoxy. */
const WITHHELD = new Set(['HTTP_CONTENT_TYPE', 'HTTP_CONTENT_LENGTH', 'HTTP_TRANSFER_ENCODING', 'HTTP_AUTHORIZATION', 'HTTP_PROXY']);

/** Where the script's stderr goes: the web server's error log. */
type ErrorLog = NonNullable<CgiOptions['stderr']>;

/** Listens on a free port of 127.0.0.1; `close()` waits for running scripts, as a graceful stop does. */
export function listenCgi(app: Application, stderr: ErrorLog): Promise<Bridge> {
  // A web server starts a process per request, so two requests never share a copy of the
  // application, and runCgi says so (tsgi.multithread is false). In one process, where
  // they do share it, the scripts take turns.
  let last = Promise.resolve();
  const turn = async <T>(script: () => Promise<T>): Promise<T> => {
    const previous = last;
    let done!: () => void;
    last = new Promise<void>((resolve) => (done = resolve));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([previous, new Promise((resolve) => (timer = setTimeout(resolve, TURN_TIMEOUT)))]);
    clearTimeout(timer);
    return script().finally(done);
  };
  return listenBridge((req, res) => host(app, stderr, turn, req, res).catch(() => void res.destroy()));
}

type Turn = <T>(script: () => Promise<T>) => Promise<T>;

async function host(app: Application, stderr: ErrorLog, turn: Turn, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // Node would chunk a response to HTTP/1.0 that offered TE: chunked; HTTP/1.0 is close-delimited.
  if (req.httpVersionMinor === 0) res.useChunkedEncodingByDefault = false;
  const target = splitTarget(req.url ?? '/');
  if (target.path !== SCRIPT_NAME && !target.path.startsWith(`${SCRIPT_NAME}/`)) {
    res.writeHead(404, { 'Content-Type': 'text/plain', Server: SOFTWARE }).end('Not Found\n');
    return;
  }
  // RFC 3875, 4.2: the script is given a body of known length. A Content-Length body is
  // piped as it arrives; a chunked one is de-chunked and buffered first, to learn its length.
  let length = req.headers['content-length'];
  let stdin: AsyncIterable<Uint8Array> | Iterable<Uint8Array> = [];
  if (req.headers['transfer-encoding'] !== undefined) {
    const body = await buffered(req, res);
    if (!body) return;
    length = String(body.length);
    stdin = [body];
  } else if (length !== undefined) {
    // The script may stop reading early: that must not destroy the request (and the connection).
    stdin = { [Symbol.asyncIterator]: () => req.iterator({ destroyOnReturn: false }) };
  }
  const env = metaVariables(req, target, length);
  const stdout = new ScriptOutput(req, res);
  let completed = false;
  try {
    // The outcome stands for the script's exit status, which docs/cgi.md has scripts set
    // from it. Unlike Apache's mod_cgi, which only logs a failed exit, this host will not
    // complete a message the script could not finish (see exit()).
    completed = await turn(async () => (await runCgi(app, { env, stdin, stdout, stderr })).completed);
  } finally {
    stdout.exit(completed);
    // What the script left unread is discarded, so that the next request on the connection can be parsed.
    if (!req.complete) req.resume();
  }
}

/** The whole of a chunked body; undefined once the client has gone or the body was refused. */
async function buffered(req: IncomingMessage, res: ServerResponse): Promise<Buffer | undefined> {
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BUFFERED) {
        res.writeHead(413, { 'Content-Type': 'text/plain', Connection: 'close', Server: SOFTWARE }).end('Content Too Large\n');
        return undefined;
      }
      parts.push(chunk);
    }
  } catch {
    return undefined; // bad chunking (Node answers 400) or the client went away
  }
  return Buffer.concat(parts);
}

interface Target {
  /** The authority of an absolute-form target, which replaces Host (RFC 9112, 3.2.2). */
  authority: string | undefined;
  path: string;
  query: string;
}

function splitTarget(url: string): Target {
  const absolute = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)(.*)$/.exec(url);
  const rest = absolute ? absolute[2] || '/' : url;
  const mark = rest.indexOf('?');
  return { authority: absolute?.[1], path: mark < 0 ? rest : rest.slice(0, mark), query: mark < 0 ? '' : rest.slice(mark + 1) };
}

/**
 * Node gives the target and header values as byte strings (latin-1); a CGI script's
 * environment holds octets, which Node decodes as UTF-8 and runCgi encodes back. The
 * in-process env option carries text, so octets that are not UTF-8 cannot make that trip.
 */
const text = (octets: string): string => Buffer.from(octets, 'latin1').toString('utf8');

/** RFC 3875, 4.1.5: PATH_INFO is decoded; a % without two hex digits stays as it is. */
const decode = (path: string): string => path.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

/** The meta-variables of RFC 3875, section 4.1, and those Apache adds (REMOTE_PORT, REQUEST_URI, REQUEST_SCHEME). */
function metaVariables(req: IncomingMessage, target: Target, length: string | undefined): Record<string, string> {
  const socket = req.socket;
  const authority = target.authority ?? req.headers.host;
  const env: Record<string, string> = {
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_SOFTWARE: SOFTWARE,
    SERVER_NAME: authority ? serverName(authority) : String(socket.localAddress),
    SERVER_PORT: String(socket.localPort),
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    REQUEST_METHOD: req.method ?? 'GET',
    REQUEST_SCHEME: 'http',
    REQUEST_URI: text(req.url ?? '/'),
    SCRIPT_NAME,
    PATH_INFO: text(decode(target.path.slice(SCRIPT_NAME.length))),
    QUERY_STRING: text(target.query),
    REMOTE_ADDR: String(socket.remoteAddress),
    REMOTE_PORT: String(socket.remotePort),
  };
  if (length !== undefined) env.CONTENT_LENGTH = length;
  if (req.headers['content-type'] !== undefined) env.CONTENT_TYPE = text(req.headers['content-type']);
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    // As Apache does: a name with anything but letters, digits and - is dropped, so that
    // X-User_Id cannot pose as X-User-Id once both are HTTP_X_USER_ID.
    if (!/^[A-Za-z0-9-]+$/.test(name)) continue;
    const key = `HTTP_${name.toUpperCase().replaceAll('-', '_')}`;
    if (WITHHELD.has(key)) continue;
    const value = text(req.rawHeaders[i + 1]!);
    // RFC 3875, 4.1.18: repeated fields become one value with the same meaning.
    env[key] = key in env ? `${env[key]}${key === 'HTTP_COOKIE' ? '; ' : ', '}${value}` : value;
  }
  if (target.authority !== undefined) env.HTTP_HOST = text(target.authority);
  return env;
}

function serverName(authority: string): string {
  return authority.startsWith('[') ? authority.slice(0, authority.indexOf(']') + 1) : authority.replace(/:\d*$/, '');
}

const epipe = (): Error => Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });

/**
 * The host's end of the script's stdout: it parses the CGI head (header lines up to a
 * blank line, the status from `Status:`), then streams the body to the client, pulling
 * the next chunk once the client has taken the last. When the client goes away the pipe
 * breaks: the script learns it at its next write, as a real script does from EPIPE.
 */
class ScriptOutput extends Writable {
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  /** The head so far; undefined once it has been sent. */
  #head: Buffer | undefined = Buffer.alloc(0);
  /** What the declared Content-Length still allows. */
  #left = Infinity;
  #gone = false;
  #waiting: ((error?: Error) => void) | undefined;

  constructor(req: IncomingMessage, res: ServerResponse) {
    super();
    this.#req = req;
    this.#res = res;
    res.once('close', () => {
      if (res.writableFinished) return;
      this.#gone = true;
      this.#waiting?.(epipe());
    });
    // The script hears of a broken pipe through its own listeners; the host must not crash.
    this.on('error', () => {});
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.#gone) return callback(epipe());
    if (this.#head) {
      const data = Buffer.concat([this.#head, chunk]);
      const blank = /\r?\n\r?\n/.exec(data.toString('latin1'));
      if (!blank) {
        if (data.length > MAX_HEAD) return this.#fail(callback);
        this.#head = data;
        return callback();
      }
      this.#head = undefined;
      if (!this.#sendHead(data.toString('latin1', 0, blank.index))) return this.#fail(callback);
      chunk = data.subarray(blank.index + blank[0].length);
    }
    // Passed on as they come, bytes past the declared Content-Length included, as Node
    // does: the suite's framing cases are there to see that runCgi never writes them.
    this.#left -= chunk.length;
    if (chunk.length === 0 || this.#res.write(chunk)) return callback();
    // Until the client takes it, or leaves (and close() makes every client leave).
    const done = (error?: Error): void => {
      this.#res.off('drain', drained);
      this.#waiting = undefined;
      callback(error);
    };
    const drained = (): void => done();
    this.#res.on('drain', drained);
    this.#waiting = done;
  }

  /** RFC 3875, section 6: the script's head as the client's status line and header fields. */
  #sendHead(head: string): boolean {
    let status: number | undefined;
    let reason: string | undefined;
    let location = false;
    const fields: string[] = [];
    for (const line of head.split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon <= 0) return false;
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      const lower = name.toLowerCase();
      if (lower === 'status') {
        const parsed = /^(\d{3})(?: (.*))?$/.exec(value);
        if (!parsed) return false;
        status = Number(parsed[1]);
        reason = parsed[2];
        continue;
      }
      if (lower === 'location') location = true;
      if (lower === 'content-length') this.#left = Number(value);
      fields.push(name, value);
    }
    // Location without Status is a client redirect (6.2.3); runCgi always writes Status,
    // so the local redirect of 6.2.2, which the host would serve itself, never comes up.
    status ??= location ? 302 : 200;
    if (!fields.some((name, i) => i % 2 === 0 && name.toLowerCase() === 'server')) fields.push('Server', SOFTWARE);
    try {
      this.#res.writeHead(status, reason ?? STATUS_CODES[status] ?? '', fields);
    } catch {
      return false; // a field Node will not send: the script's head is malformed
    }
    return true;
  }

  /** A head the host cannot use: 500, as Apache answers "malformed header from script". */
  #fail(callback: (error?: Error | null) => void): void {
    this.#head = undefined;
    if (!this.#res.headersSent) this.#res.writeHead(500, { 'Content-Type': 'text/plain', Server: SOFTWARE }).end('Internal Server Error\n');
    this.#gone = true;
    callback(epipe());
  }

  /** The script has exited: its output is the whole response, or the message is cut short. */
  exit(completed: boolean): void {
    if (this.#gone) return;
    if (this.#head) return this.#fail(() => {}); // no head at all: "End of script output before headers"
    const bodiless = this.#req.method === 'HEAD' || this.#res.statusCode < 200 || this.#res.statusCode === 204 || this.#res.statusCode === 304;
    if (completed && (bodiless || this.#left <= 0 || this.#left === Infinity)) return void this.#res.end();
    // A script that failed after its head, or wrote less than its Content-Length: the host
    // cannot complete the message, so it sends what it has and closes without the end.
    const socket = this.#res.socket;
    if (!socket) return void this.#res.destroy();
    socket.end();
    setTimeout(() => socket.destroy(), 1000).unref();
  }
}
