import { parameterPath, ROUTES } from '@lambda-cache/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, sleep, startStack, waitFor } from '../src/harness.js';

const NAMES = Array.from({ length: 30 }, (_, i) => `/throttled/p${String(i).padStart(2, '0')}`);
const BATCHES = 3;
/** No retry storm: each batch may be retried, but the total stays a small multiple of the batches. */
const MAX_CALLS_PER_PHASE = BATCHES * 12;
const TTL_MS = 1500;

const config = `parameters:
  - region: us-west-2
    names:
${NAMES.map((n) => `      - ${n}`).join('\n')}
`;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    config,
    seed: { parameters: NAMES.map((name) => ({ name, value: `throttled-value-${name}` })) },
    env: { CACHE_EXTENSION_TTL: '1500ms', CACHE_EXTENSION_LOG_LEVEL: 'info' },
    beforeStart: (b) => b.ssm.setFaults({ throttleRate: 0.5 }),
  });
});
afterAll(async () => {
  await stack?.close();
});

function ssmCalls(): number {
  const c = stack.backends.ssm.calls;
  return (c.GetParameters ?? 0) + (c.GetParameter ?? 0);
}

async function readAll(): Promise<number[]> {
  const answers = await Promise.all(NAMES.map((n) => stack.get(parameterPath(n))));
  answers.forEach((res, i) => {
    if (res.status === 200) expect(res.body.value).toBe(`throttled-value-${NAMES[i]}`);
  });
  return answers.map((a) => a.status);
}

describe('SSM throttling half of all calls', () => {
  it('completes prefetch with a bounded number of calls', async () => {
    const health = await stack.get(ROUTES.health);
    expect(health.body.status).toBe('ready');
    expect(ssmCalls()).toBeGreaterThanOrEqual(BATCHES);
    expect(ssmCalls()).toBeLessThanOrEqual(MAX_CALLS_PER_PHASE);
  });

  it('fails no read of a configured parameter after prefetch', async () => {
    expect(await readAll()).toEqual(NAMES.map(() => 200));
  });

  it('fails no read and makes a bounded number of calls while entries refresh', async () => {
    stack.backends.ssm.resetCalls();
    // Three rounds past the TTL: each round serves stale (or fresh) values while the refreshes are throttled.
    for (let round = 0; round < 3; round++) {
      await sleep(TTL_MS + 200);
      expect(await readAll()).toEqual(NAMES.map(() => 200));
    }
    await waitFor('refreshes to settle', async () => (await stack.get(ROUTES.health)).status === 200);
    expect(ssmCalls()).toBeGreaterThan(0);
    // Refreshes may go one key at a time; even so, at most a few attempts per key and round.
    expect(ssmCalls()).toBeLessThanOrEqual(3 * NAMES.length * 4);
  });
});
