/**
 * The hub: where probes in other processes report to the suite. It listens on
 * 127.0.0.1, and turns each report into what the in-process probe would have done to the
 * running case's board: a recorded call, a note, a count, an event, a validator finding.
 *
 * The client of a case reads the board right after a response; a report sent before that
 * response travels on another connection and may arrive after it. `sync()` closes the
 * gap: it pings every probe process and waits for the answers, and each process answers
 * only after everything it sent before.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Level, RequirementId } from '../src/_requirements.js';
import type { Environ } from '../src/types.js';
import type { Probe } from './_probe.js';
import { HUB_VARIABLE, lineReader, thaw, type Message, type Reply } from './_remote.js';
import type { RemoteProbe } from './types.js';

const SYNC_TIMEOUT = 1000;

export class Hub {
  readonly #server: Server;
  readonly #probe: Probe;
  readonly #sockets = new Set<Socket>();
  readonly #pongs = new Map<number, () => void>();
  #nextPing = 0;

  private constructor(server: Server, probe: Probe) {
    this.#server = server;
    this.#probe = probe;
    server.on('connection', (socket) => this.#accept(socket));
  }

  /** Starts a hub that reports to `probe`'s running cases. */
  static async start(probe: Probe): Promise<Hub> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    server.unref();
    return new Hub(server, probe);
  }

  /** What a server of several processes needs to load the probe in each (`StartContext.remote`). */
  remote(module: string): RemoteProbe {
    const { port } = this.#server.address() as AddressInfo;
    return { module, env: { [HUB_VARIABLE]: `127.0.0.1:${port}` } };
  }

  /** Resolves once every connected probe process has delivered what it sent before now (bounded). */
  async sync(): Promise<void> {
    if (this.#sockets.size === 0) return;
    const answers = [...this.#sockets].map(
      (socket) =>
        new Promise<void>((resolve) => {
          const id = this.#nextPing++;
          const timer = setTimeout(() => done(), SYNC_TIMEOUT);
          const done = () => {
            clearTimeout(timer);
            this.#pongs.delete(id);
            resolve();
          };
          this.#pongs.set(id, done);
          send(socket, { op: 'ping', id });
        }),
    );
    await Promise.all(answers);
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.on(
      'data',
      lineReader((line) => {
        let message: Message;
        try {
          message = JSON.parse(line) as Message;
        } catch {
          return; // not a probe: ignore it
        }
        void this.#handle(socket, message);
      }),
    );
  }

  async #handle(socket: Socket, message: Message): Promise<void> {
    if (message.op === 'pong') {
      this.#pongs.get(message.id)?.();
      return;
    }
    if (message.op === 'record') {
      const entry = this.#probe.claim(message.case);
      let index = -1;
      if (entry) {
        const env = Object.create(message.plain ? Object.prototype : { notPlain: true }) as Record<string, unknown>;
        for (const [key, value] of Object.entries(message.env)) env[key] = thaw(value);
        index = entry.board.add(env, env as unknown as Environ).index;
      }
      send(socket, { id: message.id, result: index });
      return;
    }
    const board = this.#probe.running(message.case)?.board;
    switch (message.op) {
      case 'note': {
        const notes = board?.calls[message.index]?.notes;
        if (notes) notes[message.key] = message.value;
        return;
      }
      case 'count':
        board?.count(message.name, message.by);
        return;
      case 'fire':
        board?.fire(message.name);
        return;
      case 'when':
        send(socket, { id: message.id, result: board ? await board.when(message.name, message.ms) : false });
        return;
      case 'violation':
        board?.violations.push({ requirement: message.requirement as RequirementId, level: message.level as Level, message: message.message });
        return;
    }
  }
}

function send(socket: Socket, reply: Reply): void {
  if (!socket.destroyed) socket.write(`${JSON.stringify(reply)}\n`);
}
