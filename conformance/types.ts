/**
 * The shapes of the conformance suite: the server under test (a {@link ServerTarget}),
 * the cases (plain data: {@link ServerCase}), what a case's client and application can
 * use ({@link CaseContext}, {@link ProbeCall}), and the report.
 *
 * @module
 */
import type { Level, RequirementId } from '../src/_requirements.js';
import type { Application, Environ, ResponseBody, StartResponse } from '../src/types.js';
import type { WireConnection, WireResponse } from './_wire.js';

export type { Level, RequirementId } from '../src/_requirements.js';
export type { WireConnection, WireResponse } from './_wire.js';

/**
 * An optional feature of a server, or a fact about how it runs. A case that needs a
 * capability the server lacks is reported as not applicable, never as failed.
 *
 * - `http10`: the server accepts HTTP/1.0 requests. Default: yes.
 * - `keep-alive`: persistent connections and pipelining on HTTP/1.1. Default: yes.
 * - `half-close`: a client that half-closes after its request still gets its response. Default: yes.
 * - `expect-continue`: the server speaks HTTP/1.1 to the client itself, so it owns
 *   `Expect: 100-continue`. Default: yes.
 * - `date`: the server has a clock and is not a gateway behind another server (`header.date`). Default: yes.
 * - `persistent`: one process serves many requests, so `tsgi.run_once` is false. Default: yes.
 * - `restart`: `start()` may be called again while the server runs, for cases that need a server of their own. Default: yes.
 * - `graceful-shutdown`: the `close()` that `start()` resolves with waits for running exchanges, their `close()` included. Default: yes.
 * - `size-limits`: a request target of 12 KiB and a header section of 64 KiB are over the server's limits. Default: yes.
 * - `error-log`: the server writes its error output to the `errors` sink that `start()` receives. Default: no.
 * - `file-wrapper`: the environ offers `tsgi.file_wrapper`. Default: no.
 * - `https`: the server speaks TLS. Default: what `start()` resolves with (`tls`).
 * - `multiprocess`: other copies of the application run in other processes or workers, so `tsgi.multiprocess` must be true. Default: no.
 */
export type Capability =
  | 'http10'
  | 'keep-alive'
  | 'half-close'
  | 'expect-continue'
  | 'date'
  | 'persistent'
  | 'restart'
  | 'graceful-shutdown'
  | 'size-limits'
  | 'error-log'
  | 'file-wrapper'
  | 'https'
  | 'multiprocess';

/** Capabilities declared as flags: `{ 'error-log': true, http10: false }`. Unnamed ones keep their defaults. */
export type Capabilities = Partial<Record<Capability, boolean>>;

/** Where a server under test may send its error output, so that cases can read it (`error-log`). A Node `Writable` will do. */
export interface ErrorSink {
  write(chunk: string, callback?: (error?: Error | null) => void): boolean;
}

/** What `start()` receives besides the application. */
export interface StartContext {
  /** The sink for the server's error output (`tsgi.errors` and its own error log). Using it declares nothing: set the `error-log` capability too. */
  readonly errors: ErrorSink;
  /**
   * For a server that runs the application in other processes, where the `app` given to
   * `start()` cannot go: a module that each process loads as its application instead.
   * See {@link RemoteProbe}.
   */
  readonly remote: RemoteProbe;
}

/**
 * The probe application for a server of several processes (a cluster, a pre-forking
 * server). Each process imports `module` with `env` in its environment, and serves the
 * module's default export, an application; it reports every call to the suite over a
 * local connection, so that the cases run as they do in one process. Recorded environs
 * then cross a process boundary: strings, numbers, booleans and arrays of them arrive as
 * they were; any other object arrives as a stand-in with the same function members (an
 * `AbortSignal` as an `AbortSignal` in the same state), and `ProbeCall.count()` returns the
 * count of the calling process only.
 *
 * @example
 * ```ts
 * // fragment
 * async start(_app, { remote }) {
 *   const child = spawn('tsgi', ['serve', remote.module, '--workers', '2', '--port', '8123'], {
 *     env: { ...process.env, ...remote.env },
 *   });
 *   // ... wait until it listens, then:
 *   return { host: '127.0.0.1', port: 8123, close: () => stop(child) };
 * }
 * ```
 */
export interface RemoteProbe {
  /** The absolute path of the module whose default export each process serves. */
  readonly module: string;
  /** Environment variables each process needs when it loads the module. */
  readonly env: Readonly<Record<string, string>>;
}

/** A server the suite has started, as `start()` resolves. */
export interface RunningServer {
  /** The address to connect to, such as `127.0.0.1`. */
  readonly host: string;
  readonly port: number;
  /** True when the server speaks TLS (the suite then connects with TLS and expects `tsgi.url_scheme` to be `https`). */
  readonly tls?: boolean;
  /**
   * The path the application is mounted at, such as `/app`, when it is not the root: the
   * suite prefixes every request path with it and expects it as `SCRIPT_NAME`.
   */
  readonly scriptName?: string;
  /** Stops the server; the suite waits for it, at most 10 seconds. */
  close(): void | Promise<void>;
}

/** The server under test: how to start it with the suite's application. */
export interface ServerTarget {
  /** A name for the report. */
  readonly name?: string;
  /** What the server supports, beyond or short of the defaults (see {@link Capability}). */
  readonly capabilities?: Capabilities;
  /** Starts a server that runs `app` for every request, and resolves once it accepts connections. */
  start(app: Application, context: StartContext): RunningServer | Promise<RunningServer>;
}

/**
 * Which cases run. A selector matches a case whose ID, section or one of whose cited
 * requirement IDs equals it; `*` matches any run of characters (`framing.*`, `env.http*`).
 */
export interface Selection {
  /** Run only the cases that match one of these. Default: all. */
  only?: readonly string[] | undefined;
  /** Leave out the cases that match one of these (reported as skipped). */
  skip?: readonly string[] | undefined;
}

/** Options of `runServerConformance()`. */
export interface ServerConformanceOptions extends Selection {
  /** Capabilities, overriding those of the target and the defaults. */
  capabilities?: Capabilities | undefined;
  /** The longest a case may take, in milliseconds. Default: 5000. */
  caseTimeout?: number | undefined;
  /** Called with each result as soon as its case has run: for progress output. */
  onResult?: ((result: CaseResult) => void) | undefined;
  /** The name of the server in the report. Default: the target's name. */
  name?: string | undefined;
}

/** The application a case asks the server to host: an {@link Application} that also receives the probe of its call. */
export type CaseApp = (environ: Environ, startResponse: StartResponse, probe: ProbeCall) => ResponseBody | Promise<ResponseBody>;

/** One conformance case: data, plus the two functions that make it run. */
export interface ServerCase {
  /** A stable ID, `<section>.<name>`, such as `environ.path-utf8`. */
  readonly id: string;
  /** The requirements this case checks. */
  readonly requirements: readonly RequirementId[];
  /** What the case checks, in one sentence. */
  readonly description: string;
  /** Capabilities the case needs; without them it is not applicable. */
  readonly needs?: readonly Capability[];
  /** The application the server hosts for this case. Default: one that records the environ and answers `200 OK` with `ok`. */
  readonly app?: CaseApp;
  /**
   * False for an application that breaks the contract on purpose, to see what the server
   * does about it: the validator would stop it before the server saw it. Default: true.
   */
  readonly validate?: boolean;
  /** True when the case needs a server of its own (it stops it). Needs the `restart` capability. */
  readonly isolated?: boolean;
  /** Sends the requests and checks the responses and what the application saw; throws {@link CaseFailure} when the server is at fault. */
  client(t: CaseContext): Promise<void>;
}

/** Options of a request built by {@link CaseContext.request}. */
export interface RequestOptions {
  /** `1.1` (default) or `1.0`. */
  version?: '1.0' | '1.1';
  /** Header lines after `Host` and the case header, in order. */
  headers?: ReadonlyArray<readonly [string, string]>;
  /** The body, sent with a `Content-Length` unless `headers` frame it. */
  body?: string | Uint8Array;
  /** False to send no `Host` header. Default: true for HTTP/1.1, false for HTTP/1.0. */
  host?: boolean;
  /** False to send the path as given, without the mount prefix. Default: true. */
  mount?: boolean;
}

/** One call of the application, as the probe recorded it. */
export interface RecordedCall {
  /** The environ as it was when the call started: every own key, values as they were (streams and signal by reference). */
  readonly env: Readonly<Record<string, unknown>>;
  /** The environ object itself. */
  readonly environ: Environ;
  /** What the case's application noted during the call. */
  readonly notes: Record<string, unknown>;
}

/** The application's side of a case: records, and events shared with the client. */
export interface ProbeCall {
  /** Which call of this case this is, from 0. */
  readonly index: number;
  /** Notes for the client to check (`t.calls()`). */
  readonly notes: Record<string, unknown>;
  /** Sets a note. */
  note(key: string, value: unknown): void;
  /** Adds 1 (or `by`) to a counter shared by the case; returns the new value. */
  count(name: string, by?: number): number;
  /** Announces an event to the client. */
  fire(name: string): void;
  /** Waits for an event the client (or another call) fires; false when `ms` passed first. */
  when(name: string, ms?: number): Promise<boolean>;
}

/** What a case's client can use. Every wait is bounded; every connection is closed when the case ends. */
export interface CaseContext {
  /** The ID of the running case. */
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** The mount path of the application: the expected `SCRIPT_NAME`. */
  readonly scriptName: string;
  /** `Host` header value for this server. */
  readonly authority: string;
  /** The header line that routes a request to this case: `X-Tsgi-Case: <id>`. */
  readonly tag: string;
  /** The capabilities in force. */
  has(capability: Capability): boolean;
  /** A path under the mount point. */
  path(path: string): string;
  /** Builds the bytes of a request routed to this case. */
  request(method: string, path: string, options?: RequestOptions): Buffer;
  /** Opens a connection (closed at the end of the case). */
  connect(): Promise<WireConnection>;
  /** Sends `request` on a new connection and reads one response (`head` for a response to HEAD). */
  exchange(request: string | Uint8Array, options?: { head?: boolean; ms?: number }): Promise<WireResponse>;
  /** The calls of the application so far. */
  readonly callCount: number;
  /** Calls of the application that no running case claimed (no or unknown case header). */
  readonly strayCount: number;
  /** Waits until the application was called `n` times (default 1), at most `ms`; fails naming `requirement` otherwise. */
  calls(n?: number, ms?: number, requirement?: RequirementId): Promise<RecordedCall[]>;
  /** A shared counter's value. */
  counter(name: string): number;
  /** Announces an event to the application. */
  fire(name: string): void;
  /** Waits for an event the application fires; false when `ms` passed first. */
  when(name: string, ms?: number): Promise<boolean>;
  /** The server's error output during this case (with the `error-log` capability). */
  readonly errorLog: string;
  /** Stops the case's own server (isolated cases only) and resolves when its `close()` has; rejects after 5 seconds. */
  stopServer(): Promise<void>;
  /** Fails the case unless `condition` holds. */
  ok(condition: unknown, requirement: RequirementId, message: string): void;
  /** Fails the case unless `actual` equals `expected` (compared as JSON). */
  equal(actual: unknown, expected: unknown, requirement: RequirementId, what: string): void;
  /** Fails the case. */
  fail(requirement: RequirementId, message: string): never;
  /** Resolves after `ms` milliseconds. */
  delay(ms: number): Promise<void>;
}

/** Thrown by a case's client when the server broke a requirement. */
export class CaseFailure extends Error {
  /** The requirement the server broke. */
  readonly requirement: RequirementId;
  constructor(requirement: RequirementId, message: string) {
    super(message);
    this.name = 'CaseFailure';
    this.requirement = requirement;
  }
}

/** The outcome of one case, or of one request of the application battery. */
export type CaseStatus = 'pass' | 'fail' | 'n/a' | 'skipped';

/** One reason a case failed. */
export interface Failure {
  /** The requirement broken. */
  readonly requirement: RequirementId | undefined;
  /** Its level, when there is a requirement. */
  readonly level: Level | undefined;
  /** What went wrong. */
  readonly message: string;
  /** Who found it: the case's client, the validator, or the runner (a timeout, a crash). */
  readonly source: 'client' | 'validator' | 'runner';
}

/** The result of one case. */
export interface CaseResult {
  readonly id: string;
  /** The file the case comes from, such as `environ`. */
  readonly section: string;
  readonly description: string;
  readonly requirements: readonly RequirementId[];
  readonly status: CaseStatus;
  /** The first failure's requirement, for a failed case. */
  readonly requirement?: RequirementId | undefined;
  /** Why it failed, first cause first. */
  readonly failures: readonly Failure[];
  /**
   * SHOULD-level findings of the validator about requirements the case does not cite;
   * in the application battery, also errors the server caught from the application
   * (they name no requirement: an application may fail, within the contract).
   */
  readonly warnings: readonly Failure[];
  /** The capabilities the server lacks, for a case that is not applicable. */
  readonly missing?: readonly Capability[] | undefined;
  readonly ms: number;
}

/** Counts of cases, or of requirements, by outcome. */
export interface Tally {
  pass: number;
  fail: number;
  'n/a': number;
  skipped: number;
}

/** Counts of requirements by outcome: a {@link Tally}, and those left unproven. */
export interface LevelTally extends Tally {
  unproven: number;
}

/**
 * A requirement's outcome over every case that cites it: `fail` when a failure names it,
 * `pass` when a case citing it passed, `unproven` when every case citing it failed for
 * another reason before it was checked, else `n/a` or `skipped` as its cases were.
 */
export interface RequirementResult {
  readonly id: RequirementId;
  readonly level: Level;
  readonly status: CaseStatus | 'unproven';
  /** The cases that cite it. */
  readonly cases: readonly string[];
}

/** What `runServerConformance()` and `runAppConformance()` resolve to. Plain data: `JSON.stringify` it as it is. */
export interface ConformanceReport {
  /** `server` for a server run, `application` or `middleware` for the battery. */
  readonly kind: 'server' | 'application' | 'middleware';
  /** The name of what was tested. */
  readonly name: string;
  /** The spec version the suite checks, `1.0`. */
  readonly spec: string;
  /** True when no case failed. */
  readonly ok: boolean;
  readonly capabilities: Readonly<Record<Capability, boolean>> | undefined;
  readonly results: readonly CaseResult[];
  /** Cases by outcome. */
  readonly totals: Tally;
  /** Requirements by level and outcome. */
  readonly levels: Readonly<Record<Level, LevelTally>>;
  readonly requirements: readonly RequirementResult[];
  readonly ms: number;
}
