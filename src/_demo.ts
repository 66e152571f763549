/**
 * The demo application that `npm start` and `tsgi serve` without a module serve: what a
 * newcomer first sees of TSGI. A browser (a client that accepts `text/html`) gets a page
 * with the environ the request produced, as a table, and links that show the contract at
 * work: a query string, a percent-encoded UTF-8 path, a streamed response, a form read
 * from `tsgi.input`. Any other client gets the same facts as plain text.
 *
 * @module
 */
import type { Application, Environ, StartResponse } from './types.js';

const encoder = new TextEncoder();
/** Form bodies larger than this are not echoed. */
const MAX_FORM_BYTES = 64 * 1024;

/** The demo: the environ as a page or as text, and a few routes that show the contract at work. */
export const demoApp: Application = (environ, startResponse) => {
  const html = wantsHtml(environ);
  if (environ.PATH_INFO === '/stream') return stream(startResponse, html);
  if (environ.PATH_INFO === '/echo' && environ.REQUEST_METHOD === 'POST') return echo(environ, startResponse, html);
  const body = html ? page(environ) : text(environ);
  startResponse('200 OK', [
    ['Content-Type', html ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8'],
    ['Content-Length', String(body.length)],
    // Other clients get text from the same URL.
    ['Vary', 'Accept'],
  ]);
  return [body];
};

function wantsHtml(environ: Environ): boolean {
  return /\btext\/html\b/.test(environ.HTTP_ACCEPT ?? '');
}

/** The environ as text, one `key = value` line per key, sorted. */
function text(environ: Environ): Uint8Array {
  const lines = keys(environ).map((key) => `${key} = ${describe(value(environ, key))}`);
  return encoder.encode(`Hello from tsgi!\n\n${lines.join('\n')}\n`);
}

const keys = (environ: Environ): string[] => Object.keys(environ).sort();
const value = (environ: Environ, key: string): unknown => (environ as unknown as Record<string, unknown>)[key];

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return JSON.stringify(value);
  if (typeof value === 'object' && value !== null) return `[${value.constructor?.name ?? 'object'}]`;
  if (typeof value === 'function') return '[function]';
  return String(value);
}

/** A byte string's UTF-8 reading, when it has bytes above 0x7F and they are valid UTF-8. */
function asUtf8(value: string): string | undefined {
  if (!/[\x80-\xff]/.test(value)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(value, 'latin1'));
  } catch {
    return undefined;
  }
}

const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const GROUPS: Array<[string, string, (key: string) => boolean]> = [
  ['Request', 'the CGI variables: what was asked, and of whom', (key) => !key.includes('.') && !key.startsWith('HTTP_')],
  ['Headers', 'one HTTP_* key per request header', (key) => key.startsWith('HTTP_')],
  ['Gateway', 'the tsgi.* keys: the body, the error stream, the disconnect signal, the flags', (key) => key.includes('.')],
];

function rows(environ: Environ, wanted: (key: string) => boolean): string {
  return keys(environ)
    .filter(wanted)
    .map((key) => {
      const shown = value(environ, key);
      const utf8 = typeof shown === 'string' ? asUtf8(shown) : undefined;
      const note = utf8 === undefined ? '' : `<div class="utf8">as UTF-8: ${escape(utf8)}</div>`;
      return `<tr><th scope="row">${escape(key)}</th><td><code>${escape(describe(shown))}</code>${note}</td></tr>`;
    })
    .join('\n');
}

const STYLE = `
  body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: #1f2937; background: #f9fafb; }
  header { background: #1f2937; color: #f9fafb; padding: 20px 32px; }
  header h1 { margin: 0; font-size: 28px; }
  header p { margin: 4px 0 0; color: #d1d5db; }
  main { padding: 8px 32px 32px; max-width: 1100px; }
  nav ul { padding-left: 20px; }
  a { color: #1d4ed8; }
  h2 { margin: 28px 0 4px; font-size: 20px; }
  h2 + p { margin: 0 0 8px; color: #4b5563; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  th, td { text-align: left; vertical-align: top; padding: 6px 10px; border-bottom: 1px solid #e5e7eb; }
  th { width: 28%; font-weight: 600; font-family: ui-monospace, monospace; font-size: 14px; }
  td code { font-size: 14px; word-break: break-all; }
  .utf8 { color: #047857; font-size: 14px; }
  form { display: flex; gap: 8px; }
`;

/** The environ as a page a person would want to look at. */
function page(environ: Environ): Uint8Array {
  const base = escape(environ.SCRIPT_NAME);
  const sections = GROUPS.map(
    ([title, about, wanted]) => `<section><h2>${title}</h2><p>${about}</p><table>${rows(environ, wanted)}</table></section>`,
  ).join('\n');
  return encoder.encode(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>tsgi demo</title><style>${STYLE}</style></head>
<body>
<header><h1>Hello from tsgi!</h1><p>The TypeScript Server Gateway Interface: this page is the environ your request became.</p></header>
<main>
<nav><h2>Try</h2><ul>
<li><a href="${base}/hello?name=tsgi&amp;lang=en">a query string</a>: <code>QUERY_STRING</code> arrives raw</li>
<li><a href="${base}/caf%C3%A9/cr%C3%A8me">a percent-encoded UTF-8 path</a>: <code>PATH_INFO</code> arrives decoded to bytes</li>
<li><a href="${base}/stream">a streamed response</a>: an async generator, one line at a time</li>
</ul>
<form method="post" action="${base}/echo"><input name="message" value="café au lait" aria-label="message"><button>Send a form</button></form>
</nav>
${sections}
</main>
</body>
</html>
`);
}

/** Five lines, a fifth of a second apart: a body that is an async generator. */
function stream(startResponse: StartResponse, html: boolean): AsyncIterable<Uint8Array> {
  startResponse('200 OK', [['Content-Type', html ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8']]);
  return (async function* () {
    if (html) yield encoder.encode('<!doctype html><title>tsgi stream</title><pre>');
    for (let line = 1; line <= 5; line++) {
      yield encoder.encode(`line ${line} of 5, sent at ${new Date().toISOString()}\n`);
      if (line < 5) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    if (html) yield encoder.encode('</pre>');
  })();
}

/** Reads a form from `tsgi.input` and shows what arrived. */
async function echo(environ: Environ, startResponse: StartResponse, html: boolean): Promise<Uint8Array[]> {
  // One byte more than the limit tells a body over it from one that fits, declared or not.
  const bytes = await environ['tsgi.input'].read(MAX_FORM_BYTES + 1);
  if (bytes.length > MAX_FORM_BYTES) {
    startResponse('413 Content Too Large', [['Content-Type', 'text/plain; charset=utf-8']]);
    return [encoder.encode(`tsgi demo: forms of up to ${MAX_FORM_BYTES} bytes\n`)];
  }
  const fields = [...new URLSearchParams(Buffer.from(bytes).toString('utf8'))];
  const listed = fields.map(([name, field]) => `${name} = ${JSON.stringify(field)}`).join('\n');
  const body = html
    ? `<!doctype html><meta charset="utf-8"><title>tsgi echo</title><p>Read ${bytes.length} bytes from <code>tsgi.input</code>:</p><pre>${escape(listed)}</pre>`
    : `Read ${bytes.length} bytes from tsgi.input:\n${listed}\n`;
  startResponse('200 OK', [['Content-Type', html ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8']]);
  return [encoder.encode(body)];
}
