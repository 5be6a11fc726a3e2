import { type ItemJson, normalizeKey, type ParameterPayload } from '@lambda-cache/shared';
import { describe, expect, it } from 'vitest';
import { ERROR_RETRY_MS, WaitTimeoutError } from '../../src/cache.js';
import { ManualClock } from '../../src/clock.js';
import { parseConfig } from '../../src/config-yaml.js';
import { NotFoundError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import type { SourceStore } from '../../src/source-store.js';
import type { DynamoDbSource } from '../../src/sources/dynamodb.js';
import type { SsmSource } from '../../src/sources/ssm.js';
import { item, makeStore, parameter } from './support/store.js';

// The sources are faked at their public methods (what the store calls), so these tests do not depend on
// how the sources talk to AWS.

function payload(name: string): ParameterPayload {
  return { name, type: 'String', value: `value-of-${name}`, version: 1, lastModified: null };
}

interface Fakes {
  ssm: SsmSource;
  dynamodb: DynamoDbSource;
  /** Names asked for, over all GetParameters calls. */
  names: string[];
  itemCalls: number;
  /** Replaces the SSM answer; `undefined` restores the default. */
  answer?: (names: readonly string[]) => Promise<Map<string, ParameterPayload | Error>>;
}

function fakes(): Fakes {
  const f: Fakes = {
    names: [],
    itemCalls: 0,
    ssm: {} as SsmSource,
    dynamodb: {} as DynamoDbSource,
  };
  f.ssm = {
    getParameters: async (_region: string | undefined, names: readonly string[]) => {
      f.names.push(...names);
      if (f.answer) return f.answer(names);
      return new Map(
        names.map((n): [string, ParameterPayload | Error] => [
          n,
          n.startsWith('/missing/') ? new NotFoundError(`${n} not found`) : payload(n),
        ]),
      );
    },
    getParametersByPath: async () => ({ parameters: [], truncated: false }),
  } as unknown as SsmSource;
  f.dynamodb = {
    getItem: async (): Promise<ItemJson> => {
      f.itemCalls++;
      throw new NotFoundError('no such item');
    },
    batchGet: async () => {
      f.itemCalls++;
      return new Map();
    },
  } as unknown as DynamoDbSource;
  return f;
}

function configOf(names: readonly string[], ttl?: string): string {
  const list = names.map((n) => `      - ${n}`).join('\n');
  return `parameters:\n  - region: us-west-2\n${ttl ? `    ttl: ${ttl}\n` : ''}    names:\n${list}\n`;
}

function make(
  f: Fakes,
  configText: string,
  opts: { maxEntries?: number; maxBytes?: number; ttlMs?: number; waitMs?: number } = {},
) {
  const clock = new ManualClock(1_000_000);
  const lines: string[] = [];
  const store = makeStore({
    config: parseConfig(configText, 'config.yaml'),
    ssm: f.ssm,
    dynamodb: f.dynamodb,
    clock,
    logger: createLogger({ level: 'warn', format: 'text', write: (l) => lines.push(l) }),
    ttlMs: opts.ttlMs ?? 300_000,
    maxEntries: opts.maxEntries ?? 10_000,
    maxBytes: opts.maxBytes ?? 64 * 1024 * 1024,
    region: 'us-west-2',
    backendCalls: {},
    waitMs: opts.waitMs ?? 2000,
  });
  return { store, clock, lines };
}

const read = (store: SourceStore, name: string) =>
  Promise.resolve(parameter(store, { name, decrypt: true, refresh: false }, 'v1'));

/** Lets every pending promise callback run; no time passes. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe('SourceStore budget', () => {
  const CONFIGURED = Array.from({ length: 30 }, (_, i) => `/configured/${i}`);
  const READ_THROUGH = Array.from({ length: 30 }, (_, i) => `/read-through/${i}`);

  it('still caches read-through parameters when configured ones fill maxEntries, and warns at start', async () => {
    const f = fakes();
    const { store, lines } = make(f, configOf(CONFIGURED), { maxEntries: CONFIGURED.length });
    await store.prefetch(5000);
    // The reserve is 10 % of maxEntries: 3 read-through entries. Thirty reads of three names: three calls.
    const names = READ_THROUGH.slice(0, 3);
    for (let round = 0; round < 10; round++) for (const n of names) await read(store, n);
    expect(f.names).toEqual([...CONFIGURED, ...names]);
    expect(lines.join('\n')).toContain('configured entries fill the cache budget');
  });

  it('remembers not-found items when configured entries fill maxBytes', async () => {
    const f = fakes();
    const many = Array.from({ length: 200 }, (_, i) => `/configured/${i}`);
    const { store } = make(f, configOf(many), { maxBytes: 80_000 });
    await store.prefetch(5000);
    expect(store.stats().bytes).toBeGreaterThan(80_000);
    const keys = Array.from({ length: 3 }, (_, i) => normalizeKey({ id: { S: `missing-${i}` } }));
    for (let round = 0; round < 2; round++) {
      for (const key of keys) {
        await expect(
          Promise.resolve(item(store, { table: 'Other', key, refresh: false }, 'v1')),
        ).rejects.toMatchObject({ code: 'NotFound' });
      }
    }
    expect(f.itemCalls).toBe(keys.length);
  });

  it('does not warn when the configured entries leave room', async () => {
    const f = fakes();
    const { store, lines } = make(f, configOf(CONFIGURED));
    await store.prefetch(5000);
    expect(lines).toEqual([]);
  });

  it('counts the body forms built on first use', async () => {
    const f = fakes();
    const { store } = make(f, configOf(['/p']));
    await store.prefetch(5000);
    const before = store.stats().bytes;
    const v1 = await read(store, '/p');
    const aws = await Promise.resolve(parameter(store, { name: '/p', decrypt: true, refresh: false }, 'aws'));
    const afterAws = store.stats().bytes;
    expect(afterAws - before).toBeGreaterThanOrEqual(aws.body.length);
    await Promise.resolve(parameter(store, { name: '/p', decrypt: true, refresh: false }, 'legacy'));
    expect(store.stats().bytes - afterAws).toBeGreaterThanOrEqual('value-of-/p'.length);
    // Asking again builds nothing more.
    await Promise.resolve(parameter(store, { name: '/p', decrypt: true, refresh: false }, 'aws'));
    expect(store.stats().bytes - before).toBeGreaterThan(v1.body.length);
  });
});

describe('SourceStore after a failed or timed-out load', () => {
  it('answers at once, until the retry is due, when a configured parameter hung during init', async () => {
    const f = fakes();
    f.answer = () => new Promise(() => {});
    const { store, clock } = make(f, configOf(['/hung']), { waitMs: 5 });
    expect(await store.prefetch(5)).toMatchObject({ pending: 1 });
    await expect(read(store, '/hung')).rejects.toBeInstanceOf(WaitTimeoutError);
    const second = read(store, '/hung').then(
      () => 'answered',
      (err: unknown) => (err instanceof WaitTimeoutError ? 'answered with the timeout' : String(err)),
    );
    expect(await Promise.race([second, settle().then(() => 'still waiting')])).toBe(
      'answered with the timeout',
    );
    expect(f.names).toEqual(['/hung']);
    // Once the retry is due, a new call goes out, and its answer is served.
    f.answer = undefined;
    clock.advance(ERROR_RETRY_MS);
    expect((await read(store, '/hung')).cache).toBe('miss');
    expect(f.names).toEqual(['/hung', '/hung']);
  });
});

describe('SourceStore refresh-ahead', () => {
  it('refreshes an entry by its own ttl, not by the default one, when an invoke arrives', async () => {
    const f = fakes();
    const { store, clock } = make(f, configOf(['/short'], '10s'), { ttlMs: 300_000 });
    await store.prefetch(5000);
    f.names.length = 0;
    // The window run.ts passes for the default 5 min ttl: 1 min.
    clock.advance(1000);
    expect(await store.refreshExpiring(60_000)).toBe(0);
    clock.advance(7_000); // 2 s left: the last fifth of 10 s
    expect(await store.refreshExpiring(60_000)).toBe(1);
    expect(f.names).toEqual(['/short']);
  });
});
