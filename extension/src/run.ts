/**
 * The extension's whole life, as Lambda runs it (DESIGN.md "Lambda lifecycle"): read env → listen →
 * register → load config, AWS client and sources → prefetch → event loop → shutdown. Outside Lambda
 * (`AWS_LAMBDA_RUNTIME_API` unset) the same server runs standalone until `signal` aborts.
 */
import {
  ENV,
  type Env,
  type ExtensionSettings,
  formatDuration,
  parseExtensionSettings,
  readVar,
} from '@lambda-cache/shared';
import { type Clock, systemClock } from './clock.js';
import { ConfigInvalidError, errorCode } from './errors.js';
import { type ExtensionEvent, ExtensionsApi } from './lifecycle.js';
import { createLogger, type Logger } from './log.js';
import { type CacheServer, createServer } from './server.js';
import { PendingStore } from './store.js';

/** Set by the launcher to its own file name, which Lambda expects as `Lambda-Extension-Name`. */
export const EXTENSION_NAME_VAR = 'LAMBDA_CACHE_EXTENSION_NAME';
export const DEFAULT_EXTENSION_NAME = 'lambda-cache';
/** Lambda allows 10 s for the whole init; prefetch stops waiting well before that. */
export const PREFETCH_DEADLINE_MS = 6000;
/** How long an INVOKE waits for refresh-ahead before the extension reports itself done. */
const INVOKE_REFRESH_BUDGET_MS = 1000;
/** In-flight requests get this long after SHUTDOWN before their connections are dropped. */
const SHUTDOWN_GRACE_MS = 200;
export const CONFIG_INVALID = 'Extension.ConfigInvalid';

export interface RunOptions {
  /** The process environment (or a test's). */
  env: Env;
  /** Aborting ends the extension as SHUTDOWN does (standalone mode: Ctrl-C, SIGTERM). */
  signal?: AbortSignal;
  /** Called once the server listens, with the port it got (useful with `CACHE_EXTENSION_PORT=0`). */
  onListening?: (port: number) => void;
  /** Time for the cache. @default systemClock */
  clock?: Clock;
  /** Where log lines go. @default process.stdout */
  write?: (line: string) => void;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function logSettings(logger: Logger, s: ExtensionSettings, mode: string, name: string): void {
  logger.info('settings', {
    mode,
    name,
    port: s.port,
    awsPort: s.awsPort,
    appconfigPort: s.appconfigPort,
    ttl: formatDuration(s.ttlMs),
    cacheEnabled: s.cacheEnabled,
    initStartup: s.initStartup,
    config: s.configPath,
    logLevel: s.logLevel,
    maxEntries: s.maxEntries,
    maxBytes: s.maxBytes,
    legacyRoutes: s.legacyRoutes,
    // Whether the token check is on; the token itself never appears in a log.
    tokenCheck: s.sessionToken !== undefined,
    region: s.region,
  });
}

/**
 * The routes of one of AWS's extensions on that extension's port too, so code written for it reads
 * unchanged: the Parameters and Secrets extension's (`aws`) and the AppConfig extension's (`appconfig`).
 * Never fatal: the main port serves them whatever happens here (AWS's own extension, still attached, may
 * hold the port).
 */
async function listenCompatible(
  server: CacheServer,
  routes: 'aws' | 'appconfig',
  port: number,
  logger: Logger,
): Promise<void> {
  const [name, variable] =
    routes === 'aws'
      ? ['AWS Parameters and Secrets extension', ENV.awsPort]
      : ['AWS AppConfig extension', ENV.appconfigPort];
  try {
    const bound = await server.listen(port, { routes });
    logger.notice(`${name} routes on http://127.0.0.1:${bound}`, { variable });
  } catch (err) {
    logger.warn(
      `cannot listen on 127.0.0.1:${port} (${variable}); the ${name}'s routes are served on the main port only`,
      { error: errorCode(err) },
    );
  }
}

/** Resolves when `signal` aborts (never, without one). */
function aborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!signal) return;
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

async function within<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Registers only to report an init error: Lambda needs the identifier that `register` returns. */
async function reportInitError(
  api: ExtensionsApi,
  errorType: string,
  text: string,
  logger: Logger,
): Promise<void> {
  try {
    await api.register();
    await api.initError(errorType, text);
  } catch (err) {
    logger.error('could not report the init error to Lambda', { error: errorCode(err) });
  }
}

/**
 * Runs the extension until SHUTDOWN (or `signal`), and resolves with the process exit code:
 * 0 after a clean shutdown, 1 after an env, config, listen or Extensions API error.
 *
 * @example
 * const code = await run({ env: { ...process.env, CACHE_EXTENSION_PORT: '0' }, onListening: (p) => console.log(p) });
 */
export async function run(opts: RunOptions): Promise<number> {
  const { env } = opts;
  const clock = opts.clock ?? systemClock;
  const runtimeApi = readVar(env, ENV.runtimeApi);
  const name = readVar(env, EXTENSION_NAME_VAR) ?? DEFAULT_EXTENSION_NAME;
  const api = runtimeApi === undefined ? undefined : new ExtensionsApi({ runtimeApi, name });
  const format = readVar(env, ENV.logFormat)?.toUpperCase() === 'JSON' ? 'json' : 'text';

  let settings: ExtensionSettings;
  try {
    settings = parseExtensionSettings(env);
  } catch (err) {
    const logger = createLogger({ level: 'info', format, ...(opts.write ? { write: opts.write } : {}) });
    logger.error(`invalid environment: ${message(err)}`);
    if (api) {
      await reportInitError(api, CONFIG_INVALID, message(err), logger);
      api.close();
    }
    return 1;
  }
  const logger = createLogger({
    level: settings.logLevel,
    format: settings.logFormat,
    ...(opts.write ? { write: opts.write } : {}),
  });
  logSettings(logger, settings, api ? 'lambda' : 'standalone', name);

  const pending = new PendingStore(() => clock.now());
  const server = createServer({
    store: pending,
    sessionToken: settings.sessionToken,
    legacyRoutes: settings.legacyRoutes,
    logger,
  });
  let port: number;
  try {
    port = await server.listen(settings.port);
  } catch (err) {
    logger.error(`cannot listen on 127.0.0.1:${settings.port}`, { error: errorCode(err) });
    if (api) {
      await reportInitError(
        api,
        'Extension.ListenFailed',
        `cannot listen on 127.0.0.1:${settings.port}: ${errorCode(err)}`,
        logger,
      );
      api.close();
    }
    return 1;
  }
  logger.notice(`listening on http://127.0.0.1:${port}`);
  // Both at once: each is a round trip through the event loop before register.
  await Promise.all([
    listenCompatible(server, 'aws', settings.awsPort, logger),
    listenCompatible(server, 'appconfig', settings.appconfigPort, logger),
  ]);
  opts.onListening?.(port);

  let backend: Awaited<ReturnType<typeof import('./bootstrap.js')['createBackend']>> | undefined;
  const stop = async (code: number): Promise<number> => {
    backend?.store.markStopping();
    await server.close(SHUTDOWN_GRACE_MS);
    backend?.destroy();
    api?.close();
    return code;
  };

  if (api) {
    try {
      const info = await api.register();
      // Time since the process started: what this extension added to the function's cold start.
      logger.info('registered', {
        functionName: info.functionName,
        events: 'INVOKE,SHUTDOWN',
        sinceStartMs: Math.round(performance.now()),
      });
    } catch (err) {
      logger.error(`register failed: ${message(err)}`);
      return stop(1);
    }
  }

  try {
    // Only now: the config loader, the AWS client and the sources (see bootstrap.ts).
    const { createBackend } = await import('./bootstrap.js');
    backend = await createBackend({
      env,
      settings,
      configRequired: readVar(env, ENV.config) !== undefined,
      clock,
      logger,
    });
  } catch (err) {
    const text = message(err);
    logger.error(`configuration error: ${text}`);
    pending.fail(err instanceof Error ? err : new Error(text));
    if (api) {
      const type = err instanceof ConfigInvalidError ? CONFIG_INVALID : 'Extension.InitFailed';
      await api.initError(type, text).catch((e: unknown) => {
        logger.error('could not report the init error to Lambda', { error: errorCode(e) });
      });
    }
    return stop(1);
  }
  const { store } = backend;
  pending.resolve(store);

  if (settings.initStartup) {
    // Entries loaded per source (parameters=, items=, …), then what did not load.
    const r = await store.prefetch(PREFETCH_DEADLINE_MS);
    logger.info('prefetch done', { ...r, ms: Math.round(r.ms) });
  }
  // While init still has the whole CPU: what a large prefetch left committed would otherwise stay
  // resident, and counted, through every invoke.
  const trim = backend.settleHeap();
  if (trim) {
    logger.info('heap trimmed', {
      heapMiB: (trim.heapBytes / 1048576).toFixed(1),
      usedMiB: (trim.usedBytes / 1048576).toFixed(1),
      freedMiB: (trim.freedBytes / 1048576).toFixed(1),
      ms: Math.round(trim.ms),
    });
  }
  store.markReady();

  if (!api) {
    await aborted(opts.signal);
    logger.info('stopping');
    return stop(0);
  }

  const abort = new AbortController();
  const onAbort = (): void => abort.abort();
  if (opts.signal?.aborted) abort.abort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      let event: ExtensionEvent;
      try {
        event = await api.next(abort.signal);
      } catch (err) {
        if (abort.signal.aborted) return await stop(0);
        logger.error(`event/next failed: ${message(err)}`);
        await api.exitError('Extension.EventLoopFailed', errorCode(err)).catch(() => undefined);
        return await stop(1);
      }
      if (event.eventType === 'SHUTDOWN') {
        logger.info('shutdown', { reason: event.shutdownReason.toLowerCase() });
        return await stop(0);
      }
      // Each entry is refreshed within a fifth of its own TTL of expiry (see Cache.expiring).
      const refreshing = store.refreshExpiring().catch((err: unknown) => {
        logger.warn('refresh-ahead failed', { error: errorCode(err) });
        return 0;
      });
      const refreshed = await within(refreshing, INVOKE_REFRESH_BUDGET_MS);
      if (refreshed) logger.debug('refreshed ahead of expiry', { entries: refreshed });
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
