/**
 * The retry policy of the SDK's `standard` mode, as `@smithy/core`'s StandardRetryStrategy (its 2026
 * settings) applies it: throttling and transient errors only, at most `maxAttempts` attempts, full-jitter
 * exponential backoff (50 ms base, 1 s for throttling, 20 s cap), and a token bucket of 500 that each
 * retry draws from (14 per transient retry, 5 per throttling retry) and each success refills, so a backend
 * that keeps failing is not hammered by every caller's retries.
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
 */
import { AwsServiceError, AwsTransportError } from './errors.js';

export const THROTTLING_CODES: ReadonlySet<string> = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);
const TRANSIENT_CODES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalServerError',
]);
const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);
/** The SDK's NODEJS_TIMEOUT_ERROR_CODES and NODEJS_NETWORK_ERROR_CODES. */
const TRANSIENT_SYS_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

export const BASE_DELAY_MS = 50;
export const THROTTLING_BASE_DELAY_MS = 1000;
export const MAX_DELAY_MS = 20_000;
const INITIAL_TOKENS = 500;
const RETRY_COST = 14;
const THROTTLING_RETRY_COST = 5;
const NO_RETRY_INCREMENT = 1;
/** The SDK lets a `Retry-After` hint add at most this much to the computed backoff. */
const MAX_RETRY_AFTER_EXTRA_MS = 5000;

export type ErrorKind = 'throttling' | 'transient' | 'final';

export function classify(error: unknown): ErrorKind {
  if (error instanceof AwsServiceError) {
    if (error.throttling) return 'throttling';
    if (TRANSIENT_STATUS.has(error.status) || TRANSIENT_CODES.has(error.awsCode)) return 'transient';
    return 'final';
  }
  if (error instanceof AwsTransportError) {
    if (error.reason === 'timeout') return 'transient';
    if (
      error.reason === 'network' &&
      (error.sysCode === undefined || TRANSIENT_SYS_CODES.has(error.sysCode))
    ) {
      return 'transient';
    }
  }
  return 'final';
}

/** Full jitter: a random wait in [0, min(cap, base·2^retry)). `retry` is 0 before the first retry. */
export function backoffDelay(kind: 'throttling' | 'transient', retry: number, random = Math.random): number {
  const base = kind === 'throttling' ? THROTTLING_BASE_DELAY_MS : BASE_DELAY_MS;
  return Math.floor(random() * Math.min(base * 2 ** retry, MAX_DELAY_MS));
}

/** A `Retry-After` header may lengthen the wait a little, never shorten it. */
export function withRetryAfter(delay: number, retryAfterMs: number | undefined): number {
  if (retryAfterMs === undefined) return delay;
  return Math.max(delay, Math.min(retryAfterMs, delay + MAX_RETRY_AFTER_EXTRA_MS));
}

/** Seconds, or an HTTP date, in milliseconds from `now`. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The retry quota of one client. */
export class RetryQuota {
  private tokens = INITIAL_TOKENS;

  /** Takes the cost of one retry; false when the quota is spent (then do not retry). */
  acquire(kind: 'throttling' | 'transient'): number | undefined {
    const cost = kind === 'throttling' ? THROTTLING_RETRY_COST : RETRY_COST;
    if (this.tokens < cost) return undefined;
    this.tokens -= cost;
    return cost;
  }

  /** A call succeeded: gives back what its last retry cost, or one token. */
  release(lastCost: number | undefined): void {
    this.tokens = Math.min(INITIAL_TOKENS, this.tokens + (lastCost ?? NO_RETRY_INCREMENT));
  }

  get available(): number {
    return this.tokens;
  }
}
