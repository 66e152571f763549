// Starts `tsgi serve` as a child process, as a user runs it, for the tests of the command
// and of its cluster mode.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
export const cli = join(root, 'src', 'cli.ts');
// Resolved here: a child may run in a scratch folder, where 'tsx' would not resolve.
export const tsx = import.meta.resolve('tsx');

/** A running `tsgi serve`. */
export interface ServeProcess {
  readonly child: ChildProcess;
  /** The URL it printed. */
  readonly url: string;
  stdout(): string;
  stderr(): string;
  /** Sends SIGTERM and resolves with the exit status; 'hung' when it has not exited within 10 s (it is then killed). */
  stop(): Promise<number | null | 'hung'>;
  /** Resolves with the exit status once it exits by itself; 'hung' when it has not within `ms` (nothing is sent to it). */
  exited(ms: number): Promise<number | null | 'hung'>;
}

/** Runs `tsgi serve <args> --port 0` and resolves once it has printed its URL (within 15 s). */
export async function startServe(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; /** In a process group of its own, as a terminal starts it. */ group?: boolean } = {},
): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--import', tsx, cli, 'serve', ...args, '--port', '0'], {
    cwd: options.cwd ?? root,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.group ?? false,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const within = (ms: number): Promise<number | null | 'hung'> => {
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), ms)));
    return Promise.race([exited, hung]).finally(() => clearTimeout(timer));
  };
  const stop = async (): Promise<number | null | 'hung'> => {
    if (child.exitCode === null) child.kill('SIGTERM');
    const code = await within(10_000);
    if (code === 'hung') child.kill('SIGKILL');
    return code;
  };
  const deadline = Date.now() + 15_000;
  let url: string | undefined;
  while (!(url = /on (http:\/\/\S+)/.exec(stdout)?.[1])) {
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(`no URL printed; stdout: ${stdout}; stderr: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child, url, stdout: () => stdout, stderr: () => stderr, stop, exited: within };
}
