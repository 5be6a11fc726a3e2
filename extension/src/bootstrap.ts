/**
 * Everything that is not needed to listen and register: the config loader, the lean AWS client, the
 * sources and the cache. `run` reaches this module only through `import()` after `register`, so none of it is
 * evaluated during the part of init that delays the function's runtime.
 */
import { type Env, EXTENSION_REQUEST_WAIT_MS, type ExtensionSettings } from '@lambda-cache/shared';
import { createAwsClient } from './aws/index.js';
import type { Clock } from './clock.js';
import { type CacheConfig, describeConfig, loadConfig } from './config.js';
import { SourceHealth, trackSources } from './health.js';
import { type HeapTrim, settleHeap } from './heap.js';
import type { Logger } from './log.js';
import { createStoreCache, SourceStore } from './source-store.js';
import { SECTIONS, SOURCES } from './sources/index.js';

export interface Backend {
  readonly store: SourceStore;
  readonly config: CacheConfig;
  /** Closes the AWS client's keep-alive sockets. */
  destroy(): void;
  /**
   * Gives back heap a large prefetch left committed and holds the young generation at its size (see
   * heap.ts); the trim, or `undefined` when there was too little to give back.
   */
  settleHeap(): HeapTrim | undefined;
}

/**
 * Deadlines of every AWS call: a request waits at most `EXTENSION_REQUEST_WAIT_MS` for a load, so a call
 * and its retries end before that and the caller gets the backend's own error, not a 504 of ours.
 */
export const AWS_TIMEOUTS = { connectMs: 1000, attemptMs: 3000, totalMs: 4000 } as const;
/** How much longer a request waits for a load than the load's deadline, so the deadline's error reaches it. */
const WAIT_MARGIN_MS = EXTENSION_REQUEST_WAIT_MS - AWS_TIMEOUTS.totalMs;

/**
 * The deadlines for a total of `totalMs` (`SSM_PARAMETER_STORE_TIMEOUT_MILLIS`), and how long a request
 * waits for a load: no attempt or connect outlasts the total, and the wait outlasts it by a margin (never
 * shorter than `EXTENSION_REQUEST_WAIT_MS`; a longer one needs a client `timeoutMs` to match), so a slow AWS that the user allowed for is waited for, not cut off by a 504.
 */
export function awsTimeouts(totalMs: number | undefined): {
  timeouts: { connectMs: number; attemptMs: number; totalMs: number };
  waitMs: number;
} {
  if (totalMs === undefined) {
    return { timeouts: AWS_TIMEOUTS, waitMs: AWS_TIMEOUTS.totalMs + WAIT_MARGIN_MS };
  }
  return {
    timeouts: {
      connectMs: Math.min(AWS_TIMEOUTS.connectMs, totalMs),
      attemptMs: Math.min(AWS_TIMEOUTS.attemptMs, totalMs),
      totalMs,
    },
    waitMs: Math.max(AWS_TIMEOUTS.totalMs, totalMs) + WAIT_MARGIN_MS,
  };
}

export async function createBackend(opts: {
  /** The process environment: credentials, region and endpoints, as the AWS SDKs read them. */
  env: Env;
  settings: ExtensionSettings;
  /** `true` when `CACHE_EXTENSION_CONFIG` was set: a missing file is then an error, not an empty config. */
  configRequired: boolean;
  clock: Clock;
  logger: Logger;
}): Promise<Backend> {
  const { settings, logger } = opts;
  const config = await loadConfig(settings.configPath, { required: opts.configRequired, sections: SECTIONS });
  logger.info(`config ${describeConfig(config, SECTIONS)}`);
  const backendCalls: Record<string, number> = {};
  const count = (op: string): void => {
    backendCalls[op] = (backendCalls[op] ?? 0) + 1;
  };
  const { timeouts, waitMs } = awsTimeouts(settings.awsTimeoutMs);
  const client = createAwsClient({ env: opts.env, logger, count, timeouts });
  // Every call of every source is tracked, so the health view needs the services before the sources exist.
  let health: SourceHealth | undefined;
  const aws = trackSources(client, {
    record: (service, error, startedAt) => health?.record(service, error, startedAt),
  });
  const deps = {
    aws,
    config,
    settings,
    env: opts.env,
    region: settings.region,
    clock: opts.clock,
    logger,
  };
  const sources = SOURCES.map((entry) => entry.create(deps));
  health = new SourceHealth([...new Set(sources.map((s) => s.service))]);
  const cache = createStoreCache({
    sources,
    clock: opts.clock,
    logger,
    ttlMs: settings.ttlMs,
    maxEntries: settings.maxEntries,
    maxBytes: settings.maxBytes,
    waitMs,
  });
  const store = new SourceStore({
    sources,
    cache,
    config,
    clock: opts.clock,
    logger,
    maxEntries: settings.maxEntries,
    maxBytes: settings.maxBytes,
    backendCalls,
    health,
  });
  return {
    store,
    config,
    destroy() {
      aws.destroy();
    },
    settleHeap: () => settleHeap(),
  };
}
