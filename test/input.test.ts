// The input stream (src/_input.ts) against the spec's `input.*` requirements. Expected
// values come from the spec's wording (and Python's io semantics that PEP 3333 borrows
// for readline and readlines), not from running the code.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { createInputStream } from '../src/_input.js';

const bounded = { timeout: 10_000 };
const encoder = new TextEncoder();
const enc = (text: string): Uint8Array => encoder.encode(text);
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');
const texts = (list: Uint8Array[]): string[] => list.map(text);

/** A source over `parts`, counting how often the stream pulled from it. */
function counted(parts: Array<string | Uint8Array>, { async = true } = {}) {
  const chunks = parts.map((part) => (typeof part === 'string' ? enc(part) : part));
  const stats = { opened: 0, pulls: 0, pulledBytes: 0 };
  function* sync(): Generator<Uint8Array> {
    stats.opened++;
    for (const chunk of chunks) {
      stats.pulls++;
      stats.pulledBytes += chunk.length;
      yield chunk;
    }
  }
  async function* asynchronous(): AsyncGenerator<Uint8Array> {
    yield* sync();
  }
  const source = async ? { [Symbol.asyncIterator]: asynchronous } : { [Symbol.iterator]: sync };
  return { source, stats, chunks };
}

/** An async source that yields `parts` and then fails with `error`. */
async function* failing(parts: string[], error: Error): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield enc(part);
  throw error;
}

async function collect(iterable: AsyncIterable<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of iterable) out.push(text(chunk));
  return out;
}

describe('read(size): input.read', bounded, () => {
  test('gives exactly size bytes across chunk boundaries, fewer only at the end', async () => {
    const input = createInputStream(counted(['ab', 'cde', 'f', 'ghij']).source);
    assert.equal(text(await input.read(4)), 'abcd');
    assert.equal(text(await input.read(3)), 'efg');
    assert.equal(text(await input.read(1)), 'h');
    assert.equal(text(await input.read(10)), 'ij');
    assert.equal((await input.read(10)).length, 0);
  });

  test('works over a sync iterable source too', async () => {
    const input = createInputStream(counted(['hello ', 'world'], { async: false }).source);
    assert.equal(text(await input.read(8)), 'hello wo');
    assert.equal(text(await input.read()), 'rld');
  });

  test('skips empty source chunks', async () => {
    const input = createInputStream(counted(['', 'a', '', '', 'bc', '']).source);
    assert.equal(text(await input.read(2)), 'ab');
    assert.equal(text(await input.read(5)), 'c');
  });

  test('pulls from the source lazily, only as far as the read needs', async () => {
    const { source, stats } = counted(['abcd', 'efgh', 'ijkl']);
    const input = createInputStream(source);
    assert.equal(stats.opened, 0, 'nothing is pulled before the first read');
    await input.read(2);
    assert.equal(stats.pulls, 1);
    await input.read(2);
    assert.equal(stats.pulls, 1, 'the rest of the first chunk was buffered');
    await input.read(5);
    assert.equal(stats.pulls, 3);
  });

  test('a huge size does not allocate that much', async () => {
    const input = createInputStream(counted(['abc']).source);
    assert.equal(text(await input.read(2 ** 52)), 'abc');
  });
});

describe('read() and read(negative): input.read.all', bounded, () => {
  for (const [label, call] of [
    ['read()', (i: ReturnType<typeof createInputStream>) => i.read()],
    ['read(undefined)', (i: ReturnType<typeof createInputStream>) => i.read(undefined)],
    ['read(-1)', (i: ReturnType<typeof createInputStream>) => i.read(-1)],
    ['read(-1000)', (i: ReturnType<typeof createInputStream>) => i.read(-1000)],
  ] as const) {
    test(`${label} resolves with all remaining bytes`, async () => {
      const input = createInputStream(counted(['ab', 'cde', 'f']).source);
      assert.equal(text(await input.read(1)), 'a');
      assert.equal(text(await call(input)), 'bcdef');
      assert.equal((await call(input)).length, 0);
    });
  }

  test('read() on an empty source resolves empty at once, every time', async () => {
    for (const parts of [[], [''], ['', '']]) {
      const input = createInputStream(counted(parts).source);
      assert.equal((await input.read()).length, 0);
      assert.equal((await input.read()).length, 0);
      assert.equal((await input.read(10)).length, 0);
    }
  });

  test('read() of a single-chunk body hands that chunk over without copying', async () => {
    const chunk = enc('whole body');
    const input = createInputStream([chunk]);
    assert.equal(await input.read(), chunk);
  });
});

describe('read(0): input.read.zero', bounded, () => {
  test('resolves empty, consumes nothing and pulls nothing', async () => {
    const { source, stats } = counted(['abc']);
    const input = createInputStream(source);
    const zero = await input.read(0);
    assert.ok(zero instanceof Uint8Array);
    assert.equal(zero.length, 0);
    assert.equal(stats.opened, 0);
    assert.equal(text(await input.read()), 'abc');
  });

  test('-0 counts as 0', async () => {
    const input = createInputStream(counted(['abc']).source);
    assert.equal((await input.read(-0)).length, 0);
    assert.equal(text(await input.read()), 'abc');
  });
});

describe('readLine(size): input.readline', bounded, () => {
  test('gives lines up to and including LF, across chunks', async () => {
    const input = createInputStream(counted(['one\ntw', 'o', '\nthr', 'ee\n\nlast']).source);
    assert.deepEqual(
      [await input.readLine(), await input.readLine(), await input.readLine(), await input.readLine(), await input.readLine()].map(text),
      ['one\n', 'two\n', 'three\n', '\n', 'last'],
    );
    assert.equal((await input.readLine()).length, 0);
  });

  test('gives the rest when the body ends without LF', async () => {
    const input = createInputStream(counted(['no newline ', 'at all']).source);
    assert.equal(text(await input.readLine()), 'no newline at all');
    assert.equal((await input.readLine()).length, 0);
  });

  test('CR is not a line end', async () => {
    const input = createInputStream(counted(['a\r\nb\rc']).source);
    assert.deepEqual(texts([await input.readLine(), await input.readLine()]), ['a\r\n', 'b\rc']);
  });

  test('size caps the line; the rest of it comes next', async () => {
    const input = createInputStream(counted(['abc', 'def\ngh']).source);
    assert.equal(text(await input.readLine(2)), 'ab');
    assert.equal(text(await input.readLine(4)), 'cdef');
    assert.equal(text(await input.readLine(4)), '\n');
    assert.equal(text(await input.readLine(100)), 'gh');
  });

  test('a size exactly at the LF includes it', async () => {
    const input = createInputStream(counted(['ab\ncd']).source);
    assert.equal(text(await input.readLine(3)), 'ab\n');
  });

  test('size 0 gives empty and consumes nothing; negative means no limit', async () => {
    const input = createInputStream(counted(['xy\nz']).source);
    assert.equal((await input.readLine(0)).length, 0);
    assert.equal(text(await input.readLine(-1)), 'xy\n');
    assert.equal(text(await input.readLine(-5)), 'z');
  });

  test('does not pull past the line it returns', async () => {
    const { source, stats } = counted(['a\nb', 'c\n', 'd\n']);
    const input = createInputStream(source);
    await input.readLine();
    assert.equal(stats.pulls, 1);
    assert.equal(text(await input.readLine()), 'bc\n');
    assert.equal(stats.pulls, 2);
  });

  test('a capped readLine stops pulling once it has size bytes', async () => {
    const { source, stats } = counted(['aaaa', 'bbbb', 'cccc\n']);
    const input = createInputStream(source);
    assert.equal(text(await input.readLine(6)), 'aaaabb');
    assert.equal(stats.pulls, 2);
  });
});

describe('readLines(hint): input.readlines', bounded, () => {
  test('without hint, all lines as readLine would give them', async () => {
    const input = createInputStream(counted(['a\nbb', '\n', 'ccc']).source);
    assert.deepEqual(texts(await input.readLines()), ['a\n', 'bb\n', 'ccc']);
    assert.deepEqual(await input.readLines(), []);
  });

  test('a hint stops after the line that brings the total to hint or more', async () => {
    const body = ['aa\n', 'bb\n', 'cc\n', 'dd\n'];
    // Totals after each line: 3, 6, 9, 12.
    for (const [hint, expected] of [
      [1, ['aa\n']],
      [3, ['aa\n']],
      [4, ['aa\n', 'bb\n']],
      [6, ['aa\n', 'bb\n']],
      [7, ['aa\n', 'bb\n', 'cc\n']],
      [100, body],
    ] as const) {
      const input = createInputStream(counted(body).source);
      assert.deepEqual(texts(await input.readLines(hint)), expected, `hint ${hint}`);
    }
  });

  test('hint 0 or negative means no hint; the lines left stay readable', async () => {
    for (const hint of [0, -1]) {
      const input = createInputStream(counted(['x\ny\n']).source);
      assert.deepEqual(texts(await input.readLines(hint)), ['x\n', 'y\n']);
    }
    const input = createInputStream(counted(['x\ny\nz']).source);
    assert.deepEqual(texts(await input.readLines(1)), ['x\n']);
    assert.equal(text(await input.read()), 'y\nz');
  });
});

describe('iteration: input.iterate', bounded, () => {
  test('yields the remaining body as non-empty chunks in order', async () => {
    const input = createInputStream(counted(['ab', '', 'cd', 'e']).source);
    assert.deepEqual(await collect(input), ['ab', 'cd', 'e']);
  });

  test('hands source chunks over as they are (no copy)', async () => {
    const { source, chunks } = counted(['ab', 'cd']);
    const seen: Uint8Array[] = [];
    for await (const chunk of createInputStream(source)) seen.push(chunk);
    assert.equal(seen[0], chunks[0]);
    assert.equal(seen[1], chunks[1]);
  });

  test('after partial reads, starts with what is left of the buffered chunk', async () => {
    const input = createInputStream(counted(['abcd', 'ef\ngh', 'ij']).source);
    assert.equal(text(await input.read(1)), 'a');
    assert.equal(text(await input.readLine()), 'bcdef\n');
    assert.deepEqual(await collect(input), ['gh', 'ij']);
  });

  test('breaking out of a loop leaves the stream readable', async () => {
    const input = createInputStream(counted(['a', 'b', 'c']).source);
    for await (const chunk of input) {
      assert.equal(text(chunk), 'a');
      break;
    }
    assert.equal(text(await input.read()), 'bc');
  });

  test('an iterator that returned stays finished', async () => {
    const input = createInputStream(counted(['a', 'b']).source);
    const iterator = input[Symbol.asyncIterator]();
    assert.deepEqual(await iterator.return?.(), { done: true, value: undefined });
    assert.deepEqual(await iterator.next(), { done: true, value: undefined });
    assert.equal(text(await input.read()), 'ab');
  });

  test('the iterator is itself async iterable', async () => {
    const input = createInputStream(counted(['a', 'b']).source);
    const iterator = input[Symbol.asyncIterator]() as AsyncIterableIterator<Uint8Array>;
    assert.deepEqual(await collect(iterator), ['a', 'b']);
  });
});

describe('end of body: input.end and input.no-hang', bounded, () => {
  test('every later read resolves empty, and the source is not asked again', async () => {
    let nexts = 0;
    const source: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => (++nexts === 1 ? { done: false, value: enc('all') } : { done: true, value: undefined }),
      }),
    };
    const input = createInputStream(source);
    assert.equal(text(await input.read()), 'all');
    const asked = nexts;
    for (let i = 0; i < 3; i++) {
      assert.equal((await input.read()).length, 0);
      assert.equal((await input.read(5)).length, 0);
      assert.equal((await input.readLine()).length, 0);
      assert.deepEqual(await input.readLines(), []);
      assert.deepEqual(await collect(input), []);
    }
    assert.equal(nexts, asked);
  });
});

describe('a failing source: input.truncated', bounded, () => {
  test('the pending read and every later read reject with the error', async () => {
    const boom = new Error('client went away');
    const input = createInputStream(failing(['abc', 'def'], boom));
    assert.equal(text(await input.read(2)), 'ab');
    await assert.rejects(input.read(10), (error) => error === boom, 'never resolves with the partial 4 bytes');
    await assert.rejects(input.read(1), (error) => error === boom, 'even bytes still buffered are not given');
    await assert.rejects(input.read(), (error) => error === boom);
    await assert.rejects(input.read(0), (error) => error === boom);
    await assert.rejects(input.readLine(), (error) => error === boom);
    await assert.rejects(input.readLines(), (error) => error === boom);
    await assert.rejects(collect(input), (error) => error === boom);
  });

  test('read() rejects rather than resolving with a truncated body', async () => {
    const boom = new Error('reset');
    const input = createInputStream(failing(['abc'], boom));
    await assert.rejects(input.read(), (error) => error === boom);
  });

  test('readLine and iteration reject mid-way', async () => {
    const boom = new Error('reset');
    const lines = createInputStream(failing(['no newline yet'], boom));
    await assert.rejects(lines.readLine(), (error) => error === boom);
    const chunks = createInputStream(failing(['a'], boom));
    const iterator = chunks[Symbol.asyncIterator]();
    assert.equal(text((await iterator.next()).value as Uint8Array), 'a');
    await assert.rejects(iterator.next(), (error) => error === boom);
  });

  test('a sync source that throws, and one that throws when opened', async () => {
    const boom = new Error('sync');
    const input = createInputStream({
      *[Symbol.iterator]() {
        yield enc('x');
        throw boom;
      },
    });
    await assert.rejects(input.read(), (error) => error === boom);
    const unopenable = createInputStream({
      [Symbol.iterator](): Iterator<Uint8Array> {
        throw boom;
      },
    });
    await assert.rejects(unopenable.read(), (error) => error === boom);
  });

  test('a chunk that is not a Uint8Array fails the stream with a TypeError', async () => {
    let returned = false;
    async function* strings(): AsyncGenerator<unknown> {
      try {
        yield enc('ok');
        yield 'not bytes';
      } finally {
        returned = true;
      }
    }
    const input = createInputStream(strings() as AsyncIterable<Uint8Array>);
    await assert.rejects(input.read(), TypeError);
    await assert.rejects(input.read(), TypeError);
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(returned, 'the source was told to stop');
  });

  test('a source that is not iterable is refused at once', () => {
    assert.throws(() => createInputStream({} as Iterable<Uint8Array>), TypeError);
    assert.throws(() => createInputStream(null as unknown as Iterable<Uint8Array>), TypeError);
  });
});

describe('overlapping reads: input.order', bounded, () => {
  test('unawaited reads settle in call order, each after the one before', async () => {
    const input = createInputStream(counted(['ab', 'c\nde', 'fgh\nij', 'k']).source);
    const settled: string[] = [];
    const track = <T>(label: string, promise: Promise<T>): Promise<T> =>
      promise.then((value) => {
        settled.push(label);
        return value;
      });
    const iterator = input[Symbol.asyncIterator]();
    const results = await Promise.all([
      track('read(1)', input.read(1)),
      track('readLine', input.readLine()),
      track('read(0)', input.read(0)),
      track('read(2)', input.read(2)),
      track('next', iterator.next().then((step) => step.value as Uint8Array)),
      track('readLines', input.readLines()),
      track('read()', input.read()),
    ]);
    assert.deepEqual(settled, ['read(1)', 'readLine', 'read(0)', 'read(2)', 'next', 'readLines', 'read()']);
    const [one, line, zero, two, chunk, lines, rest] = results;
    assert.equal(text(one), 'a');
    assert.equal(text(line), 'bc\n');
    assert.equal(text(zero), '');
    assert.equal(text(two), 'de');
    assert.equal(text(chunk), 'fgh\nij');
    assert.deepEqual(texts(lines), ['k']);
    assert.equal(text(rest), '');
  });

  test('a rejected read in the middle does not disturb the others', async () => {
    const input = createInputStream(counted(['abcdef']).source);
    const first = input.read(2);
    const bad = input.read(1.5);
    const third = input.read(2);
    assert.equal(text(await first), 'ab');
    await assert.rejects(bad, TypeError);
    assert.equal(text(await third), 'cd');
  });
});

describe('arguments: input.args.reject', bounded, () => {
  const label = (value: unknown): string =>
    typeof value === 'string' ? JSON.stringify(value) : typeof value === 'bigint' ? `${value}n` : value && typeof value === 'object' ? '{}' : String(value);
  const bad: unknown[] = [1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2 ** 53, '3', null, true, 3n, {}];
  for (const value of bad) {
    test(`rejects ${label(value)} with a TypeError, consuming nothing`, async () => {
      let hooked = 0;
      const input = createInputStream(counted(['abc\n']).source, { onFirstRead: () => hooked++ });
      for (const call of [
        () => input.read(value as number),
        () => input.readLine(value as number),
        () => input.readLines(value as number),
      ]) {
        const promise = call();
        assert.ok(promise instanceof Promise, 'rejects, does not throw');
        await assert.rejects(promise, (error: unknown) => {
          assert.ok(error instanceof TypeError);
          assert.equal((error as { requirement?: string }).requirement, 'input.args');
          return true;
        });
      }
      assert.equal(hooked, 0, 'an invalid call is not the first read');
      assert.equal(text(await input.read()), 'abc\n');
    });
  }
});

describe('onFirstRead', bounded, () => {
  test('is called once, synchronously, at the first read of any kind', async () => {
    for (const first of ['read', 'readLine', 'readLines', 'iterate'] as const) {
      let calls = 0;
      const input = createInputStream(counted(['a\nb']).source, { onFirstRead: () => calls++ });
      assert.equal(calls, 0);
      const pending =
        first === 'iterate' ? input[Symbol.asyncIterator]().next() : first === 'readLines' ? input.readLines() : input[first]();
      assert.equal(calls, 1, `${first} calls it before it returns`);
      await pending;
      await input.read();
      await input.readLine();
      assert.equal(calls, 1);
    }
  });

  test('creating an iterator is not reading; its first next() is', () => {
    let calls = 0;
    const input = createInputStream(counted(['a']).source, { onFirstRead: () => calls++ });
    const iterator = input[Symbol.asyncIterator]();
    assert.equal(calls, 0);
    void iterator.next();
    assert.equal(calls, 1);
  });

  test('read(0) and readLine(0) do not count as reading', async () => {
    let calls = 0;
    const input = createInputStream(counted(['a']).source, { onFirstRead: () => calls++ });
    await input.read(0);
    await input.readLine(0);
    assert.equal(calls, 0);
    await input.read(1);
    assert.equal(calls, 1);
  });

  test('readLines(0) reads everything, so it counts', () => {
    let calls = 0;
    const input = createInputStream(counted(['a']).source, { onFirstRead: () => calls++ });
    void input.readLines(0);
    assert.equal(calls, 1);
  });

  test('runs before the source is opened', async () => {
    const order: string[] = [];
    const source: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]() {
        order.push('open');
        return [enc('x')][Symbol.iterator]() as unknown as AsyncIterator<Uint8Array>;
      },
    };
    const input = createInputStream(source, { onFirstRead: () => order.push('hook') });
    await input.read();
    assert.deepEqual(order, ['hook', 'open']);
  });

  test('a hook that throws makes the reads reject instead of waiting', async () => {
    const boom = new Error('cannot continue');
    const input = createInputStream(counted(['a']).source, {
      onFirstRead: () => {
        throw boom;
      },
    });
    await assert.rejects(input.read(), (error) => error === boom);
    await assert.rejects(input.read(), (error) => error === boom);
  });
});

describe('bytes handed over: input.bytes', bounded, () => {
  test('are plain Uint8Arrays, also when the source yields Buffers', async () => {
    const input = createInputStream([Buffer.from('ab'), Buffer.from('cd\n'), Buffer.from('ef')]);
    for (const value of [await input.read(1), await input.read(2), await input.readLine(), ...(await input.readLines())]) {
      assert.equal(Object.getPrototypeOf(value), Uint8Array.prototype);
    }
  });

  test('are never modified by later reads', async () => {
    const input = createInputStream(counted(['abcdef', 'ghij\nkl']).source);
    const kept = [await input.read(2), await input.read(6), await input.readLine(), await input.read()];
    const snapshot = texts(kept);
    assert.deepEqual(snapshot, ['ab', 'cdefgh', 'ij\n', 'kl']);
    kept[1]!.fill(0x7a); // the application owns its bytes, and may scribble on them
    assert.deepEqual(texts([kept[0]!, kept[2]!, kept[3]!]), ['ab', 'ij\n', 'kl']);
  });
});

describe('large bodies', { timeout: 60_000 }, () => {
  // Irregular chunk sizes put every read boundary somewhere inside a chunk.
  function body(total: number): { data: Uint8Array; parts: Uint8Array[] } {
    const data = new Uint8Array(randomBytes(total));
    const parts: Uint8Array[] = [];
    for (let offset = 0, step = 1; offset < total; step = (step * 7919 + 13) % 70_001) {
      const size = Math.max(1, step);
      parts.push(data.slice(offset, offset + size));
      offset += size;
    }
    return { data, parts };
  }

  test('3 MiB by read(65536) equals the body, with bounded read-ahead', async () => {
    const { data, parts } = body(3 * 1024 * 1024 + 17);
    const { source, stats } = counted(parts);
    const input = createInputStream(source);
    const out = new Uint8Array(data.length);
    let offset = 0;
    for (let chunk = await input.read(65536); chunk.length; chunk = await input.read(65536)) {
      assert.ok(chunk.length === 65536 || offset + chunk.length === data.length);
      out.set(chunk, offset);
      offset += chunk.length;
      assert.ok(stats.pulledBytes - offset < 70_001, 'at most one chunk is pulled beyond what was read');
    }
    assert.equal(offset, data.length);
    assert.ok(Buffer.from(out).equals(data));
  });

  test('3 MiB by iteration, read() and readLines equal the body', async () => {
    const { data, parts } = body(3 * 1024 * 1024 + 5);
    const iterated: Uint8Array[] = [];
    for await (const chunk of createInputStream(parts)) iterated.push(chunk);
    assert.ok(Buffer.concat(iterated).equals(data));
    assert.ok(Buffer.from(await createInputStream(parts).read()).equals(data));
    const lines = await createInputStream(parts).readLines();
    assert.ok(Buffer.concat(lines).equals(data));
    assert.ok(lines.slice(0, -1).every((line) => line.indexOf(0x0a) === line.length - 1));
  });

  test('a 2 MiB line without LF, and one over 2 MiB ending in LF', async () => {
    const long = new Uint8Array(2 * 1024 * 1024).fill(0x61);
    const parts = [long.subarray(0, 1000), long.subarray(1000), enc('b\nafter')];
    const input = createInputStream(parts);
    const line = await input.readLine();
    assert.equal(line.length, long.length + 2);
    assert.equal(line[line.length - 1], 0x0a);
    assert.equal(text(await input.readLine()), 'after');
    const noLf = createInputStream([long.subarray(0, 1 << 20), long.subarray(1 << 20)]);
    assert.equal((await noLf.readLine()).length, long.length);
  });

  test('64 MiB in 64 KiB chunks reads fast by read(65536) and by iteration', async () => {
    const chunk = 65536;
    const count = 1024;
    function* source(): Generator<Uint8Array> {
      for (let i = 0; i < count; i++) yield new Uint8Array(chunk).fill(i & 0xff);
    }
    let started = performance.now();
    let total = 0;
    const byRead = createInputStream(source());
    for (let got = await byRead.read(chunk); got.length; got = await byRead.read(chunk)) total += got.length;
    const readMs = performance.now() - started;
    assert.equal(total, chunk * count);
    started = performance.now();
    total = 0;
    for await (const got of createInputStream(source())) total += got.length;
    const iterateMs = performance.now() - started;
    assert.equal(total, chunk * count);
    // Generous bounds: this catches quadratic behaviour, not a slow machine.
    assert.ok(readMs < 5000, `read(65536) took ${readMs} ms`);
    assert.ok(iterateMs < 5000, `iteration took ${iterateMs} ms`);
  });
});
