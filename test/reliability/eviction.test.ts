import { dynamodbPath, parameterPath, ROUTES } from '@lambda-cache/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_ITEM_KEY, SEED_TABLE, seedConfig, seedData } from '../src/fixtures.js';
import { type Stack, startStack } from '../src/harness.js';

/** Scaled from 100k: the bound is what matters, and 100k backend round trips would take minutes here. */
const DISTINCT = 800;
const MAX_ENTRIES = 60;
const MAX_BYTES = 96 * 1024;
const BIG = 60;
const BIG_VALUE_BYTES = 4096;
const CONCURRENCY = 24;

const PINNED = Array.from({ length: 20 }, (_, i) => `/evict/pinned/${i}`);
const KEYS = Array.from({ length: DISTINCT }, (_, i) => `/evict/rt/${i}`);
const BIG_KEYS = Array.from({ length: BIG }, (_, i) => `/evict/big/${i}`);

const config = seedConfig.replace(
  '      - /aws/reference/secretsmanager/secret_info\n',
  `      - /aws/reference/secretsmanager/secret_info\n${PINNED.map((n) => `      - ${n}\n`).join('')}`,
);
const seed = seedData();
seed.parameters = [
  ...(seed.parameters ?? []),
  ...[...PINNED, ...KEYS].map((name) => ({ name, value: `evict-value-${name}` })),
  ...BIG_KEYS.map((name, i) => ({ name, value: `${i}`.padEnd(BIG_VALUE_BYTES, 'v') })),
];

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    config,
    seed,
    env: {
      CACHE_EXTENSION_MAX_ENTRIES: String(MAX_ENTRIES),
      CACHE_EXTENSION_MAX_BYTES: String(MAX_BYTES),
      // Warn, not debug: a debug line per request would make this run measure logging.
      CACHE_EXTENSION_LOG_LEVEL: 'warn',
    },
  });
});
afterAll(async () => {
  await stack?.close();
});

async function readAll(names: readonly string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let n = names[next++]; n !== undefined; n = names[next++]) {
      const res = await stack.get(parameterPath(n));
      if (res.status !== 200) throw new Error(`${n}: ${res.status} ${res.text}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

async function expectPinnedServedFromMemory(): Promise<void> {
  stack.backends.ssm.resetCalls();
  stack.backends.dynamodb.resetCalls();
  for (const n of PINNED) {
    const res = await stack.get(parameterPath(n));
    expect(res.status).toBe(200);
    expect(res.headers['x-cache']).toBe('hit');
  }
  expect((await stack.get(dynamodbPath(SEED_TABLE, SEED_ITEM_KEY))).headers['x-cache']).toBe('hit');
  expect(Object.values(stack.backends.ssm.calls).reduce((a, b) => a + b, 0)).toBe(0);
  expect(Object.values(stack.backends.dynamodb.calls).reduce((a, b) => a + b, 0)).toBe(0);
}

describe('memory bound', () => {
  it(`keeps entries at ${MAX_ENTRIES} and never evicts prefetched ones when ${DISTINCT} distinct keys are read through`, async () => {
    await readAll(KEYS);
    const stats = (await stack.get(ROUTES.stats)).body;
    expect(stats.maxEntries).toBe(MAX_ENTRIES);
    expect(stats.entries).toBeLessThanOrEqual(MAX_ENTRIES);
    expect(stats.entries).toBeGreaterThan(PINNED.length);
    expect(stats.evictions).toBeGreaterThanOrEqual(DISTINCT - MAX_ENTRIES);
    expect(stats.bytes).toBeLessThanOrEqual(MAX_BYTES);
    console.log(
      `[eviction] ${DISTINCT} keys: entries ${stats.entries}/${stats.maxEntries}, bytes ${stats.bytes}/${stats.maxBytes}, evictions ${stats.evictions}`,
    );
    await expectPinnedServedFromMemory();
    // The first keys read were evicted: reading one again goes to the backend.
    stack.backends.ssm.resetCalls();
    const again = await stack.get(parameterPath(KEYS[0] as string));
    expect(again.status).toBe(200);
    expect(again.headers['x-cache']).toBe('miss');
  });

  it(`keeps bytes under ${MAX_BYTES} when values are large`, async () => {
    await readAll(BIG_KEYS);
    const stats = (await stack.get(ROUTES.stats)).body;
    expect(stats.bytes).toBeLessThanOrEqual(MAX_BYTES);
    expect(stats.entries).toBeLessThanOrEqual(MAX_ENTRIES);
    console.log(
      `[eviction] ${BIG} values of ${BIG_VALUE_BYTES} B: entries ${stats.entries}, bytes ${stats.bytes}/${stats.maxBytes}`,
    );
    await expectPinnedServedFromMemory();
    // Every large value was served whole even though most could not stay.
    const last = await stack.get(parameterPath(BIG_KEYS[BIG - 1] as string));
    expect(last.body.value).toHaveLength(BIG_VALUE_BYTES);
  });
});
