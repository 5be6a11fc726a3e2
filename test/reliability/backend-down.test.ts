import { dynamodbPath, parameterPath, ROUTES } from '@lambda-cache/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { SEED_ITEM_KEY, SEED_PARAMETER, SEED_PARAMETER_VALUE, SEED_TABLE } from '../src/fixtures.js';
import { type Reply, type Stack, sleep, startStack, waitFor } from '../src/harness.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** Lambda's init limit; the extension must be ready well inside it. */
const LAMBDA_INIT_MS = 10_000;

function expectUpstreamFailure(res: Reply, statuses: number[]): void {
  console.log(`[backend-down] ${res.status} ${res.body.code} ${res.body.awsCode ?? ''}`);
  expect(statuses).toContain(res.status);
  expect(['UpstreamError', 'UpstreamTimeout']).toContain(res.body.code);
  expect(typeof res.body.message).toBe('string');
}

async function expectRecovery(s: Stack): Promise<void> {
  const param = await waitFor(
    'the parameter to be served again',
    async () => {
      const r = await s.get(parameterPath(SEED_PARAMETER));
      return r.status === 200 ? r : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 250 },
  );
  expect(param.body.value).toBe(SEED_PARAMETER_VALUE);
  const item = await waitFor(
    'the item to be served again',
    async () => {
      const r = await s.get(dynamodbPath(SEED_TABLE, SEED_ITEM_KEY));
      return r.status === 200 ? r : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 250 },
  );
  expect(item.body.item.Data).toEqual({ S: 'Data goes here' });
}

describe('backends down at init', () => {
  it('becomes ready, logs the failed items and answers 502 until the backends return when connections are refused', async () => {
    stack = await startStack({
      initTimeoutMs: LAMBDA_INIT_MS,
      beforeStart: (b) => {
        b.ssm.setFaults({ down: true });
        b.dynamodb.setFaults({ down: true });
      },
    });
    const s = stack;
    const health = await s.get(ROUTES.health);
    // Ready, with its sources failing: a prefetch that failed leaves the extension up and says why.
    expect(health.body.status).toBe('degraded');
    expect(health.body.sources?.ssm?.status).toBe('failing');
    expect(health.body.failed).toBeGreaterThanOrEqual(2);
    const logs = s.logs().join('\n');
    expect(logs).toContain(SEED_PARAMETER);
    expect(logs).toContain(SEED_TABLE);
    expectUpstreamFailure(await s.get(parameterPath(SEED_PARAMETER)), [502, 504]);
    expectUpstreamFailure(await s.get(dynamodbPath(SEED_TABLE, SEED_ITEM_KEY)), [502, 504]);
    expect((await s.get(ROUTES.ping)).status).toBe(200);
    s.backends.ssm.setFaults({});
    s.backends.dynamodb.setFaults({});
    await expectRecovery(s);
  });

  it('becomes ready within the init limit and answers 504 until the backends return when calls hang', async () => {
    stack = await startStack({
      initTimeoutMs: LAMBDA_INIT_MS,
      beforeStart: (b) => {
        b.ssm.setFaults({ hangMs: 30_000 });
        b.dynamodb.setFaults({ hangMs: 30_000 });
      },
    });
    const s = stack;
    const health = await s.get(ROUTES.health);
    // Ready, with its sources failing: a prefetch that failed leaves the extension up and says why.
    expect(health.body.status).toBe('degraded');
    expect(health.body.sources?.ssm?.status).toBe('failing');
    expect(health.body.failed).toBeGreaterThanOrEqual(2);
    expectUpstreamFailure(await s.get(parameterPath(SEED_PARAMETER)), [504, 502]);
    expect((await s.get(ROUTES.ping)).status).toBe(200);
    s.backends.ssm.setFaults({});
    s.backends.dynamodb.setFaults({});
    await expectRecovery(s);
  });
});

describe('backends down after warm-up', () => {
  it('serves stale values, then recovers by itself when the backend returns', async () => {
    stack = await startStack({ env: { CACHE_EXTENSION_TTL: '1s' } });
    const s = stack;
    expect((await s.get(parameterPath(SEED_PARAMETER))).headers['x-cache']).toBe('hit');
    s.backends.ssm.setFaults({ down: true });
    s.backends.dynamodb.setFaults({ down: true });
    await sleep(1300);
    for (let i = 0; i < 3; i++) {
      const p = await s.get(parameterPath(SEED_PARAMETER));
      expect(p.status).toBe(200);
      expect(p.headers['x-cache']).toBe('stale');
      expect(p.body.value).toBe(SEED_PARAMETER_VALUE);
      const item = await s.get(dynamodbPath(SEED_TABLE, SEED_ITEM_KEY));
      expect(item.status).toBe(200);
      expect(item.headers['x-cache']).toBe('stale');
      await sleep(700);
    }
    s.backends.ssm.setFaults({});
    s.backends.dynamodb.setFaults({});
    const fresh = await waitFor(
      'a fresh value after the backend returned',
      async () => {
        const r = await s.get(parameterPath(SEED_PARAMETER));
        return r.headers['x-cache'] === 'hit' ? r : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    expect(fresh.body.value).toBe(SEED_PARAMETER_VALUE);
  });
});
