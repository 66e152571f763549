/**
 * A streaming response: an async generator that sends one line at a time, with a pause
 * between lines, and stops as soon as the client goes away.
 *
 * The query sets the pace: `?count=5&interval=200` sends five lines, 200 ms apart
 * (default: 10 lines, one a second).
 *
 *     npm start -- examples/streaming.ts
 *     curl -N 'http://127.0.0.1:8000/?count=5&interval=500'
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Application } from '../src/types.js';

const MAX_COUNT = 1000;
const MAX_INTERVAL = 60_000;

/** A whole number from the query, clamped to `[0, max]`; `fallback` when absent or not a number. */
function numberParam(query: URLSearchParams, name: string, fallback: number, max: number): number {
  const value = Number.parseInt(query.get(name) ?? '', 10);
  return Number.isNaN(value) ? fallback : Math.min(Math.max(value, 0), max);
}

const streaming: Application = (environ, startResponse) => {
  const query = new URLSearchParams(environ.QUERY_STRING);
  const count = numberParam(query, 'count', 10, MAX_COUNT);
  const interval = numberParam(query, 'interval', 1000, MAX_INTERVAL);
  const signal = environ['tsgi.signal'];
  const errors = environ['tsgi.errors'];

  startResponse('200 OK', [
    ['Content-Type', 'text/plain; charset=utf-8'],
    // Without this, browsers hold back the first kilobyte of text/plain to sniff its type,
    // and the lines would not appear one by one.
    ['X-Content-Type-Options', 'nosniff'],
    ['Cache-Control', 'no-store'],
  ]);

  async function* lines(): AsyncGenerator<Uint8Array> {
    let sent = 0;
    try {
      for (let i = 1; i <= count; i++) {
        // The first line goes out at once, so the client sees the response start.
        if (i > 1) await sleep(interval, undefined, { signal });
        sent = i;
        yield new TextEncoder().encode(`line ${i} of ${count} at ${new Date().toISOString()}\n`);
      }
    } catch (error) {
      // The server cannot make a generator that is waiting in `sleep` return; the signal
      // wakes it up instead, so a departed client does not hold a timer for `interval` ms.
      if (!signal.aborted) throw error;
    } finally {
      if (signal.aborted) errors.write(`streaming: client went away after ${sent} of ${count} lines\n`);
    }
  }
  return lines();
};

export default streaming;
