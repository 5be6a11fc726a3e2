import { dynamodbPath, parameterPath } from '@lambda-cache/shared';
import { afterEach, describe, expect, it } from 'vitest';
import {
  SEED_ITEM_KEY,
  SEED_PARAMETER,
  SEED_PARAMETER_VALUE,
  SEED_SECRET,
  SEED_SECRET_VALUE,
  SEED_TABLE,
} from '../src/fixtures.js';
import { type Stack, startStack, totalCalls } from '../src/harness.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe("the seed's environment variables", () => {
  it('prefetches nothing and loads on first read when CACHE_EXTENSION_INIT_STARTUP is false', async () => {
    stack = await startStack({ env: { CACHE_EXTENSION_INIT_STARTUP: 'false' } });
    expect(totalCalls(stack.backends.ssm)).toBe(0);
    expect(totalCalls(stack.backends.dynamodb)).toBe(0);
    const first = await stack.get(parameterPath(SEED_PARAMETER));
    expect(first.status).toBe(200);
    expect(first.body.value).toBe(SEED_PARAMETER_VALUE);
    expect(first.headers['x-cache']).toBe('miss');
    const second = await stack.get(parameterPath(SEED_PARAMETER));
    expect(second.headers['x-cache']).toBe('hit');
    const item = await stack.get(dynamodbPath(SEED_TABLE, SEED_ITEM_KEY));
    expect(item.status).toBe(200);
    expect(item.headers['x-cache']).toBe('miss');
    expect(totalCalls(stack.backends.ssm)).toBe(1);
  });

  it('uses CACHE_TIMEOUT_IN_MINUTES as the TTL when CACHE_EXTENSION_TTL is unset', async () => {
    stack = await startStack({ env: { CACHE_TIMEOUT_IN_MINUTES: '2' } });
    const res = await stack.get(parameterPath(SEED_PARAMETER));
    const maxAge = Number(/max-age=(\d+)/.exec(res.headers['cache-control'] ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(60);
    expect(maxAge).toBeLessThanOrEqual(120);
  });

  it('prefers CACHE_EXTENSION_TTL when both are set', async () => {
    stack = await startStack({ env: { CACHE_TIMEOUT_IN_MINUTES: '2', CACHE_EXTENSION_TTL: '30s' } });
    const res = await stack.get(parameterPath(SEED_PARAMETER));
    const maxAge = Number(/max-age=(\d+)/.exec(res.headers['cache-control'] ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge).toBeLessThanOrEqual(30);
  });

  it('does not serve the seed routes unless CACHE_EXTENSION_LEGACY_ROUTES is true', async () => {
    stack = await startStack();
    for (const path of [`/parameters/${SEED_PARAMETER}`, '/dynamodb/DynamoDbTable-pKey1-sKey1']) {
      // Without the token: an unknown route like any other, so the token check answers first.
      const anonymous = await stack.get(path, { 'x-aws-parameters-secrets-token': '' });
      expect(anonymous.status).toBe(403);
      expect(anonymous.text).not.toContain(SEED_PARAMETER_VALUE);
      const withToken = await stack.get(path);
      expect(withToken.status).toBe(404);
      expect(withToken.body.code).toBe('NotFound');
      expect(withToken.text).not.toContain(SEED_PARAMETER_VALUE);
    }
  });
});

describe('AWS emulators that name a secret reference by the secret', () => {
  it('serves a secret reference when the answer names the secret without the reference prefix', async () => {
    const reference = `/aws/reference/secretsmanager/${SEED_SECRET}`;
    stack = await startStack({
      // The seed config prefetches the reference: the answer must be matched to the name it asked for.
      beforeStart: (backends) => backends.ssm.answerSecretReferencesAs('secret'),
    });
    const prefetched = await stack.get(parameterPath(reference));
    expect(prefetched.status).toBe(200);
    expect(prefetched.body).toMatchObject({
      name: reference,
      value: SEED_SECRET_VALUE,
      type: 'SecureString',
    });
    expect(prefetched.headers['x-cache']).toBe('hit');
  });
});
