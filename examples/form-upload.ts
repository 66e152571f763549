/**
 * A form upload, read from `tsgi.input`.
 *
 * GET shows two HTML forms. POSTing the first sends `application/x-www-form-urlencoded`;
 * the second sends `multipart/form-data` with a file, which a small parser splits into
 * its parts. Either way the page echoes what arrived, HTML-escaped. A body larger than
 * {@link MAX_BODY_BYTES} gets `413 Content Too Large`, without being read when its
 * `CONTENT_LENGTH` already says so.
 *
 *     npm start -- examples/form-upload.ts
 *     curl -d 'name=Ada&message=hi' http://127.0.0.1:8000/
 *     curl -F 'note=hi' -F 'upload=@package.json' http://127.0.0.1:8000/
 */
import { Buffer } from 'node:buffer';
import type { Application, Environ, StartResponse } from '../src/types.js';

/** The largest request body it accepts. */
export const MAX_BODY_BYTES = 64 * 1024;

/** One field of a submitted form; `filename` and `type` only for a file. */
interface Field {
  name: string;
  value: Uint8Array;
  filename?: string;
  type?: string;
}

const FORM = `<form method="post">
  <p><label>Name <input name="name"></label></p>
  <p><label>Message <textarea name="message"></textarea></label></p>
  <p><button>Send (urlencoded)</button></p>
</form>
<form method="post" enctype="multipart/form-data">
  <p><label>Note <input name="note"></label></p>
  <p><label>File <input type="file" name="upload"></label></p>
  <p><button>Upload (multipart)</button></p>
</form>`;

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

function respond(
  startResponse: StartResponse,
  status: string,
  title: string,
  html: string,
  headers: Array<[string, string]> = [],
): Uint8Array[] {
  const body = new TextEncoder().encode(
    `<!doctype html>\n<meta charset="utf-8">\n<title>${title}</title>\n<h1>${title}</h1>\n${html}\n`,
  );
  // UTF-8 pages make browsers submit their forms in UTF-8, which is how they are decoded here.
  startResponse(status, [
    ['Content-Type', 'text/html; charset=utf-8'],
    ['Content-Length', String(body.length)],
    ...headers,
  ]);
  return [body];
}

/** The request body, or `undefined` when it is larger than `limit`. */
async function readBody(environ: Environ, limit: number): Promise<Uint8Array | undefined> {
  const declared = environ.CONTENT_LENGTH === undefined ? undefined : Number(environ.CONTENT_LENGTH);
  // Refuse a declared length before reading anything: no point receiving what is refused.
  if (declared !== undefined && declared > limit) return undefined;
  // Without CONTENT_LENGTH (a chunked body), one byte past the limit tells an oversized
  // body from one that fits, without reading the rest of it.
  const body = await environ['tsgi.input'].read(declared ?? limit + 1);
  return body.length > limit ? undefined : body;
}

function parseUrlencoded(body: Uint8Array): Field[] {
  const params = new URLSearchParams(new TextDecoder().decode(body));
  return [...params].map(([name, value]) => ({ name, value: new TextEncoder().encode(value) }));
}

/**
 * Splits a `multipart/form-data` body (RFC 7578) into its fields: enough for a browser's
 * form, not a general MIME parser. `undefined` when the body is not well formed.
 */
function parseMultipart(body: Uint8Array, boundary: string): Field[] | undefined {
  // With a CRLF in front, every delimiter, the first one included, is CRLF "--" boundary.
  const data = Buffer.concat([Buffer.from('\r\n'), body]);
  const delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  const fields: Field[] = [];
  let at = data.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (data.toString('latin1', start, start + 2) === '--') return fields; // the closing delimiter
    const next = data.indexOf(delimiter, start);
    if (next < 0) return undefined;
    // The part: the rest of the delimiter line, its headers, an empty line, its content.
    const part = data.subarray(data.indexOf('\r\n', start) + 2, next);
    const headEnd = part.indexOf('\r\n\r\n');
    if (headEnd < 0) return undefined;
    const head = part.toString('utf8', 0, headEnd);
    const disposition = /^content-disposition:(.*)$/im.exec(head)?.[1] ?? '';
    const name = /(?:^|;)\s*name="([^"]*)"/i.exec(disposition)?.[1];
    if (name === undefined) return undefined;
    const filename = /(?:^|;)\s*filename="([^"]*)"/i.exec(disposition)?.[1];
    const type = /^content-type:\s*(.*?)\s*$/im.exec(head)?.[1];
    const value = part.subarray(headEnd + 4);
    fields.push(filename === undefined ? { name, value } : { name, value, filename, type: type ?? 'application/octet-stream' });
    at = next;
  }
  return undefined;
}

function describe(field: Field): string {
  const name = escapeHtml(field.name);
  if (field.filename === undefined) return `<dt>${name}</dt><dd>${escapeHtml(new TextDecoder().decode(field.value))}</dd>`;
  const about = `${escapeHtml(field.filename)} (${escapeHtml(field.type ?? '')}, ${field.value.length} bytes)`;
  const preview = field.type?.startsWith('text/') ? `<pre>${escapeHtml(new TextDecoder().decode(field.value))}</pre>` : '';
  return `<dt>${name}</dt><dd>${about}${preview}</dd>`;
}

const formUpload: Application = async (environ, startResponse) => {
  if (environ.REQUEST_METHOD === 'GET' || environ.REQUEST_METHOD === 'HEAD') {
    return respond(startResponse, '200 OK', 'Send a form', FORM);
  }
  if (environ.REQUEST_METHOD !== 'POST') {
    return respond(startResponse, '405 Method Not Allowed', 'Method not allowed', '<p>Use GET or POST.</p>', [
      ['Allow', 'GET, HEAD, POST'],
    ]);
  }
  const type = environ.CONTENT_TYPE ?? '';
  const boundary = /^multipart\/form-data\s*;.*?\bboundary=(?:"([^"]+)"|([^;\s]+))/i.exec(type);
  const urlencoded = /^application\/x-www-form-urlencoded\s*(?:;|$)/i.test(type);
  if (!urlencoded && !boundary) {
    return respond(startResponse, '415 Unsupported Media Type', 'Unsupported form', '<p>Send a urlencoded or multipart form.</p>');
  }
  const body = await readBody(environ, MAX_BODY_BYTES);
  if (body === undefined) {
    return respond(startResponse, '413 Content Too Large', 'Too large', `<p>The limit is ${MAX_BODY_BYTES} bytes.</p>`);
  }
  const fields = boundary ? parseMultipart(body, boundary[1] ?? boundary[2] ?? '') : parseUrlencoded(body);
  if (fields === undefined) {
    return respond(startResponse, '400 Bad Request', 'Bad form', '<p>The multipart body is malformed.</p>');
  }
  const list = fields.map(describe).join('\n');
  return respond(startResponse, '200 OK', 'Received', `<dl>\n${list}\n</dl>\n<p><a href="">Again</a></p>`);
};

export default formUpload;
