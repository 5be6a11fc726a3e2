/**
 * The integration harness: the packaged layer, extracted once per zip content, started as a real child process
 * by the local Lambda emulator against local AWS backends, with a tiny HTTP helper to talk to it.
 *
 * @example
 * const stack = await startStack({ config: seedConfig, seed: seedData() });
 * const res = await stack.get(parameterPath('CacheExtensions_Parameter1'));
 * await stack.close();
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Backends,
  extractLayer,
  type InitResult,
  LambdaEmulator,
  type LambdaEmulatorOptions,
  type Seed,
  startBackends,
} from '@lambda-cache/local';
import { SEED_REGION, seedConfig, seedData } from './fixtures.js';

export const repoRoot: string = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Which packaged layer the stacks run: `LAMBDA_CACHE_TEST_LAYER=standalone` picks the standalone layer of
 * this machine's architecture (the extension under the runtime inside it, with no `node` on its `PATH`);
 * unset or `node`, the Node layer; a path to a `.zip`, that Node layer (an older build, to see a
 * reliability test fail against it).
 */
const layerSetting = process.env.LAMBDA_CACHE_TEST_LAYER ?? 'node';
export const layerKind: 'node' | 'standalone' = layerSetting === 'standalone' ? 'standalone' : 'node';
if (layerSetting !== 'node' && layerSetting !== 'standalone' && !layerSetting.endsWith('.zip')) {
  throw new Error(
    `LAMBDA_CACHE_TEST_LAYER must be node, standalone or a layer .zip, not ${JSON.stringify(layerSetting)}`,
  );
}

/** The standalone layer for an architecture, as `npm run package` writes it. */
export function standaloneZip(
  arch: 'x86_64' | 'arm64' = process.arch === 'arm64' ? 'arm64' : 'x86_64',
): string {
  return join(repoRoot, 'dist', `lambda-cache-standalone-${arch}.zip`);
}

/** Where `npm run package` writes the Node layer. */
export const nodeLayerZip: string = join(repoRoot, 'dist', 'lambda-cache-layer.zip');

/** The layer the stacks run (see {@link layerKind}). */
export const layerZip: string =
  layerKind === 'standalone'
    ? standaloneZip()
    : layerSetting.endsWith('.zip')
      ? resolve(layerSetting)
      : nodeLayerZip;

/** The few commands the launchers use, linked into a directory of their own: a `PATH` with no `node`. */
const LAUNCHER_COMMANDS = ['sh', 'dirname', 'basename', 'uname'];

let nodelessPath: Promise<string> | undefined;

/** A `PATH` for the extension without `node` on it, so the standalone layer cannot fall back to one. */
export function pathWithoutNode(): Promise<string> {
  nodelessPath ??= (async () => {
    const dir = join(tmpdir(), 'lambda-cache-test-path-without-node');
    await mkdir(dir, { recursive: true });
    const searched = (process.env.PATH ?? '').split(delimiter).filter((p) => p !== '');
    for (const command of LAUNCHER_COMMANDS) {
      const found = searched.map((p) => join(p, command)).find((f) => existsSync(f));
      if (found === undefined) throw new Error(`${command} is not on PATH`);
      await symlink(found, join(dir, command)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
    }
    return dir;
  })();
  return nodelessPath;
}

/** Lines no stack should ever print: stack frames, unhandled rejections, Node runtime warnings. */
const CRASH = /^\s+at .+:\d+:\d+\)?$|Unhandled|Uncaught|\(node:\d+\) \w*Warning/;

/** The line the extension prints once it listens; with port 0 it names the port it got. */
export const LISTENING = /\[lambda-cache\] listening on http:\/\/127\.0\.0\.1:(\d+)/;

/** The line the extension prints once it serves AWS's extension's routes on their own port, naming it. */
const AWS_LISTENING =
  /\[lambda-cache\] AWS Parameters and Secrets extension routes on http:\/\/127\.0\.0\.1:(\d+)/;

/** The variable that names the port of AWS's Parameters and Secrets extension. */
export const AWS_PORT_VAR = 'PARAMETERS_SECRETS_EXTENSION_HTTP_PORT';

/** The line the extension prints once it serves AWS's AppConfig extension's route on its own port. */
const APPCONFIG_LISTENING = /\[lambda-cache\] AWS AppConfig extension routes on http:\/\/127\.0\.0\.1:(\d+)/;

/** The variable that names the port of AWS's AppConfig extension. */
const APPCONFIG_PORT_VAR = 'AWS_APPCONFIG_EXTENSION_HTTP_PORT';

/** The port the first line matching `line` names. */
function portIn(logs: readonly string[], line: RegExp): number | undefined {
  for (const l of logs) {
    const m = line.exec(l);
    if (m) return Number(m[1]);
  }
  return undefined;
}

const extracted = new Map<string, Promise<string>>();

/**
 * A packaged layer (by default the one the stacks run), extracted once per zip content into a temp dir
 * that every test process shares (named by the zip's hash, so a rebuilt layer gets a new one and nothing
 * piles up run after run).
 */
export function layerDir(zip: string = layerZip): Promise<string> {
  let dir = extracted.get(zip);
  if (dir === undefined) {
    dir = extractOnce(zip);
    extracted.set(zip, dir);
  }
  return dir;
}

async function extractOnce(zip: string): Promise<string> {
  if (!existsSync(zip)) {
    throw new Error(
      `The packaged layer ${zip} is missing: run npm run package (or npm test) before the integration tests`,
    );
  }
  const hash = createHash('sha256')
    .update(await readFile(zip))
    .digest('hex')
    .slice(0, 16);
  const dir = join(tmpdir(), `lambda-cache-test-layer-${hash}`);
  if (existsSync(join(dir, 'extensions'))) return dir;
  // Extract beside it and rename into place: another test process may be doing the same right now.
  const scratch = await mkdtemp(join(tmpdir(), 'lambda-cache-test-layer-tmp-'));
  await extractLayer(zip, scratch);
  try {
    await rename(scratch, dir);
  } catch {
    await rm(scratch, { recursive: true, force: true });
    if (!existsSync(join(dir, 'extensions'))) throw new Error(`could not extract the layer into ${dir}`);
  }
  return dir;
}

/** A tiny handler for stacks that only exercise the extension. */
const DEFAULT_HANDLER_SOURCE = 'export const handler = async () => ({ ok: true });\n';

export interface StackOptions {
  /**
   * The layer zip to run; a standalone one runs with no `node` on the extension's `PATH`.
   * @default {@link layerZip}
   */
  layer?: string;
  /** `config.yaml` text, written into a temp function dir. @default the seed's config.yaml */
  config?: string;
  /** Data the local backends start with. @default the seed's parameter, secret and item */
  seed?: Seed;
  /** Extra environment for the extension and the function; overrides the harness's own. */
  env?: Record<string, string>;
  /** `true` awaits `lambda.init()`; `false` starts init and leaves it to the test (`stack.initDone`). @default true */
  init?: boolean;
  /** Use this function dir instead of a temp one (its config.yaml is not rewritten unless `config` is given). */
  functionDir?: string;
  /** Handler name in `functionDir`. @default a built-in handler that returns `{ ok: true }` */
  handler?: string;
  /** Passed to the emulator; runs before the emulator answers the extension's `register`. */
  beforeRegisterResponse?: (
    ext: { name: string; pid: number | undefined },
    ctx: RegisterContext,
  ) => void | Promise<void>;
  /** Reuse running backends (not closed by `close()`); `seed` is then only used for the log check. */
  backends?: Backends;
  /**
   * Values the seed does not hold that must not be logged either (a secret value written or rotated in,
   * a configuration deployed by the test): checked with the seed's own on every line the stack prints.
   */
  neverLogged?: readonly string[];
  /** Randomness of the backends' `throttleRate` and `failRate`; a seeded generator makes a run repeatable. */
  random?: () => number;
  /** Runs once the backends are up and before the extension starts, e.g. to inject faults into prefetch. */
  beforeStart?: (backends: Backends) => void | Promise<void>;
  /**
   * Listen on a concrete free port instead of 0, given to the extension and the function alike in
   * `CACHE_EXTENSION_PORT` (a function reaches the extension on the port both were configured with).
   * The port is picked here and could be taken before the extension binds it, so a start that fails with
   * `EADDRINUSE` is retried with another one.
   * @default false
   */
  fixedPort?: boolean;
  /**
   * Serve the AWS-compatible routes on a concrete free port, given to the extension and the function alike
   * in `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`: code written for AWS's extension finds it only there. The
   * port is picked here and could be taken before the extension binds it, so a start whose extension says
   * it could not listen on it is retried with another one.
   * @default false
   */
  fixedAwsPort?: boolean;
  /**
   * Serve the AppConfig agent's route on a concrete free port, given to the extension and the function alike
   * in `AWS_APPCONFIG_EXTENSION_HTTP_PORT`: code written for AWS's AppConfig extension finds it only there.
   * Retried with another port when the extension says it could not listen on the one picked, as
   * {@link fixedAwsPort}.
   * @default false
   */
  fixedAppConfigPort?: boolean;
  /** `false` lets a stack whose extension never listens (env errors) resolve, with `port` 0. @default true */
  requireListening?: boolean;
  /** Emulator timeouts. */
  timeoutMs?: number;
  initTimeoutMs?: number;
  shutdownTimeoutMs?: number;
  /**
   * The emulator's sandbox, for a test of how the extension behaves under Lambda's memory limit (Node
   * sizes its heap by it). @default { sandbox: 'pss' }
   */
  sandbox?: Pick<LambdaEmulatorOptions, 'sandbox' | 'memoryMb' | 'cpuShare'>;
}

/** What a `beforeRegisterResponse` hook can see: the logs so far and the port, if already printed. */
export interface RegisterContext {
  logs(): string[];
  /** The port from the listening line, or `undefined` if the extension has not printed it. */
  port(): number | undefined;
}

export interface Reply {
  status: number;
  headers: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the extension sent
  body: any;
  /** The body as received. */
  text: string;
}

export interface Stack {
  backends: Backends;
  lambda: LambdaEmulator;
  port: number;
  /** The port the AWS-compatible routes are served on by a listener of their own, from its log line. */
  awsPort(): number | undefined;
  /** The port the AppConfig agent's route is served on by a listener of its own, from its log line. */
  appconfigPort(): number | undefined;
  baseUrl: string;
  token: string;
  functionDir: string;
  /** The emulator's init, settled or not (see {@link StackOptions.init}). */
  initDone: Promise<InitResult>;
  /** GET with the token unless `headers` sets it (an empty string sends no token header). */
  get(path: string, headers?: Record<string, string>): Promise<Reply>;
  /** Every log line so far, extension and function. */
  logs(): string[];
  /** Shutdown and close the backends; idempotent. */
  close(): Promise<void>;
}

/** A one-shot GET over a fresh connection (keep-alive off), body parsed as JSON when it is JSON. */
export function httpGet(port: number, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolvePromise, reject) => {
    const sent: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) if (v !== '') sent[k] = v;
    const req = http.request(
      { host: '127.0.0.1', port, path, method: 'GET', headers: sent, agent: false, timeout: 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // Not JSON: the legacy parameter route answers a raw value.
          }
          const flat: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) {
            if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
          }
          resolvePromise({ status: res.statusCode ?? 0, headers: flat, body, text });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

function findListening(lines: readonly string[]): RegExpMatchArray | null {
  for (const l of lines) {
    const m = LISTENING.exec(l);
    if (m) return m;
  }
  return null;
}

/**
 * Every value in a seed that must never be logged: parameter and secret values, item attributes, AppConfig
 * configurations (their text, as deployed).
 */
export function secretValues(seed: Seed): string[] {
  const out = new Set<string>();
  const add = (v: unknown) => {
    // Short strings ("1", "S") appear in logs for innocent reasons; the seeds use long, distinctive values.
    if (typeof v === 'string' && v.length >= 8) out.add(v);
  };
  for (const p of seed.parameters ?? []) add(p.value);
  for (const s of seed.secrets ?? []) {
    add(s.value);
    add(s.binary);
    for (const v of s.versions ?? []) {
      add(v.value);
      add(v.binary);
    }
  }
  for (const c of seed.appconfig ?? []) {
    add(typeof c.content === 'string' ? c.content : JSON.stringify(c.content ?? c.flags));
  }
  for (const t of seed.tables ?? []) {
    const keyNames = new Set([t.hashKey.name, t.sortKey?.name]);
    for (const item of t.items) {
      for (const [k, v] of Object.entries(item as Record<string, unknown>)) if (!keyNames.has(k)) add(v);
    }
  }
  return [...out];
}

/** Throws naming the first log line that holds one of `values`. */
export function assertNoValuesLogged(lines: readonly string[], values: readonly string[]): void {
  for (const line of lines) {
    for (const v of values) {
      if (line.includes(v))
        throw new Error(`a value was logged: ${JSON.stringify(v)} in ${JSON.stringify(line)}`);
    }
  }
}

/** The exit codes in a shutdown result, whatever shape the emulator reports them in. */
export function exitCodesOf(result: { exitCodes: unknown }): unknown[] {
  const codes = result.exitCodes;
  if (Array.isArray(codes)) return codes;
  if (codes && typeof codes === 'object') return Object.values(codes);
  return [codes];
}

/** Polls `check` every `intervalMs` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 100_000; i++) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A small seeded generator (LCG), for repeatable fault injection and request mixes. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A random session token, as Lambda sets `AWS_SESSION_TOKEN`. */
export function newToken(): string {
  return `IQoJ${randomBytes(24).toString('base64url')}`;
}

/**
 * Local backends plus the packaged extension under the Lambda emulator, on port 0.
 * Resolves once the extension printed its listening line (and, by default, init finished).
 */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  if (opts.fixedAppConfigPort) return startWithAppConfigPort(opts);
  if (opts.fixedAwsPort) return startWithAwsPort(opts);
  if (!opts.fixedPort) return startOnce(opts);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return await startOnce({ ...opts, env: { ...opts.env, CACHE_EXTENSION_PORT: String(port) } });
    } catch (err) {
      if (attempt >= 3 || !/EADDRINUSE/.test(String((err as Error).message))) throw err;
    }
  }
}

/** A stack whose AWS-compatible routes listen on a free port named in the environment (see `fixedAwsPort`). */
async function startWithAwsPort(opts: StackOptions): Promise<Stack> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const stack = await startStack({
      ...opts,
      fixedAwsPort: false,
      env: { ...opts.env, [AWS_PORT_VAR]: String(port) },
    });
    if (stack.awsPort() === port) return stack;
    await stack.close();
    if (attempt >= 3) throw new Error(`the extension could not listen on a free port for ${AWS_PORT_VAR}`);
  }
}

/** A stack whose AppConfig agent route listens on a free port named in the environment (see `fixedAppConfigPort`). */
async function startWithAppConfigPort(opts: StackOptions): Promise<Stack> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const stack = await startStack({
      ...opts,
      fixedAppConfigPort: false,
      env: { ...opts.env, [APPCONFIG_PORT_VAR]: String(port) },
    });
    if (stack.appconfigPort() === port) return stack;
    await stack.close();
    if (attempt >= 3)
      throw new Error(`the extension could not listen on a free port for ${APPCONFIG_PORT_VAR}`);
  }
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolvePort(port));
    });
  });
}

async function startOnce(opts: StackOptions): Promise<Stack> {
  const zip = opts.layer ?? layerZip;
  const layer = await layerDir(zip);
  // LAMBDA_CACHE_TEST_LAYER=<a .zip> is a Node layer (see layerKind); another zip given here is a standalone one.
  const standalone = zip === layerZip ? layerKind === 'standalone' : zip !== nodeLayerZip;
  const seed = opts.seed ?? seedData();
  const backends =
    opts.backends ??
    (await startBackends({ seed, region: SEED_REGION, ...(opts.random ? { random: opts.random } : {}) }));
  const ownDir = opts.functionDir === undefined;
  const functionDir = opts.functionDir ?? (await mkdtemp(join(tmpdir(), 'lambda-cache-fn-')));
  let lambda: LambdaEmulator | undefined;
  const values = [...secretValues(seed), ...(opts.neverLogged ?? [])];
  const leaks: string[] = [];
  const crashes: string[] = [];
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      if (lambda) await lambda.shutdown('spindown').catch(() => undefined);
      if (!opts.backends) await backends.close().catch(() => undefined);
      if (ownDir) await rm(functionDir, { recursive: true, force: true });
      // Values never appear in logs: every stack checks every line it saw, at whatever log level it ran.
      if (leaks.length > 0) throw new Error(`a seeded value was logged: ${JSON.stringify(leaks[0])}`);
      // Nor does any process print a stack trace, an unhandled rejection or a runtime warning.
      if (crashes.length > 0) throw new Error(`a process printed: ${JSON.stringify(crashes)}`);
    })();
    return closed;
  };
  try {
    if (ownDir || opts.config !== undefined) {
      await writeFile(join(functionDir, 'config.yaml'), opts.config ?? seedConfig);
    }
    if (ownDir && opts.handler === undefined) {
      await writeFile(join(functionDir, 'index.mjs'), DEFAULT_HANDLER_SOURCE);
    }
    await opts.beforeStart?.(backends);
    const hook = opts.beforeRegisterResponse;
    const registerContext: RegisterContext = {
      logs: () => (lambda ? [...lambda.logs] : []),
      port: () => {
        const m = findListening(registerContext.logs());
        return m ? Number(m[1]) : undefined;
      },
    };
    const token = opts.env?.AWS_SESSION_TOKEN ?? newToken();
    const env: Record<string, string> = {
      ...backends.env,
      AWS_REGION: SEED_REGION,
      CACHE_EXTENSION_PORT: '0',
      // Never the fixed 2773 of AWS's extension: a free port, as for the main one.
      [AWS_PORT_VAR]: '0',
      [APPCONFIG_PORT_VAR]: '0',
      CACHE_EXTENSION_LOG_LEVEL: 'debug',
      CACHE_EXTENSION_CONFIG: join(functionDir, 'config.yaml'),
      AWS_SESSION_TOKEN: token,
      ...(standalone ? { PATH: await pathWithoutNode() } : {}),
      ...opts.env,
    };
    const created = await LambdaEmulator.create({
      layerDir: layer,
      functionDir,
      handler: opts.handler ?? 'index.handler',
      env,
      // These tests check behaviour, not Lambda's limits: no cgroup, so a 128 MB sandbox's 7 % of a vCPU
      // after init does not turn load and timing tests into tests of the machine (the emulator's own
      // tests cover the sandbox).
      sandbox: 'pss',
      ...opts.sandbox,
      onLog: (line: string) => {
        if (leaks.length < 10 && values.some((v) => line.includes(v))) leaks.push(line);
        if (crashes.length < 10 && CRASH.test(line)) crashes.push(line);
      },
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.initTimeoutMs !== undefined ? { initTimeoutMs: opts.initTimeoutMs } : {}),
      ...(opts.shutdownTimeoutMs !== undefined ? { shutdownTimeoutMs: opts.shutdownTimeoutMs } : {}),
      ...(hook
        ? {
            beforeRegisterResponse: async (ext: { name: string; pid: number | undefined }) =>
              hook(ext, registerContext),
          }
        : {}),
    });
    lambda = created;
    const initDone = created.init();
    // Keep an unawaited init from surfacing as an unhandled rejection; callers await `initDone` themselves.
    initDone.catch(() => undefined);
    const listening = await Promise.race([
      created.waitForLog(LISTENING, 30_000).catch(() => undefined),
      initDone.then(
        () => undefined,
        () => undefined,
      ),
    ]);
    // init may have settled first while the line is already in the logs.
    const match = listening ?? findListening(created.logs);
    if (!match && opts.requireListening !== false) {
      throw new Error(
        `the extension never printed its listening line; logs:\n${[...created.logs].join('\n')}`,
      );
    }
    if (opts.init !== false) {
      const result = await initDone;
      if (!result.ok) {
        throw new Error(
          `init failed: ${result.error?.errorType}: ${result.error?.message}\n${created.logs.slice(-30).join('\n')}`,
        );
      }
    }
    const port = match ? Number(match[1]) : 0;
    return {
      backends,
      lambda: created,
      port,
      awsPort: () => portIn(created.logs, AWS_LISTENING),
      appconfigPort: () => portIn(created.logs, APPCONFIG_LISTENING),
      baseUrl: `http://127.0.0.1:${port}`,
      token,
      functionDir,
      initDone,
      get: (path, headers = {}) =>
        httpGet(port, path, { 'x-aws-parameters-secrets-token': token, ...headers }),
      logs: () => [...created.logs],
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Sleeps until `ms` after the time `from` (a `Date.now()`), or not at all if that has passed. */
export function sleepUntil(from: number, ms: number): Promise<void> {
  return sleep(Math.max(0, from + ms - Date.now()));
}

/** Every call a backend has counted, over all operations. */
export function totalCalls(backend: { calls: Record<string, number> }): number {
  return Object.values(backend.calls).reduce((a, b) => a + b, 0);
}
