import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  extensionEnv,
  FUNCTION_VERSION,
  functionArn,
  newSessionToken,
  regionOf,
  runtimeEnv,
} from './environment.js';
import {
  type EventType,
  EXTENSIONS_API_PREFIX,
  type ExtensionError,
  type ExtensionsHost,
  handleExtensionsApi,
  type RegisterOutcome,
} from './extensions-api.js';
import { sendError } from './http.js';
import { Mailbox } from './mailbox.js';
import { type ChildExit, describeExit, ManagedProcess, type SpawnOptions } from './process.js';
import { endLine, extensionLine, reportLine, startLine } from './report.js';
import {
  handleRuntimeApi,
  type PostOutcome,
  RUNTIME_API_PREFIX,
  RUNTIME_HEADERS,
  type RuntimeError,
  type RuntimeHost,
} from './runtime-api.js';
import {
  type CgroupSupport,
  type MemoryMethod,
  openSandbox,
  probeCgroups,
  type Sandbox,
  type SandboxMode,
} from './sandbox.js';

export type { MemoryMethod, SandboxMode } from './sandbox.js';

export interface LambdaEmulatorOptions {
  /** An extracted layer (what Lambda mounts at `/opt`): every file in its `extensions/` is started as an external extension. */
  layerDir: string;
  /** The function's code (what Lambda mounts at `/var/task`, `LAMBDA_TASK_ROOT`); the handler resolves relative to it. */
  functionDir: string;
  /**
   * `file.export`, the file relative to `functionDir`, with or without directories, `.js`, `.mjs` or `.cjs`,
   * ESM or CommonJS.
   * @example 'dist/index.handler'
   */
  handler: string;
  /** Extra environment for the extensions and the runtime (`AWS_ENDPOINT_URL_*`, `CACHE_EXTENSION_PORT=0`, …). */
  env?: Readonly<Record<string, string>>;
  /** @default 'local-function' */
  functionName?: string;
  /** @default 128 */
  memoryMb?: number;
  /** The function timeout. @default 3000 */
  timeoutMs?: number;
  /** Lambda's limit for the whole init phase. @default 10000 */
  initTimeoutMs?: number;
  /** Lambda's shutdown budget with external extensions; whatever still runs after it is killed. @default 2000 */
  shutdownTimeoutMs?: number;
  /** Every log line: extension and runtime output as written, and Lambda's START/END/REPORT/EXTENSION lines. */
  onLog?: (line: string) => void;
  /** Called when an extension's register request arrives, BEFORE it is answered (tests use it to check the extension already listens). */
  beforeRegisterResponse?: (ext: { name: string; pid: number | undefined }) => Promise<void>;
  /**
   * SIGSTOP the runtime and the extensions between invokes and SIGCONT them for the next event or
   * SHUTDOWN, as Lambda freezes an idle environment (timers do not fire, peers may drop idle sockets).
   * Nothing can reach an extension while it is frozen. @default false
   */
  freezeBetweenInvokes?: boolean;
  /**
   * How the sandbox (the runtime and the extensions, not the emulator) is measured and limited:
   * - `cgroup`: in a cgroup of its own (v1 or v2, needs root): Memory Size is the memory limit (going
   *   over is `Runtime.OutOfMemory` and a fresh init next time), Memory Size / 1769 MB of one vCPU after
   *   init, and `Max Memory Used` is the cgroup's peak. `create` rejects where no cgroup can be made.
   * - `pss`: no limits; `Max Memory Used` is the sum of the processes' PSS, sampled.
   * - `auto`: `cgroup` where the machine allows it, else `pss`.
   * The method in use is on `memoryMethod` of every result and in an `[emulator] sandbox:` log line.
   * @default 'auto'
   */
  sandbox?: SandboxMode;
  /**
   * Apply the CPU share (Memory Size / 1769 MB of a vCPU) during init too; on-demand Lambda inits at full
   * CPU (provisioned concurrency and SnapStart do not). Only with cgroups. @default false
   */
  cpuShareDuringInit?: boolean;
  /**
   * Limit the sandbox's CPU to the share of its Memory Size at all. Off, only its memory is limited and
   * measured, and it runs at the machine's CPU: for load that measures memory, which at 128 MB's share
   * would take minutes. Only with cgroups. @default true
   */
  cpuShare?: boolean;
  /**
   * The function's runtime: `nodejs`, this emulator's Node with its Node bootstrap (`_HANDLER` is
   * `file.export`); `python3`, `python3` from `PATH` with a Python bootstrap of the standard library only
   * (`_HANDLER` is `module.function`), for functions that bring no Node.js. @default 'nodejs'
   */
  runtime?: RuntimeKind;
}

export type RuntimeKind = 'nodejs' | 'python3';

export interface InvokeResult {
  requestId: string;
  ok: boolean;
  /** The parsed JSON response, or Lambda's error object `{ errorType, errorMessage, trace? }`. */
  payload: unknown;
  /** From the event's delivery to the runtime and every extension being done with it. */
  durationMs: number;
  /** Only on the invoke that initialised the environment. */
  initDurationMs?: number;
  /** The REPORT line. */
  report: string;
  /** `Max Memory Used` of the REPORT line: the sandbox's peak so far, in MB. */
  maxMemoryUsedMb: number;
  /** How `maxMemoryUsedMb` was measured: the sandbox's cgroup peak, or the sum of sampled PSS. */
  memoryMethod: MemoryMethod;
}

export interface ExtensionInfo {
  name: string;
  pid: number | undefined;
  registered: boolean;
  identifier?: string;
  exitCode: number | null;
  signal: string | null;
  initError?: { errorType: string; body: string };
  exitError?: { errorType: string; body: string };
}

export interface InitResult {
  ok: boolean;
  initDurationMs: number;
  error?: { errorType: string; message: string };
  /** The sandbox's peak memory so far, in MB (0 when nothing was started). */
  maxMemoryUsedMb: number;
  /** How `maxMemoryUsedMb` was measured. */
  memoryMethod: MemoryMethod;
}

/** The runtime process of the current (or last) environment. */
export interface RuntimeInfo {
  /** `undefined` until the runtime is started, which is after every extension registered. */
  pid: number | undefined;
  exitCode: number | null;
  signal: string | null;
}

export type ShutdownReason = 'spindown' | 'timeout' | 'failure';

export interface ShutdownResult {
  /** Each extension's exit code (`null` when it died from a signal). */
  exitCodes: Record<string, number | null>;
  /** Extensions (and `runtime`) still running at the deadline, hence SIGKILLed. */
  killed: string[];
  durationMs: number;
}

/** Why a phase failed, with Lambda's error type. */
class PhaseFailure extends Error {
  override readonly name = 'PhaseFailure';
  constructor(
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }
}

interface InvokeEvent {
  readonly eventType: 'INVOKE';
  readonly deadlineMs: number;
  readonly requestId: string;
  readonly invokedFunctionArn: string;
  readonly tracing: { readonly type: 'X-Amzn-Trace-Id'; readonly value: string };
}
interface ShutdownEvent {
  readonly eventType: 'SHUTDOWN';
  readonly shutdownReason: ShutdownReason;
  readonly deadlineMs: number;
}

interface Extension {
  readonly name: string;
  readonly path: string;
  process?: ManagedProcess;
  registering: boolean;
  registered: boolean;
  identifier?: string;
  events: readonly EventType[];
  /** Called `next` since its last event. */
  ready: boolean;
  readonly mailbox: Mailbox<InvokeEvent | ShutdownEvent>;
  initError?: ExtensionError;
  exitError?: ExtensionError;
}

interface Invocation {
  readonly requestId: string;
  readonly body: string;
  readonly deadlineMs: number;
  readonly traceId: string;
  outcome?:
    | { readonly kind: 'response'; readonly body: Buffer }
    | { readonly kind: 'error'; readonly error: RuntimeError };
}

interface Runtime {
  process?: ManagedProcess;
  ready: boolean;
  readonly mailbox: Mailbox<Invocation>;
  initError?: RuntimeError;
}

/** One execution environment: a set of processes from init to reset. */
interface Generation {
  readonly extensions: Extension[];
  readonly runtime: Runtime;
  /** Registration closes when the runtime starts. */
  registrationOpen: boolean;
  stopping: boolean;
  /** Set by the first stop; later stops of the same environment wait for it. */
  stopped?: Promise<Omit<ShutdownResult, 'durationMs'>>;
  /** The first thing that went wrong; fails whatever phase is running or comes next. */
  failure?: PhaseFailure;
  current?: Invocation;
  frozen: boolean;
  readonly sandbox: Sandbox;
}

const MAX_LOG_LINES = 10_000;
const MAX_EXTENSIONS = 10;
const KILL_GRACE_MS = 1_000;
/** Lambda's error type when the sandbox runs out of memory. */
const OUT_OF_MEMORY = 'Runtime.OutOfMemory';

function resolveBootstrap(): string {
  const sibling = fileURLToPath(new URL('./bootstrap.js', import.meta.url));
  if (existsSync(sibling)) return sibling;
  // Running from the TypeScript sources (the unit tests): the runtime is a separate Node process, so it
  // needs the compiled bootstrap.
  const built = fileURLToPath(new URL('../../dist/lambda/bootstrap.js', import.meta.url));
  if (existsSync(built)) return built;
  throw new Error(`the Node runtime bootstrap is missing (${sibling}); build @lambda-cache/local first`);
}

/** The Python bootstrap: beside the compiled emulator (the build copies it there), else in the sources. */
function resolvePythonBootstrap(): string {
  for (const candidate of ['./python-bootstrap.py', '../../src/lambda/python-bootstrap.py']) {
    const file = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(file)) return file;
  }
  throw new Error('the Python runtime bootstrap (python-bootstrap.py) is missing');
}

function traceId(): string {
  const epoch = Math.floor(Date.now() / 1000).toString(16);
  return `Root=1-${epoch}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(2);
}

function parsePayload(body: Buffer): unknown {
  const text = body.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The message of an extension's error post: its `errorMessage` when the body is Lambda's shape, else the text. */
function errorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Not JSON: the body is the message.
  }
  return body.trim() === '' ? '(no details)' : body;
}

/** Resolves once `/proc/<pid>/stat` shows the process stopped (or gone), at most after 1 s; at once off Linux. */
async function stopped(pid: number | undefined): Promise<void> {
  if (pid === undefined || process.platform !== 'linux') return;
  for (let waited = 0; waited < 1_000; waited += 5) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
    const state = stat?.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === undefined || state === 'T' || state === 't' || state === 'Z' || state === 'X') return;
    await delay(5);
  }
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * A local Lambda execution environment: the Runtime API and the Extensions API on `127.0.0.1`, the
 * layer's extensions and a Node runtime as real child processes, and Lambda's init → invoke → shutdown
 * phases with their limits.
 *
 * @example
 * const lambda = await LambdaEmulator.create({ layerDir, functionDir, handler: 'index.handler', onLog: console.log });
 * const { payload } = await lambda.invoke({ hello: 'world' });
 * await lambda.shutdown();
 */
export class LambdaEmulator {
  readonly runtimeApi: string;
  readonly #server: Server;
  readonly #opts: Required<Omit<LambdaEmulatorOptions, 'onLog' | 'beforeRegisterResponse' | 'env'>> &
    Pick<LambdaEmulatorOptions, 'onLog' | 'beforeRegisterResponse'>;
  readonly #cgroups: CgroupSupport | undefined;
  readonly #env: Readonly<Record<string, string>>;
  readonly #sessionToken: string;
  readonly #bootstrap: string;
  readonly #arn: string;
  readonly #logs: string[] = [];
  readonly #logWaiters = new Set<{ readonly test: (line: string) => void; readonly cancel: () => void }>();
  readonly #waiters = new Set<() => void>();
  #generation: Generation | undefined;
  #initialized = false;
  #initPromise: Promise<InitResult> | undefined;
  /** Reported on the REPORT line of the first invoke after an init. */
  #pendingInitDurationMs: number | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #shutdown: Promise<ShutdownResult> | undefined;
  #closed = false;
  readonly #extensionsHost: ExtensionsHost = {
    register: (request) => this.#register(request),
    next: (identifier, res) => this.#extensionNext(identifier, res),
    initError: (identifier, error) => this.#extensionInitError(identifier, error),
    exitError: (identifier, error) => this.#extensionExitError(identifier, error),
  };
  readonly #runtimeHost: RuntimeHost = {
    next: (res) => this.#runtimeNext(res),
    response: (requestId, body) => this.#answer(requestId, { kind: 'response', body }),
    error: (requestId, error) => this.#answer(requestId, { kind: 'error', error }),
    initError: (error) => this.#runtimeInitError(error),
  };

  private constructor(
    server: Server,
    opts: LambdaEmulatorOptions,
    bootstrap: string,
    cgroups: CgroupSupport | undefined,
  ) {
    this.#server = server;
    this.#cgroups = cgroups;
    const address = server.address() as AddressInfo;
    this.runtimeApi = `127.0.0.1:${address.port}`;
    this.#opts = {
      layerDir: resolve(opts.layerDir),
      functionDir: resolve(opts.functionDir),
      handler: opts.handler,
      functionName: opts.functionName ?? 'local-function',
      memoryMb: opts.memoryMb ?? 128,
      timeoutMs: opts.timeoutMs ?? 3000,
      initTimeoutMs: opts.initTimeoutMs ?? 10_000,
      shutdownTimeoutMs: opts.shutdownTimeoutMs ?? 2_000,
      freezeBetweenInvokes: opts.freezeBetweenInvokes ?? false,
      sandbox: opts.sandbox ?? 'auto',
      cpuShareDuringInit: opts.cpuShareDuringInit ?? false,
      cpuShare: opts.cpuShare ?? true,
      runtime: opts.runtime ?? 'nodejs',
      onLog: opts.onLog,
      beforeRegisterResponse: opts.beforeRegisterResponse,
    };
    this.#env = { ...(opts.env ?? {}) };
    this.#sessionToken = this.#env.AWS_SESSION_TOKEN ?? newSessionToken();
    this.#bootstrap = bootstrap;
    this.#arn = functionArn(regionOf(this.#env), this.#opts.functionName);
  }

  /** Starts the API server on `127.0.0.1:0`; spawns nothing until {@link init} or {@link invoke}. */
  static async create(opts: LambdaEmulatorOptions): Promise<LambdaEmulator> {
    const runtime = opts.runtime ?? 'nodejs';
    if (runtime !== 'nodejs' && runtime !== 'python3') {
      throw new Error(`runtime must be 'nodejs' or 'python3', got "${String(runtime)}"`);
    }
    const bootstrap = runtime === 'python3' ? resolvePythonBootstrap() : resolveBootstrap();
    const functionDir = await stat(opts.functionDir).catch(() => undefined);
    if (!functionDir?.isDirectory()) throw new Error(`functionDir is not a directory: ${opts.functionDir}`);
    const layerDir = await stat(opts.layerDir).catch(() => undefined);
    if (!layerDir?.isDirectory()) throw new Error(`layerDir is not a directory: ${opts.layerDir}`);
    if (!/^(?:[^/]+\/)*[^/.]+\.[^/]+$/.test(opts.handler)) {
      throw new Error(`handler must look like "file.export" (e.g. "index.handler"), got "${opts.handler}"`);
    }
    const mode = opts.sandbox ?? 'auto';
    if (!['auto', 'cgroup', 'pss'].includes(mode)) {
      throw new Error(`sandbox must be 'auto', 'cgroup' or 'pss', got "${String(mode)}"`);
    }
    const cgroups = mode === 'pss' ? undefined : await probeCgroups();
    if (mode === 'cgroup' && cgroups?.ok !== true) {
      throw new Error(
        `sandbox 'cgroup' is not possible here: ${cgroups?.ok === false ? cgroups.reason : ''}`,
      );
    }
    let emulator: LambdaEmulator | undefined;
    const server = createServer((req, res) => {
      if (emulator === undefined) {
        sendError(res, 503, 'ServiceUnavailable', 'starting');
        return;
      }
      emulator.#route(req, res).catch((error: unknown) => {
        if (!res.headersSent) sendError(res, 500, 'InternalFailure', String(error));
        else res.destroy();
      });
    });
    // The runtime and the extensions hold long polls and reuse their sockets for as long as the environment
    // lives (frozen or not); an idle timeout would only race their next request. Shutdown closes them all.
    server.keepAliveTimeout = 0;
    server.requestTimeout = 0;
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolveListen();
      });
    });
    emulator = new LambdaEmulator(server, opts, bootstrap, cgroups);
    return emulator;
  }

  /**
   * The environment's `AWS_SESSION_TOKEN` (from `env`, or random per emulator): what a caller outside the
   * function sends as `X-Aws-Parameters-Secrets-Token` to reach an extension that checks it.
   */
  get sessionToken(): string {
    return this.#sessionToken;
  }

  /** The last log lines (at most 10 000). */
  get logs(): readonly string[] {
    return this.#logs;
  }

  /** The extensions of the current (or last) environment. */
  get extensions(): readonly ExtensionInfo[] {
    return (this.#generation?.extensions ?? []).map((ext) => ({
      name: ext.name,
      pid: ext.process?.pid,
      registered: ext.registered,
      ...(ext.identifier !== undefined ? { identifier: ext.identifier } : {}),
      exitCode: ext.process?.exit?.code ?? null,
      signal: ext.process?.exit?.signal ?? null,
      ...(ext.initError !== undefined ? { initError: { ...ext.initError } } : {}),
      ...(ext.exitError !== undefined ? { exitError: { ...ext.exitError } } : {}),
    }));
  }

  /**
   * The runtime of the current (or last) environment; its `pid` stays `undefined` until the emulator starts
   * it, which is only once every extension has registered.
   */
  get runtime(): RuntimeInfo {
    const proc = this.#generation?.runtime.process;
    return { pid: proc?.pid, exitCode: proc?.exit?.code ?? null, signal: proc?.exit?.signal ?? null };
  }

  /**
   * How the current (or last) environment is measured, and its cgroup directories (one per controller in
   * cgroup v1, one in v2; none with PSS). `undefined` before the first init.
   */
  get sandbox(): { method: MemoryMethod; cgroupDirs: readonly string[] } | undefined {
    const sandbox = this.#generation?.sandbox;
    return sandbox === undefined ? undefined : { method: sandbox.method, cgroupDirs: sandbox.cgroupDirs };
  }

  /** Resolves on the first matching line, past (still in {@link logs}) or future; rejects after `timeoutMs`. */
  waitForLog(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    const test = (line: string): RegExpMatchArray | null => {
      pattern.lastIndex = 0;
      return line.match(pattern);
    };
    for (const line of this.#logs) {
      const match = test(line);
      if (match !== null) return Promise.resolve(match);
    }
    if (this.#closed) {
      return Promise.reject(new Error(`no log line matched ${pattern} and the emulator is shut down`));
    }
    return new Promise((resolveMatch, reject) => {
      const fail = (why: string): void => {
        clearTimeout(timer);
        this.#logWaiters.delete(waiter);
        const tail = this.#logs.slice(-20).join('\n');
        reject(new Error(`no log line matched ${pattern} ${why}; last lines:\n${tail}`));
      };
      const waiter = {
        test: (line: string): void => {
          const match = test(line);
          if (match === null) return;
          clearTimeout(timer);
          this.#logWaiters.delete(waiter);
          resolveMatch(match);
        },
        cancel: () => fail('before the emulator shut down'),
      };
      const timer = setTimeout(() => fail(`within ${timeoutMs} ms`), timeoutMs);
      this.#logWaiters.add(waiter);
    });
  }

  /**
   * The init phase: start the extensions, wait until every one registered, start the runtime, wait until
   * the runtime and every extension ask for their first event. A failure resets the environment (its
   * processes are stopped) and the next invoke initialises again, as Lambda does.
   */
  init(): Promise<InitResult> {
    if (this.#shutdown !== undefined) return Promise.reject(new Error('the emulator was shut down'));
    if (this.#initialized) {
      const sandbox = this.#generation!.sandbox;
      return sandbox.maxMemoryUsedMb().then((maxMemoryUsedMb) => ({
        ok: true,
        initDurationMs: 0,
        maxMemoryUsedMb,
        memoryMethod: sandbox.method,
      }));
    }
    this.#initPromise ??= this.#init().finally(() => {
      this.#initPromise = undefined;
    });
    return this.#initPromise;
  }

  /** One invoke, after an on-demand init when needed. Invokes run one at a time, as in one Lambda environment. */
  invoke(event: unknown, opts: { timeoutMs?: number } = {}): Promise<InvokeResult> {
    const run = this.#queue.then(() => this.#invoke(event, opts.timeoutMs ?? this.#opts.timeoutMs));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * The shutdown phase: SIGTERM to the runtime, a SHUTDOWN event to every extension registered for it,
   * SIGKILL for whatever still runs after `shutdownTimeoutMs`; then the API server closes. Idempotent.
   */
  shutdown(reason: ShutdownReason = 'spindown'): Promise<ShutdownResult> {
    this.#shutdown ??= (async () => {
      const started = performance.now();
      const generation = this.#generation;
      if (generation !== undefined && generation.failure === undefined) {
        generation.failure = new PhaseFailure('Sandbox.Shutdown', 'the environment is shutting down');
      }
      this.#notify();
      const stopped = await this.#stop(reason);
      this.#server.close();
      this.#server.closeAllConnections();
      this.#closed = true;
      for (const waiter of [...this.#logWaiters]) waiter.cancel();
      return { ...stopped, durationMs: performance.now() - started };
    })();
    return this.#shutdown;
  }

  // ---- phases ----

  async #init(): Promise<InitResult> {
    const started = performance.now();
    const deadline = started + this.#opts.initTimeoutMs;
    const remaining = (): number => Math.max(0, deadline - performance.now());
    const generation = await this.#newGeneration();
    const { sandbox } = generation;
    if (this.#shutdown !== undefined) {
      // shutdown() was called while the layer was being listed: start nothing.
      generation.stopping = true;
      await sandbox.dispose();
      return {
        ok: false,
        initDurationMs: 0,
        error: { errorType: 'Sandbox.Shutdown', message: 'the emulator was shut down' },
        maxMemoryUsedMb: 0,
        memoryMethod: sandbox.method,
      };
    }
    try {
      if (generation.extensions.length > MAX_EXTENSIONS) {
        // https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html: 10 extensions per function.
        throw new PhaseFailure(
          'Extension.TooManyExtensions',
          `${generation.extensions.length} extensions found in extensions/, Lambda allows ${MAX_EXTENSIONS}`,
        );
      }
      for (const ext of generation.extensions) this.#spawnExtension(generation, ext);
      await this.#waitFor(
        generation,
        remaining(),
        () =>
          new PhaseFailure(
            'Sandbox.Timedout',
            `init timed out after ${seconds(this.#opts.initTimeoutMs)} seconds: not registered: ${generation.extensions
              .filter((ext) => !ext.registered)
              .map((ext) => ext.name)
              .join(', ')}`,
          ),
        () => generation.extensions.every((ext) => ext.registered),
      );
      generation.registrationOpen = false;
      this.#spawnRuntime(generation);
      await this.#waitFor(
        generation,
        remaining(),
        () => {
          const waiting = generation.extensions.filter((ext) => !ext.ready).map((ext) => ext.name);
          if (!generation.runtime.ready) waiting.unshift('the runtime');
          return new PhaseFailure(
            'Sandbox.Timedout',
            `init timed out after ${seconds(this.#opts.initTimeoutMs)} seconds waiting for ${waiting.join(', ')}`,
          );
        },
        () => generation.runtime.ready && generation.extensions.every((ext) => ext.ready),
      );
      const initDurationMs = performance.now() - started;
      // On-demand init runs at full CPU; the invokes get Memory Size's share of a vCPU.
      await sandbox.endInit();
      this.#logExtensionStates(generation);
      this.#initialized = true;
      this.#pendingInitDurationMs = initDurationMs;
      const maxMemoryUsedMb = await sandbox.maxMemoryUsedMb();
      await this.#freeze(generation);
      return { ok: true, initDurationMs, maxMemoryUsedMb, memoryMethod: sandbox.method };
    } catch (error) {
      const failure = this.#asFailure(generation, error);
      const initDurationMs = performance.now() - started;
      this.#logExtensionStates(generation);
      this.#log(
        `INIT_REPORT Init Duration: ${initDurationMs.toFixed(2)} ms\tPhase: init\tStatus: error\tError Type: ${failure.errorType}`,
      );
      this.#log(`[emulator] init failed: ${failure.message}`);
      const maxMemoryUsedMb = await sandbox.maxMemoryUsedMb();
      await this.#stop('failure');
      return {
        ok: false,
        initDurationMs,
        error: { errorType: failure.errorType, message: failure.message },
        maxMemoryUsedMb,
        memoryMethod: sandbox.method,
      };
    }
  }

  async #invoke(event: unknown, timeoutMs: number): Promise<InvokeResult> {
    if (this.#shutdown !== undefined) throw new Error('the emulator was shut down');
    if (this.#initialized && this.#generation?.failure !== undefined) {
      // A process died between invokes: Lambda replaces the environment.
      this.#log(`[emulator] resetting the environment: ${this.#generation.failure.message}`);
      await this.#stop('failure');
    }
    const requestId = randomUUID();
    if (!this.#initialized) {
      const init = await this.init();
      if (!init.ok) {
        const payload = {
          errorType: init.error?.errorType ?? 'Runtime.Unknown',
          errorMessage: init.error?.message ?? '',
        };
        const report = reportLine({
          requestId,
          durationMs: 0,
          memorySizeMb: this.#opts.memoryMb,
          maxMemoryUsedMb: init.maxMemoryUsedMb,
          initDurationMs: init.initDurationMs,
          status: 'error',
          errorType: payload.errorType,
        });
        this.#log(startLine(requestId, FUNCTION_VERSION));
        this.#log(endLine(requestId));
        this.#log(report);
        return {
          requestId,
          ok: false,
          payload,
          durationMs: 0,
          initDurationMs: init.initDurationMs,
          report,
          maxMemoryUsedMb: init.maxMemoryUsedMb,
          memoryMethod: init.memoryMethod,
        };
      }
    }
    const generation = this.#generation!;
    const initDurationMs = this.#pendingInitDurationMs;
    this.#pendingInitDurationMs = undefined;

    const deadlineMs = Date.now() + timeoutMs;
    const invocation: Invocation = {
      requestId,
      body: JSON.stringify(event) ?? 'null',
      deadlineMs,
      traceId: traceId(),
    };
    this.#log(startLine(requestId, FUNCTION_VERSION));
    this.#thaw(generation);
    const started = performance.now();
    generation.current = invocation;
    for (const ext of generation.extensions) {
      if (!ext.events.includes('INVOKE')) continue;
      ext.ready = false;
      ext.mailbox.post({
        eventType: 'INVOKE',
        deadlineMs,
        requestId,
        invokedFunctionArn: this.#arn,
        tracing: { type: 'X-Amzn-Trace-Id', value: invocation.traceId },
      });
    }
    generation.runtime.ready = false;
    generation.runtime.mailbox.post(invocation);

    let failure: PhaseFailure | undefined;
    try {
      await this.#waitFor(
        generation,
        timeoutMs,
        () =>
          new PhaseFailure(
            'Sandbox.Timedout',
            `RequestId: ${requestId} Error: Task timed out after ${seconds(timeoutMs)} seconds`,
          ),
        () =>
          invocation.outcome !== undefined &&
          generation.runtime.ready &&
          generation.extensions.every((ext) => ext.ready || !ext.events.includes('INVOKE')),
      );
    } catch (error) {
      failure = this.#asFailure(generation, error);
    }
    const durationMs = performance.now() - started;
    generation.current = undefined;
    const { sandbox } = generation;
    const maxMemory = await sandbox.maxMemoryUsedMb();
    if (sandbox.method === 'pss' && maxMemory > this.#opts.memoryMb) {
      this.#log(
        `[emulator] Max Memory Used (${maxMemory} MB, PSS) is over Memory Size (${this.#opts.memoryMb} MB): on Lambda this invoke would end with Runtime.OutOfMemory`,
      );
    }

    let ok: boolean;
    let payload: unknown;
    if (failure === undefined && invocation.outcome?.kind === 'response') {
      ok = true;
      payload = parsePayload(invocation.outcome.body);
    } else if (invocation.outcome?.kind === 'error' && failure?.errorType !== 'Sandbox.Timedout') {
      // Also when the runtime exits right after posting it (an unhandled rejection): the error it
      // posted says more than "the runtime exited".
      ok = false;
      payload = invocation.outcome.error;
    } else {
      ok = false;
      payload = {
        errorType: failure?.errorType ?? 'Runtime.Unknown',
        // Lambda's text for a sandbox killed for its memory names the request.
        errorMessage:
          failure?.errorType === OUT_OF_MEMORY
            ? `RequestId: ${requestId} Error: ${failure.message}`
            : (failure?.message ?? 'unknown'),
      };
      if (failure?.errorType === 'Sandbox.Timedout') {
        this.#log(
          `${new Date().toISOString()} ${requestId} Task timed out after ${seconds(timeoutMs)} seconds`,
        );
      } else {
        this.#log(`RequestId: ${requestId} Error: ${failure?.message ?? 'unknown'}`);
        this.#log(failure?.errorType ?? 'Runtime.Unknown');
      }
    }
    this.#log(endLine(requestId));
    const report = reportLine({
      requestId,
      durationMs,
      memorySizeMb: this.#opts.memoryMb,
      maxMemoryUsedMb: maxMemory,
      ...(initDurationMs !== undefined ? { initDurationMs } : {}),
      ...(failure !== undefined
        ? failure.errorType === 'Sandbox.Timedout'
          ? { status: 'timeout' }
          : { status: 'error', errorType: failure.errorType }
        : {}),
    });
    this.#log(report);
    if (failure !== undefined && this.#shutdown === undefined) {
      // The environment is in an unknown state: Lambda resets it, and the next invoke initialises again.
      await this.#stop(failure.errorType === 'Sandbox.Timedout' ? 'timeout' : 'failure');
    } else if (failure === undefined) {
      await this.#freeze(generation);
    }
    return {
      requestId,
      ok,
      payload,
      durationMs,
      ...(initDurationMs !== undefined ? { initDurationMs } : {}),
      report,
      maxMemoryUsedMb: maxMemory,
      memoryMethod: sandbox.method,
    };
  }

  /** Stops every process of the current environment; after it the environment needs a new init. */
  #stop(reason: ShutdownReason): Promise<Omit<ShutdownResult, 'durationMs'>> {
    this.#initialized = false;
    this.#pendingInitDurationMs = undefined;
    const generation = this.#generation;
    if (generation === undefined) return Promise.resolve({ exitCodes: {}, killed: [] });
    generation.stopped ??= this.#stopGeneration(generation, reason);
    return generation.stopped;
  }

  async #stopGeneration(
    generation: Generation,
    reason: ShutdownReason,
  ): Promise<Omit<ShutdownResult, 'durationMs'>> {
    generation.stopping = true;
    this.#thaw(generation);
    generation.registrationOpen = false;
    const deadlineMs = Date.now() + this.#opts.shutdownTimeoutMs;
    const { runtime } = generation;
    runtime.process?.kill('SIGTERM');
    for (const ext of generation.extensions) {
      if (ext.process === undefined || ext.process.exit !== undefined) continue;
      if (ext.registered && ext.events.includes('SHUTDOWN')) {
        ext.ready = false;
        ext.mailbox.post({ eventType: 'SHUTDOWN', shutdownReason: reason, deadlineMs });
      } else {
        ext.process.kill('SIGTERM');
      }
    }
    const named: [string, ManagedProcess][] = generation.extensions
      .filter((ext): ext is Extension & { process: ManagedProcess } => ext.process !== undefined)
      .map((ext) => [ext.name, ext.process]);
    if (runtime.process !== undefined) named.push(['runtime', runtime.process]);

    const allExited = Promise.all(named.map(([, proc]) => proc.exited));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      allExited,
      new Promise<void>((resolveDeadline) => {
        timer = setTimeout(resolveDeadline, Math.max(0, deadlineMs - Date.now()));
      }),
    ]);
    clearTimeout(timer);
    const killed: string[] = [];
    for (const [name, proc] of named) {
      if (proc.exit === undefined) {
        killed.push(name);
        this.#log(
          `[emulator] ${name} still running ${this.#opts.shutdownTimeoutMs} ms after ${reason}: SIGKILL`,
        );
      }
      // Also reaps what a launcher left behind in its process group.
      proc.kill('SIGKILL');
    }
    await Promise.race([allExited, delay(KILL_GRACE_MS)]);
    runtime.mailbox.clear();
    for (const ext of generation.extensions) ext.mailbox.clear();
    this.#notify();
    const exitCodes: Record<string, number | null> = {};
    for (const ext of generation.extensions) exitCodes[ext.name] = ext.process?.exit?.code ?? null;
    // Also kills whatever escaped the process groups but not the cgroup.
    await generation.sandbox.dispose();
    return { exitCodes, killed };
  }

  // ---- processes ----

  #processes(generation: Generation): ManagedProcess[] {
    const all = [generation.runtime.process, ...generation.extensions.map((ext) => ext.process)];
    return all.filter((proc): proc is ManagedProcess => proc !== undefined && proc.exit === undefined);
  }

  async #freeze(generation: Generation): Promise<void> {
    if (!this.#opts.freezeBetweenInvokes || generation.frozen || process.platform === 'win32') return;
    generation.frozen = true;
    const processes = this.#processes(generation);
    for (const proc of processes) proc.kill('SIGSTOP');
    // A process stops only once it is scheduled again, which under the sandbox's CPU quota can be the next
    // period: the environment counts as frozen when every process is.
    await Promise.all(processes.map((proc) => stopped(proc.pid)));
  }

  #thaw(generation: Generation): void {
    if (!generation.frozen) return;
    generation.frozen = false;
    for (const proc of this.#processes(generation)) proc.kill('SIGCONT');
  }

  async #newGeneration(): Promise<Generation> {
    const dir = join(this.#opts.layerDir, 'extensions');
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    const names: string[] = [];
    for (const entry of entries) {
      if (entry.isFile()) names.push(entry.name);
      else if (
        entry.isSymbolicLink() &&
        (await stat(join(dir, entry.name)).catch(() => undefined))?.isFile()
      ) {
        names.push(entry.name);
      }
    }
    names.sort();
    // May throw when the sandbox must be a cgroup and none can be created now.
    const sandbox = await openSandbox(this.#opts.sandbox, this.#cgroups, {
      memoryMb: this.#opts.memoryMb,
      cpuShareDuringInit: this.#opts.cpuShareDuringInit,
      cpuShare: this.#opts.cpuShare,
    });
    this.#log(`[emulator] ${sandbox.description}`);
    const generation: Generation = {
      extensions: names.map((name) => {
        const ext: Extension = {
          name,
          path: join(dir, name),
          registering: false,
          registered: false,
          events: [],
          ready: false,
          mailbox: new Mailbox((res, event) => this.#deliverExtensionEvent(res, event)),
        };
        return ext;
      }),
      runtime: {
        ready: false,
        mailbox: new Mailbox((res, invocation) => this.#deliverInvocation(res, invocation)),
      },
      registrationOpen: true,
      stopping: false,
      frozen: false,
      sandbox,
    };
    this.#generation = generation;
    return generation;
  }

  #environmentInput() {
    return {
      runtimeApi: this.runtimeApi,
      functionName: this.#opts.functionName,
      memoryMb: this.#opts.memoryMb,
      layerDir: this.#opts.layerDir,
      functionDir: this.#opts.functionDir,
      handler: this.#opts.handler,
      runtimeDir: dirname(this.#bootstrap),
      sessionToken: this.#sessionToken,
      extra: this.#env,
    };
  }

  #spawnExtension(generation: Generation, ext: Extension): void {
    const proc = new ManagedProcess({
      command: ext.path,
      env: extensionEnv(this.#environmentInput()),
      // Lambda documents no working directory for extensions; the function's directory is the one a
      // relative path in an extension most plausibly means, and it exists on every machine.
      cwd: this.#opts.functionDir,
      onLine: (line) => this.#log(line),
      ...this.#launcher(generation),
    });
    ext.process = proc;
    generation.sandbox.add(proc.pid);
    void proc.exited.then((exit) => {
      if (generation.stopping) return;
      const what = `extension ${ext.name} ${describeExit(exit)}`;
      this.#log(`[emulator] ${what}`);
      if (generation.failure === undefined && this.#outOfMemory(generation, exit)) {
        generation.failure = new PhaseFailure(OUT_OF_MEMORY, 'Runtime exited with error: signal: killed');
      }
      if (generation.failure === undefined) {
        const initError = ext.initError;
        generation.failure =
          initError !== undefined
            ? new PhaseFailure(
                initError.errorType,
                `extension ${ext.name} failed to init (${initError.errorType}): ${errorText(initError.body)}`,
              )
            : exit.spawnError !== undefined
              ? new PhaseFailure('Extension.LaunchError', what)
              : new PhaseFailure('Extension.Crash', what);
      }
      this.#notify();
    });
  }

  #spawnRuntime(generation: Generation): void {
    const python = this.#opts.runtime === 'python3';
    const env = runtimeEnv(this.#environmentInput());
    if (python) env.AWS_EXECUTION_ENV = 'AWS_Lambda_python3';
    const proc = new ManagedProcess({
      // Unbuffered, so print() lines reach the log as they are written, as in Lambda.
      ...(python
        ? { command: 'python3', args: ['-u', this.#bootstrap] }
        : { command: process.execPath, args: [this.#bootstrap] }),
      env,
      cwd: this.#opts.functionDir,
      onLine: (line) => this.#log(line),
      ...this.#launcher(generation),
    });
    generation.runtime.process = proc;
    generation.sandbox.add(proc.pid);
    void proc.exited.then((exit) => {
      if (generation.stopping) return;
      this.#log(`[emulator] the runtime ${describeExit(exit)}`);
      if (generation.failure === undefined && this.#outOfMemory(generation, exit)) {
        generation.failure = new PhaseFailure(OUT_OF_MEMORY, 'Runtime exited with error: signal: killed');
      }
      if (generation.failure === undefined) {
        const initError = generation.runtime.initError;
        generation.failure =
          initError !== undefined
            ? new PhaseFailure(initError.errorType, initError.errorMessage)
            : new PhaseFailure('Runtime.ExitError', `Runtime exited: the runtime ${describeExit(exit)}`);
      }
      this.#notify();
    });
  }

  /** Starts processes inside the generation's cgroup, when it has one. */
  #launcher(generation: Generation): Pick<SpawnOptions, 'launch'> {
    const { sandbox } = generation;
    return sandbox.method === 'cgroup' ? { launch: (command, args) => sandbox.launch(command, args) } : {};
  }

  /** A SIGKILL from the kernel's OOM killer: the sandbox went over Memory Size. */
  #outOfMemory(generation: Generation, exit: ChildExit): boolean {
    if (exit.signal !== 'SIGKILL' || !generation.sandbox.outOfMemory()) return false;
    this.#log(
      `[emulator] the sandbox went over its memory limit (${this.#opts.memoryMb} MB): the kernel killed a process`,
    );
    return true;
  }

  #deliverExtensionEvent(res: ServerResponse, event: InvokeEvent | ShutdownEvent): void {
    const body = JSON.stringify(event);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  #deliverInvocation(res: ServerResponse, invocation: Invocation): void {
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(invocation.body),
      [RUNTIME_HEADERS.requestId]: invocation.requestId,
      [RUNTIME_HEADERS.deadlineMs]: String(invocation.deadlineMs),
      [RUNTIME_HEADERS.functionArn]: this.#arn,
      [RUNTIME_HEADERS.traceId]: invocation.traceId,
    });
    res.end(invocation.body);
  }

  // ---- what the APIs' calls mean (extensions-api.ts and runtime-api.ts speak the HTTP) ----

  async #register(request: {
    name: string;
    events: readonly EventType[];
    acceptFeatures: readonly string[];
  }): Promise<RegisterOutcome> {
    const generation = this.#generation;
    if (generation === undefined || !generation.registrationOpen) {
      return {
        ok: false,
        status: 403,
        errorType: 'Extension.RegistrationClosed',
        message: 'registration is closed once the runtime started',
      };
    }
    const ext = generation.extensions.find((candidate) => candidate.name === request.name);
    if (ext === undefined) {
      const valid = generation.extensions.map((candidate) => candidate.name).join(', ');
      const message = `an extension registered as "${request.name}", but Lambda-Extension-Name must be the file name of an executable in extensions/ (${valid || 'none'})`;
      generation.failure ??= new PhaseFailure('Extension.UnknownExtension', message);
      this.#log(`[emulator] ${message}`);
      this.#notify();
      return { ok: false, status: 403, errorType: 'Extension.UnknownExtension', message };
    }
    if (ext.registering || ext.registered) {
      return {
        ok: false,
        status: 403,
        errorType: 'Extension.AlreadyRegistered',
        message: `${ext.name} is already registered`,
      };
    }
    ext.registering = true;
    if (this.#opts.beforeRegisterResponse !== undefined) {
      try {
        await this.#opts.beforeRegisterResponse({ name: ext.name, pid: ext.process?.pid });
      } catch (error) {
        this.#log(`[emulator] beforeRegisterResponse failed for ${ext.name}: ${String(error)}`);
      }
    }
    if (this.#generation !== generation || !generation.registrationOpen) {
      return {
        ok: false,
        status: 403,
        errorType: 'Extension.RegistrationClosed',
        message: 'the environment was reset',
      };
    }
    ext.identifier = randomUUID();
    ext.events = request.events;
    ext.registered = true;
    this.#notify();
    const body: Record<string, string> = {
      functionName: this.#opts.functionName,
      functionVersion: FUNCTION_VERSION,
      handler: this.#opts.handler,
    };
    if (request.acceptFeatures.includes('accountId')) body.accountId = '000000000000';
    return { ok: true, identifier: ext.identifier, body };
  }

  #extensionById(identifier: string): Extension | undefined {
    return this.#generation?.extensions.find((ext) => ext.registered && ext.identifier === identifier);
  }

  #extensionNext(identifier: string, res: ServerResponse): boolean {
    const ext = this.#extensionById(identifier);
    if (ext === undefined) return false;
    if (ext.mailbox.queued === 0) ext.ready = true;
    ext.mailbox.take(res);
    this.#notify();
    return true;
  }

  #extensionInitError(identifier: string, error: ExtensionError): boolean {
    const ext = this.#extensionById(identifier);
    const generation = this.#generation;
    if (ext === undefined || generation === undefined) return false;
    ext.initError = error;
    this.#log(`[emulator] extension ${ext.name} reported init error ${error.errorType}`);
    generation.failure ??= new PhaseFailure(
      error.errorType,
      `extension ${ext.name} failed to init (${error.errorType}): ${errorText(error.body)}`,
    );
    this.#notify();
    return true;
  }

  #extensionExitError(identifier: string, error: ExtensionError): boolean {
    const ext = this.#extensionById(identifier);
    const generation = this.#generation;
    if (ext === undefined || generation === undefined) return false;
    ext.exitError = error;
    this.#log(`[emulator] extension ${ext.name} reported exit error ${error.errorType}`);
    if (!generation.stopping) {
      generation.failure ??= new PhaseFailure(
        error.errorType,
        `extension ${ext.name} is exiting (${error.errorType}): ${errorText(error.body)}`,
      );
      this.#notify();
    }
    return true;
  }

  #runtimeNext(res: ServerResponse): void {
    const runtime = this.#generation?.runtime;
    if (runtime === undefined || runtime.process === undefined) {
      sendError(res, 403, 'InvalidStateTransition', 'no runtime was started');
      return;
    }
    if (runtime.mailbox.queued === 0) runtime.ready = true;
    runtime.mailbox.take(res);
    this.#notify();
  }

  #runtimeInitError(error: RuntimeError): void {
    const generation = this.#generation;
    if (generation === undefined) return;
    generation.runtime.initError = error;
    generation.failure ??= new PhaseFailure(error.errorType, error.errorMessage);
    this.#notify();
  }

  #answer(requestId: string, outcome: NonNullable<Invocation['outcome']>): PostOutcome {
    const current = this.#generation?.current;
    if (current === undefined || current.requestId !== requestId) return 'unknown-request';
    if (current.outcome !== undefined) return 'already-answered';
    current.outcome = outcome;
    this.#notify();
    return 'accepted';
  }

  // ---- plumbing ----

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (path.startsWith(EXTENSIONS_API_PREFIX)) {
      await handleExtensionsApi(req, res, path.slice(EXTENSIONS_API_PREFIX.length), this.#extensionsHost);
    } else if (path.startsWith(RUNTIME_API_PREFIX)) {
      await handleRuntimeApi(req, res, path.slice(RUNTIME_API_PREFIX.length), this.#runtimeHost);
    } else {
      sendError(res, 404, 'NotFound', `no such route: ${path}`);
    }
  }

  #log(line: string): void {
    this.#logs.push(line);
    if (this.#logs.length > MAX_LOG_LINES) this.#logs.splice(0, this.#logs.length - MAX_LOG_LINES);
    this.#opts.onLog?.(line);
    for (const waiter of [...this.#logWaiters]) waiter.test(line);
  }

  #logExtensionStates(generation: Generation): void {
    for (const ext of generation.extensions) {
      const state = ext.registered
        ? ext.initError !== undefined
          ? 'InitError'
          : ext.process?.exit !== undefined
            ? 'Crash'
            : 'Ready'
        : 'LaunchError';
      this.#log(extensionLine(ext.name, state, ext.events));
    }
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  /** Resolves when `done()` holds; rejects on the generation's first failure or after `timeoutMs`. */
  #waitFor(
    generation: Generation,
    timeoutMs: number,
    onTimeout: () => PhaseFailure,
    done: () => boolean,
  ): Promise<void> {
    return new Promise((resolveWait, reject) => {
      const check = (): void => {
        if (generation.failure !== undefined) {
          finish();
          reject(generation.failure);
        } else if (done()) {
          finish();
          resolveWait();
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(onTimeout());
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }

  #asFailure(generation: Generation, error: unknown): PhaseFailure {
    const failure =
      error instanceof PhaseFailure ? error : new PhaseFailure('Runtime.Unknown', String(error));
    generation.failure ??= failure;
    return failure;
  }
}
