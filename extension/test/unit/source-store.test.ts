import { readFileSync } from 'node:fs';
import { normalizeKey } from '@lambda-cache/shared';
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { parseConfig } from '../../src/config-yaml.js';
import { silentLogger } from '../../src/log.js';
import type { SourceStore } from '../../src/source-store.js';
import { DynamoDbSource } from '../../src/sources/dynamodb.js';
import { SsmSource } from '../../src/sources/ssm.js';
import { FakeAws, serviceError } from './support/fake-aws.js';
import { legacyItem, makeStore, parameter, item as readItem } from './support/store.js';

type Wire = Record<string, unknown>;

const SEED_CONFIG = readFileSync(new URL('../fixtures/seed.yaml', import.meta.url), 'utf8');

function answerParameters(aws: FakeAws) {
  aws.on('ssm', 'GetParameters', (sent) => {
    const input = sent as { Names: string[] };
    return {
      Parameters: input.Names.filter((n) => !n.startsWith('missing')).map((n) => ({
        Name: n,
        Type: n.startsWith('secure') ? 'SecureString' : 'String',
        Value: `value-of-${n}`,
        Version: 1,
      })),
      InvalidParameters: input.Names.filter((n) => n.startsWith('missing')),
    };
  });
}

function answerItems(aws: FakeAws) {
  aws.on('dynamodb', 'BatchGetItem', (input) => {
    const Responses: Record<string, Wire[]> = {};
    for (const [table, ka] of Object.entries(input.RequestItems as Record<string, { Keys: Wire[] }>)) {
      Responses[table] = ka.Keys.map((k) => ({ ...k, Data: { S: 'Data goes here' } }));
    }
    return { Responses };
  });
  aws.on('dynamodb', 'GetItem', (input) => ({
    Item: { ...(input.Key as Wire), Data: { S: 'Data goes here' } },
  }));
}

describe('SourceStore', () => {
  let clock: ManualClock;
  let calls: Record<string, number>;
  let aws: FakeAws;

  function store(configText = SEED_CONFIG, ttlMs = 300_000): SourceStore {
    return makeStore({
      config: parseConfig(configText, 'config.yaml'),
      ssm: new SsmSource({ aws }),
      dynamodb: new DynamoDbSource({ aws, sleep: async () => undefined }),
      clock,
      logger: silentLogger,
      ttlMs,
      maxEntries: 1000,
      maxBytes: 1024 * 1024,
      region: 'us-west-2',
      backendCalls: calls,
      waitMs: 2000,
    });
  }

  beforeEach(() => {
    clock = new ManualClock(1_000_000);
    calls = {};
    aws = new FakeAws((op) => {
      calls[op] = (calls[op] ?? 0) + 1;
    });
    answerParameters(aws);
    answerItems(aws);
  });

  it('prefetches the seed config with one call per service and then serves hits', async () => {
    const s = store();
    const report = await s.prefetch(5000);
    expect(report).toMatchObject({ parameters: 2, items: 1, failed: 0, notFound: 0, pending: 0 });
    expect(calls).toEqual({ 'ssm:GetParameters': 1, 'dynamodb:BatchGetItem': 1 });
    const reply = await parameter(
      s,
      { name: 'CacheExtensions_Parameter1', decrypt: true, refresh: false },
      'v1',
    );
    expect(reply.cache).toBe('hit');
    expect(JSON.parse(reply.body.toString())).toMatchObject({
      name: 'CacheExtensions_Parameter1',
      type: 'String',
    });
    const item = await readItem(
      s,
      {
        table: 'DynamoDbTable',
        key: normalizeKey({ sKey: { S: 'sKey1' }, pKey: { S: 'pKey1' } }),
        refresh: false,
      },
      'v1',
    );
    expect(item.cache).toBe('hit');
    expect(JSON.parse(item.body.toString()).item.Data).toEqual({ S: 'Data goes here' });
    expect(calls).toEqual({ 'ssm:GetParameters': 1, 'dynamodb:BatchGetItem': 1 });
    expect(s.health()).toMatchObject({ failed: 0, entries: 3 });
  });

  it('serves the same Buffer on every hit when nothing changed', async () => {
    const s = store();
    await s.prefetch(5000);
    const q = { name: 'CacheExtensions_Parameter1', decrypt: true, refresh: false };
    const a = await parameter(s, q, 'aws');
    const b = await parameter(s, q, 'aws');
    expect(b.body).toBe(a.body);
    expect(JSON.parse(a.body.toString())).toMatchObject({
      Parameter: { Name: 'CacheExtensions_Parameter1', Type: 'String', Version: 1 },
      ResultMetadata: {},
    });
  });

  it('answers the seed routes with the raw value and the plain item when they are asked', async () => {
    const s = store();
    await s.prefetch(5000);
    const raw = await parameter(
      s,
      { name: 'CacheExtensions_Parameter1', decrypt: true, refresh: false },
      'legacy',
    );
    expect(raw.body.toString()).toBe('value-of-CacheExtensions_Parameter1');
    const item = await legacyItem(s, 'DynamoDbTable-pKey1-sKey1');
    expect(item.body.toString()).toBe('{"Data":"Data goes here","pKey":"pKey1","sKey":"sKey1"}');
    await expect(legacyItem(s, 'DynamoDbTable-nope')).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('coalesces concurrent misses for different names into one GetParameters call', async () => {
    const s = store('# nothing\n');
    const names = ['a', 'b', 'c', 'missing-d'];
    const results = await Promise.allSettled(
      names.map((name) => parameter(s, { name, decrypt: true, refresh: false }, 'v1')),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    expect(calls).toEqual({ 'ssm:GetParameters': 1 });
    // The missing name is remembered for a while: no new call.
    await expect(
      parameter(s, { name: 'missing-d', decrypt: true, refresh: false }, 'v1'),
    ).rejects.toMatchObject({
      code: 'NotFound',
    });
    expect(calls).toEqual({ 'ssm:GetParameters': 1 });
  });

  it('makes one call when many requests for one name miss together', async () => {
    const s = store('# nothing\n');
    await Promise.all(
      Array.from({ length: 20 }, () => parameter(s, { name: 'one', decrypt: true, refresh: false }, 'v1')),
    );
    expect(calls).toEqual({ 'ssm:GetParameters': 1 });
  });

  it('reuses a String parameter loaded without decryption when decryption is asked', async () => {
    const s = store('# nothing\n');
    await parameter(s, { name: 'plain', decrypt: false, refresh: false }, 'v1');
    const again = await parameter(s, { name: 'plain', decrypt: true, refresh: false }, 'v1');
    expect(again.cache).toBe('hit');
    await parameter(s, { name: 'secure-x', decrypt: false, refresh: false }, 'v1');
    const decrypted = await parameter(s, { name: 'secure-x', decrypt: true, refresh: false }, 'v1');
    expect(decrypted.cache).toBe('miss');
    expect(calls).toEqual({ 'ssm:GetParameters': 3 });
  });

  it('reads one item through with GetItem when it is not configured', async () => {
    const s = store('# nothing\n');
    const key = normalizeKey({ id: { N: '7' } });
    const reply = await readItem(s, { table: 'Other', key, refresh: false }, 'v1');
    expect(reply.cache).toBe('miss');
    expect(JSON.parse(reply.body.toString())).toEqual({
      table: 'Other',
      key: { id: { N: '7' } },
      item: { id: { N: '7' }, Data: { S: 'Data goes here' } },
    });
    expect(calls).toEqual({ 'dynamodb:GetItem': 1 });
  });

  it('refreshes entries close to expiry in batches when an invoke arrives', async () => {
    const s = store(SEED_CONFIG, 60_000);
    await s.prefetch(5000);
    clock.advance(10_000);
    expect(await s.refreshExpiring(5_000)).toBe(0);
    clock.advance(46_000);
    expect(await s.refreshExpiring(5_000)).toBe(3);
    expect(calls).toEqual({ 'ssm:GetParameters': 2, 'dynamodb:BatchGetItem': 2 });
    const reply = await parameter(
      s,
      { name: 'CacheExtensions_Parameter1', decrypt: true, refresh: false },
      'v1',
    );
    expect(reply.cache).toBe('hit');
    expect(reply.ttlLeftMs).toBe(60_000);
  });

  it('counts a configured item as failed when its prefetch fails', async () => {
    aws.on('ssm', 'GetParameters', () => {
      throw serviceError('AccessDeniedException');
    });
    const s = store();
    const report = await s.prefetch(5000);
    expect(report).toMatchObject({ parameters: 0, items: 1, failed: 2 });
    expect(s.health().failed).toBe(2);
    expect(s.stats().backendCalls).toEqual({ 'ssm:GetParameters': 1, 'dynamodb:BatchGetItem': 1 });
  });
});
