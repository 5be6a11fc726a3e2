import { CLIENT_ATTEMPT_TIMEOUT_MS } from '@lambda-cache/shared';
/**
 * The client's options and their defaults (validated in `resolved-options.ts`). The numbers are chosen
 * for a server on the same host: HTTP clients' internet-scale defaults (minutes of timeout) would turn a
 * wedged extension into a Lambda timeout instead of an error.
 */

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
   * Time in ms from the first attempt after which no further attempt starts, whatever `retries` says.
   * A call with retries ends within the larger of this and `timeoutMs`.
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

/**
 * What the client needs of a `dispatcher`: the promise form of undici's `Dispatcher.request`, which any
 * undici `Pool`, `Agent` or composed dispatcher has. The client does not depend on undici itself.
 */
export interface RequestDispatcher {
  request(options: {
    readonly origin: string;
    readonly path: string;
    readonly method: 'GET';
    readonly headers: Record<string, string>;
    readonly signal?: AbortSignal;
    readonly headersTimeout?: number;
    readonly bodyTimeout?: number;
  }): Promise<{
    readonly statusCode: number;
    readonly headers: Readonly<Record<string, string | string[] | undefined>>;
    /** `arrayBuffer` is used when present, so a binary answer (an AppConfig configuration) keeps its bytes. */
    readonly body: { text(): Promise<string>; arrayBuffer?(): Promise<ArrayBuffer> };
  }>;
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
   * Longest time in ms for one attempt, from sending the request to the last byte of the answer; a call
   * with retries ends within the larger of this and `retry.maxRetryTime`. Generous on purpose: a read of
   * an item the extension has not loaded yet waits for AWS. Pass `signal` to bound a call by the
   * invocation's remaining time.
   * @default 5000
   */
  readonly timeoutMs?: number;
  /**
   * Longest wait in ms for a TCP connection to 127.0.0.1.
   * @default 1000
   */
  readonly connectTimeoutMs?: number;
  /**
   * Most sockets open to the extension at once; further requests queue (`maxSockets` of the client's
   * keep-alive `http.Agent`).
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
   * An undici dispatcher (`Pool`, `Agent`, a composed one) to send requests through instead of the
   * client's own `node:http` agent (tests, counting requests). The client never closes it.
   * @default the client's keep-alive `http.Agent` to 127.0.0.1:port
   */
  readonly dispatcher?: RequestDispatcher;
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

/** The defaults of {@link CacheClientOptions}, as the option docs state them. */
export const CLIENT_DEFAULTS = {
  timeoutMs: CLIENT_ATTEMPT_TIMEOUT_MS,
  connectTimeoutMs: 1000,
  connections: 8,
  retry: { retries: 8, minTimeout: 20, maxTimeout: 500, maxRetryTime: 3000 },
  localCache: { enabled: true, maxEntries: 1000 },
} as const;
