// ResponseHeaders (src/headers.ts): wsgiref.headers.Headers semantics, ported from
// CPython's test_wsgiref HeaderTests where they apply, plus the spec's header.name and
// header.value checks. Expected values come from wsgiref's documented behaviour and
// the spec, not from running this code.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import { ResponseHeaders } from '../src/headers.js';
import type { HeaderList } from '../src/types.js';

const bounded = { timeout: 5_000 };

/** Asserts that `fn` throws a TypeError citing `requirement`. */
function throwsRequirement(fn: () => unknown, requirement: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof TypeError, `a TypeError, got ${String(error)}`);
    assert.equal((error as { requirement?: string }).requirement, requirement);
    assert.match(error.message, new RegExp(`\\[${requirement.replace('.', '\\.')}\\]`));
    return true;
  });
}

describe('ResponseHeaders: the mapping interface (wsgiref testMappingInterface)', bounded, () => {
  test('size, length, keys, values and toList', () => {
    assert.equal(new ResponseHeaders().size, 0);
    assert.equal(new ResponseHeaders([]).length, 0);
    const headers = new ResponseHeaders([['x', 'y']]);
    assert.equal(headers.size, 1);
    assert.equal(headers.length, 1);
    assert.deepEqual(headers.keys(), ['x']);
    assert.deepEqual(headers.values(), ['y']);
    assert.deepEqual(headers.toList(), [['x', 'y']]);
  });

  test('lookups are case-insensitive; absent names give undefined, [] and false', () => {
    const headers = new ResponseHeaders();
    assert.equal(headers.delete('foo'), false, 'deleting an absent name is no error');
    headers.set('Foo', 'bar');
    for (const name of ['foo', 'Foo', 'FOO']) {
      assert.equal(headers.has(name), true);
      assert.equal(headers.get(name), 'bar');
      assert.deepEqual(headers.getAll(name), ['bar']);
    }
    assert.equal(headers.has('bar'), false);
    assert.equal(headers.get('bar'), undefined);
    assert.deepEqual(headers.getAll('bar'), []);
  });

  test('set replaces every field of the name; setDefault keeps an existing one', () => {
    const headers = new ResponseHeaders();
    headers.set('foo', 'bar');
    headers.set('foo', 'baz');
    assert.equal(headers.get('FOO'), 'baz');
    assert.deepEqual(headers.getAll('foo'), ['baz']);
    assert.equal(headers.get('zoo') ?? 'whee', 'whee');
    assert.equal(headers.setDefault('foo', 'whee'), 'baz');
    assert.equal(headers.setDefault('zoo', 'whee'), 'whee');
    assert.equal(headers.get('foo'), 'baz');
    assert.equal(headers.get('zoo'), 'whee');
    assert.deepEqual(headers.toList(), [
      ['foo', 'baz'],
      ['zoo', 'whee'],
    ]);
  });

  test('set removes all fields of the name, in any case, and appends at the end', () => {
    const headers = new ResponseHeaders([
      ['A', '1'],
      ['B', '2'],
      ['a', '3'],
    ]);
    assert.equal(headers.set('A', 'x'), headers, 'set chains');
    assert.deepEqual(headers.toList(), [
      ['B', '2'],
      ['A', 'x'],
    ]);
  });

  test('delete removes every field of the name and says whether there was one', () => {
    const headers = new ResponseHeaders([
      ['Set-Cookie', 'a=1'],
      ['Vary', 'Accept'],
      ['set-cookie', 'b=2'],
    ]);
    assert.equal(headers.delete('SET-COOKIE'), true);
    assert.deepEqual(headers.toList(), [['Vary', 'Accept']]);
    assert.equal(headers.delete('set-cookie'), false);
  });

  test('repeated names stay separate, in order', () => {
    const headers = new ResponseHeaders();
    headers.add('Set-Cookie', 'a=1').add('Content-Type', 'text/plain').add('Set-Cookie', 'b=2');
    assert.deepEqual(headers.getAll('set-cookie'), ['a=1', 'b=2']);
    assert.equal(headers.get('Set-Cookie'), 'a=1', 'get gives the first');
    assert.deepEqual(headers.keys(), ['Set-Cookie', 'Content-Type', 'Set-Cookie']);
    assert.deepEqual([...headers], [
      ['Set-Cookie', 'a=1'],
      ['Content-Type', 'text/plain'],
      ['Set-Cookie', 'b=2'],
    ]);
  });
});

describe('ResponseHeaders: copies, never shares (header.app-no-mutate)', bounded, () => {
  test('the constructor copies the list and its pairs', () => {
    const list: Array<[string, string]> = [['X', 'y']];
    const headers = new ResponseHeaders(list);
    headers.set('Z', 'w');
    assert.deepEqual(list, [['X', 'y']], 'the caller’s list is unchanged');
    list[0]![1] = 'changed';
    list.push(['Late', '1']);
    assert.deepEqual(headers.toList(), [
      ['X', 'y'],
      ['Z', 'w'],
    ]);
  });

  test('toList and iteration give fresh pairs', () => {
    const headers = new ResponseHeaders([['X', 'y']]);
    const list = headers.toList();
    assert.notEqual(list, headers.toList());
    list[0]![1] = 'changed';
    list.push(['More', '1']);
    for (const pair of headers) pair[1] = 'changed';
    assert.deepEqual(headers.toList(), [['X', 'y']]);
  });

  test('toList is what startResponse takes', () => {
    const list: HeaderList = new ResponseHeaders({ 'Content-Type': 'text/plain' }).toList();
    assert.deepEqual(list, [['Content-Type', 'text/plain']]);
  });
});

describe('ResponseHeaders: sources', bounded, () => {
  test('from an object, a Map and a global Headers', () => {
    assert.deepEqual(new ResponseHeaders({ 'Content-Type': 'text/plain', 'X-A': '1' }).toList(), [
      ['Content-Type', 'text/plain'],
      ['X-A', '1'],
    ]);
    assert.deepEqual(new ResponseHeaders(new Map([['X-B', '2']])).toList(), [['X-B', '2']]);
    const fetchHeaders = new Headers([['X-C', '3']]);
    fetchHeaders.append('Set-Cookie', 'a=1');
    fetchHeaders.append('Set-Cookie', 'b=2');
    // The global Headers lower-cases names and sorts them; Set-Cookie stays separate.
    assert.deepEqual(new ResponseHeaders(fetchHeaders).toList(), [
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
      ['x-c', '3'],
    ]);
  });

  test('refuses what is not a list of pairs', () => {
    for (const bad of ['X: y', 42, null, [['only-name']], [['a', 'b', 'c']], ['ab']]) {
      throwsRequirement(() => new ResponseHeaders(bad as never), 'header.list');
    }
  });
});

describe('ResponseHeaders: names and values (header.name, header.value)', bounded, () => {
  const badNames = ['', 'X Foo', 'X:Foo', 'X-Foo:', 'Ä', 'X\r\nY', 'X\tY', '(x)', 'x"y', 'a/b', 'é', '\u0100'];
  const badValues = ['a\r\nb', 'a\nb', 'a\rb', '\x00', 'a\x1fb', '\x7f', '\u0100', 'caf\u00e9 \u20ac', '\ud800'];

  test('every setter rejects a name that is not a token, and a non-string', () => {
    for (const name of [...badNames, 42, undefined]) {
      throwsRequirement(() => new ResponseHeaders([[name as string, 'v']]), 'header.name');
      throwsRequirement(() => new ResponseHeaders().set(name as string, 'v'), 'header.name');
      throwsRequirement(() => new ResponseHeaders().setDefault(name as string, 'v'), 'header.name');
      throwsRequirement(() => new ResponseHeaders().add(name as string, 'v'), 'header.name');
    }
  });

  test('every setter rejects control characters but HTAB, and code units above U+00FF', () => {
    for (const value of [...badValues, 42, undefined]) {
      throwsRequirement(() => new ResponseHeaders([['X', value as string]]), 'header.value');
      throwsRequirement(() => new ResponseHeaders().set('X', value as string), 'header.value');
      throwsRequirement(() => new ResponseHeaders().setDefault('X', value as string), 'header.value');
    }
    for (const value of badValues) throwsRequirement(() => new ResponseHeaders().add('X', value), 'header.value');
  });

  test('accepts every token character, HTAB, and latin-1 bytes', () => {
    const name = "!#$%&'*+-.^_`|~09AZaz";
    const value = 'a\tb c \u0080\u00e9\u00ff ~';
    const headers = new ResponseHeaders([[name, value]]);
    assert.equal(headers.get(name), value);
    assert.equal(headers.set('X', '').get('X'), '', 'an empty value is allowed');
  });

  test('a rejected set leaves the list as it was', () => {
    const headers = new ResponseHeaders([['X', 'old']]);
    throwsRequirement(() => headers.set('X', 'bad\n'), 'header.value');
    assert.deepEqual(headers.toList(), [['X', 'old']]);
  });

  test('lookups take any string, and reject a non-string', () => {
    const headers = new ResponseHeaders([['X', 'y']]);
    assert.equal(headers.get('not a token'), undefined);
    assert.equal(headers.delete('not a token'), false);
    throwsRequirement(() => headers.get(undefined as unknown as string), 'header.name');
    throwsRequirement(() => headers.has(1 as unknown as string), 'header.name');
  });
});

describe('ResponseHeaders: add with parameters (wsgiref add_header)', bounded, () => {
  test('wsgiref testExtras: str() and add_header', () => {
    const headers = new ResponseHeaders();
    assert.equal(String(headers), '\r\n');
    headers.add('foo', 'bar', { baz: 'spam' });
    assert.equal(headers.get('foo'), 'bar; baz="spam"');
    assert.equal(String(headers), 'foo: bar; baz="spam"\r\n\r\n');
    headers.add('Foo', 'bar', { cheese: null });
    assert.deepEqual(headers.getAll('foo'), ['bar; baz="spam"', 'bar; cheese']);
    assert.equal(headers.toString(), 'foo: bar; baz="spam"\r\nFoo: bar; cheese\r\n\r\n');
  });

  test('_ in parameter names becomes -; undefined leaves a parameter out; empty gives a bare name', () => {
    const headers = new ResponseHeaders();
    headers.add('X', 'v', { max_age: '60', gone: undefined, flag: '', other_flag: null });
    assert.equal(headers.get('X'), 'v; max-age="60"; flag; other-flag');
  });

  test('parameter values are quoted, with " and \\ escaped', () => {
    const headers = new ResponseHeaders();
    headers.add('Content-Disposition', 'attachment', { filename: 'a "b" \\c.txt' });
    assert.equal(headers.get('content-disposition'), 'attachment; filename="a \\"b\\" \\\\c.txt"');
  });

  test('without a value, the parameters alone; with neither, an empty value', () => {
    const headers = new ResponseHeaders();
    headers.add('A', null, { x: '1', y: null });
    headers.add('B', undefined);
    headers.add('C', '', { z: '2' });
    assert.deepEqual(headers.toList(), [
      ['A', 'x="1"; y'],
      ['B', ''],
      ['C', 'z="2"'],
    ]);
  });

  test('a parameter ending in * is encoded as RFC 8187 requires', () => {
    const headers = new ResponseHeaders();
    headers.add('Content-Disposition', 'attachment', { filename: 'EURO rates', 'filename*': '€ rates' });
    // RFC 8187, section 3.2.2's example, with upper-case hex.
    assert.equal(headers.get('Content-Disposition'), `attachment; filename="EURO rates"; filename*=UTF-8''%E2%82%AC%20rates`);
    headers.set('X', 'v');
    headers.add('Y', null, { 't*': "a'b*c(d)%é~" });
    assert.equal(headers.get('Y'), `t*=UTF-8''a%27b%2Ac%28d%29%25%C3%A9~`);
  });

  test('text beyond latin-1 in a quoted parameter points to the * form', () => {
    throwsRequirement(() => new ResponseHeaders().add('Content-Disposition', 'attachment', { filename: 'résumé €.pdf' }), 'str.response');
  });

  test('a parameter name that is not a token, or a value with CR or LF, is refused', () => {
    throwsRequirement(() => new ResponseHeaders().add('X', 'v', { 'a b': '1' }), 'header.value');
    throwsRequirement(() => new ResponseHeaders().add('X', 'v', { 'a=b': '1' }), 'header.value');
    throwsRequirement(() => new ResponseHeaders().add('X', 'v', { a: 'x\r\nSet-Cookie: evil=1' }), 'header.value');
  });
});

describe('ResponseHeaders: display', bounded, () => {
  test('toString gives header lines and a blank line; inspect shows the pairs', () => {
    const headers = new ResponseHeaders([
      ['Content-Type', 'text/plain'],
      ['Set-Cookie', 'a=1'],
    ]);
    assert.equal(`${headers}`, 'Content-Type: text/plain\r\nSet-Cookie: a=1\r\n\r\n');
    assert.equal(inspect(headers), "ResponseHeaders [ [ 'Content-Type', 'text/plain' ], [ 'Set-Cookie', 'a=1' ] ]");
  });
});
