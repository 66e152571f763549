// A text sink for `errors` options that keeps what it is given, for tests that assert
// what a server logged.
export interface TextSinkRecord {
  write(text: string): boolean;
  /** Everything written so far. */
  text: string;
}

export function textSink(): TextSinkRecord {
  return {
    text: '',
    write(text: string) {
      this.text += text;
      return true;
    },
  };
}
