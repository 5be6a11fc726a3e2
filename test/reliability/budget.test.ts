import { dynamodbPath, parameterPath, ROUTES } from '@lambda-cache/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { SEED_PARAMETER, SEED_TABLE, seedConfig, seedData } from '../src/fixtures.js';
import { type Reply, type Stack, sleep, startStack, totalCalls } from '../src/harness.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe('budget filled by configured entries', () => {
  // 100 configured names plus the seed's 3 entries leave nothing of CACHE_EXTENSION_MAX_ENTRIES=100;
  // read-through and not-found entries must still be kept (in the reserve, 10 % of the budget).
  const CONFIGURED = Array.from({ length: 100 }, (_, i) => `/budget/configured/${i}`);
  const READ_THROUGH = Array.from({ length: 5 }, (_, i) => `/budget/read-through/${i}`);
  const MISSING_ITEMS = Array.from({ length: 5 }, (_, i) => ({
    pKey: { S: `missing-${i}` },
    sKey: { S: 'none' },
  }));
  const ROUNDS = 6;

  it('keeps caching read-through parameters and not-found items, and warns at start', async () => {
    const seed = seedData();
    seed.parameters = [
      ...(seed.parameters ?? []),
      ...[...CONFIGURED, ...READ_THROUGH].map((name) => ({ name, value: `budget-value-${name}` })),
    ];
    stack = await startStack({
      config: seedConfig.replace(
        '      - /aws/reference/secretsmanager/secret_info\n',
        `      - /aws/reference/secretsmanager/secret_info\n${CONFIGURED.map((n) => `      - ${n}\n`).join('')}`,
      ),
      seed,
      env: { CACHE_EXTENSION_MAX_ENTRIES: String(CONFIGURED.length), CACHE_EXTENSION_LOG_LEVEL: 'info' },
    });
    const s = stack;
    s.backends.ssm.resetCalls();
    s.backends.dynamodb.resetCalls();
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of READ_THROUGH) {
        const res = await s.get(parameterPath(name));
        expect(res.status).toBe(200);
        expect(res.body.value).toBe(`budget-value-${name}`);
      }
      for (const key of MISSING_ITEMS) expect((await s.get(dynamodbPath(SEED_TABLE, key))).status).toBe(404);
    }
    const stats = (await s.get(ROUTES.stats)).body;
    console.log(
      `[budget] ${ROUNDS} rounds of ${READ_THROUGH.length} read-through names and ${MISSING_ITEMS.length} missing items: SSM ${JSON.stringify(s.backends.ssm.calls)}, DynamoDB ${JSON.stringify(s.backends.dynamodb.calls)}; entries ${stats.entries}/${stats.maxEntries}`,
    );
    // One load per name and per missing key; every later read is answered from memory.
    expect(totalCalls(s.backends.ssm)).toBe(READ_THROUGH.length);
    expect(totalCalls(s.backends.dynamodb)).toBe(MISSING_ITEMS.length);
    expect(s.logs().join('\n')).toContain('configured entries fill the cache budget');
  });
});

describe('a configured entry whose backend hung during init', () => {
  it('answers at once after its load failed or timed out, while a load nobody waited on yet still waits', async () => {
    stack = await startStack({
      initTimeoutMs: 10_000,
      beforeStart: (b) => b.ssm.setFaults({ hangMs: 30_000 }),
    });
    const s = stack;
    // The first read waits (bounded) for the hung prefetch and gets its failure.
    const first = await s.get(parameterPath(SEED_PARAMETER));
    expect([502, 504]).toContain(first.status);
    // Then: a read-through name nobody asked for yet (its own load, which hangs too), and shortly after
    // it, the configured name again. The configured name is known to be failing, so it must be answered
    // before the read-through one, which waits its whole bound.
    const order: string[] = [];
    const track = (what: string, res: Promise<Reply>) =>
      res.then((r) => {
        order.push(what);
        return r;
      });
    const fresh = track('read-through', s.get(parameterPath('/budget/never-read')));
    await sleep(150);
    const again = track('configured', s.get(parameterPath(SEED_PARAMETER)));
    const [freshRes, againRes] = await Promise.all([fresh, again]);
    console.log(
      `[budget] hung init: first ${first.status} ${first.body.code}, again ${againRes.status} ${againRes.body.code}, read-through ${freshRes.status} ${freshRes.body.code}; answered in order ${order.join(', ')}`,
    );
    expect(againRes.status).toBe(first.status);
    expect(againRes.body.code).toBe(first.body.code);
    expect([502, 504]).toContain(freshRes.status);
    expect(order).toEqual(['configured', 'read-through']);
    // The back-off does not keep it failing once the backend answers again.
    s.backends.ssm.setFaults({});
    let served: Reply | undefined;
    for (let i = 0; i < 60 && served === undefined; i++) {
      const r = await s.get(parameterPath(SEED_PARAMETER));
      if (r.status === 200) served = r;
      else await sleep(250);
    }
    expect(served?.status).toBe(200);
  });
});
