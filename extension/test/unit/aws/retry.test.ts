import { describe, expect, it } from 'vitest';
import { AwsServiceError, AwsTransportError } from '../../../src/aws/errors.js';
import {
  backoffDelay,
  classify,
  parseRetryAfter,
  RetryQuota,
  withRetryAfter,
} from '../../../src/aws/retry.js';

const service = (awsCode: string, status: number, throttling = false) =>
  new AwsServiceError({ service: 'ssm', operation: 'GetParameters', awsCode, status, throttling });
const transport = (reason: 'timeout' | 'network' | 'unreadable', sysCode?: string) =>
  new AwsTransportError('x', { reason, phase: 'response', sysCode });

describe('classify', () => {
  it('retries throttling and transient errors only, as the SDK standard mode', () => {
    expect(classify(service('ThrottlingException', 400, true))).toBe('throttling');
    expect(classify(service('TooManyRequestsException', 429, true))).toBe('throttling');
    for (const status of [500, 502, 503, 504])
      expect(classify(service('UnknownError', status))).toBe('transient');
    expect(classify(service('RequestTimeoutException', 408))).toBe('transient');
    expect(classify(service('NotImplemented', 501))).toBe('final');
    expect(classify(service('ValidationException', 400))).toBe('final');
    expect(classify(service('AccessDeniedException', 400))).toBe('final');
    expect(classify(transport('timeout'))).toBe('transient');
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN']) {
      expect(classify(transport('network', code))).toBe('transient');
    }
    expect(classify(transport('network', 'CERT_HAS_EXPIRED'))).toBe('final');
    expect(classify(transport('unreadable'))).toBe('final');
    expect(classify(new Error('other'))).toBe('final');
  });
});

describe('backoffDelay', () => {
  it('waits below 50·2^n ms for transient errors and 1000·2^n ms for throttling, at most 20 s', () => {
    const top = () => 0.999999;
    expect(backoffDelay('transient', 0, top)).toBe(49);
    expect(backoffDelay('transient', 2, top)).toBe(199);
    expect(backoffDelay('throttling', 0, top)).toBe(999);
    expect(backoffDelay('throttling', 1, top)).toBe(1999);
    expect(backoffDelay('throttling', 10, top)).toBe(19999);
    expect(backoffDelay('throttling', 3, () => 0)).toBe(0);
  });

  it('lets Retry-After lengthen the wait by at most 5 s', () => {
    expect(withRetryAfter(100, undefined)).toBe(100);
    expect(withRetryAfter(100, 2000)).toBe(2000);
    expect(withRetryAfter(100, 60_000)).toBe(5100);
    expect(withRetryAfter(800, 10)).toBe(800);
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });
});

describe('RetryQuota', () => {
  it('refuses retries once 500 tokens are spent and refills on success', () => {
    const quota = new RetryQuota();
    let retries = 0;
    while (quota.acquire('transient') !== undefined) retries++;
    expect(retries).toBe(Math.floor(500 / 14));
    expect(quota.acquire('throttling')).toBe(5); // 500 - 35·14 = 10 left
    quota.release(14);
    expect(quota.available).toBe(19);
    quota.release(undefined);
    expect(quota.available).toBe(20);
  });
});
