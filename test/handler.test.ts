// The gateway core with an in-memory transport: the startResponse state machine, write(),
// the iteration protocol, close() on every path, and the error paths, each citing the
// requirement it checks. The wire tests (server.test.ts) cover the same core over TCP.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DIGITS, FIELD_VALUE, digitsValue, isFieldValue } from '../src/_http.js';
import { runExchange, type OutgoingHead, type Outcome, type Transport } from '../src/handler.js';
import type { Application, ResponseBody } from '../src/types.js';
import { FileWrapper, setupTestingDefaults } from '../src/util.js';

const encode = (text: string) => new TextEncoder().encode(text);
const decode = (chunks: Uint8Array[]) => Buffer.concat(chunks).toString();
const plain: [string, string][] = [['Content-Type', 'text/plain']];

interface Recorded {
  outcome: Outcome;
  heads: OutgoingHead[];
  chunks: Uint8Array[];
  ended: boolean;
  aborted: boolean;
  errors: string;
  /** What the transport saw, in order: head, write, end, abort. */
  events: string[];
}

/** Runs `app` for one request through a transport that records everything. */
async function run(app: Application, options: { method?: string; gone?: AbortController } = {}): Promise<Recorded> {
  const controller = options.gone ?? new AbortController();
  let errors = '';
  const record = { heads: [] as OutgoingHead[], chunks: [] as Uint8Array[], ended: false, aborted: false, events: [] as string[] };
  const environ = setupTestingDefaults({ REQUEST_METHOD: options.method ?? 'GET', 'tsgi.signal': controller.signal });
  const transport: Transport = {
    method: options.method ?? 'GET',
    target: '/test',
    errors: { write: (text) => void (errors += text), writeLines: () => {}, flush: async () => {} },
    signal: controller.signal,
    sendHead(head) {
      record.heads.push(head);
      record.events.push(`head ${head.code}`);
    },
    write(chunk) {
      record.chunks.push(chunk);
      record.events.push(`write ${chunk.length}`);
      return undefined;
    },
    end(last) {
      if (last) record.chunks.push(last);
      record.ended = true;
      record.events.push(last ? `end ${last.length}` : 'end');
    },
    abort() {
      record.aborted = true;
      record.events.push('abort');
    },
  };
  const outcome = await runExchange(app, environ, transport);
  return { outcome, ...record, errors };
}

/** A body that records how the server used it. */
function tracked(chunks: Uint8Array[], log: string[], options: { throwAt?: number } = {}): ResponseBody {
  let index = 0;
  const iterator: Iterator<Uint8Array> = {
    next() {
      log.push('next');
      if (options.throwAt === index) throw new Error('next failed');
      return index < chunks.length ? { done: false, value: chunks[index++]! } : { done: true, value: undefined };
    },
    return() {
      log.push('return');
      return { done: true, value: undefined };
    },
  };
  return {
    [Symbol.iterator]: () => iterator,
    close() {
      log.push('close');
    },
  };
}

describe('startResponse', () => {
  test('records the head and sends it with the first non-empty chunk (start.records, send.deferred)', async () => {
    const r = await run(function* (_e, startResponse) {
      startResponse('200 OK', plain);
      yield new Uint8Array(0);
      yield encode('a');
    });
    assert.deepEqual(r.events, ['head 200', 'write 1', 'end']);
  });

  test('a second call without excInfo throws, even after a failed first call (start.once.enforced)', async () => {
    let second: unknown;
    const r = await run((_e, startResponse) => {
      assert.throws(() => startResponse('bad', []), { requirement: 'status.format' });
      try {
        startResponse('200 OK', plain);
      } catch (error) {
        second = error;
      }
      return [];
    });
    assert.equal((second as { requirement?: string }).requirement, 'start.once.enforced');
    assert.equal(r.outcome.status, 500, 'a head that never became valid cannot be sent (error.contract)');
  });

  test('excInfo replaces a head that has not been sent (exc.replace)', async () => {
    const r = await run((_e, startResponse) => {
      startResponse('200 OK', plain);
      startResponse('404 Not Found', plain, new Error('changed my mind'));
      return [encode('missing')];
    });
    assert.equal(r.heads.length, 1);
    assert.equal(r.heads[0]?.code, 404);
  });

  test('excInfo after the head was sent rethrows the same value (exc.rethrow)', async () => {
    const original = new Error('original');
    let rethrown: unknown;
    await run(function* (_e, startResponse) {
      startResponse('200 OK', plain);
      yield encode('sent');
      try {
        startResponse('500 Internal Server Error', plain, original);
      } catch (error) {
        rethrown = error;
      }
    });
    assert.equal(rethrown, original);
  });

  test('null and undefined excInfo count as none (exc.value)', async () => {
    let error: unknown;
    await run((_e, startResponse) => {
      startResponse('200 OK', plain);
      try {
        startResponse('200 OK', plain, null);
      } catch (caught) {
        error = caught;
      }
      return [];
    });
    assert.equal((error as { requirement?: string }).requirement, 'start.once.enforced');
  });

  test('accepts HTAB and obs-text in values, and leading zeros in Content-Length (header.value, framing.content-length.syntax)', async () => {
    const headers: [string, string][] = [
      ['X-A', 'a\tb \u0080\u00ff~'],
      ['Content-Length', '007'],
    ];
    const r = await run((_e, startResponse) => {
      startResponse('200 OK', headers);
      return [encode('seven!!')];
    });
    assert.equal(r.outcome.error, undefined);
    assert.deepEqual(r.heads[0]?.headers, headers);
    assert.equal(r.heads[0]?.contentLength, 7);
    assert.equal(decode(r.chunks), 'seven!!');
    assert.equal(r.outcome.completed, true);
  });

  test('the hot-path checks agree with the header.value and Content-Length patterns for every code unit to U+01FF', () => {
    for (let code = 0; code <= 0x1ff; code++) {
      const value = `a${String.fromCharCode(code)}`;
      assert.equal(isFieldValue(value), FIELD_VALUE.test(value), `U+${code.toString(16)}`);
      const digits = `1${String.fromCharCode(code)}`;
      assert.equal(digitsValue(digits) >= 0, DIGITS.test(digits), `U+${code.toString(16)}`);
    }
    assert.equal(digitsValue('9007199254740993'), Number('9007199254740993'), 'past 2^53, the value Number() gives');
  });

  const invalid: Array<[string, string, Array<[string, string]>, string]> = [
    ['a status without a reason separator', '200', plain, 'status.format'],
    ['a 1xx status', '103 Early Hints', plain, 'status.range'],
    ['a header name with a space', '200 OK', [['Bad Name', 'x']], 'header.name'],
    ['a header value with LF', '200 OK', [['X-A', 'a\nb']], 'header.value'],
    ['a header value above U+00FF', '200 OK', [['X-A', '\u0100']], 'header.value'],
    ['a header value with NUL', '200 OK', [['X-A', 'a\u0000']], 'header.value'],
    ['a header value with DEL', '200 OK', [['X-A', '\u007f']], 'header.value'],
    ['a Status header', '200 OK', [['Status', '200']], 'header.no-status'],
    ['a hop-by-hop header', '200 OK', [['Connection', 'close']], 'hop.response'],
    ['Transfer-Encoding', '200 OK', [['Transfer-Encoding', 'chunked']], 'framing.no-transfer-coding'],
    ['two Content-Lengths', '200 OK', [['Content-Length', '1'], ['content-length', '1']], 'framing.content-length.syntax'],
    ['a non-numeric Content-Length', '200 OK', [['Content-Length', '1.5']], 'framing.content-length.syntax'],
    ['an empty Content-Length', '200 OK', [['Content-Length', '']], 'framing.content-length.syntax'],
    ['a signed Content-Length', '200 OK', [['Content-Length', '+1']], 'framing.content-length.syntax'],
    ['a Content-Length with a space', '200 OK', [['Content-Length', ' 1']], 'framing.content-length.syntax'],
    ['Content-Length on 204', '204 No Content', [['Content-Length', '0']], 'framing.content-length.204'],
  ];
  for (const [what, status, headers, requirement] of invalid) {
    test(`throws for ${what} (${requirement})`, async () => {
      let error: unknown;
      await run((_e, startResponse) => {
        try {
          startResponse(status, headers);
        } catch (caught) {
          error = caught;
        }
        return [];
      });
      assert.equal((error as { requirement?: string }).requirement, requirement);
      assert.equal((error as { side?: string }).side, 'application');
    });
  }
});

describe('write()', () => {
  test('throws a TypeError for a string, sending nothing (write.type-error)', async () => {
    let error: unknown;
    const r = await run((_e, startResponse) => {
      const write = startResponse('200 OK', plain);
      try {
        void write('text' as unknown as Uint8Array);
      } catch (caught) {
        error = caught;
      }
      return [];
    });
    assert.ok(error instanceof TypeError);
    assert.equal((error as { requirement?: string }).requirement, 'write.type-error');
    assert.equal(r.chunks.length, 0);
  });

  test('throws after the application returned its body (write.after-return)', async () => {
    let error: unknown;
    await run((_e, startResponse) => {
      const write = startResponse('200 OK', plain);
      return (async function* () {
        try {
          void write(encode('late'));
        } catch (caught) {
          error = caught;
        }
      })();
    });
    assert.equal((error as { requirement?: string }).requirement, 'write.after-return');
  });

  test('keeps call order without awaits, and the body follows (write.order, write.then-body)', async () => {
    const r = await run((_e, startResponse) => {
      const write = startResponse('200 OK', plain);
      void write(encode('1'));
      void write(encode('2'));
      return [encode('3')];
    });
    assert.equal(decode(r.chunks), '123');
  });

  test('rejects, and never as an unhandled rejection, once the client is gone (write.reject, write.no-unhandled)', async () => {
    const gone = new AbortController();
    let result: unknown;
    await run(
      async (_e, startResponse) => {
        const write = startResponse('200 OK', plain);
        gone.abort(new Error('client left'));
        void write(encode('ignored')); // not awaited: must not crash the process
        result = await write(encode('awaited')).then(
          () => 'fulfilled',
          () => 'rejected',
        );
        return [];
      },
      { gone },
    );
    assert.equal(result, 'rejected');
  });
});

describe('the body', () => {
  test('is closed once after complete iteration, without return() (close.once, close.after-iteration)', async () => {
    const log: string[] = [];
    await run((_e, startResponse) => {
      startResponse('200 OK', plain);
      return tracked([encode('a'), encode('b')], log);
    });
    assert.deepEqual(log, ['next', 'next', 'next', 'close']);
  });

  test('an early stop calls return() and then close() (body.iterate.return)', async () => {
    const log: string[] = [];
    const r = await run((_e, startResponse) => {
      startResponse('200 OK', [...plain, ['Content-Length', '1']]);
      return tracked([encode('a'), encode('b'), encode('c')], log);
    });
    assert.equal(decode(r.chunks), 'a');
    assert.deepEqual(log, ['next', 'next', 'return', 'close']);
  });

  test('a failing next() gets no return(), but the body is still closed (body.iterate.return, close.once)', async () => {
    const log: string[] = [];
    const r = await run((_e, startResponse) => {
      startResponse('200 OK', plain);
      return tracked([encode('a')], log, { throwAt: 0 });
    });
    assert.deepEqual(log, ['next', 'close']);
    assert.equal(r.outcome.status, 500);
  });

  test('a HEAD request stops at the first chunk and sends no body (head.stop-early, head.no-body)', async () => {
    const log: string[] = [];
    const r = await run(
      (_e, startResponse) => {
        startResponse('200 OK', plain);
        return tracked([encode('a'), encode('b')], log);
      },
      { method: 'HEAD' },
    );
    assert.deepEqual(log, ['next', 'return', 'close']);
    assert.equal(r.chunks.length, 0);
    assert.equal(r.heads[0]?.bodyless, true);
  });

  test('a close() that throws is logged and changes nothing (close.errors)', async () => {
    const r = await run((_e, startResponse) => {
      startResponse('200 OK', plain);
      return Object.assign([encode('ok')], {
        close() {
          throw new Error('cleanup failed');
        },
      });
    });
    assert.equal(decode(r.chunks), 'ok');
    assert.equal(r.outcome.completed, true);
    assert.match(r.errors, /close\(\) failed.*cleanup failed/s);
  });

  test('an async close() is awaited before the exchange finishes (close.await)', async () => {
    let closed = false;
    await run((_e, startResponse) => {
      startResponse('200 OK', plain);
      return Object.assign([encode('ok')], {
        async close() {
          await new Promise((resolve) => setTimeout(resolve, 20));
          closed = true;
        },
      });
    });
    assert.equal(closed, true);
  });

  test('the body is closed when the client left before iteration began (close.once, disconnect.stop)', async () => {
    const gone = new AbortController();
    const log: string[] = [];
    const r = await run(
      (_e, startResponse) => {
        startResponse('200 OK', plain);
        gone.abort(new Error('client left'));
        return tracked([encode('a')], log);
      },
      { gone },
    );
    assert.deepEqual(log, ['return', 'close']);
    assert.equal(r.outcome.disconnected, true);
    assert.equal(r.errors, '', 'a disconnect is not an application error (disconnect.quiet)');
  });

  const badBodies: Array<[string, unknown, string]> = [
    ['a string', 'text', 'app.return.not-bytes'],
    ['a Uint8Array', encode('bytes'), 'app.return.not-bytes'],
    ['undefined', undefined, 'app.return.not-bytes'],
    ['a number', 42, 'body.iterable'],
    ['a close that is not a function', Object.assign([], { close: 'no' }), 'body.close.function'],
    ['a string chunk', ['text'], 'body.chunk.type.enforced'],
    ['a Uint16Array chunk', [new Uint16Array(2)], 'body.chunk.type.enforced'],
  ];
  for (const [what, body, requirement] of badBodies) {
    test(`${what} is an application error: 500, logged (${requirement})`, async () => {
      const r = await run((_e, startResponse) => {
        startResponse('200 OK', plain);
        return body as ResponseBody;
      });
      assert.equal(r.outcome.status, 500);
      assert.match(r.errors, new RegExp(requirement.replaceAll('.', '\\.')));
    });
  }

  test('a body that ends before startResponse is an application error (send.no-start)', async () => {
    const r = await run(() => []);
    assert.equal(r.outcome.status, 500);
    assert.match(r.errors, /send\.no-start/);
  });

  test('204 with a body sends no body bytes and logs the error (body.no-content)', async () => {
    const r = await run(function* (_e, startResponse) {
      startResponse('204 No Content', []);
      yield encode('forbidden');
    });
    assert.equal(r.heads[0]?.code, 204);
    assert.equal(r.chunks.length, 0);
    assert.match(r.errors, /body\.no-content/);
  });

  test('a 304 with an array body sends no body bytes and logs the error, as for a generator (body.no-content)', async () => {
    const r = await run((_e, startResponse) => {
      startResponse('304 Not Modified', []);
      return [encode('x')];
    });
    assert.equal(r.heads[0]?.code, 304);
    assert.equal(r.chunks.length, 0);
    assert.match(r.errors, /body\.no-content/);
  });

  test('a wrapped file is read no further than its Content-Length, with no error (file.length)', async () => {
    const reads: number[] = [];
    let at = 0;
    const file = {
      read(size: number) {
        reads.push(size);
        const chunk = encode('abcdefgh'.slice(at, at + size));
        at += chunk.length;
        return chunk;
      },
    };
    for (const [declared, expected] of [['4', 'abcd'], ['5', 'abcde'], ['8', 'abcdefgh']] as const) {
      reads.length = 0;
      at = 0;
      const r = await run((_e, startResponse) => {
        startResponse('200 OK', [['Content-Length', declared]]);
        return FileWrapper(file, 2);
      });
      assert.equal(decode(r.chunks), expected);
      assert.equal(r.ended, true, `Content-Length ${declared}: the message was not completed`);
      assert.equal(reads.length, Math.ceil(Number(declared) / 2), `Content-Length ${declared}: reads past the declared length`);
      assert.equal(r.errors, '');
    }
  });

  test('an array body gets a computed Content-Length, a generator none (framing.known-length)', async () => {
    const array = await run((_e, startResponse) => {
      startResponse('200 OK', plain);
      return [encode('ab'), encode('c')];
    });
    assert.equal(array.heads[0]?.contentLength, 3);
    assert.deepEqual(array.heads[0]?.headers.at(-1), ['Content-Length', '3']);
    const generated = await run(function* (_e, startResponse) {
      startResponse('200 OK', plain);
      yield encode('ab');
    });
    assert.equal(generated.heads[0]?.contentLength, undefined);
  });

  test('the application\'s headers array is never modified (header.server-no-mutate)', async () => {
    const headers: Array<[string, string]> = [['Content-Type', 'text/plain']];
    const frozen = Object.freeze(headers.map((pair) => Object.freeze(pair))) as unknown as Array<[string, string]>;
    const r = await run((_e, startResponse) => {
      startResponse('200 OK', frozen);
      return [encode('abc')];
    });
    assert.equal(r.outcome.status, 200);
    assert.equal(frozen.length, 1);
  });
});

describe('errors', () => {
  test('an async application that rejects gets a 500 without details (error.before-headers)', async () => {
    const r = await run(async () => {
      throw new Error('hidden detail');
    });
    assert.equal(r.heads[0]?.code, 500);
    assert.ok(!decode(r.chunks).includes('hidden'));
    assert.match(r.errors, /hidden detail/);
  });

  test('an error after the head aborts the message instead of completing it (error.after-headers)', async () => {
    const r = await run(async function* (_e, startResponse) {
      startResponse('200 OK', plain);
      yield encode('partial');
      throw new Error('boom');
    });
    assert.deepEqual(r.events, ['head 200', 'write 7', 'abort']);
    assert.equal(r.ended, false);
  });

  test('a body shorter than its Content-Length aborts the message (framing.content-length.short)', async () => {
    const r = await run(function* (_e, startResponse) {
      startResponse('200 OK', [['Content-Length', '5']]);
      yield encode('ab');
    });
    assert.equal(r.aborted, true);
    assert.equal(r.ended, false);
  });

  test('an array body shorter than its Content-Length is cut off, not ended as complete (framing.content-length.short)', async () => {
    const r = await run((_e, startResponse) => {
      startResponse('200 OK', [['Content-Length', '10']]);
      return [encode('ab'), encode('c')];
    });
    assert.deepEqual(r.events, ['head 200', 'write 2', 'write 1', 'abort']);
    assert.equal(r.outcome.completed, false);
    assert.match(r.errors, /framing\.content-length\.match.* 3 of its 10 declared bytes/);
  });

  test('a 500 for HEAD has no body (head.no-body)', async () => {
    const r = await run(
      () => {
        throw new Error('x');
      },
      { method: 'HEAD' },
    );
    assert.equal(r.heads[0]?.code, 500);
    assert.equal(r.chunks.length, 0);
  });
});
