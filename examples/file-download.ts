/**
 * A file download: the repository's `package.json`, sent as an attachment through the
 * server's `tsgi.file_wrapper`, or through `FileWrapper` from `tsgi/util` on a server
 * that offers none.
 *
 * It shows the parts of sending a file well: the length from the open file's own `stat`,
 * a `Content-Disposition` that makes browsers save it, and a file handle that the body's
 * `close()` closes, whether the download finished, failed or was abandoned.
 *
 *     npm start -- examples/file-download.ts
 *     curl -OJ http://127.0.0.1:8000/
 */
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Application, FileLike } from '../src/types.js';
import { FileWrapper } from '../src/util.js';

/** The file it serves. Resolved from the module's URL, which every Node 20 release has. */
export const FILE = fileURLToPath(new URL('../package.json', import.meta.url));

const text = (value: string) => new TextEncoder().encode(value);

const fileDownload: Application = async (environ, startResponse) => {
  if (environ.REQUEST_METHOD !== 'GET' && environ.REQUEST_METHOD !== 'HEAD') {
    const body = text('Only GET and HEAD are allowed here.\n');
    startResponse('405 Method Not Allowed', [
      ['Allow', 'GET, HEAD'],
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Content-Length', String(body.length)],
    ]);
    return [body];
  }

  const handle = await open(FILE, 'r');
  try {
    // fstat of the handle, not stat of the path: the length is that of the file being sent,
    // even if the path is replaced in between.
    const { size } = await handle.stat();
    // A FileHandle's read() fills a buffer it is given, so adapt it to the file-like
    // read(size) that a file wrapper calls.
    const file: FileLike = {
      async read(size) {
        // A fresh buffer per block: a chunk handed to the server must not change afterwards.
        const { buffer, bytesRead } = await handle.read(new Uint8Array(size), 0, size, null);
        return buffer.subarray(0, bytesRead);
      },
      close: () => handle.close(),
    };
    startResponse('200 OK', [
      ['Content-Type', 'application/json'],
      ['Content-Length', String(size)],
      ['Content-Disposition', `attachment; filename="${basename(FILE)}"`],
    ]);
    // The server's own wrapper may know a faster way to send a file; ours reads it in blocks.
    const wrap = environ['tsgi.file_wrapper'] ?? FileWrapper;
    return wrap(file);
  } catch (error) {
    // No body owns the handle yet, so nobody else would close it.
    await handle.close();
    throw error;
  }
};

export default fileDownload;
