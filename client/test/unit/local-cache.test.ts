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

  it('drops the oldest entry not read since it was stored when it is full', () => {
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

  it('keeps one key apart in two key spaces and bounds them together when both are used', () => {
    const cache = new LocalCache(2, () => 0);
    cache.set('k', 'param', 1000, 0);
    cache.set('k', 'item', 1000, 2);
    expect(cache.get('k', 0)).toBe('param');
    expect(cache.get('k', 2)).toBe('item');
    expect(cache.get('k', 1)).toBeUndefined();
    cache.set('other', 'x', 1000, 1);
    expect(cache.size).toBe(2);
    expect(cache.get('other', 1)).toBe('x');
  });

  it('never holds more than maxEntries when many entries are added and read', () => {
    const cache = new LocalCache(3, () => 0);
    for (let i = 0; i < 50; i++) {
      cache.set(`k${i}`, i, 1000);
      cache.get(`k${i}`);
      cache.get('k0');
      expect(cache.size).toBeLessThanOrEqual(3);
    }
    expect(cache.get('k49')).toBe(49);
    expect(cache.get('k48')).toBe(48);
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

  it('returns the same item object on every read while the item is in memory', async () => {
    maxAge = '60';
    now = 0;
    fake = await startFakeExtension(() => ({
      body: { table: 'T', key: { id: { S: 'a' } }, item: { id: { S: 'a' }, list: { L: [{ N: '1' }] } } },
      headers: { 'cache-control': 'max-age=60' },
    }));
    client = createCacheClient({ port: fake.port, now: () => now });
    const first = await client.getItem('T', { id: 'a' });
    expect(first).toEqual({ id: 'a', list: [1] });
    expect(await client.getItem('T', { id: 'a' })).toBe(first);
    expect(fake.requests).toHaveLength(1);
  });

  it('shares one entry when a two-attribute key is written in either order', async () => {
    maxAge = '60';
    now = 0;
    fake = await startFakeExtension((_url, _req, i) => ({
      body: { table: 'T', key: {}, item: { n: { N: String(i) } } },
      headers: { 'cache-control': 'max-age=60' },
    }));
    client = createCacheClient({ port: fake.port, now: () => now });
    expect(await client.getItem('T', { a: 'x', b: 1.5 })).toEqual({ n: 0 });
    expect(await client.getItem('T', { b: 1.5, a: 'x' })).toEqual({ n: 0 });
    expect(fake.requests).toHaveLength(1);
  });

  it('keeps separate entries when a key differs only in attribute type or in where a name ends', async () => {
    maxAge = '60';
    now = 0;
    fake = await startFakeExtension((_url, _req, i) => ({
      body: { table: 'T', key: {}, item: { n: { N: String(i) } } },
      headers: { 'cache-control': 'max-age=60' },
    }));
    client = createCacheClient({ port: fake.port, now: () => now });
    expect(await client.getItem('T', { id: '1' })).toEqual({ n: 0 });
    expect(await client.getItem('T', { id: 1 })).toEqual({ n: 1 });
    expect(await client.getItem('T', { a: 'b|1:c', b: 'x' })).toEqual({ n: 2 });
    expect(await client.getItem('T', { a: 'b', c: 'x' })).toEqual({ n: 3 });
    expect(await client.getItem('T|', { id: '1' })).toEqual({ n: 4 });
    expect(await client.getItem('T', { id: '1' })).toEqual({ n: 0 });
    expect(fake.requests).toHaveLength(5);
    expect(new Set(fake.requests.map((r) => r.path)).size).toBe(5);
  });

  it('serves a binary key from memory when it is read again', async () => {
    maxAge = '60';
    now = 0;
    fake = await startFakeExtension((_url, _req, i) => ({
      body: { table: 'T', key: {}, item: { n: { N: String(i) } } },
      headers: { 'cache-control': 'max-age=60' },
    }));
    client = createCacheClient({ port: fake.port, now: () => now });
    expect(await client.getItem('T', { id: new Uint8Array([1, 2]) })).toEqual({ n: 0 });
    expect(await client.getItem('T', { id: new Uint8Array([1, 2]) })).toEqual({ n: 0 });
    expect(await client.getItem('T', { id: new Uint8Array([1, 3]) })).toEqual({ n: 1 });
    expect(fake.requests).toHaveLength(2);
  });

  it('bypasses memory and replaces the item when forceFetch is true', async () => {
    maxAge = '60';
    now = 0;
    fake = await startFakeExtension((_url, _req, i) => ({
      body: { table: 'T', key: {}, item: { n: { N: String(i) } } },
      headers: { 'cache-control': 'max-age=60' },
    }));
    client = createCacheClient({ port: fake.port, now: () => now });
    expect(await client.getItem('T', { id: 'a' })).toEqual({ n: 0 });
    expect(await client.getItem('T', { id: 'a' }, { forceFetch: true })).toEqual({ n: 1 });
    expect(fake.requests.at(-1)?.path).toContain('refresh=true');
    expect(await client.getItem('T', { id: 'a' })).toEqual({ n: 1 });
    expect(fake.requests).toHaveLength(2);
  });

  it('returns the same transformed value on every read and serves every shape from one answer', async () => {
    maxAge = '60';
    now = 0;
    fake = await startFakeExtension(() => ({
      body: parameterBody('p', '{"a":[1]}'),
      headers: { 'cache-control': 'max-age=60' },
    }));
    client = createCacheClient({ port: fake.port, now: () => now });
    const json = await client.getParameter('p', { transform: 'json' });
    expect(json).toEqual({ a: [1] });
    expect(await client.getParameter('p', { transform: 'json' })).toBe(json);
    expect(await client.getParameter('p')).toBe('{"a":[1]}');
    const meta = await client.getParameter('p', { transform: 'json', metadata: true });
    expect(meta.value).toBe(json);
    expect(meta.name).toBe('p');
    expect(fake.requests).toHaveLength(1);
  });

  it('gives every shape the new answer after a forceFetch of one shape', async () => {
    maxAge = '60';
    await setup();
    expect(await client.getParameter('p', { transform: 'list' })).toEqual(['v0']);
    expect(await client.getParameter('p', { forceFetch: true })).toBe('v1');
    expect(await client.getParameter('p', { transform: 'list' })).toEqual(['v1']);
    expect(fake.requests).toHaveLength(2);
  });
});
