/**
 * A CGI script: executed, it runs its application once with `runCgi` from `tsgi/cgi`,
 * reading the request from the CGI environment variables and standard input, and
 * writing the response to standard output.
 *
 * A web server runs it through an executable wrapper, such as
 *
 *     #!/bin/sh
 *     exec node --import tsx /path/to/examples/cgi-script.ts
 *
 * By hand, with the variables a web server would set:
 *
 *     REQUEST_METHOD=POST PATH_INFO=/notes QUERY_STRING=x=1 CONTENT_LENGTH=5 \
 *       node --import tsx examples/cgi-script.ts <<< 'hello'
 *
 * Imported instead (`npm start -- examples/cgi-script.ts`), it is an application like any
 * other, served by whoever imports it.
 */
import { realpathSync } from 'node:fs';
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import { runCgi } from '../src/cgi.js';
import type { Application } from '../src/types.js';

const cgiScript: Application = async (environ, startResponse) => {
  // Reads CONTENT_LENGTH bytes at most: stdin may stay open after the body.
  const body = new TextDecoder().decode(await environ['tsgi.input'].read());
  const lines = [
    `${environ.REQUEST_METHOD} ${environ.SCRIPT_NAME}${environ.PATH_INFO}${environ.QUERY_STRING ? `?${environ.QUERY_STRING}` : ''}`,
    `server: ${environ.SERVER_NAME}:${environ.SERVER_PORT} ${environ.SERVER_PROTOCOL}`,
    `run once: ${environ['tsgi.run_once']}`,
    `body: ${JSON.stringify(body)}`,
  ];
  const bytes = new TextEncoder().encode(`${lines.join('\n')}\n`);
  startResponse('200 OK', [
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['Content-Length', String(bytes.length)],
  ]);
  return [bytes];
};

export default cgiScript;

/** Whether this file is the script Node was started with, rather than an import. */
function isMain(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  // Through a symbolic link (as in a cgi-bin folder), argv names the link, the URL its target.
  return import.meta.url === pathToFileURL(realpathSync(script)).href;
}

if (isMain()) {
  const outcome = await runCgi(cgiScript);
  // An error after the headers can only truncate the body; the exit status tells the web server.
  process.exitCode = outcome.completed ? 0 : 1;
}
