import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  Cache,
  type CacheOptions,
  DEFAULT_MAX_LOAD_MS,
  defaultPolicy,
  ENTRY_OVERHEAD_BYTES,
  ERROR_RETRY_MS,
  type FreshnessPolicy,
  MAX_ERROR_RETRY_MS,
  NEGATIVE_ENTRY_BYTES,
  refreshAheadMs,
  retryDelayMs,
  stringBytes,
  WaitTimeoutError,
} from '../../src/cache.js';
import { ManualClock } from '../../src/clock.js';

class NotFound extends Error {
  override readonly name = 'NotFound';
}

const POLICY: FreshnessPolicy = {
  ttlMs: 10_000,
  staleWhileRevalidateMs: 5_000,
  staleIfErrorMs: 60_000,
  negativeTtlMs: 2_000,
};

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise callback run; no time passes. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function make(overrides: Partial<CacheOptions<string>> = {}) {
  const clock = new ManualClock(1_000_000);
  const cache = new Cache<string>({
    clock,
    maxEntries: 100,
    maxBytes: 1024 * 1024,
    defaults: POLICY,
    sizeOf: (v) => v.length,
    isNotFound: (err) => err instanceof NotFound,
    waitMs: Number.POSITIVE_INFINITY,
    ...overrides,
  });
  return { clock, cache };
}

/** A loader that answers `value-1`, `value-2`, … and counts its calls. */
function counting(prefix = 'value') {
  const loader = vi.fn(async () => `${prefix}-${loader.mock.calls.length}`);
  return loader;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('defaultPolicy', () => {
  it('bounds stale-while-revalidate by a minute and negative caching by 30 s when the ttl is long', () => {
    expect(defaultPolicy(300_000)).toEqual({
      ttlMs: 300_000,
      staleWhileRevalidateMs: 60_000,
      staleIfErrorMs: 3_600_000,
      negativeTtlMs: 30_000,
    });
  });

  it('never serves stale longer than fresh when the ttl is short', () => {
    expect(defaultPolicy(5_000)).toMatchObject({ staleWhileRevalidateMs: 5_000, negativeTtlMs: 5_000 });
    expect(defaultPolicy(0)).toMatchObject({ ttlMs: 0, staleWhileRevalidateMs: 0, negativeTtlMs: 0 });
  });
});

describe('Cache.fresh', () => {
  it('answers a hit, counted like get(), only while the entry is fresh and not negative', async () => {
    const { clock, cache } = make();
    expect(cache.fresh('k')).toBeUndefined();
    await cache.get('k', counting());
    clock.advance(4_000);
    expect(cache.fresh('k')).toEqual({ value: 'value-1', status: 'hit', ageMs: 4_000, ttlLeftMs: 6_000 });
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1 });
    clock.advance(6_000);
    expect(cache.fresh('k')).toBeUndefined();
    await expect(
      cache.get('gone', async () => {
        throw new NotFound('no');
      }),
    ).rejects.toThrow(NotFound);
    expect(cache.fresh('gone')).toBeUndefined();
  });
});

describe('Cache.get', () => {
  it('moves from miss to hit to stale to miss as time passes', async () => {
    const { clock, cache } = make();
    const loader = counting();

    expect(await cache.get('k', loader)).toEqual({
      value: 'value-1',
      status: 'miss',
      ageMs: 0,
      ttlLeftMs: 10_000,
    });
    clock.advance(4_000);
    expect(await cache.get('k', loader)).toEqual({
      value: 'value-1',
      status: 'hit',
      ageMs: 4_000,
      ttlLeftMs: 6_000,
    });
    clock.advance(6_000);
    expect(await cache.get('k', loader)).toEqual({
      value: 'value-1',
      status: 'stale',
      ageMs: 10_000,
      ttlLeftMs: 0,
    });
    await settle();
    expect(loader).toHaveBeenCalledTimes(2);
    expect(await cache.get('k', loader)).toMatchObject({ value: 'value-2', status: 'hit', ageMs: 0 });

    clock.advance(POLICY.ttlMs + POLICY.staleWhileRevalidateMs);
    expect(await cache.get('k', loader)).toMatchObject({ value: 'value-3', status: 'miss' });
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 2, staleServes: 1, refreshes: 2, errors: 0 });
  });

  it('starts exactly one background refresh when 50 requests find the value stale', async () => {
    const { clock, cache } = make();
    await cache.get('k', counting('old'));
    clock.advance(POLICY.ttlMs + 1);
    const refresh = deferred<string>();
    const loader = vi.fn(() => refresh.promise);

    const answers = await Promise.all(Array.from({ length: 50 }, () => cache.get('k', loader)));
    expect(loader).toHaveBeenCalledTimes(1);
    expect(new Set(answers.map((a) => `${a.status}:${a.value}`))).toEqual(new Set(['stale:old-1']));

    refresh.resolve('new');
    await settle();
    expect(await cache.get('k', loader)).toMatchObject({ value: 'new', status: 'hit' });
    expect(loader).toHaveBeenCalledTimes(1);
  });

  it('lets refreshOthers take a stale key into its batch, and refreshes the key alone when it does not', async () => {
    const { clock, cache } = make();
    await cache.get('a', counting('a'));
    await cache.get('b', counting('b'));
    clock.advance(POLICY.ttlMs + 1);
    const answered = deferred<void>();
    const batch = vi.fn(async (keys: string[]) => {
      await answered.promise;
      return new Map(keys.map((k) => [k, `${k}-batched`]));
    });
    const takeBoth = vi.fn(() => void cache.loadMany([{ key: 'a' }, { key: 'b' }], batch));
    const loader = counting('alone');
    expect(await cache.get('a', loader, { refreshOthers: takeBoth })).toMatchObject({ status: 'stale' });
    // b is loading in the batch: its stale read neither calls the hook again nor loads it alone.
    expect(await cache.get('b', loader, { refreshOthers: takeBoth })).toMatchObject({ status: 'stale' });
    answered.resolve();
    await settle();
    expect(takeBoth).toHaveBeenCalledTimes(1);
    expect(batch).toHaveBeenCalledTimes(1);
    expect(loader).not.toHaveBeenCalled();
    expect(await cache.get('b', loader)).toMatchObject({ value: 'b-batched', status: 'hit' });

    // A hook that starts nothing, or throws (reported like a failed refresh), leaves the key to its loader.
    const errors: string[] = [];
    const { clock: clock2, cache: other } = make({ onBackgroundError: (key) => errors.push(key) });
    await other.get('c', counting('c'));
    await other.get('d', counting('d'));
    clock2.advance(POLICY.ttlMs + 1);
    await other.get('c', loader, { refreshOthers: () => undefined });
    await other.get('d', loader, {
      refreshOthers: () => {
        throw new Error('hook failed');
      },
    });
    await settle();
    expect(loader).toHaveBeenCalledTimes(2);
    expect(errors).toEqual(['d']);
    expect(await other.get('d', loader)).toMatchObject({ value: 'alone-2', status: 'hit' });
  });

  it('calls the loader once when 50 concurrent requests miss', async () => {
    const { cache } = make();
    const load = deferred<string>();
    const loader = vi.fn(() => load.promise);

    const pending = Array.from({ length: 50 }, () => cache.get('k', loader));
    await settle();
    load.resolve('v');
    const answers = await Promise.all(pending);

    expect(loader).toHaveBeenCalledTimes(1);
    expect(answers.every((a) => a.value === 'v' && a.status === 'miss')).toBe(true);
    expect(cache.stats()).toMatchObject({ misses: 50, entries: 1 });
  });

  it('reloads a fresh entry when asked to force a refresh', async () => {
    const { cache } = make();
    const loader = counting();
    await cache.get('k', loader);
    expect(await cache.get('k', loader, { forceRefresh: true })).toMatchObject({
      value: 'value-2',
      status: 'miss',
    });
    expect(loader).toHaveBeenCalledTimes(2);
  });

  it('serves the last good value while loads fail within stale-if-error, then throws', async () => {
    const { clock, cache } = make();
    await cache.get('k', counting('good'));
    const boom = new Error('backend down');
    const failing = vi.fn(async () => {
      throw boom;
    });

    clock.advance(POLICY.ttlMs + POLICY.staleWhileRevalidateMs); // past SWR: the request waits for the load
    expect(await cache.get('k', failing)).toMatchObject({ value: 'good-1', status: 'stale', ttlLeftMs: 0 });
    expect(failing).toHaveBeenCalledTimes(1);

    // Known to be failing: answered at once, retried in the background at most once per ERROR_RETRY_MS.
    expect(await cache.get('k', failing)).toMatchObject({ value: 'good-1', status: 'stale' });
    await settle();
    expect(failing).toHaveBeenCalledTimes(1);
    clock.advance(ERROR_RETRY_MS);
    expect(await cache.get('k', failing)).toMatchObject({ value: 'good-1', status: 'stale' });
    await settle();
    expect(failing).toHaveBeenCalledTimes(2);

    clock.advance(POLICY.staleIfErrorMs); // beyond the bound
    await expect(cache.get('k', failing)).rejects.toBe(boom);
    expect(cache.stats().errors).toBe(3);
  });

  it('recovers when a failing backend answers again', async () => {
    const { clock, cache } = make();
    await cache.get('k', counting('good'));
    clock.advance(POLICY.ttlMs + POLICY.staleWhileRevalidateMs);
    await cache.get('k', () => Promise.reject(new Error('down')));
    clock.advance(ERROR_RETRY_MS);
    await cache.get('k', async () => 'back');
    await settle();
    expect(await cache.get('k', counting())).toMatchObject({ value: 'back', status: 'hit' });
  });

  it('throws without a stale value when the first load fails, and loads again once the retry is due', async () => {
    const { clock, cache } = make();
    const boom = new Error('down');
    await expect(cache.get('k', () => Promise.reject(boom))).rejects.toBe(boom);
    clock.advance(ERROR_RETRY_MS);
    const syncThrow = () => {
      throw boom;
    };
    await expect(cache.get('k', syncThrow as unknown as () => Promise<string>)).rejects.toBe(boom);
    clock.advance(2 * ERROR_RETRY_MS);
    expect(await cache.get('k', async () => 'ok')).toMatchObject({ value: 'ok', status: 'miss' });
  });

  it('remembers not-found until the negative ttl expires', async () => {
    const { clock, cache } = make();
    const missing = new NotFound('no such parameter');
    const loader = vi.fn(async (): Promise<string> => {
      throw missing;
    });

    await expect(cache.get('k', loader)).rejects.toBe(missing);
    clock.advance(POLICY.negativeTtlMs - 1);
    await expect(cache.get('k', loader)).rejects.toBe(missing);
    expect(loader).toHaveBeenCalledTimes(1);
    expect(cache.has('k')).toBe(false);
    expect(cache.stats()).toMatchObject({ negativeHits: 1, entries: 1, errors: 0 });

    clock.advance(1);
    expect(await cache.get('k', async () => 'created')).toMatchObject({ value: 'created', status: 'miss' });
  });

  it('drops the old value when a refresh says the item no longer exists', async () => {
    const { clock, cache } = make();
    await cache.get('k', counting());
    clock.advance(POLICY.ttlMs + POLICY.staleWhileRevalidateMs);
    const gone = new NotFound('deleted');
    await expect(cache.get('k', () => Promise.reject(gone))).rejects.toBe(gone);
    expect(cache.peek('k')).toBeUndefined();
  });

  it('throws WaitTimeoutError after waitMs and still caches the load when it finishes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { cache } = make({ waitMs: 50 });
    const load = deferred<string>();
    const loader = vi.fn(() => load.promise);

    const first = cache.get('k', loader).catch((e: unknown) => e);
    const second = cache.get('k', loader, { waitMs: 500 }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(50);
    const err = await first;
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect(err).toMatchObject({ code: 'WaitTimeout', key: 'k', waitMs: 50 });

    load.resolve('late');
    expect(await second).toMatchObject({ value: 'late', status: 'miss' });
    expect(await cache.get('k', loader)).toMatchObject({ value: 'late', status: 'hit' });
    expect(loader).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('serves the stale value when a wait times out and the value is within stale-if-error', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { clock, cache } = make({ waitMs: 50 });
    await cache.get('k', counting('old'));
    clock.advance(POLICY.ttlMs + POLICY.staleWhileRevalidateMs);
    const pending = cache.get('k', () => new Promise<string>(() => {}));
    await vi.advanceTimersByTimeAsync(50);
    expect(await pending).toMatchObject({ value: 'old-1', status: 'stale' });
  });

  it('starts a new load when the running one exceeded maxLoadMs and ignores the lost one', async () => {
    const { clock, cache } = make();
    const hung = deferred<string>();
    void cache.get('k', () => hung.promise);
    clock.advance(DEFAULT_MAX_LOAD_MS);
    expect(await cache.get('k', async () => 'fresh')).toMatchObject({ value: 'fresh', status: 'miss' });
    hung.resolve('lost');
    await settle();
    expect(cache.peek('k')).toBe('fresh');
  });

  it('does not store a load that finishes after its key was deleted', async () => {
    const { cache } = make();
    const load = deferred<string>();
    const pending = cache.get('k', () => load.promise);
    await settle();
    cache.delete('k');
    load.resolve('v');
    expect(await pending).toMatchObject({ value: 'v', status: 'miss' });
    expect(cache.has('k')).toBe(false);
  });

  it('reports background refresh failures but not not-found answers', async () => {
    const onBackgroundError = vi.fn();
    const { clock, cache } = make({ onBackgroundError });
    await cache.get('a', counting());
    await cache.get('b', counting());
    clock.advance(POLICY.ttlMs);
    const boom = new Error('down');
    await cache.get('a', () => Promise.reject(boom));
    await cache.get('b', () => Promise.reject(new NotFound('gone')));
    await settle();
    expect(onBackgroundError).toHaveBeenCalledTimes(1);
    expect(onBackgroundError).toHaveBeenCalledWith('a', boom);
  });

  it('applies per-entry policy overrides when they are given', async () => {
    const { clock, cache } = make();
    await cache.get('short', counting(), { policy: { ttlMs: 1_000 } });
    clock.advance(1_000);
    expect(await cache.get('short', counting())).toMatchObject({ status: 'stale' });
  });
});

describe('Cache robustness', () => {
  it('answers waiters and frees the key when sizeOf throws', async () => {
    const onBackgroundError = vi.fn();
    let explode = true;
    const { cache } = make({
      onBackgroundError,
      sizeOf: (v) => {
        if (explode) throw new Error('cannot measure');
        return v.length;
      },
    });
    expect(await cache.get('k', async () => 'v')).toMatchObject({ value: 'v', status: 'miss' });
    expect(cache.has('k')).toBe(false);
    expect(onBackgroundError).toHaveBeenCalledWith('k', expect.any(Error));
    const results = await cache.loadMany([{ key: 'b' }], async () => new Map([['b', 'B']]));
    expect(results.get('b')).toBe('B');
    explode = false;
    expect(await cache.get('k', async () => 'again')).toMatchObject({ value: 'again', status: 'miss' });
    expect(cache.has('k')).toBe(true);
  });

  it('keeps serving and loading when the error hook itself throws', async () => {
    const { clock, cache } = make({
      onBackgroundError: () => {
        throw new Error('hook');
      },
    });
    await cache.get('k', async () => 'v');
    clock.advance(POLICY.ttlMs);
    expect(await cache.get('k', () => Promise.reject(new Error('down')))).toMatchObject({ status: 'stale' });
    await settle();
    clock.advance(POLICY.staleWhileRevalidateMs);
    expect(await cache.get('k', async () => 'w')).toMatchObject({ value: 'v', status: 'stale' });
    await settle();
    expect(cache.peek('k')).toBe('w');
  });
});

describe('Cache.loadMany', () => {
  it('makes a concurrent get wait for the batch and then hit', async () => {
    const { cache } = make();
    const batch = deferred<Map<string, string | Error>>();
    const batchFn = vi.fn((_keys: string[]) => batch.promise);
    const loader = counting();

    const loading = cache.loadMany([{ key: 'a' }, { key: 'b', opts: { pinned: true } }], batchFn);
    const waiting = cache.get('a', loader);
    await settle();
    expect(batchFn).toHaveBeenCalledWith(['a', 'b']);
    batch.resolve(
      new Map<string, string | Error>([
        ['a', 'A'],
        ['b', 'B'],
      ]),
    );

    expect(await waiting).toMatchObject({ value: 'A', status: 'miss' });
    expect(await loading).toEqual(
      new Map([
        ['a', 'A'],
        ['b', 'B'],
      ]),
    );
    expect(await cache.get('a', loader)).toMatchObject({ value: 'A', status: 'hit' });
    expect(await cache.get('b', loader)).toMatchObject({ value: 'B', status: 'hit' });
    expect(loader).not.toHaveBeenCalled();
  });

  it('stores values and negatives, keeps old values on failure, and reports keys it was not given', async () => {
    const { clock, cache } = make();
    await cache.get('kept', async () => 'old');
    clock.advance(POLICY.ttlMs + 1);
    const missing = new NotFound('missing');
    const boom = new Error('throttled');

    const results = await cache.loadMany(
      [{ key: 'ok' }, { key: 'missing' }, { key: 'kept' }, { key: 'forgotten' }, { key: 'ok' }],
      async () =>
        new Map<string, string | Error>([
          ['ok', 'v'],
          ['missing', missing],
          ['kept', boom],
        ]),
    );

    expect(results.get('ok')).toBe('v');
    expect(results.get('missing')).toBe(missing);
    expect(results.get('kept')).toBe(boom);
    expect(results.get('forgotten')).toBeInstanceOf(Error);
    expect(cache.peek('kept')).toBe('old');
    await expect(cache.get('missing', counting())).rejects.toBe(missing);
    expect(cache.stats().errors).toBe(2);
  });

  it('resolves every key with the error when the batch rejects', async () => {
    const { clock, cache } = make();
    const boom = new Error('network');
    const results = await cache.loadMany([{ key: 'a' }, { key: 'b' }], async () => {
      throw boom;
    });
    expect(results).toEqual(
      new Map([
        ['a', boom],
        ['b', boom],
      ]),
    );
    clock.advance(ERROR_RETRY_MS);
    expect(await cache.get('a', async () => 'later')).toMatchObject({ value: 'later', status: 'miss' });
  });

  it('joins a load already running instead of loading the key twice', async () => {
    const { cache } = make();
    const load = deferred<string>();
    const single = cache.get('a', () => load.promise);
    const batchFn = vi.fn(async (keys: string[]) => new Map<string, string | Error>(keys.map((k) => [k, k])));
    const loading = cache.loadMany([{ key: 'a' }, { key: 'b' }], batchFn);
    await settle();
    expect(batchFn).toHaveBeenCalledWith(['b']);
    load.resolve('from-get');
    expect(await loading).toEqual(
      new Map([
        ['b', 'b'],
        ['a', 'from-get'],
      ]),
    );
    expect(await single).toMatchObject({ value: 'from-get' });
  });
});

describe('Cache eviction', () => {
  it('evicts the least recently used read-through entry when maxEntries is exceeded', async () => {
    const { cache } = make({ maxEntries: 3 });
    for (const k of ['a', 'b', 'c']) await cache.get(k, async () => k);
    await cache.get('a', counting()); // a is now the most recently used
    await cache.get('d', async () => 'd');
    expect(['a', 'b', 'c', 'd'].filter((k) => cache.has(k))).toEqual(['a', 'c', 'd']);
    expect(cache.stats()).toMatchObject({ entries: 3, evictions: 1 });
  });

  it('never evicts pinned entries, even when they alone exceed the bound', async () => {
    const { cache } = make({ maxEntries: 2 });
    await cache.loadMany(
      ['p1', 'p2', 'p3'].map((key) => ({ key, opts: { pinned: true } })),
      async (keys) => new Map<string, string | Error>(keys.map((k) => [k, k])),
    );
    await cache.get('r', async () => 'r');
    expect(['p1', 'p2', 'p3', 'r'].filter((k) => cache.has(k))).toEqual(['p1', 'p2', 'p3']);
    expect(cache.size).toBe(3);
    // A later get without options keeps the entry pinned.
    await cache.get('p1', counting(), { forceRefresh: true });
    await cache.get('r2', async () => 'r2');
    expect(cache.has('p1')).toBe(true);
  });

  it('evicts by bytes when maxBytes is exceeded, counting negative entries too', async () => {
    const big = 'x'.repeat(1_000);
    const { cache } = make({ maxBytes: 2_000 });
    await cache.get('a', async () => big);
    await cache.get('b', async () => big);
    expect(cache.stats().bytes).toBeLessThanOrEqual(2_000);
    expect(cache.has('a')).toBe(false);
    expect(cache.has('b')).toBe(true);
    // A negative entry keeps its error: it does not fit beside b, so b goes.
    await cache.get('gone', () => Promise.reject(new NotFound('x'))).catch(() => {});
    expect(cache.stats().bytes).toBe(ENTRY_OVERHEAD_BYTES + 'gone'.length + NEGATIVE_ENTRY_BYTES);
    expect(cache.has('b')).toBe(false);
    expect(cache.size).toBe(1);
  });

  it('keeps the byte count exact when entries are replaced and deleted', async () => {
    const { cache } = make();
    await cache.get('a', async () => 'short');
    await cache.get('a', async () => 'much longer value', { forceRefresh: true });
    await cache.get('b', async () => 'b');
    cache.delete('a');
    cache.delete('b');
    expect(cache.stats()).toMatchObject({ bytes: 0, entries: 0 });
  });
});

describe('Cache.expiring', () => {
  it('lists pinned then requested read-through keys that expire soon, skipping loading, unused and negative ones', async () => {
    const { clock, cache } = make();
    const batch = async (keys: string[]) => new Map<string, string | Error>(keys.map((k) => [k, k]));
    await cache.get('used', async () => 'u');
    await cache.loadMany([{ key: 'unused' }], batch); // loaded, but no request asked for it
    await cache.get('missing', () => Promise.reject(new NotFound('no'))).catch(() => {});
    await cache.loadMany([{ key: 'pinned', opts: { pinned: true } }], batch);
    await cache.get('long', async () => 'l', { policy: { ttlMs: 60_000 } });
    await cache.get('long', counting());
    clock.advance(1);
    await cache.get('used', counting());
    await cache.get('requested', async () => 'r');

    expect(cache.expiring(1_000)).toEqual([]);
    clock.advance(POLICY.ttlMs - 1_000);
    expect(cache.expiring(1_000)).toEqual(['pinned', 'used', 'requested']);

    const load = deferred<string>();
    void cache.get('pinned', () => load.promise, { forceRefresh: true });
    expect(cache.expiring(1_000)).toEqual(['used', 'requested']);
    load.resolve('p2');
    await settle();
    clock.advance(60_000);
    expect(cache.expiring(0)).toEqual(['pinned', 'long', 'used', 'requested']);
  });
});

describe('Cache under random use', () => {
  type Op =
    | { kind: 'get'; key: string; result: 'ok' | 'fail' | 'missing'; force: boolean; pinned: boolean }
    | { kind: 'batch'; keys: string[]; result: 'ok' | 'fail' | 'missing' | 'reject' }
    | { kind: 'advance'; ms: number }
    | { kind: 'delete'; key: string };
  const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
  const result = fc.constantFrom('ok', 'fail', 'missing') as fc.Arbitrary<'ok' | 'fail' | 'missing'>;
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('get'), key, result, force: fc.boolean(), pinned: fc.boolean() }),
    fc.record({
      kind: fc.constant('batch'),
      keys: fc.uniqueArray(key, { minLength: 1, maxLength: 4 }),
      result: fc.constantFrom('ok', 'fail', 'missing', 'reject') as fc.Arbitrary<
        'ok' | 'fail' | 'missing' | 'reject'
      >,
    }),
    fc.record({ kind: fc.constant('advance'), ms: fc.integer({ min: 0, max: 80_000 }) }),
    fc.record({ kind: fc.constant('delete'), key }),
  );

  it('keeps its bounds and counts, and never leaves a key stuck, whatever the sequence', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const { clock, cache } = make({ maxEntries: 3, maxBytes: 4_000 });
        const pinned = new Set<string>();
        const answer = (k: string, r: 'ok' | 'fail' | 'missing'): string | Error =>
          r === 'ok' ? `${k}-${clock.now()}` : r === 'missing' ? new NotFound(k) : new Error('down');
        for (const o of ops) {
          if (o.kind === 'get') {
            if (o.pinned) pinned.add(o.key);
            const a = answer(o.key, o.result);
            const lookup = await cache
              .get(o.key, async () => (a instanceof Error ? Promise.reject(a) : a), {
                forceRefresh: o.force,
                ...(o.pinned ? { pinned: true } : {}),
              })
              .catch(() => undefined);
            if (lookup) expect(lookup.ttlLeftMs).toBeGreaterThanOrEqual(0);
          } else if (o.kind === 'batch') {
            const results = await cache.loadMany(
              o.keys.map((k) => ({ key: k })),
              async (ks) => {
                if (o.result === 'reject') throw new Error('network');
                return new Map(ks.map((k) => [k, answer(k, o.result as 'ok' | 'fail' | 'missing')]));
              },
            );
            expect([...results.keys()].sort()).toEqual([...o.keys].sort());
          } else if (o.kind === 'advance') {
            clock.advance(o.ms);
          } else {
            cache.delete(o.key);
            pinned.delete(o.key);
          }
          await settle();
          const stats = cache.stats();
          expect(stats.entries).toBe(cache.size);
          // Read-through entries keep a reserve of the budget (10 % of 3, rounded down: none here).
          expect(cache.size).toBeLessThanOrEqual(Math.max(3, pinned.size));
          expect(stats.bytes - cache.budget().pinnedBytes).toBeLessThanOrEqual(
            cache.budget().readThroughBytes,
          );
          expect(stats.bytes).toBeGreaterThanOrEqual(0);
        }
        // Nothing is stuck in flight: every key loads (or is answered) at once.
        for (const k of ['a', 'b', 'c', 'd', 'e', 'f']) {
          await cache.get(k, async () => 'final', { forceRefresh: true });
          cache.delete(k);
        }
        expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0 });
      }),
      { numRuns: 150 },
    );
  });
});

describe('Cache budget', () => {
  const batch = async (keys: string[]) => new Map<string, string | Error>(keys.map((k) => [k, k]));
  const pin = (keys: string[]) => keys.map((key) => ({ key, opts: { pinned: true } }));

  it('keeps read-through and not-found entries in a reserve when pinned entries fill maxEntries', async () => {
    const { cache } = make({ maxEntries: 20 });
    await cache.loadMany(pin(Array.from({ length: 20 }, (_, i) => `p${i}`)), batch);
    const loader = counting();
    await cache.get('r', loader);
    expect(await cache.get('r', loader)).toMatchObject({ status: 'hit' });
    expect(loader).toHaveBeenCalledTimes(1);
    const missing = vi.fn(() => Promise.reject(new NotFound('gone')));
    await expect(cache.get('gone', missing)).rejects.toBeInstanceOf(NotFound);
    await expect(cache.get('gone', missing)).rejects.toBeInstanceOf(NotFound);
    expect(missing).toHaveBeenCalledTimes(1);
    // The reserve is 10 % of maxEntries: 2 read-through entries beside the 20 pinned ones.
    await cache.get('r2', counting());
    expect(cache.size).toBe(22);
    expect(cache.budget()).toMatchObject({ pinnedEntries: 20, readThroughEntries: 2, full: true });
  });

  it('keeps a reserve of bytes when pinned entries fill maxBytes', async () => {
    const { cache } = make({ maxBytes: 20_000 });
    await cache.loadMany(pin(['p']), async () => new Map([['p', 'x'.repeat(30_000)]]));
    const loader = counting();
    await cache.get('r', loader);
    expect(await cache.get('r', loader)).toMatchObject({ status: 'hit' });
    expect(loader).toHaveBeenCalledTimes(1);
    expect(cache.budget()).toMatchObject({ readThroughBytes: 2_000, full: true });
  });

  it('answers a value larger than the read-through share without keeping it or evicting the others', async () => {
    const { cache } = make({ maxBytes: 4_000 });
    await cache.get('a', async () => 'a');
    await cache.get('b', async () => 'b');
    const huge = 'h'.repeat(5_000);
    expect(await cache.get('huge', async () => huge)).toMatchObject({ value: huge, status: 'miss' });
    expect(cache.has('huge')).toBe(false);
    expect(['a', 'b'].filter((k) => cache.has(k))).toEqual(['a', 'b']);
    expect(cache.stats().bytes).toBeLessThanOrEqual(4_000);
  });

  it('counts a key by its characters, two bytes each when one is outside Latin-1', async () => {
    const { cache } = make();
    await cache.get('a'.repeat(100), async () => 'v');
    const latin = cache.stats().bytes;
    cache.delete('a'.repeat(100));
    await cache.get('€'.repeat(100), async () => 'v');
    expect(cache.stats().bytes - latin).toBe(100);
    expect(stringBytes('abc')).toBe(3);
    expect(stringBytes('abé')).toBe(3);
    expect(stringBytes('ab€')).toBe(6);
  });

  it('counts a value again when it grows, and evicts for it', async () => {
    const cache = new Cache<string[]>({
      clock: new ManualClock(0),
      maxEntries: 100,
      // Both entries with the first growth fit; the second growth fits `k` alone.
      maxBytes: 2 * ENTRY_OVERHEAD_BYTES + 2_600,
      defaults: POLICY,
      sizeOf: (v) => v.join('').length,
      isNotFound: () => false,
      waitMs: Number.POSITIVE_INFINITY,
    });
    await cache.get('old', async () => ['o']);
    const { value } = await cache.get('k', async () => ['x']);
    const before = cache.stats().bytes;
    value.push('y'.repeat(1_500));
    cache.resized('k');
    expect(cache.stats().bytes).toBe(before + 1_500);
    expect(cache.has('old')).toBe(true);
    value.push('z'.repeat(1_200));
    cache.resized('k');
    expect(cache.has('old')).toBe(false);
    expect(cache.has('k')).toBe(true);
  });
});

describe('Cache back-off after a failed load', () => {
  it('answers the error at once until the retry is due, then loads once, backing off longer each time', async () => {
    const { clock, cache } = make({ random: () => 0 });
    const boom = new Error('down');
    const failing = vi.fn(() => Promise.reject(boom));
    await expect(cache.get('k', failing)).rejects.toBe(boom);
    // Jitter 0: half of ERROR_RETRY_MS, then half of twice that.
    await expect(cache.get('k', failing)).rejects.toBe(boom);
    clock.advance(ERROR_RETRY_MS / 2 - 1);
    await expect(cache.get('k', failing)).rejects.toBe(boom);
    expect(failing).toHaveBeenCalledTimes(1);
    clock.advance(1);
    await expect(cache.get('k', failing)).rejects.toBe(boom);
    expect(failing).toHaveBeenCalledTimes(2);
    clock.advance(ERROR_RETRY_MS - 1);
    await expect(cache.get('k', failing)).rejects.toBe(boom);
    expect(failing).toHaveBeenCalledTimes(2);
    clock.advance(1);
    expect(await cache.get('k', async () => 'back')).toMatchObject({ value: 'back', status: 'miss' });
    // A success ends the back-off.
    expect(await cache.get('k', counting())).toMatchObject({ value: 'back', status: 'hit' });
  });

  it('answers at once after a wait timed out, instead of keeping the next request waiting as long', async () => {
    const { cache } = make();
    const hung = vi.fn(() => new Promise<string>(() => {}));
    await expect(cache.get('k', hung, { waitMs: 5 })).rejects.toBeInstanceOf(WaitTimeoutError);
    const second = cache.get('k', hung, { waitMs: 60_000 }).then(
      () => 'answered',
      (err: unknown) => (err instanceof WaitTimeoutError ? 'answered with the timeout' : String(err)),
    );
    const first = await Promise.race([second, settle().then(() => 'still waiting')]);
    expect(first).toBe('answered with the timeout');
    expect(hung).toHaveBeenCalledTimes(1);
  });

  it('starts a new load once the back-off ends while the timed-out one still hangs', async () => {
    const { clock, cache } = make({ random: () => 0 });
    const hung = vi.fn(() => new Promise<string>(() => {}));
    await expect(cache.get('k', hung, { waitMs: 5 })).rejects.toBeInstanceOf(WaitTimeoutError);
    clock.advance(ERROR_RETRY_MS / 2);
    expect(await cache.get('k', async () => 'retried', { waitMs: 5 })).toMatchObject({ value: 'retried' });
    expect(hung).toHaveBeenCalledTimes(1);
  });

  it('serves the stale value at once past the stale-while-revalidate window while the key backs off', async () => {
    const { clock, cache } = make({ random: () => 0 });
    await cache.get('k', counting('good'));
    clock.advance(POLICY.ttlMs + POLICY.staleWhileRevalidateMs);
    const hung = vi.fn(() => new Promise<string>(() => {}));
    expect(await cache.get('k', hung, { waitMs: 5 })).toMatchObject({ value: 'good-1', status: 'stale' });
    const next = cache.get('k', hung, { waitMs: 60_000 }).then((l) => l.status);
    expect(await Promise.race([next, settle().then(() => 'still waiting')])).toBe('stale');
    expect(hung).toHaveBeenCalledTimes(1);
  });

  it('loads anyway when a refresh is forced during the back-off', async () => {
    const { cache } = make();
    await expect(cache.get('k', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await cache.get('k', async () => 'ok', { forceRefresh: true })).toMatchObject({ value: 'ok' });
  });

  it('grows the delay by doubling up to its bound, jittered between half and all of it', () => {
    expect(retryDelayMs(1, () => 0)).toBe(ERROR_RETRY_MS / 2);
    expect(retryDelayMs(1, () => 0.999_999)).toBeCloseTo(ERROR_RETRY_MS, 0);
    expect(retryDelayMs(3, () => 0)).toBe(2 * ERROR_RETRY_MS);
    expect(retryDelayMs(50, () => 0.999_999)).toBeCloseTo(MAX_ERROR_RETRY_MS, 0);
  });
});

describe('Cache.expiring with per-entry ttls', () => {
  it('uses each entry’s own ttl for its refresh-ahead window, not the one passed for the default', async () => {
    const { clock, cache } = make();
    const batch = async (keys: string[]) => new Map<string, string | Error>(keys.map((k) => [k, k]));
    await cache.loadMany([{ key: 'short', opts: { pinned: true, policy: { ttlMs: 2_000 } } }], batch);
    await cache.loadMany([{ key: 'default', opts: { pinned: true } }], batch);
    await cache.loadMany([{ key: 'never-fresh', opts: { pinned: true, policy: { ttlMs: 0 } } }], batch);
    // The caller's window comes from a 5 min default ttl (1 min); a 2 s entry is not "expiring" at once.
    const window = 60_000;
    expect(cache.expiring(window)).toEqual([]);
    clock.advance(1_000); // 1 s left of 2 s: its last second (the 1 s floor of refreshAheadMs)
    expect(cache.expiring(window)).toEqual(['short']);
    clock.advance(7_000); // 2 s left of 10 s: its last fifth
    expect(cache.expiring(window)).toEqual(['short', 'default']);
    expect([refreshAheadMs(2_000), refreshAheadMs(POLICY.ttlMs), refreshAheadMs(3_600_000)]).toEqual([
      1_000, 2_000, 60_000,
    ]);
  });

  it('lists an entry with no refresh-ahead window only once it has expired', async () => {
    const { clock, cache } = make();
    const batch = async (keys: string[]) => new Map<string, string | Error>(keys.map((k) => [k, k]));
    await cache.loadMany(
      [{ key: 'polled', opts: { pinned: true, policy: { ttlMs: 15_000, refreshAheadMs: 0 } } }],
      batch,
    );
    await cache.loadMany([{ key: 'ahead', opts: { pinned: true, policy: { ttlMs: 15_000 } } }], batch);
    clock.advance(14_999);
    expect(cache.expiring()).toEqual(['ahead']);
    clock.advance(1);
    expect(cache.expiring()).toEqual(['polled', 'ahead']);
  });

  it('leaves out keys that back off after a failed refresh', async () => {
    const { clock, cache } = make({ random: () => 0 });
    await cache.loadMany([{ key: 'p', opts: { pinned: true } }], async () => new Map([['p', 'v']]));
    clock.advance(POLICY.ttlMs);
    expect(cache.expiring()).toEqual(['p']);
    await cache.loadMany([{ key: 'p' }], async () => new Map([['p', new Error('down')]]));
    expect(cache.expiring()).toEqual([]);
    clock.advance(ERROR_RETRY_MS / 2);
    expect(cache.expiring()).toEqual(['p']);
  });
});

describe('Cache notAfter', () => {
  /** Values `until:<epoch ms>` may not be served from that time on. */
  const until = (_key: string, v: string) => (v.startsWith('until:') ? Number(v.slice(6)) : undefined);

  it('loads again when a fresh value has passed its notAfter', async () => {
    const { clock, cache } = make({ notAfter: until });
    await cache.get('k', async () => `until:${clock.now() + 1000}`);
    expect(cache.fresh('k')).toBeDefined();
    clock.advance(1000);
    expect(cache.fresh('k')).toBeUndefined();
    const loader = vi.fn(async () => 'plain');
    expect(await cache.get('k', loader)).toMatchObject({ value: 'plain', status: 'miss' });
    expect(loader).toHaveBeenCalledTimes(1);
  });

  it('throws the load error instead of serving a value past its notAfter within stale-if-error', async () => {
    const { clock, cache } = make({ notAfter: until });
    await cache.get('k', async () => `until:${clock.now() + POLICY.ttlMs + 1000}`);
    clock.advance(POLICY.ttlMs + 500);
    // Stale within stale-while-revalidate and before notAfter: served.
    expect(await cache.get('k', () => Promise.reject(new Error('down')))).toMatchObject({ status: 'stale' });
    clock.advance(ERROR_RETRY_MS + 500);
    await expect(cache.get('k', () => Promise.reject(new Error('still down')))).rejects.toThrow('still down');
  });

  it('lists a value for refresh-ahead when its notAfter comes before its expiry', async () => {
    const { clock, cache } = make({ notAfter: until });
    await cache.get('k', async () => `until:${clock.now() + 1500}`);
    await cache.get('other', async () => 'plain');
    expect(cache.expiring(1000)).toEqual([]);
    clock.advance(600);
    expect(cache.expiring(1000)).toEqual(['k']);
  });
});

describe('Cache forced refresh', () => {
  it('throws the load error and keeps the stored value when a forced refresh fails', async () => {
    const { cache } = make();
    await cache.get('k', async () => 'good');
    await expect(
      cache.get('k', () => Promise.reject(new Error('down')), { forceRefresh: true }),
    ).rejects.toThrow('down');
    expect(cache.peek('k')).toBe('good');
    expect(cache.fresh('k')).toMatchObject({ value: 'good', status: 'hit' });
  });
});
