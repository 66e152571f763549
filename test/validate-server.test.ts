// The validator (src/validate.ts), server side: each bad server (the fake server of
// _validate-harness.ts with one step replaced) trips exactly the requirement it is named
// after, on the server's side; a body the server never closes is reported once it is
// garbage-collected.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ValidationError, validator } from '../src/validate.js';
import type { Application } from '../src/types.js';
import { badServers } from './_validate-bad-servers.js';
import { expectViolation, helloApp, makeEnviron, serveOnce, sleep } from './_validate-harness.js';

const bounded = { timeout: 10_000 };

describe('bad servers trip the requirement they break', bounded, () => {
  for (const c of badServers) {
    test(`${c.id}: ${c.name}`, () => expectViolation(c));
  }
});

describe('a tsgi.signal created on first read (env.plain-object allows the accessor)', bounded, () => {
  /** An environ whose signal, like the reference server's, exists only once something reads it. */
  function lazyEnviron(created: { count: number }) {
    const { environ } = makeEnviron();
    let signal: AbortSignal | undefined;
    Object.defineProperty(environ, 'tsgi.signal', {
      get() {
        if (!signal) created.count++;
        return (signal ??= new AbortController().signal);
      },
      set(value: unknown) {
        Object.defineProperty(this, 'tsgi.signal', { value, writable: true, enumerable: true, configurable: true });
      },
      enumerable: true,
      configurable: true,
    });
    return environ;
  }

  test('passes, and is checked in the exchanges the validator examines closely', async () => {
    const seen: ValidationError[] = [];
    const created = { count: 0 };
    const body = await validator(helloApp, { onViolation: (error) => seen.push(error) })(lazyEnviron(created), () => async () => {});
    for (const chunk of body as Uint8Array[]) void chunk;
    await body.close?.();
    assert.deepEqual(seen, []);
    assert.equal(created.count, 1);
  });

  test('is not created for nothing once the validator samples: a busy validated server stays fast', async () => {
    const app = validator(helloApp);
    const created = { count: 0 };
    for (let i = 0; i < 1000; i++) {
      const body = (await app(lazyEnviron(created), () => async () => {})) as Uint8Array[] & { close?(): void };
      for (const chunk of body) void chunk;
      body.close?.();
    }
    assert.ok(created.count < 300, `${created.count} signals created for 1000 requests`);
  });
});

describe('a server that sends a Content-Length: 0 head at once (send.content-length-zero)', bounded, () => {
  test('may throw excInfo back before any body data', async () => {
    const seen: ValidationError[] = [];
    const app: Application = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Length', '0']]);
      try {
        throw new Error('failed after the head went out');
      } catch (error) {
        startResponse('500 Internal Server Error', [['Content-Type', 'text/plain']], error); // throws error back
      }
      return [];
    };
    const outcome = await serveOnce(validator(app, { onViolation: (error) => seen.push(error) }), {
      startResponse: (real) => {
        let sent = false;
        return (status, headers, excInfo) => {
          if (excInfo && sent) throw excInfo;
          sent = headers.some(([name, value]) => name.toLowerCase() === 'content-length' && value === '0');
          return real(status, headers);
        };
      },
    });
    assert.deepEqual(seen.map((e) => e.requirement), []);
    assert.equal((outcome.caught[0] as Error).message, 'failed after the head went out');
  });
});

describe('a body that is never closed', bounded, () => {
  test('is reported as close.once (server) when it is garbage-collected, to onViolation and as a warning', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const seen: ValidationError[] = [];
    const warnings: Array<Error & { code?: string }> = [];
    const listener = (warning: Error & { code?: string }) => void warnings.push(warning);
    process.on('warning', listener);
    try {
      const app = validator(helloApp, { onViolation: (error) => seen.push(error) });
      (() => {
        // A server that drops the body on the floor.
        app(makeEnviron().environ, () => async () => {});
      })();
      for (let i = 0; i < 100 && !seen.length; i++) {
        gc();
        await sleep(10);
      }
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', listener);
    }
    assert.deepEqual(seen.map((e) => [e.requirement, e.side]), [['close.once', 'server']]);
    assert.deepEqual(warnings.map((w) => [w.name, w.code]), [['TsgiWarning', 'close.once']]);
  });
});
