/**
 * The client's options with their defaults filled in and validated, and the token to send: internal,
 * kept out of the published types.
 */
import { ENV, EnvError, readPort } from '@lambda-cache/shared';
import { InvalidOptionError } from './errors.js';
import {
  type BigNumbers,
  type CacheClientOptions,
  CLIENT_DEFAULTS,
  type LocalCacheOptions,
  type RequestDispatcher,
  type RetryOptions,
} from './options.js';

export interface ResolvedOptions {
  readonly port: number;
  readonly token: string | undefined;
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly connections: number;
  readonly retry: Required<RetryOptions>;
  readonly localCache: Required<LocalCacheOptions>;
  readonly dispatcher: RequestDispatcher | undefined;
  readonly bigNumbers: BigNumbers;
  readonly now: () => number;
}

function integer(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(
      `${name} must be a whole number from ${min} to ${max}, not ${String(value)}`,
    );
  }
  return value;
}

/** Fills in the defaults and validates; throws {@link InvalidOptionError} naming the bad option. */
export function resolveOptions(options: CacheClientOptions, env: NodeJS.ProcessEnv): ResolvedOptions {
  let port: number;
  if (options.port === undefined) {
    try {
      port = readPort(env);
    } catch (err) {
      const message = err instanceof EnvError ? err.message : String(err);
      throw new InvalidOptionError(message, { cause: err });
    }
    if (port === 0) {
      throw new InvalidOptionError(
        `${ENV.port} is 0, which lets the extension pick a free port: pass that port as the client's \`port\` option`,
      );
    }
  } else {
    port = integer('port', options.port, 0, 1, 65535);
  }
  const retry = options.retry ?? {};
  const d = CLIENT_DEFAULTS;
  const local =
    typeof options.localCache === 'boolean' ? { enabled: options.localCache } : (options.localCache ?? {});
  return {
    port,
    token: options.token,
    timeoutMs: integer('timeoutMs', options.timeoutMs, d.timeoutMs, 1, 900_000),
    connectTimeoutMs: integer('connectTimeoutMs', options.connectTimeoutMs, d.connectTimeoutMs, 1, 60_000),
    connections: integer('connections', options.connections, d.connections, 1, 1024),
    retry: {
      retries: integer('retry.retries', retry.retries, d.retry.retries, 0, 100),
      minTimeout: integer('retry.minTimeout', retry.minTimeout, d.retry.minTimeout, 0, 60_000),
      maxTimeout: integer('retry.maxTimeout', retry.maxTimeout, d.retry.maxTimeout, 0, 60_000),
      maxRetryTime: integer('retry.maxRetryTime', retry.maxRetryTime, d.retry.maxRetryTime, 0, 900_000),
    },
    localCache: {
      enabled: local.enabled ?? d.localCache.enabled,
      maxEntries: integer('localCache.maxEntries', local.maxEntries, d.localCache.maxEntries, 1, 1_000_000),
    },
    dispatcher: options.dispatcher,
    bigNumbers: options.bigNumbers ?? false,
    now: options.now ?? Date.now,
  };
}

/** The token to send now: the option if given, else the environment's session token. */
export function currentToken(options: ResolvedOptions, env: NodeJS.ProcessEnv): string | undefined {
  const token = options.token ?? env[ENV.sessionToken];
  return token === undefined || token === '' ? undefined : token;
}
