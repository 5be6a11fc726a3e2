import { describe, expect, it } from 'vitest';
import { Coalescer } from '../../src/coalesce.js';

describe('Coalescer', () => {
  it('makes one batch call when keys are asked in the same turn', async () => {
    const batches: string[][] = [];
    const c = new Coalescer<string, string>({
      maxBatch: 10,
      load: async (_group, keys) => {
        batches.push(keys);
        return new Map(keys.map((k) => [k, k === 'bad' ? new Error('no') : `v-${k}`]));
      },
    });
    const results = await Promise.allSettled([
      c.load('g', 'a'),
      c.load('g', 'b'),
      c.load('g', 'a'),
      c.load('g', 'bad'),
    ]);
    expect(batches).toEqual([['a', 'b', 'bad']]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'rejected'))).toEqual([
      'v-a',
      'v-b',
      'v-a',
      'rejected',
    ]);
  });

  it('splits batches when a group reaches its maximum size', async () => {
    const batches: string[][] = [];
    const c = new Coalescer<string, string>({
      maxBatch: 2,
      load: async (_group, keys) => {
        batches.push(keys);
        return new Map(keys.map((k) => [k, k]));
      },
    });
    await Promise.all(['a', 'b', 'c'].map((k) => c.load('g', k)));
    expect(batches).toEqual([['a', 'b'], ['c']]);
  });

  it('keeps groups apart and rejects every waiter when a batch call fails', async () => {
    const groups: string[] = [];
    const c = new Coalescer<string, string>({
      maxBatch: 10,
      load: async (group) => {
        groups.push(group);
        if (group === 'down') throw new Error('backend down');
        return new Map([['k', 'v']]);
      },
    });
    const [ok, down, missing] = await Promise.allSettled([
      c.load('up', 'k'),
      c.load('down', 'k'),
      c.load('up', 'x'),
    ]);
    expect(groups.sort()).toEqual(['down', 'up']);
    expect(ok).toEqual({ status: 'fulfilled', value: 'v' });
    expect(down.status).toBe('rejected');
    expect(missing.status).toBe('rejected');
  });
});
