// A CGI script for cgi.test.ts, run by a real web server through a cgi-bin wrapper: an
// application, under the validator, that describes the environ it received as JSON, with
// the MUST-level violations found so far. Byte strings go out as hex, so that the test
// sees their exact octets.
import { Buffer } from 'node:buffer';
import process from 'node:process';
import { runCgi } from '../src/cgi.js';
import type { Application } from '../src/types.js';
import { validator } from '../src/validate.js';

const hex = (value: string | undefined) => (value === undefined ? undefined : Buffer.from(value, 'latin1').toString('hex'));

const violations: string[] = [];

const app: Application = async (environ, startResponse) => {
  const body = await environ['tsgi.input'].read();
  const described = {
    method: environ.REQUEST_METHOD,
    scriptName: hex(environ.SCRIPT_NAME),
    pathInfo: hex(environ.PATH_INFO),
    query: environ.QUERY_STRING,
    contentLength: environ.CONTENT_LENGTH,
    cgiKeys: Object.keys(environ).filter((key) => !key.includes('.')).sort(),
    scheme: environ['tsgi.url_scheme'],
    runOnce: environ['tsgi.run_once'],
    multiprocess: environ['tsgi.multiprocess'],
    multithread: environ['tsgi.multithread'],
    body: hex(Buffer.from(body).toString('latin1')),
    violations,
  };
  if (environ.QUERY_STRING === 'fail') throw new Error('the application failed on purpose');
  startResponse('202 Accepted', [
    ['Content-Type', 'application/json'],
    ['Set-Cookie', 'a=1'],
    ['Set-Cookie', 'b=2'],
  ]);
  return [Buffer.from(JSON.stringify(described))];
};

const outcome = await runCgi(
  validator(app, { onViolation: (error) => void (error.level.startsWith('MUST') && violations.push(error.requirement)) }),
);
process.exitCode = outcome.completed ? 0 : 1;
