// The validator against the reference implementation: every good application of
// _validate-apps.ts, wrapped in validator(), runs through the gateway core
// (runExchange, with an in-memory transport) and through the node:http server. Neither
// side may report anything: the validator finds no fault in the reference server's
// environ, streams or body handling, and the server finds none in the validator's
// answers (an array body keeps its computed Content-Length, for instance).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runExchange, type OutgoingHead, type Transport } from '../src/handler.js';
import { serve, type TsgiServer } from '../src/server.js';
import { ValidationError, validator } from '../src/validate.js';
import type { Application } from '../src/types.js';
import { goodApps } from './_validate-apps.js';
import { concat, decode, makeEnviron, memoryErrors } from './_validate-harness.js';

const bounded = { timeout: 10_000 };

/** Runs `fn`, collecting the validator's findings and the TsgiWarnings it emits. */
async function clean<T>(fn: (onViolation: (error: ValidationError) => void) => Promise<T>): Promise<T> {
  const found: string[] = [];
  const listener = (warning: Error) => void (warning.name === 'TsgiWarning' && found.push(warning.message));
  process.on('warning', listener);
  try {
    const result = await fn((error) => found.push(error.message));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(found, []);
    return result;
  } finally {
    process.off('warning', listener);
  }
}

describe('good applications through the gateway core (runExchange)', bounded, () => {
  for (const c of goodApps) {
    test(c.name, async () => {
      const { environ, controller } = makeEnviron(c.request);
      const errors = memoryErrors();
      const heads: OutgoingHead[] = [];
      const chunks: Uint8Array[] = [];
      let aborted = false;
      const transport: Transport = {
        method: environ.REQUEST_METHOD,
        target: environ.REQUEST_URI ?? '/',
        errors,
        signal: controller.signal,
        sendHead: (head) => void heads.push(head),
        write: (chunk) => void chunks.push(chunk.slice()),
        end: (last) => void (last && chunks.push(last.slice())),
        abort: () => {
          aborted = true;
        },
      };
      const outcome = await clean((onViolation) => runExchange(validator(c.app, { onViolation }), environ, transport));
      const head = heads.at(-1);
      assert.equal(`${head?.code} ${head?.reason}`, c.status, errors.text);
      assert.equal(decode(concat(chunks)), c.body);
      assert.equal(aborted, c.ends === 'aborted', errors.text);
      assert.ok(!(outcome.error instanceof ValidationError), String(outcome.error));
    });
  }

  test('an array body keeps the Content-Length the core computes for it (framing.known-length)', async () => {
    const { environ, controller } = makeEnviron();
    let head: OutgoingHead | undefined;
    const app: Application = (_e, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [new TextEncoder().encode('twelve bytes')];
    };
    await clean((onViolation) =>
      runExchange(validator(app, { onViolation }), environ, {
        method: 'GET',
        target: '/',
        errors: memoryErrors(),
        signal: controller.signal,
        sendHead: (h) => void (head = h),
        write: () => undefined,
        end: () => {},
        abort: () => {},
      }),
    );
    assert.equal(head?.contentLength, 12);
  });
});

describe('a validator past its thorough phase (one exchange in 256 checked closely)', bounded, () => {
  test('still runs clean through the core, array and streaming bodies alike', async () => {
    const found: string[] = [];
    const validated = validator(
      (environ, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        const hello = new TextEncoder().encode(`${environ.PATH_INFO}\n`);
        return environ.PATH_INFO === '/array' ? [hello] : (function* () {
          yield hello;
        })();
      },
      { onViolation: (error) => found.push(error.message) },
    );
    for (let i = 0; i < 600; i++) {
      const path = i % 2 ? '/array' : '/stream';
      const { environ, controller } = makeEnviron({ path });
      const chunks: Uint8Array[] = [];
      let head: OutgoingHead | undefined;
      const outcome = await runExchange(validated, environ, {
        method: 'GET',
        target: path,
        errors: memoryErrors(),
        signal: controller.signal,
        sendHead: (h) => void (head = h),
        write: (chunk) => void chunks.push(chunk.slice()),
        end: (last) => void (last && chunks.push(last.slice())),
        abort: () => {},
      });
      assert.equal(outcome.error, undefined);
      assert.equal(head?.code, 200);
      assert.equal(decode(concat(chunks)), `${path}\n`);
    }
    assert.deepEqual(found, []);
  });
});

describe('good applications through the node:http server', bounded, () => {
  let base = '';
  let current: Application = () => [];
  let onViolation: (error: ValidationError) => void = () => {};
  let server: TsgiServer;

  before(async () => {
    const errors = memoryErrors();
    server = await serve(
      validator((environ, startResponse) => current(environ, startResponse), { onViolation: (error) => onViolation(error) }),
      {
        port: 0,
        quiet: true,
        errors: {
          write: (text: string, callback?: () => void) => {
            errors.write(text);
            callback?.();
            return true;
          },
        },
      },
    );
    base = server.url.replace(/\/$/, '');
  });
  after(() => server.close());

  for (const c of goodApps.filter((c) => c.ends !== 'aborted')) {
    test(c.name, async () => {
      current = c.app;
      const method = c.request?.method ?? 'GET';
      const response = await clean(async (record) => {
        onViolation = record;
        const res = await fetch(`${base}${c.request?.path ?? '/'}`, {
          method,
          ...(c.request?.body ? { body: c.request.body } : {}),
          redirect: 'manual',
          signal: AbortSignal.timeout(5000),
        });
        return { status: res.status, body: await res.text() };
      });
      // The reason phrase is the server's to send as it is (status.sent-as-is); fetch decodes it its own way.
      assert.equal(response.status, Number(c.status.slice(0, 3)));
      assert.equal(response.body, c.body);
    });
  }
});
