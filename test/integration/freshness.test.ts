import { parameterPath } from '@lambda-cache/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { SEED_PARAMETER, SEED_PARAMETER_VALUE } from '../src/fixtures.js';
import { type Stack, sleep, startStack, totalCalls, waitFor } from '../src/harness.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const TTL_MS = 1000;

describe('freshness', () => {
  it('makes exactly one backend call when 50 concurrent requests arrive after the TTL expired', async () => {
    stack = await startStack({ env: { CACHE_EXTENSION_TTL: '1s' } });
    const s = stack;
    expect((await s.get(parameterPath(SEED_PARAMETER))).headers['x-cache']).toBe('hit');
    s.backends.ssm.resetCalls();
    await sleep(TTL_MS + 300);
    const answers = await Promise.all(Array.from({ length: 50 }, () => s.get(parameterPath(SEED_PARAMETER))));
    for (const res of answers) {
      expect(res.status).toBe(200);
      expect(res.body.value).toBe(SEED_PARAMETER_VALUE);
    }
    // Served stale while the one refresh runs, or waited on it: never a second call.
    await waitFor(
      'the refresh to land',
      async () => (await s.get(parameterPath(SEED_PARAMETER))).headers['x-cache'] === 'hit',
    );
    expect(totalCalls(s.backends.ssm)).toBe(1);
  });

  it('serves the last good value marked stale when the backend fails after warm-up', async () => {
    stack = await startStack({ env: { CACHE_EXTENSION_TTL: '1s' } });
    const s = stack;
    expect((await s.get(parameterPath(SEED_PARAMETER))).status).toBe(200);
    s.backends.ssm.setFaults({ failRate: 1 });
    await sleep(TTL_MS + 300);
    const first = await s.get(parameterPath(SEED_PARAMETER));
    expect(first.status).toBe(200);
    expect(first.body.value).toBe(SEED_PARAMETER_VALUE);
    expect(first.headers['x-cache']).toBe('stale');
    // A stale answer has no freshness left to give, so no cache downstream keeps it.
    expect(first.headers['cache-control']).toBe('max-age=0');
    expect(Number(first.headers.age)).toBeGreaterThanOrEqual(1);
    // Once the refresh has failed and the stale-while-revalidate window (min(TTL, 1 min) = 1 s after
    // expiry) has passed too, only stale-if-error can answer with the value: checked there, not inside
    // the window, where a stale answer proves nothing about stale-if-error.
    await waitFor('the refresh to fail', () => totalCalls(s.backends.ssm) > 0);
    await sleep(2 * TTL_MS);
    const second = await s.get(parameterPath(SEED_PARAMETER));
    expect(second.status).toBe(200);
    expect(second.headers['x-cache']).toBe('stale');
    expect(second.body.value).toBe(SEED_PARAMETER_VALUE);
    // Age is in whole seconds: past TTL + stale-while-revalidate (2 s).
    expect(Number(second.headers.age)).toBeGreaterThanOrEqual(3);
  });

  it('refreshes entries close to expiry during an INVOKE, so reads after it are fresh hits', async () => {
    stack = await startStack({ env: { CACHE_EXTENSION_TTL: '5s' } });
    const s = stack;
    s.backends.ssm.resetCalls();
    s.backends.dynamodb.resetCalls();
    // Just loaded: nothing is close to expiry, the INVOKE refreshes nothing.
    expect((await s.lambda.invoke({ n: 1 })).ok).toBe(true);
    expect(totalCalls(s.backends.ssm) + totalCalls(s.backends.dynamodb)).toBe(0);
    // Within the last fifth of the TTL (at least 1 s): the INVOKE reloads every configured entry, batched.
    await sleep(4200);
    expect((await s.lambda.invoke({ n: 2 })).ok).toBe(true);
    expect(s.backends.ssm.calls.GetParameters).toBe(1);
    expect(s.backends.dynamodb.calls.BatchGetItem).toBe(1);
    const res = await s.get(parameterPath(SEED_PARAMETER));
    expect(res.headers['x-cache']).toBe('hit');
    expect(Number(/max-age=(\d+)/.exec(res.headers['cache-control'] ?? '')?.[1])).toBeGreaterThanOrEqual(3);
  });

  it('remembers a not-found answer briefly, then finds the parameter once it exists', async () => {
    stack = await startStack({ env: { CACHE_EXTENSION_TTL: '1s' } });
    const s = stack;
    const path = parameterPath('/created/later');
    s.backends.ssm.resetCalls();
    expect((await s.get(path)).status).toBe(404);
    expect(totalCalls(s.backends.ssm)).toBe(1);
    // Negative caching: the second miss does not go to SSM.
    const again = await s.get(path);
    expect(again.status).toBe(404);
    expect(again.body.code).toBe('NotFound');
    expect(totalCalls(s.backends.ssm)).toBe(1);
    s.backends.ssm.putParameter({ name: '/created/later', value: 'created-later-value' });
    // The negative entry lives min(TTL, 30 s) = 1 s.
    await sleep(TTL_MS + 300);
    const found = await s.get(path);
    expect(found.status).toBe(200);
    expect(found.body.value).toBe('created-later-value');
  });
});
