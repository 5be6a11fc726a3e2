import { type CacheClient, createCacheClient } from '@lambda-cache/client';
import { ROUTES } from '@lambda-cache/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, seededRandom, sleep, startStack, waitFor } from '../src/harness.js';

const NAMES = Array.from({ length: 30 }, (_, i) => `/throttled/p${String(i).padStart(2, '0')}`);
const BATCHES = 3;
/** No retry storm: each batch may be retried, but the total stays a small multiple of the batches. */
const MAX_CALLS_PER_PHASE = BATCHES * 12;
const TTL_MS = 1500;
const ROUNDS = 2;
/**
 * Each round's first stale read refreshes every expired entry at once: 30 names, 3 batches of 10, however
 * the reads are spread over I/O turns (refreshed one stale read at a time, a busy machine made up to 60
 * calls); at a 50 % throttle rate a batch takes about 2 calls (1 + ½ + ¼ …), so about 12 over the two
 * rounds. Observed: 8. The bound is twice the expected: it allows an unlucky run of retries, but not
 * refreshes going one name at a time (60 refreshes, about 120 calls) nor a retry storm.
 */
const MAX_REFRESH_CALLS = 24;
/** Polls, 500 ms apart, in which the call count must not move for the refreshes to count as settled. */
const QUIET_POLLS = 4;

const config = `parameters:
  - region: us-west-2
    names:
${NAMES.map((n) => `      - ${n}`).join('\n')}
`;

let stack: Stack;
let client: CacheClient;
beforeAll(async () => {
  stack = await startStack({
    config,
    seed: { parameters: NAMES.map((name) => ({ name, value: `throttled-value-${name}` })) },
    env: { CACHE_EXTENSION_TTL: '1500ms' },
    random: seededRandom(11),
    beforeStart: (b) => b.ssm.setFaults({ throttleRate: 0.5 }),
  });
  // The function's view: the real client, which retries a 429 within its bounded policy.
  client = createCacheClient({ port: stack.port, token: stack.token, localCache: false });
});
afterAll(async () => {
  await client?.close();
  await stack?.close();
});

function ssmCalls(): number {
  const c = stack.backends.ssm.calls;
  return (c.GetParameters ?? 0) + (c.GetParameter ?? 0);
}

/**
 * Settled means no refresh is running any more: the backend's call count has not moved for
 * {@link QUIET_POLLS} polls in a row (a throttled batch is retried within about a second).
 */
async function waitForCallsToSettle(): Promise<void> {
  let last = -1;
  let quiet = 0;
  await waitFor(
    'refreshes to settle (the SSM call count to stop moving)',
    () => {
      const now = ssmCalls();
      quiet = now === last ? quiet + 1 : 0;
      last = now;
      return quiet >= QUIET_POLLS;
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  );
}

/** Reads every configured parameter through the client; the outcome of each, `ok` or the error code. */
async function readAll(): Promise<string[]> {
  return Promise.all(
    NAMES.map((n) =>
      client.getParameter(n).then(
        (value) => (value === `throttled-value-${n}` ? 'ok' : `wrong value for ${n}`),
        (err: { code?: string }) => `${n}: ${err.code ?? String(err)}`,
      ),
    ),
  );
}

describe('SSM throttling half of all calls', () => {
  it('completes prefetch with a bounded number of calls', async () => {
    const health = await stack.get(ROUTES.health);
    expect(health.body.status).toBe('ready');
    expect(ssmCalls()).toBeGreaterThanOrEqual(BATCHES);
    expect(ssmCalls()).toBeLessThanOrEqual(MAX_CALLS_PER_PHASE);
    console.log(
      `[throttling] prefetch: ${ssmCalls()} SSM calls, ${health.body.failed} of ${NAMES.length} failed`,
    );
  });

  it('fails no read of a configured parameter after prefetch', async () => {
    expect(await readAll()).toEqual(NAMES.map(() => 'ok'));
  });

  it('fails no read and makes a bounded number of calls while entries refresh', async () => {
    stack.backends.ssm.resetCalls();
    // Rounds past the TTL: each round serves stale (or fresh) values while the refreshes are throttled.
    for (let round = 0; round < ROUNDS; round++) {
      await sleep(TTL_MS + 200);
      expect(await readAll()).toEqual(NAMES.map(() => 'ok'));
    }
    await waitForCallsToSettle();
    expect(ssmCalls()).toBeGreaterThan(0);
    console.log(
      `[throttling] refresh: ${ssmCalls()} SSM calls over ${ROUNDS} rounds of ${NAMES.length} reads`,
    );
    expect(ssmCalls()).toBeLessThanOrEqual(MAX_REFRESH_CALLS);
  });
});
