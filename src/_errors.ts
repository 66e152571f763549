/** The error stream of the spec (`tsgi.errors`) over any writable text sink. */
import { contractError, show } from './_http.js';
import type { ErrorStream } from './types.js';

/** The part of a Node `Writable` (such as `process.stderr`) that an error stream needs. */
export interface TextSink {
  write(chunk: string, callback?: (error?: Error | null) => void): boolean;
}

/**
 * An {@link ErrorStream} that writes UTF-8 text to `sink`. It never throws for a string
 * (`errors.write`: lone surrogates become U+FFFD when Node encodes them) and throws a
 * `TypeError` naming `errors.text` for anything else, which is the application's fault.
 */
export function createErrorStream(sink: TextSink): ErrorStream {
  const write = (text: string): void => {
    if (typeof text !== 'string') {
      throw contractError('errors.text', `tsgi.errors.write() takes a string; got ${show(text)}`, 'application', TypeError);
    }
    if (text.length) sink.write(text);
  };
  return {
    write,
    writeLines(lines) {
      for (const line of lines) write(line);
    },
    flush() {
      // A write's callback runs once everything queued before it has been handed over.
      return new Promise((resolve) => sink.write('', () => resolve()));
    },
  };
}
