// The validator (src/validate.ts), application side: good applications pass with no error
// and no warning; each bad application trips exactly the requirement it is named after,
// on the application's side. Assertions use `requirement` and `side`, never message text
// (apart from the one test of the message shape). Bad servers: validate-server.test.ts;
// middleware: validate-middleware.test.ts.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { requirements } from '../src/_requirements.js';
import { checkedRequirements } from '../src/_validate-checks.js';
import { ValidationError, validator } from '../src/validate.js';
import type { Application, HeaderList, ResponseBody, StartResponse } from '../src/types.js';
import { goodApps } from './_validate-apps.js';
import { badApps, respond } from './_validate-bad-apps.js';
import { badMiddleware } from './_validate-bad-middleware.js';
import { badServers } from './_validate-bad-servers.js';
import { type BadCase, decode, encode, expectViolation, hello, helloApp, plain, serveOnce, sleep } from './_validate-harness.js';

const bounded = { timeout: 10_000 };
const ok = '200 OK';

/** Collects the TsgiWarnings emitted while `fn` runs (they are emitted on the next tick). */
async function warningsDuring(fn: () => Promise<void>): Promise<Array<Error & { code?: string }>> {
  const warnings: Array<Error & { code?: string }> = [];
  const listener = (warning: Error & { code?: string }) => {
    if (warning.name === 'TsgiWarning') warnings.push(warning);
  };
  process.on('warning', listener);
  try {
    await fn();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', listener);
  }
  return warnings;
}

describe('good applications pass with no error and no warning', bounded, () => {
  for (const c of goodApps) {
    test(c.name, async () => {
      const seen: ValidationError[] = [];
      let outcome: Awaited<ReturnType<typeof serveOnce>> | undefined;
      const warnings = await warningsDuring(async () => {
        outcome = await serveOnce(validator(c.app, { onViolation: (error) => seen.push(error) }), c.request ? { request: c.request } : {});
      });
      assert.deepEqual(seen.map((error) => error.message), []);
      assert.deepEqual(warnings.map((warning) => warning.message), []);
      const { status, body, caught, aborted, closeCalls } = outcome!;
      assert.equal(status, c.status);
      assert.equal(decode(body), c.body);
      assert.ok(closeCalls <= 1);
      if (c.ends === 'aborted') {
        assert.equal(aborted, true);
        assert.ok(caught.length === 1 && !(caught[0] instanceof ValidationError), String(caught[0]));
      } else {
        assert.deepEqual(caught, []);
      }
    });
  }
});

describe('bad applications trip the requirement they break', bounded, () => {
  for (const c of badApps) {
    test(`${c.id}: ${c.name}`, () => expectViolation(c));
  }
});

describe('reporting', bounded, () => {
  test('a SHOULD finding is a TsgiWarning whose code is the requirement ID, and the response goes on', async () => {
    const seen: ValidationError[] = [];
    let outcome: Awaited<ReturnType<typeof serveOnce>> | undefined;
    const warnings = await warningsDuring(async () => {
      outcome = await serveOnce(validator(respond('200 ', [['X-A', ' b']]), { onViolation: (error) => seen.push(error) }));
    });
    assert.deepEqual(
      warnings.map((w) => [w.name, w.code]),
      [
        ['TsgiWarning', 'status.reason'],
        ['TsgiWarning', 'header.value.whitespace'],
        ['TsgiWarning', 'header.content-type'],
      ],
    );
    assert.deepEqual(seen.map((e) => e.level), ['SHOULD NOT', 'SHOULD NOT', 'SHOULD']);
    assert.equal(outcome!.status, '200 ');
    assert.deepEqual(outcome!.caught, []);
  });

  test('each SHOULD finding is emitted once per rule for a validator, but onViolation sees every one', async () => {
    const seen: ValidationError[] = [];
    const app = validator(respond('200 ', [plain]), { onViolation: (error) => seen.push(error) });
    const warnings = await warningsDuring(async () => {
      await serveOnce(app);
      await serveOnce(app);
    });
    assert.equal(warnings.length, 1);
    assert.equal(seen.length, 2);
  });

  test('strict: true throws SHOULD findings as ValidationErrors, and emits no warning', async () => {
    let outcome: Awaited<ReturnType<typeof serveOnce>> | undefined;
    const warnings = await warningsDuring(async () => {
      outcome = await serveOnce(validator(respond('200 ', [plain]), { strict: true }));
    });
    assert.deepEqual(warnings, []);
    const [error] = outcome!.caught as ValidationError[];
    assert.ok(error instanceof ValidationError);
    assert.equal(error.requirement, 'status.reason');
    assert.equal(error.level, 'SHOULD NOT');
    assert.equal(outcome!.status, '500 Internal Server Error');
  });

  test('the message names the ID, the side, the rule, the value received, the fix and the anchor', async () => {
    const { caught } = await serveOnce(validator(respond('200', [plain])));
    const error = caught[0] as ValidationError;
    assert.equal(error.name, 'ValidationError');
    assert.equal(error.code, 'ERR_TSGI_VALIDATION');
    assert.equal(error.actual, '200');
    assert.equal(
      error.message,
      `[status.format] application: ${error.rule}; got '200'. ${error.fix} (spec/tsgi.md#status.format)`,
    );
    assert.match(error.message, /^\[status\.format\] application: .+; got '200'\. [A-Z].*\. \(spec\/tsgi\.md#status\.format\)$/);
  });

  test('a message without a fix keeps the same shape, and shows bytes as text', () => {
    const error = new ValidationError({ requirement: 'body.no-content', side: 'application', rule: 'no body', actual: encode('a\nb') });
    assert.equal(error.message, "[body.no-content] application: no body; got Uint8Array(3) 'a\\nb'. (spec/tsgi.md#body.no-content)");
    assert.equal(error.fix, undefined);
    assert.equal(error.level, requirements['body.no-content'].level);
  });

  test('instanceof recognises a ValidationError from another copy of the package by its brand', () => {
    const error = new ValidationError({ requirement: 'status.range', side: 'application', rule: 'r', actual: 1 });
    const copy = Object.assign(new Error('copy'), { [Symbol.for('tsgi.ValidationError')]: true });
    assert.ok(error instanceof ValidationError);
    assert.ok(error instanceof Error);
    assert.ok(copy instanceof ValidationError);
    assert.ok(!(new Error('plain') instanceof ValidationError));
  });

  test('a violation the application catches still reaches the server (it is thrown again at the next call)', async () => {
    const app: Application = (_e, sr) => {
      try {
        sr('OK', [plain]);
      } catch {
        // dropped on the floor
      }
      return [];
    };
    const { caught, status } = await serveOnce(validator(app));
    assert.equal((caught[0] as ValidationError).requirement, 'status.format');
    assert.equal(status, '500 Internal Server Error');
  });

  test('a violation caught inside the body reaches the server from the next step', async () => {
    const app: Application = (environ, sr) => {
      sr(ok, [plain]);
      return (function* () {
        try {
          environ['tsgi.errors'].write(42 as unknown as string);
        } catch {
          // dropped
        }
        yield hello;
      })();
    };
    const { caught } = await serveOnce(validator(app));
    assert.equal((caught[0] as ValidationError).requirement, 'errors.text');
  });

  test('onViolation sees a violation before it is thrown, with its stable fields', async () => {
    const seen: Array<Pick<ValidationError, 'requirement' | 'side' | 'level' | 'actual'>> = [];
    await serveOnce(validator(respond('99 Red Balloons', [plain]), { onViolation: ({ requirement, side, level, actual }) => seen.push({ requirement, side, level, actual }) }));
    assert.deepEqual(seen, [{ requirement: 'status.format', side: 'application', level: 'MUST', actual: '99 Red Balloons' }]);
  });

  test('an array body stays an array (so a server can compute its length), and gains close()', async () => {
    const body = validator(helloApp)(
      (await import('./_validate-harness.js')).makeEnviron().environ,
      () => async () => {},
    ) as Uint8Array[] & { close(): void };
    assert.ok(Array.isArray(body));
    assert.equal(body.length, 1);
    assert.equal(decode(body[0]!), 'Hello, world!\n');
    assert.equal(typeof body.close, 'function');
    body.close();
  });

  test('the validator cleans up a body the server never receives', async () => {
    let closed = 0;
    let finished = false;
    const app: Application = (_e, sr) => {
      sr(ok, [plain]);
      return Object.assign(['not bytes'] as unknown as Uint8Array[], { close: () => void closed++ });
    };
    await serveOnce(validator(app));
    assert.equal(closed, 1); // the server closed it after the failed step
    const generator: Application = (_e, sr) => {
      sr(ok, [plain]);
      return (function* () {
        try {
          yield 'not bytes' as unknown as Uint8Array;
        } finally {
          finished = true;
        }
      })();
    };
    await serveOnce(validator(generator));
    assert.equal(finished, true, "the generator's finally block ran although the server saw next() throw");
  });

  test('a slow body under the validator is still pulled one chunk at a time', async () => {
    const order: string[] = [];
    const app: Application = (_e, sr) => {
      sr(ok, [plain]);
      return (async function* () {
        for (const part of ['a', 'b']) {
          order.push(`make ${part}`);
          await sleep(2);
          yield encode(part);
        }
      })();
    };
    const { body } = await serveOnce(validator(app), {
      consume: async (b, ctx) => {
        for await (const chunk of b as AsyncIterable<Uint8Array>) {
          order.push(`send ${decode(chunk)}`);
          ctx.send(chunk);
        }
      },
    });
    assert.equal(decode(body), 'ab');
    assert.deepEqual(order, ['make a', 'send a', 'make b', 'send b']);
  });
});

describe('every requirement the validator cites', bounded, () => {
  // validate.ts first (its opening comment is checked below), then every private module but the table itself.
  const files = ['validate.ts', ...readdirSync(new URL('../src/', import.meta.url)).filter((file) => /^_validate-.*\.ts$/.test(file) && file !== '_validate-checks.ts')];
  const sources = files.map((file) => readFileSync(new URL(`../src/${file}`, import.meta.url), 'utf8'));
  const cited = new Set(sources.flatMap((source) => [...source.matchAll(/'([a-z0-9-]+(?:\.[a-z0-9-]+)+)'/g)].map((m) => m[1]!)).filter((id) => id in requirements));

  test('exists in the spec, is testable and not a MAY', () => {
    for (const id of checkedRequirements) {
      const requirement = requirements[id] as { level: string; untestable?: string };
      assert.notEqual(requirement.level, 'MAY', id);
      assert.equal(requirement.untestable, undefined, id);
    }
  });

  test('is listed in the table of checks, and every listed one is cited', () => {
    assert.deepEqual([...cited].sort(), [...checkedRequirements].sort());
  });

  test("is named in the module's opening comment and in docs/validate.md", () => {
    const docblock = sources[0]!.slice(0, sources[0]!.indexOf('@module'));
    const docs = readFileSync(new URL('../docs/validate.md', import.meta.url), 'utf8');
    for (const id of checkedRequirements) {
      assert.ok(docblock.includes(id), `${id} is not in the opening comment of src/validate.ts`);
      assert.ok(docs.includes(id), `${id} is not in docs/validate.md`);
    }
  });

  test('each is exercised by at least one bad case in the test tables', () => {
    const covered = new Set([...badApps, ...badServers, ...badMiddleware].map((c) => c.id));
    const missing = checkedRequirements.filter((id) => !covered.has(id));
    assert.deepEqual(missing, []);
  });
});
