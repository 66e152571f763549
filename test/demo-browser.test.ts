// The demo as a new user first sees it: `npm start` serves demoApp, and a browser shows
// the environ as a page. Headless Chromium (Debian package chromium) loads it; the test
// reads the DOM the browser built and checks a screenshot's pixels. Without Chromium on
// the machine the test is skipped, saying so.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { demoApp, serve, type TsgiServer } from '../src/server.js';
import { decodePng } from './_png.js';

const chromium = (() => {
  for (const name of [process.env.CHROMIUM, 'chromium', 'chromium-browser']) {
    if (!name) continue;
    try {
      execFileSync(name, ['--version'], { stdio: 'ignore', timeout: 10_000 });
      return name;
    } catch {
      // not this one
    }
  }
  return undefined;
})();
const skip = chromium ? false : 'Chromium is not installed (Debian: apt-get install chromium)';

let server: TsgiServer | undefined;
let profile = '';

before(async () => {
  if (!chromium) return;
  server = await serve(demoApp, { port: 0, quiet: true });
  profile = mkdtempSync(join(tmpdir(), 'tsgi-chromium-'));
});

after(async () => {
  await server?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

/** Runs headless Chromium on `url` with `args`, bounded; resolves with its stdout. */
function browse(url: string, args: string[]): Promise<string> {
  const flags = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profile}`,
    ...args,
    url,
  ];
  return new Promise((resolve, reject) => {
    execFile(chromium!, flags, { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`chromium failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

const near = (actual: readonly number[], expected: readonly number[], tolerance = 8) =>
  actual.every((channel, i) => Math.abs(channel - expected[i]!) <= tolerance);

describe('the demo in a browser', { skip }, () => {
  test('shows the environ of the request as tables, with the UTF-8 reading of a byte string', async () => {
    const dom = await browse(`${server!.url}caf%C3%A9/cr%C3%A8me?x=1`, ['--dump-dom']);
    assert.match(dom, /<h1>Hello from tsgi!<\/h1>/);
    for (const title of ['Request', 'Headers', 'Gateway']) assert.match(dom, new RegExp(`<h2>${title}</h2>`));
    // PATH_INFO is the byte string of the decoded octets; the page also reads it as UTF-8.
    assert.match(dom, /<th scope="row">PATH_INFO<\/th><td><code>"\/caf\u00c3\u00a9\/cr\u00c3\u00a8me"<\/code><div class="utf8">as UTF-8: \/café\/crème<\/div>/);
    assert.match(dom, /<th scope="row">QUERY_STRING<\/th><td><code>"x=1"<\/code>/);
    assert.match(dom, /<th scope="row">REQUEST_METHOD<\/th><td><code>"GET"<\/code>/);
    assert.match(dom, /<th scope="row">HTTP_USER_AGENT<\/th><td><code>"[^"]*HeadlessChrome/);
    assert.match(dom, /<th scope="row">tsgi.version<\/th><td><code>\[1,0\]<\/code>/);
    // The links a newcomer can follow.
    for (const href of ['/hello?name=tsgi&amp;lang=en', '/caf%C3%A9/cr%C3%A8me', '/stream']) assert.ok(dom.includes(`href="${href}"`), href);
    assert.match(dom, /<form method="post" action="\/echo">/);
  });

  test('the streamed route arrives whole, line by line', async () => {
    const dom = await browse(`${server!.url}stream`, ['--dump-dom']);
    const lines = dom.match(/line \d of 5, sent at/g) ?? [];
    assert.equal(lines.length, 5);
  });

  test('renders as designed: a dark header, a light page, white tables with text in them', async () => {
    const file = join(profile, 'demo.png');
    await browse(`${server!.url}hello?name=tsgi`, ['--window-size=1200,1000', '--hide-scrollbars', `--screenshot=${file}`]);
    const image = decodePng(readFileSync(file));
    assert.equal(image.width, 1200);
    assert.equal(image.height, 1000);
    // The header band, #1f2937, across the top; the page background, #f9fafb, below it.
    for (const x of [5, 600, 1195]) assert.ok(near(image.pixel(x, 5), [0x1f, 0x29, 0x37]), `header at x=${x}: ${image.pixel(x, 5)}`);
    assert.ok(near(image.pixel(5, 300), [0xf9, 0xfa, 0xfb]), `background: ${image.pixel(5, 300)}`);
    // The header's title is drawn: light pixels inside the dark band.
    let light = 0;
    for (let x = 20; x < 400; x++) for (let y = 20; y < 60; y++) if (image.pixel(x, y)[0] > 200) light++;
    assert.ok(light > 300, `only ${light} light pixels where the title should be`);
    // Below the links, the tables: white rows with dark text in them.
    let white = 0;
    let ink = 0;
    for (let x = 40; x < 1120; x += 2) {
      for (let y = 400; y < 1000; y += 2) {
        const [r, g, b] = image.pixel(x, y);
        if (r === 255 && g === 255 && b === 255) white++;
        else if (r < 100 && g < 100 && b < 100) ink++;
      }
    }
    assert.ok(white > 50_000, `only ${white} white pixels in the table area`);
    assert.ok(ink > 1000, `only ${ink} dark pixels: the table has no text`);
  });
});
