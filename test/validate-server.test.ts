// The validator (src/validate.ts), server side: each bad server (the fake server of
// _validate-harness.ts with one step replaced) trips exactly the requirement it is named
// after, on the server's side; a body the server never closes is reported once it is
// garbage-collected.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ValidationError, validator } from '../src/validate.js';
import { badServers } from './_validate-bad-servers.js';
import { expectViolation, helloApp, makeEnviron, sleep } from './_validate-harness.js';

const bounded = { timeout: 10_000 };

describe('bad servers trip the requirement they break', bounded, () => {
  for (const c of badServers) {
    test(`${c.id}: ${c.name}`, () => expectViolation(c));
  }
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
