import { afterEach, describe, expect, it } from 'vitest';
import { type CacheClient, createCacheClient } from '../../src/index.js';
import { freshnessMs, LocalCache } from '../../src/local-cache.js';
import { type FakeExtension, parameterBody, startFakeExtension } from './server.js';

describe('freshnessMs', () => {
  it.each([
    [{ 'cache-control': 'max-age=30' }, 30_000],
    [{ 'cache-control': 'public, max-age=5' }, 5000],
    [{ 'cache-control': 'max-age=0' }, 0],
    [{ 'cache-control': 'max-age=30, no-store' }, 0],
    [{ 'cache-control': 'no-cache, max-age=30' }, 0],
    [{ 'cache-control': 'max-age=abc' }, 0],
    [{ 'cache-control': 'max-age=-5' }, 0],
    [{ 'cache-control': 'max-age=30', 'x-cache': 'stale' }, 0],
    [{ 'cache-control': 'max-age=30', 'x-cache': 'hit' }, 30_000],
    [{}, 0],
  ])('gives %j a lifetime of %i ms', (headers, ms) => {
    expect(freshnessMs(headers)).toBe(ms);
  });
});

describe('LocalCache', () => {
  it('forgets an entry when its lifetime has passed on the clock', () => {
    let now = 1000;
    const cache = new LocalCache(10, () => now);
    cache.set('a', 'A', 500);
    now = 1499;
    expect(cache.get('a')).toBe('A');
    now = 1500;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('drops the least recently used entry when it is full', () => {
    const cache = new LocalCache(2, () => 0);
    cache.set('a', 1, 1000);
    cache.set('b', 2, 1000);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3, 1000);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
    expect(cache.size).toBe(2);
  });

  it('removes the older copy when a newer answer may not be kept', () => {
    const cache = new LocalCache(2, () => 0);
    cache.set('a', 1, 1000);
    cache.set('a', 2, 0);
    expect(cache.get('a')).toBeUndefined();
  });
});

describe('in-process layer', () => {
  let fake: FakeExtension;
  let client: CacheClient;
  let now = 0;
  let maxAge = '10';
  afterEach(async () => {
    await client.close();
    await fake.close();
  });

  async function setup(localCache: boolean | { maxEntries: number } = true): Promise<void> {
    now = 0;
    fake = await startFakeExtension((_url, _req, i) => ({
      body: parameterBody('p', `v${i}`),
      headers: { 'cache-control': `max-age=${maxAge}` },
    }));
    client = createCacheClient({ port: fake.port, localCache, now: () => now });
  }

  it('serves a repeat read from memory until max-age has passed, then asks the extension again', async () => {
    maxAge = '10';
    await setup();
    expect(await client.getParameter('p')).toBe('v0');
    now = 9_999;
    expect(await client.getParameter('p')).toBe('v0');
    expect(fake.requests).toHaveLength(1);
    now = 10_000;
    expect(await client.getParameter('p')).toBe('v1');
    expect(fake.requests).toHaveLength(2);
  });

  it('asks the extension every time when it answers max-age=0', async () => {
    maxAge = '0';
    await setup();
    await client.getParameter('p');
    await client.getParameter('p');
    expect(fake.requests).toHaveLength(2);
  });

  it('bypasses memory and stores the fresh answer when forceFetch is true', async () => {
    maxAge = '60';
    await setup();
    expect(await client.getParameter('p')).toBe('v0');
    expect(await client.getParameter('p', { forceFetch: true })).toBe('v1');
    expect(await client.getParameter('p')).toBe('v1');
    expect(fake.requests).toHaveLength(2);
  });

  it('keeps separate entries when decrypt differs', async () => {
    maxAge = '60';
    await setup();
    await client.getParameter('p');
    await client.getParameter('p', { decrypt: false });
    await client.getParameter('p');
    expect(fake.requests).toHaveLength(2);
  });

  it('asks the extension every time when the layer is off', async () => {
    maxAge = '60';
    await setup(false);
    await client.getParameter('p');
    await client.getParameter('p');
    expect(fake.requests).toHaveLength(2);
  });

  it('returns a fresh object on every read when an item comes from memory', async () => {
    maxAge = '60';
    now = 0;
    fake = await startFakeExtension(() => ({
      body: { table: 'T', key: { id: { S: 'a' } }, item: { id: { S: 'a' }, list: { L: [{ N: '1' }] } } },
      headers: { 'cache-control': 'max-age=60' },
    }));
    client = createCacheClient({ port: fake.port, now: () => now });
    const first = await client.getItem('T', { id: 'a' });
    (first!.list as number[]).push(2);
    await expect(client.getItem('T', { id: 'a' })).resolves.toEqual({ id: 'a', list: [1] });
    expect(fake.requests).toHaveLength(1);
  });
});
