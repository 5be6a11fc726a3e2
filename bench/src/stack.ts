/**
 * The product as Lambda runs it: the packaged layer, extracted, started by the local Lambda emulator as a
 * real child process, against the local backends. Times spawn → register and spawn → ready.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Backends, LambdaEmulator } from '@lambda-cache/local';
import { HEADERS, ROUTES, type StatsPayload } from '@lambda-cache/shared';
import { request } from 'undici';
import { REGION } from './data.js';
import { nodePidOf } from './processes.js';
import type { SandboxOptions } from './sandbox.js';

/** The extension's listening line; with port 0 it names the port it got. */
const LISTENING = /listening on http:\/\/127\.0\.0\.1:(\d+)/;
/** The extension's line once its prefetch is over, right before it asks for its first event. */
const PREFETCH_DONE = /\[lambda-cache\].*prefetch done/;
/** The time the extension itself reports for its prefetch (`prefetch done ms=…`). */
const PREFETCH_MS = /prefetch done.*\bms=(\d+(?:\.\d+)?)/;

export interface ExtensionRun {
  readonly port: number;
  readonly origin: string;
  /** The extension's Node process (not its launcher). */
  readonly pid: number;
  /** Spawn → the emulator receives `register`. */
  readonly registerMs: number;
  /** Spawn → the extension's `prefetch done` line (it asks for its first event right after). */
  readonly readyMs: number;
  /** The prefetch alone, as the extension reports it (`NaN` if it did not). */
  readonly prefetchMs: number;
  /** Spawn → the emulator's init done: the extension ready and the function's runtime started too. */
  readonly initMs: number;
  /** `performance.now()` when the emulator was asked to start it (spawn follows at once). */
  readonly startedAt: number;
  get(path: string): Promise<{ status: number; headers: Readonly<Record<string, string>>; body: string }>;
  /** The emulator's log lines so far (extension output included). */
  logs(): string[];
  stats(): Promise<StatsPayload>;
  close(): Promise<void>;
}

export interface ExtensionOptions {
  readonly layerDir: string;
  readonly backends: Backends;
  readonly config: string;
  readonly token: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly initTimeoutMs?: number;
  /**
   * @default { sandbox: 'pss' }: the hit path is compared with a bare server at full CPU, so no sandbox's
   * CPU share (the cold-start sections measure the sandbox).
   */
  readonly sandbox?: SandboxOptions;
}

function lineText(entry: unknown): string {
  if (typeof entry === 'string') return entry;
  if (entry && typeof entry === 'object' && 'line' in entry) return String((entry as { line: unknown }).line);
  return JSON.stringify(entry);
}

export async function startExtension(opts: ExtensionOptions): Promise<ExtensionRun> {
  const functionDir = await mkdtemp(join(tmpdir(), 'lambda-cache-bench-fn-'));
  let lambda: LambdaEmulator | undefined;
  const close = async (): Promise<void> => {
    if (lambda) await lambda.shutdown('spindown').catch(() => undefined);
    lambda = undefined;
    await rm(functionDir, { recursive: true, force: true });
  };
  try {
    await writeFile(join(functionDir, 'config.yaml'), opts.config);
    await writeFile(join(functionDir, 'index.mjs'), 'export const handler = async () => ({ ok: true });\n');
    let registeredAt = Number.NaN;
    let prefetchedAt: number | undefined;
    let prefetchMs = Number.NaN;
    const created = await LambdaEmulator.create({
      layerDir: opts.layerDir,
      functionDir,
      handler: 'index.handler',
      ...(opts.sandbox ?? { sandbox: 'pss' }),
      env: {
        ...opts.backends.env,
        AWS_REGION: REGION,
        CACHE_EXTENSION_PORT: '0',
        // The AWS-compatible ports too (2773 and 2772 by default): no fixed port on a shared machine.
        PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: '0',
        AWS_APPCONFIG_EXTENSION_HTTP_PORT: '0',
        CACHE_EXTENSION_CONFIG: join(functionDir, 'config.yaml'),
        AWS_SESSION_TOKEN: opts.token,
        ...opts.env,
      },
      onLog: (line) => {
        if (prefetchedAt === undefined && PREFETCH_DONE.test(line)) {
          prefetchedAt = performance.now();
          prefetchMs = Number(PREFETCH_MS.exec(line)?.[1] ?? Number.NaN);
        }
      },
      beforeRegisterResponse: async () => {
        registeredAt = performance.now();
      },
      initTimeoutMs: opts.initTimeoutMs ?? 30_000,
    });
    lambda = created;
    const t0 = performance.now();
    const init = await created.init();
    const readyAt = performance.now();
    if (!init.ok) {
      throw new Error(
        `init failed (${init.error?.errorType}): ${init.error?.message}\n${created.logs.slice(-30).map(lineText).join('\n')}`,
      );
    }
    const match = created.logs
      .map(lineText)
      .reduce<RegExpExecArray | null>((m, l) => m ?? LISTENING.exec(l), null);
    if (!match)
      throw new Error(
        `the extension never printed its listening line:\n${created.logs.map(lineText).join('\n')}`,
      );
    const port = Number(match[1]);
    const origin = `http://127.0.0.1:${port}`;
    const launcherPid = created.extensions[0]?.pid;
    if (launcherPid === undefined) throw new Error('the emulator reports no extension process');
    const headers = { [HEADERS.token]: opts.token };
    const get = async (path: string) => {
      const res = await request(`${origin}${path}`, { headers, headersTimeout: 30_000, bodyTimeout: 30_000 });
      const flat: Record<string, string> = {};
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      return { status: res.statusCode, headers: flat, body: await res.body.text() };
    };
    return {
      port,
      origin,
      pid: nodePidOf(launcherPid),
      registerMs: registeredAt - t0,
      startedAt: t0,
      readyMs: (prefetchedAt ?? readyAt) - t0,
      initMs: readyAt - t0,
      prefetchMs,
      get,
      logs: () => created.logs.map(lineText),
      stats: async () => {
        const res = await get(ROUTES.stats);
        if (res.status !== 200) throw new Error(`GET ${ROUTES.stats} answered ${res.status}`);
        return JSON.parse(res.body) as StatsPayload;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Backend calls of a prefetch: SSM GetParameters and DynamoDB BatchGetItem, as the extension counts them. */
export function sumCalls(stats: StatsPayload): number {
  return Object.values(stats.backendCalls).reduce((a, b) => a + b, 0);
}

/**
 * Waits until the extension holds at least `entries` entries (a prefetch that passed its deadline goes on
 * loading in the background); says when it saw them (ms since spawn) and whether they were all there at the
 * first look. Polls every 20 ms.
 */
export async function waitForEntries(
  ext: ExtensionRun,
  entries: number,
  timeoutMs = 120_000,
): Promise<{ sinceSpawnMs: number; atFirstLook: boolean }> {
  const deadline = performance.now() + timeoutMs;
  let seen = 0;
  for (let i = 0; i < 1_000_000 && performance.now() < deadline; i++) {
    seen = (await ext.stats()).entries;
    if (seen >= entries) return { sinceSpawnMs: performance.now() - ext.startedAt, atFirstLook: i === 0 };
    await new Promise((r) => setTimeout(r, 20));
  }
  const prefetchLines = ext.logs().filter((l) => /prefetch|deadline/.test(l));
  throw new Error(
    `the extension holds ${seen} entries, not ${entries}, ${timeoutMs} ms after its start; ${prefetchLines.join(' | ')}`,
  );
}
