import { parameterPath } from '@lambda-cache/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedData } from '../src/fixtures.js';
import { exitCodesOf, type Stack, startStack, waitFor } from '../src/harness.js';

const IN_FLIGHT = 200;
const NAMES = Array.from({ length: IN_FLIGHT }, (_, i) => `/inflight/p${i}`);
const seed = seedData();
seed.parameters = [
  ...(seed.parameters ?? []),
  ...NAMES.map((name) => ({ name, value: `inflight-value-${name}` })),
];

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ seed, shutdownTimeoutMs: 2000 });
});
afterAll(async () => {
  await stack?.close();
});

describe('SHUTDOWN under load', () => {
  it('exits 0 without being killed and settles every request when 200 are in flight', async () => {
    // Each read-through waits on a slow backend, so all of them are in flight when SHUTDOWN comes.
    stack.backends.ssm.setFaults({ latencyMs: 1500 });
    const requests = NAMES.map((n) =>
      stack.get(parameterPath(n)).then(
        (value) => ({ status: 'fulfilled' as const, value }),
        (reason: unknown) => ({ status: 'rejected' as const, reason }),
      ),
    );
    await waitFor('the requests to reach the backend', () => stack.backends.ssm.callLog.length >= 10, {
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    const result = await stack.lambda.shutdown('spindown');
    expect(result.killed).toEqual([]);
    expect(exitCodesOf(result)).toEqual([0]);
    const settled = await Promise.all(requests);
    for (const s of settled) {
      if (s.status === 'fulfilled') {
        // Finished with the value, or told that the extension is going away: never a 500.
        expect([200, 503, 504]).toContain(s.value.status);
        if (s.value.status === 200) expect(s.value.body.value).toMatch(/^inflight-value-/);
      } else {
        // Dropped: the connection closed under it, which a client sees as a reset.
        expect(String((s.reason as Error).message)).toMatch(/socket hang up|ECONNRESET|ECONNREFUSED|EPIPE/);
      }
    }
    expect(settled).toHaveLength(IN_FLIGHT);
    const outcome: Record<string, number> = {};
    for (const s of settled) {
      const k = s.status === 'fulfilled' ? String(s.value.status) : 'dropped';
      outcome[k] = (outcome[k] ?? 0) + 1;
    }
    console.log(`[shutdown] ${JSON.stringify(outcome)}, exit in ${result.durationMs.toFixed(0)} ms`);
  });
});
