/** tsgi.file_wrapper, for servers that offer it: the wrapped file is sent from its current position, lazily, and closed. */
import type { FileLike } from '../../src/types.js';
import type { CaseApp } from '../types.js';
import { TEXT, bytes, defineCases, reply } from './_helpers.js';

const CONTENT = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A file over CONTENT, already read up to `position`, that counts its reads and closes. */
function file(probe: Parameters<CaseApp>[2], position: number): FileLike {
  let at = position;
  return {
    read(size: number) {
      probe.count('reads');
      const chunk = bytes(CONTENT.slice(at, at + size));
      at += chunk.length;
      return chunk;
    },
    close() {
      probe.count('closes');
    },
  };
}

/** The cases about tsgi.file_wrapper. */
export const fileCases = defineCases([
  {
    id: 'file.from-position',
    requirements: ['file.position', 'file.iterate', 'file.close', 'file.signature'],
    description: 'a wrapped file is sent from its current position to its end, and closed',
    needs: ['file-wrapper'],
    app(environ, startResponse, probe) {
      const wrap = environ['tsgi.file_wrapper'];
      if (!wrap) return reply(startResponse, 'no file wrapper');
      startResponse('200 OK', [TEXT]);
      return wrap(file(probe, 10), 4);
    },
    async client(t) {
      const response = await t.exchange(t.request('GET', '/'));
      t.equal(response.body.toString('latin1'), CONTENT.slice(10), 'file.position', 'the body');
      await t.delay(20);
      t.equal(t.counter('closes'), 1, 'file.close', 'calls of the file\'s close()');
    },
  },
  {
    id: 'file.length-from-app',
    requirements: ['file.length'],
    description: "a wrapped file stops after the application's Content-Length, which is no error",
    needs: ['file-wrapper'],
    app(environ, startResponse, probe) {
      const wrap = environ['tsgi.file_wrapper'];
      if (!wrap) return reply(startResponse, 'no file wrapper');
      startResponse('200 OK', [TEXT, ['Content-Length', '5']]);
      return wrap(file(probe, 0), 3);
    },
    async client(t) {
      t.equal((await t.exchange(t.request('GET', '/'))).body.toString('latin1'), CONTENT.slice(0, 5), 'file.length', 'the body');
      if (t.has('error-log')) {
        await t.delay(20);
        t.ok(!t.errorLog.includes('Content-Length'), 'file.length', `a wrapped file cut at its Content-Length was reported as an error: ${t.errorLog}`);
      }
    },
  },
  {
    id: 'file.discarded',
    requirements: ['file.lazy'],
    description: 'a file wrapper reads nothing when its result is discarded',
    needs: ['file-wrapper'],
    app(environ, startResponse, probe) {
      const wrap = environ['tsgi.file_wrapper'];
      if (wrap) wrap(file(probe, 0), 4);
      return reply(startResponse, 'something else');
    },
    async client(t) {
      t.equal((await t.exchange(t.request('GET', '/'))).body.toString('latin1'), 'something else', 'file.lazy', 'the body');
      t.equal(t.counter('reads'), 0, 'file.lazy', 'reads of a file whose wrapper was discarded');
    },
  },
]);
