/**
 * The client's options, their defaults, and their validation. The numbers are chosen for a server on
 * the same host: undici's internet-scale defaults (300 s timeouts) would turn a wedged extension into a
 * Lambda timeout instead of an error.
 */
import { ENV, EnvError, readPort } from '@lambda-cache/shared';
import type { Dispatcher } from 'undici';
import { InvalidOptionError } from './errors.js';

/** How DynamoDB numbers are unmarshalled: `false` → `number`, `true` → `NumberValue`, or a converter. */
export type BigNumbers = boolean | ((text: string) => unknown);

/** When to try again. Only connection failures and 503/429 answers are retried; see the README. */
export interface RetryOptions {
  /**
   * Retries after the first attempt.
   * @default 8
   */
  readonly retries?: number;
  /**
   * Delay before the first retry in ms; each later delay doubles, up to `maxTimeout`.
   * @default 20
   */
  readonly minTimeout?: number;
  /**
   * Longest delay between two attempts in ms.
   * @default 500
   */
  readonly maxTimeout?: number;
  /**
   * Total time in ms after which no further attempt starts, whatever `retries` says.
   * @default 3000
   */
  readonly maxRetryTime?: number;
}

/** The in-process layer: repeat reads served from memory, never longer than the extension's `max-age`. */
export interface LocalCacheOptions {
  /**
   * Serve repeat reads from this process's memory while the extension's copy is fresh.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Most entries kept; when full, the oldest entry not read since the last eviction pass is dropped.
   * @default 1000
   */
  readonly maxEntries?: number;
}

/** Options of {@link createCacheClient}. Every field is optional. */
export interface CacheClientOptions {
  /**
   * Port of the extension on 127.0.0.1 (the host is fixed: the extension only listens there).
   * @default `CACHE_EXTENSION_PORT`, else 3000
   */
  readonly port?: number;
  /**
   * Value of the `X-Aws-Parameters-Secrets-Token` header.
   * @default `AWS_SESSION_TOKEN`, read on every request (no header when it is unset or empty)
   */
  readonly token?: string;
  /**
   * Longest wait in ms for one attempt's answer. Generous on purpose: a read of an item the extension has
   * not loaded yet waits for AWS. Pass `signal` to bound a call by the invocation's remaining time.
   * @default 5000
   */
  readonly timeoutMs?: number;
  /**
   * Longest wait in ms for a TCP connection to 127.0.0.1.
   * @default 1000
   */
  readonly connectTimeoutMs?: number;
  /**
   * Most sockets open to the extension at once; further requests queue.
   * @default 8
   */
  readonly connections?: number;
  /** Retry policy for connection failures and 503/429 answers. */
  readonly retry?: RetryOptions;
  /**
   * The in-process layer; `false` turns it off, `true` keeps the defaults.
   * @default { enabled: true, maxEntries: 1000 }
   */
  readonly localCache?: boolean | LocalCacheOptions;
  /**
   * An undici dispatcher to send requests through instead of the client's own `Pool` (tests, proxies).
   * The client never closes a dispatcher it did not create.
   * @default a `Pool` to http://127.0.0.1:port
   */
  readonly dispatcher?: Dispatcher;
  /**
   * How DynamoDB numbers are unmarshalled (`wrapNumbers` of `@aws-sdk/util-dynamodb`): `false` gives
   * `number` and throws on numbers JavaScript cannot hold exactly, `true` gives `NumberValue` wrappers,
   * a function converts each number's text (e.g. `BigInt`).
   * @default false
   */
  readonly bigNumbers?: BigNumbers;
  /**
   * Clock of the in-process layer, in ms. Wall-clock time on purpose: it keeps counting while Lambda
   * freezes the environment between invokes.
   * @default Date.now
   */
  readonly now?: () => number;
}

export interface ResolvedOptions {
  readonly port: number;
  readonly token: string | undefined;
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly connections: number;
  readonly retry: Required<RetryOptions>;
  readonly localCache: Required<LocalCacheOptions>;
  readonly dispatcher: Dispatcher | undefined;
  readonly bigNumbers: BigNumbers;
  readonly now: () => number;
}

export const CLIENT_DEFAULTS = {
  timeoutMs: 5000,
  connectTimeoutMs: 1000,
  connections: 8,
  retry: { retries: 8, minTimeout: 20, maxTimeout: 500, maxRetryTime: 3000 },
  localCache: { enabled: true, maxEntries: 1000 },
} as const;

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
