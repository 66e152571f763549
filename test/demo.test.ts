// demoApp, through the validator: text for most clients, a page for browsers, and the
// routes the page links to.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { demoApp } from '../src/server.js';
import { fetchApp } from '../src/testing.js';

const html = { headers: { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } };

describe('demoApp', () => {
  test('answers a client that does not ask for HTML with the environ as sorted text lines', async () => {
    const response = await fetchApp(demoApp, '/caf%C3%A9?x=1');
    assert.equal(response.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(response.headers.get('vary'), 'Accept');
    const lines = (await response.text()).split('\n');
    assert.equal(lines[0], 'Hello from tsgi!');
    assert.ok(lines.includes('PATH_INFO = "/caf\u00c3\u00a9"'), 'PATH_INFO as a byte string');
    assert.ok(lines.includes('QUERY_STRING = "x=1"'));
    const keys = lines.slice(2).filter(Boolean).map((line) => line.split(' = ')[0]!);
    assert.deepEqual(keys, [...keys].sort());
  });

  test('answers a browser with a page: the environ in three tables, values escaped', async () => {
    const response = await fetchApp(demoApp, '/x?q=%3Cb%3E', { headers: { ...html.headers, 'X-Probe': '<script>' } });
    assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
    const page = await response.text();
    assert.match(page, /^<!doctype html>/);
    assert.match(page, /<th scope="row">HTTP_X_PROBE<\/th><td><code>&#34;&#60;script&#62;&#34;<\/code>/);
    assert.ok(!page.includes('<script>'), 'a header value reached the page unescaped');
    assert.equal((page.match(/<table>/g) ?? []).length, 3);
  });

  test('/stream is an async generator: five lines, the first before the last is made', async () => {
    const response = await fetchApp(demoApp, '/stream');
    const reader = response.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.match(first, /^line 1 of 5/);
    let rest = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value);
    assert.equal((first + rest).match(/^line \d of 5/gm)?.length, 5);
  });

  test('POST /echo reads the form from tsgi.input, and refuses one over 64 KiB with 413', async () => {
    const response = await fetchApp(demoApp, '/echo', { method: 'POST', body: new URLSearchParams({ message: 'café au lait' }) });
    // message=caf%C3%A9+au+lait: 25 bytes, as URLSearchParams encodes it.
    assert.equal(await response.text(), 'Read 25 bytes from tsgi.input:\nmessage = "café au lait"\n');
    const big = await fetchApp(demoApp, '/echo', { method: 'POST', body: 'x'.repeat(64 * 1024 + 1) });
    assert.equal(big.status, 413);
  });
});
