/**
 * A generic in-memory cache with per-entry freshness, stale-while-revalidate, stale-if-error, negative
 * caching, single flight per key, batched loads and a memory bound. It knows nothing about AWS or HTTP:
 * callers pass loaders and say which errors mean "not found".
 *
 * An entry's life, measured from its last successful load (`age`), with its {@link FreshnessPolicy}:
 *
 * | age                                          | `get()` answers                                          |
 * | -------------------------------------------- | -------------------------------------------------------- |
 * | `< ttlMs`                                    | `hit`, from memory                                        |
 * | `< ttlMs + staleWhileRevalidateMs`           | `stale` at once, and one background refresh starts        |
 * | later                                        | loads (single flight), waiting at most `waitMs`: `miss`   |
 * | load failed, `< ttlMs + staleIfErrorMs`      | `stale`: the last good value                              |
 * | load failed, later                           | the load's error is thrown                                |
 *
 * A value past its `notAfter` (a secret's rotation date, see {@link CacheOptions.notAfter}) is never
 * served, fresh or stale: the next `get()` loads, and a failed load throws. A forced refresh
 * (`forceRefresh`) loads whatever the freshness and, if it fails, throws: the stored value stays as it was,
 * but the caller who asked for the backend's answer gets the backend's error, not the old value.
 *
 * Once a load of a key has failed or a request gave up waiting for it, the key backs off: until its next
 * retry is due ({@link retryDelayMs}: about 1 s, doubling per failure up to 30 s, jittered), requests are
 * answered at once — the last good value inside the stale-if-error window, else the load's error (or the
 * {@link WaitTimeoutError}) — instead of each waiting on a backend that is known to be failing. The first
 * request after that retries (one new load; the others still answer at once), a success ends the
 * back-off. A not-found answer is cached as a negative entry for `negativeTtlMs` and re-thrown to every
 * `get()` until then; it replaces any old value (the item was deleted).
 *
 * The budget (`maxEntries`, `maxBytes`) counts what an entry really keeps: its value (`sizeOf`), its key
 * string and a measured per-entry overhead (see {@link ENTRY_OVERHEAD_BYTES}). Pinned (prefetched) entries
 * are never evicted; read-through and negative entries share what they leave, and always keep at least
 * {@link READ_THROUGH_RESERVE} of the budget, so configured entries that fill it cannot turn read-through
 * and negative caching off. An entry larger than that share is answered but not stored.
 *
 * No timers run except the one bounding a single `get()`'s wait, and that one is `unref`'d and cleared.
 */
import type { Clock } from './clock.js';
import { WaitTimeoutError } from './errors.js';

export { WaitTimeoutError };

export interface FreshnessPolicy {
  /** Fresh this long after a successful load. */
  ttlMs: number;
  /** After expiry: serve the old value at once and start ONE background refresh, for this long. */
  staleWhileRevalidateMs: number;
  /** After expiry: if loading fails, keep serving the last good value this long, then throw. */
  staleIfErrorMs: number;
  /** A not-found answer is remembered this long. */
  negativeTtlMs: number;
  /**
   * How close to its expiry an INVOKE refreshes the entry; `0`: only once it has expired.
   * @default refreshAheadMs(ttlMs)
   */
  refreshAheadMs?: number;
}

/** Upper bound of the default stale-while-revalidate window. */
export const DEFAULT_MAX_STALE_WHILE_REVALIDATE_MS = 60_000;
/** Default stale-if-error window: an hour of backend outage is bridged with the last good value. */
export const DEFAULT_STALE_IF_ERROR_MS = 3_600_000;
/** Upper bound of the default negative TTL: a newly created item becomes visible within 30 s. */
export const DEFAULT_MAX_NEGATIVE_TTL_MS = 30_000;
/** The first retry of a key after a failed or timed-out load is due within this (jittered down to half). */
export const ERROR_RETRY_MS = 1000;
/** The back-off of a key that keeps failing doubles per failure up to this. */
export const MAX_ERROR_RETRY_MS = 30_000;
/** A load still running after this long is considered lost: the next request starts a new one. */
export const DEFAULT_MAX_LOAD_MS = 60_000;
/**
 * What an entry costs besides its value and its key's characters: the entry record, its slot in the map
 * (with the map's spare capacity) and the key string's header, as resident memory. About 200 B of it are
 * live heap; the rest is the free space V8's old generation keeps around its live objects (it runs at
 * about two thirds full after a full GC), which is memory the process holds all the same. Measured with
 * `scripts/entry-cost.mjs` (USS growth per entry after a full GC, young generation capped).
 */
export const ENTRY_OVERHEAD_BYTES = 450;
/**
 * What a negative entry keeps besides its key: the not-found error, with its message and captured stack.
 * Measured with `scripts/entry-cost.mjs --missing`.
 */
export const NEGATIVE_ENTRY_BYTES = 1000;
/**
 * The share of `maxEntries` and of `maxBytes` read-through and negative entries may always use, however
 * much pinned entries take: with pinned entries filling the budget, the cache holds up to
 * `pinned + 10 %` of it.
 */
export const READ_THROUGH_RESERVE = 0.1;
/** Keys without a value whose failure is remembered for back-off; past this the oldest is forgotten. */
const MAX_FAILED_KEYS = 1024;

/**
 * How long a key backs off after its `failures`-th failure in a row: `ERROR_RETRY_MS × 2^(failures − 1)`,
 * at most {@link MAX_ERROR_RETRY_MS}, times a jitter in [0.5, 1) so keys that failed together do not
 * retry together.
 */
export function retryDelayMs(failures: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_ERROR_RETRY_MS, ERROR_RETRY_MS * 2 ** Math.max(0, failures - 1));
  return base * (0.5 + Math.min(1, Math.max(0, random())) / 2);
}

/**
 * How close to its expiry an entry with this TTL is refreshed ahead (on INVOKE): a fifth of its TTL,
 * at least 1 s and at most 1 min.
 */
export function refreshAheadMs(ttlMs: number): number {
  return Math.min(60_000, Math.max(1000, Math.floor(ttlMs / 5)));
}

/** Bytes a string's characters take: one per character when all are Latin-1, else two (UTF-16). */
export function stringBytes(text: string): number {
  return ONE_BYTE.test(text) ? text.length : text.length * 2;
}
// biome-ignore lint/suspicious/noControlCharactersInRegex: Latin-1 is every code unit up to 0xff
const ONE_BYTE = /^[\u0000-\u00ff]*$/;

/**
 * The freshness policy for a TTL, as the extension uses it:
 * - `staleWhileRevalidateMs` = `min(ttl, 1m)`: a value is never served stale for longer than it was fresh;
 * - `staleIfErrorMs` = `1h`: a backend outage of up to an hour is invisible to the function;
 * - `negativeTtlMs` = `min(ttl, 30s)`: a missing item is asked for again soon.
 *
 * A TTL of `0` means "never fresh": every request loads (concurrent ones share the load), nothing is
 * served stale except when the backend fails, and not-found is not remembered.
 *
 * @example
 * const policy = defaultPolicy(5 * 60_000); // { ttlMs: 300000, staleWhileRevalidateMs: 60000, … }
 */
export function defaultPolicy(ttlMs: number): FreshnessPolicy {
  return {
    ttlMs,
    staleWhileRevalidateMs: Math.min(ttlMs, DEFAULT_MAX_STALE_WHILE_REVALIDATE_MS),
    staleIfErrorMs: DEFAULT_STALE_IF_ERROR_MS,
    negativeTtlMs: Math.min(ttlMs, DEFAULT_MAX_NEGATIVE_TTL_MS),
  };
}

export interface EntryOptions {
  /** Overrides of the cache's default policy for this entry; kept until new options are given. */
  policy?: Partial<FreshnessPolicy>;
  /** Prefetched (configured) entries are pinned: never evicted. Kept until new options are given. */
  pinned?: boolean;
}

export type LookupStatus = 'hit' | 'miss' | 'stale';

export interface Lookup<V> {
  value: V;
  /** `hit`: fresh from memory; `miss`: this request waited for a load; `stale`: an expired value. */
  status: LookupStatus;
  /** Time since the value was loaded. */
  ageMs: number;
  /** Freshness left, ≥ 0; `0` when stale. For `Cache-Control: max-age`. */
  ttlLeftMs: number;
}

export interface CacheOptions<V> {
  clock: Clock;
  /**
   * At most this many entries (negative ones included); least recently used read-through ones go first.
   * Pinned entries may take more; read-through ones always keep {@link READ_THROUGH_RESERVE} of it.
   */
  maxEntries: number;
  /** At most this many bytes, as counted by `sizeOf` plus the key and a per-entry overhead; as `maxEntries`. */
  maxBytes: number;
  /** Policy of entries stored without their own; see {@link defaultPolicy}. */
  defaults: FreshnessPolicy;
  /** Bytes an entry's value really keeps (every object and buffer of it that stays in memory). */
  sizeOf(value: V): number;
  /** Errors for which this returns true are cached negatively. */
  isNotFound(err: unknown): boolean;
  /** Default bound on how long `get()` waits for an in-flight load. `Infinity`: no bound. */
  waitMs: number;
  /** A load running longer than this no longer blocks new loads of its key. @default 60_000 */
  maxLoadMs?: number;
  /**
   * The epoch ms after which a value must not be served at all, fresh or stale (a secret's rotation date);
   * asked once per load. `undefined`: its freshness policy alone bounds it.
   */
  notAfter?(key: string, value: V): number | undefined;
  /** A background refresh failed (not-found answers are not reported: they are cached). */
  onBackgroundError?(key: string, err: unknown): void;
  /** Jitter of the retry back-off, in [0, 1). @default Math.random */
  random?(): number;
}

/** What pinned entries take of the budget, and what that leaves read-through and negative entries. */
export interface BudgetUse {
  pinnedEntries: number;
  pinnedBytes: number;
  /** Entries read-through and negative ones may hold: what pinned ones leave, at least the reserve. */
  readThroughEntries: number;
  readThroughBytes: number;
  /** Pinned entries leave less than the reserve: read-through ones live on the reserve alone. */
  full: boolean;
}

export interface CacheStats {
  entries: number;
  bytes: number;
  /** Fresh answers from memory. */
  hits: number;
  /** Requests that waited for a load. */
  misses: number;
  /** Answers with an expired value (stale-while-revalidate or stale-if-error). */
  staleServes: number;
  /** Requests answered "not found" from a negative entry. */
  negativeHits: number;
  evictions: number;
  /** Loads of a key that already held a value (background, forced, expired or batched). */
  refreshes: number;
  /** Loads that failed with anything but not-found. */
  errors: number;
}

interface Entry<V> {
  readonly key: string;
  /** `undefined` for a negative entry. */
  readonly value: V | undefined;
  readonly negative: boolean;
  /** The not-found error of a negative entry. */
  readonly notFound: unknown;
  readonly loadedAt: number;
  readonly policy: FreshnessPolicy;
  readonly pinned: boolean;
  /** What the budget counts for it; grows when the value does (see {@link Cache.resized}). */
  bytes: number;
  /** The back-off of its key, if its last load failed and none succeeded since. */
  failure: Failure | undefined;
  /** Served since it was loaded: read-through entries are refreshed ahead only when in use. */
  used: boolean;
}

/** A key whose last load failed or timed out: answered at once until `retryAt`. */
interface Failure {
  readonly error: unknown;
  /** Failures in a row. */
  readonly count: number;
  retryAt: number;
}

type Outcome<V> = { readonly ok: true; readonly value: V } | { readonly ok: false; readonly error: unknown };

interface Flight<V> {
  readonly promise: Promise<Outcome<V>>;
  readonly startedAt: number;
}

const TIMEOUT = Symbol('timeout');

export class Cache<V> {
  readonly #clock: Clock;
  readonly #opts: CacheOptions<V>;
  readonly #maxLoadMs: number;
  /** Read-through entries in recency order: the first is the least recently used. */
  readonly #lru = new Map<string, Entry<V>>();
  /** Prefetched entries: never evicted, so kept apart and eviction stays O(1). */
  readonly #pinned = new Map<string, Entry<V>>();
  readonly #inflight = new Map<string, Flight<V>>();
  /** Back-off of keys that hold no value (a value's entry holds its own). */
  readonly #failures = new Map<string, Failure>();
  readonly #random: () => number;
  /**
   * The `notAfter` of the values that have one, apart from the entries: most have none, and a field of
   * every entry would cost each of them a word (and a boxed number).
   */
  readonly #notAfters = new Map<string, number>();
  #pinnedBytes = 0;
  #lruBytes = 0;
  readonly #counts = {
    hits: 0,
    misses: 0,
    staleServes: 0,
    negativeHits: 0,
    evictions: 0,
    refreshes: 0,
    errors: 0,
  };

  constructor(opts: CacheOptions<V>) {
    this.#opts = opts;
    this.#clock = opts.clock;
    this.#maxLoadMs = opts.maxLoadMs ?? DEFAULT_MAX_LOAD_MS;
    this.#random = opts.random ?? Math.random;
  }

  /**
   * Fresh → hit. Stale within SWR → stale + one background refresh. Otherwise (or `forceRefresh`) load via
   * `loader`, single-flight per key (joins a load already running, including a `loadMany` batch), waiting at
   * most `waitMs`. On load failure within stale-if-error → the old value as `stale`; else throws the load's
   * error (a not-found error is cached negatively and re-thrown on later gets until it expires) or a
   * {@link WaitTimeoutError}. While the key backs off after a failure (see the module comment), answers at
   * once — the stale value or the remembered error — without loading; `forceRefresh` loads anyway.
   */
  async get(
    key: string,
    loader: () => Promise<V>,
    opts: EntryOptions & {
      forceRefresh?: boolean;
      waitMs?: number;
      /**
       * Called when this read is about to start a background refresh of its stale value, before it does:
       * a batch refresh it starts that takes this key as well (see {@link expiring}) replaces the refresh
       * of this key alone.
       */
      refreshOthers?: () => void;
    } = {},
  ): Promise<Lookup<V>> {
    const now = this.#clock.now();
    const entry = this.#find(key);
    const failure = this.#failureOf(key, entry);
    if (entry && !opts.forceRefresh && !this.#pastNotAfter(key, now)) {
      const age = Math.max(0, now - entry.loadedAt);
      const p = entry.policy;
      if (entry.negative) {
        if (age < p.negativeTtlMs) {
          this.#counts.negativeHits++;
          this.#touch(entry);
          throw entry.notFound;
        }
      } else if (age < p.ttlMs) {
        return this.#serve(entry, now);
      } else if (
        age < p.ttlMs + p.staleWhileRevalidateMs ||
        (failure !== undefined && age < p.ttlMs + p.staleIfErrorMs)
      ) {
        this.#refreshInBackground(entry, loader, now, opts.refreshOthers);
        return this.#serve(entry, now);
      }
    }
    if (failure !== undefined && now < failure.retryAt && !opts.forceRefresh) {
      // Known to be failing and not due for a retry: no waiting on it again.
      this.#counts.misses++;
      throw failure.error;
    }

    const waitMs = opts.waitMs ?? this.#opts.waitMs;
    let flight = this.#activeFlight(key, now);
    if (failure !== undefined) {
      // This request is the retry; until it is answered, the others keep answering at once.
      failure.retryAt = now + retryDelayMs(failure.count, this.#random);
      // A load that already kept a request waiting its whole bound is not waited on again: start anew.
      if (flight && now - flight.startedAt >= waitMs) flight = undefined;
    }
    flight ??= this.#start(key, loader, opts);
    const outcome = await this.#wait(flight, waitMs);
    if (outcome !== TIMEOUT && outcome.ok) {
      this.#counts.misses++;
      const stored = this.#find(key);
      // Loaded for a request: in use, so refresh-ahead keeps it fresh (see `expiring`).
      if (stored && !stored.negative) stored.used = true;
      const ttlMs = stored && !stored.negative ? stored.policy.ttlMs : this.#policy(opts, entry).ttlMs;
      return { value: outcome.value, status: 'miss', ageMs: 0, ttlLeftMs: ttlMs };
    }
    if (outcome !== TIMEOUT && this.#opts.isNotFound(outcome.error)) {
      this.#counts.misses++;
      throw outcome.error;
    }
    const later = this.#clock.now();
    const error = outcome === TIMEOUT ? new WaitTimeoutError(key, waitMs) : outcome.error;
    // Still loading: requests until the retry is due are answered at once, not kept waiting too.
    if (outcome === TIMEOUT && this.#inflight.get(key) === flight) this.#fail(key, error, later);
    // Stale-if-error: the last good value, if it is recent enough; never for a forced refresh, whose
    // caller asked for what the backend says now.
    const old = opts.forceRefresh ? undefined : this.#find(key);
    if (
      old &&
      !old.negative &&
      !this.#pastNotAfter(key, later) &&
      later - old.loadedAt < old.policy.ttlMs + old.policy.staleIfErrorMs
    ) {
      return this.#serve(old, later);
    }
    this.#counts.misses++;
    throw error;
  }

  /**
   * The fresh value of `key` as a `hit` (counted and touched exactly as `get()` would), or `undefined`
   * when there is none (missing, negative, expired): then call `get()`. Lets a hit skip building a loader.
   */
  fresh(key: string): Lookup<V> | undefined {
    const entry = this.#lru.get(key) ?? this.#pinned.get(key);
    if (entry === undefined || entry.negative) return undefined;
    const now = this.#clock.now();
    if (Math.max(0, now - entry.loadedAt) >= entry.policy.ttlMs || this.#pastNotAfter(key, now))
      return undefined;
    return this.#serve(entry, now);
  }

  /**
   * One batch load for many keys (prefetch, refresh-ahead on INVOKE). Every key is marked in flight
   * BEFORE `batch` is called, so a concurrent `get()` of any of them waits for it; keys already loading
   * are joined, not loaded twice. `batch` returns, per key, a value or an Error (a key it leaves out counts
   * as an error). Values and not-found answers are stored; other failures keep the old value. Never rejects.
   */
  async loadMany(
    entries: ReadonlyArray<{ key: string; opts?: EntryOptions }>,
    batch: (keys: string[]) => Promise<Map<string, V | Error>>,
  ): Promise<Map<string, V | Error>> {
    const now = this.#clock.now();
    const results = new Map<string, V | Error>();
    const joined = new Map<string, Flight<V>>();
    const mine = new Map<string, (outcome: Outcome<V>) => void>();
    for (const { key, opts } of entries) {
      if (joined.has(key) || mine.has(key)) continue;
      const running = this.#activeFlight(key, now);
      if (running) joined.set(key, running);
      else mine.set(key, this.#open(key, opts).finish);
    }
    if (mine.size > 0) {
      let answers: Map<string, V | Error> | undefined;
      let failure: unknown;
      try {
        answers = await batch([...mine.keys()]);
        if (!(answers instanceof Map)) throw new TypeError('a batch loader must return a Map');
      } catch (err) {
        answers = undefined;
        failure = err;
      }
      for (const [key, finish] of mine) {
        let outcome: Outcome<V>;
        if (answers?.has(key)) {
          const answer = answers.get(key) as V | Error;
          outcome = answer instanceof Error ? { ok: false, error: answer } : { ok: true, value: answer };
        } else {
          outcome = { ok: false, error: failure ?? new Error(`the batch returned no result for ${key}`) };
        }
        finish(outcome);
        results.set(key, outcome.ok ? outcome.value : asError(outcome.error));
      }
    }
    for (const [key, flight] of joined) {
      const outcome = await flight.promise;
      results.set(key, outcome.ok ? outcome.value : asError(outcome.error));
    }
    return results;
  }

  /**
   * Keys to refresh ahead (on INVOKE): those whose freshness ends within their own refresh-ahead window
   * ({@link refreshAheadMs} of the entry's TTL, capped by `maxWithinMs`), already expired ones included,
   * that are not loading now and not backing off after a failure, pinned first. Read-through entries are
   * listed only if a request loaded or read them since their last load, so entries nobody asks for any
   * more are not kept alive by refreshes. Negative entries, and entries with a TTL of 0 (never fresh, so a
   * refresh ahead would be stale at once), are never listed.
   */
  expiring(maxWithinMs = Number.POSITIVE_INFINITY): string[] {
    const now = this.#clock.now();
    const out: string[] = [];
    for (const map of [this.#pinned, this.#lru]) {
      for (const entry of map.values()) {
        if (entry.negative || entry.policy.ttlMs <= 0 || (map === this.#lru && !entry.used)) continue;
        const withinMs = Math.min(
          maxWithinMs,
          entry.policy.refreshAheadMs ?? refreshAheadMs(entry.policy.ttlMs),
        );
        const endsAt = Math.min(
          entry.loadedAt + entry.policy.ttlMs,
          this.#notAfters.get(entry.key) ?? Number.POSITIVE_INFINITY,
        );
        if (endsAt - now > withinMs) continue;
        if (entry.failure !== undefined && now < entry.failure.retryAt) continue;
        if (this.#activeFlight(entry.key, now)) continue;
        out.push(entry.key);
      }
    }
    return out;
  }

  /**
   * Counts `key`'s value again after it grew (a body form built on first use), evicting read-through
   * entries if the budget is now exceeded.
   */
  resized(key: string): void {
    const entry = this.#find(key);
    if (!entry) return;
    const bytes = this.#cost(key, entry.value, entry.negative);
    this.#account(entry, bytes - entry.bytes);
    entry.bytes = bytes;
    this.#evict();
  }

  /** What pinned entries take of the budget and what that leaves the others. */
  budget(): BudgetUse {
    const { readThroughEntries, readThroughBytes } = this.#allowance();
    const { maxEntries, maxBytes } = this.#opts;
    return {
      pinnedEntries: this.#pinned.size,
      pinnedBytes: this.#pinnedBytes,
      readThroughEntries,
      readThroughBytes,
      full:
        maxEntries - this.#pinned.size < this.#reserve(maxEntries) ||
        maxBytes - this.#pinnedBytes < this.#reserve(maxBytes),
    };
  }

  /** The stored value, whatever its freshness, without counting or touching recency. */
  peek(key: string): V | undefined {
    const entry = this.#find(key);
    return entry && !entry.negative ? entry.value : undefined;
  }

  /** Whether a value (not a negative entry) is stored for `key`, whatever its freshness. */
  has(key: string): boolean {
    const entry = this.#find(key);
    return entry !== undefined && !entry.negative;
  }

  /** Forgets the entry; a load in flight still answers its waiters but is no longer stored. */
  delete(key: string): void {
    this.#remove(key);
    this.#inflight.delete(key);
    this.#failures.delete(key);
  }

  stats(): CacheStats {
    return { entries: this.size, bytes: this.#pinnedBytes + this.#lruBytes, ...this.#counts };
  }

  /** Entries held, negative ones included. */
  get size(): number {
    return this.#lru.size + this.#pinned.size;
  }

  #find(key: string): Entry<V> | undefined {
    return this.#lru.get(key) ?? this.#pinned.get(key);
  }

  #failureOf(key: string, entry: Entry<V> | undefined): Failure | undefined {
    return entry && !entry.negative ? entry.failure : this.#failures.get(key);
  }

  /** Records a failed or timed-out load of `key`: it backs off, one step longer than last time. */
  #fail(key: string, error: unknown, now: number): void {
    const entry = this.#find(key);
    const count = (this.#failureOf(key, entry)?.count ?? 0) + 1;
    const failure: Failure = { error, count, retryAt: now + retryDelayMs(count, this.#random) };
    if (entry && !entry.negative) {
      entry.failure = failure;
      return;
    }
    this.#failures.delete(key);
    this.#failures.set(key, failure);
    if (this.#failures.size > MAX_FAILED_KEYS) {
      this.#failures.delete(this.#failures.keys().next().value as string);
    }
  }

  /** Whether `key`'s value may no longer be served at `now` (see {@link CacheOptions.notAfter}). */
  #pastNotAfter(key: string, now: number): boolean {
    if (this.#notAfters.size === 0) return false;
    const at = this.#notAfters.get(key);
    return at !== undefined && now >= at;
  }

  #reserve(budget: number): number {
    return Math.floor(budget * READ_THROUGH_RESERVE);
  }

  #allowance(): { readThroughEntries: number; readThroughBytes: number } {
    const { maxEntries, maxBytes } = this.#opts;
    return {
      readThroughEntries: Math.max(maxEntries - this.#pinned.size, this.#reserve(maxEntries)),
      readThroughBytes: Math.max(maxBytes - this.#pinnedBytes, this.#reserve(maxBytes)),
    };
  }

  /** What the budget counts for an entry: its value, its key's characters and the entry overhead. */
  #cost(key: string, value: V | undefined, negative: boolean): number {
    const valueBytes = negative ? NEGATIVE_ENTRY_BYTES : this.#opts.sizeOf(value as V);
    return (
      ENTRY_OVERHEAD_BYTES + stringBytes(key) + (Number.isFinite(valueBytes) ? Math.max(0, valueBytes) : 0)
    );
  }

  #account(entry: Entry<V>, delta: number): void {
    if (entry.pinned) this.#pinnedBytes += delta;
    else this.#lruBytes += delta;
  }

  #touch(entry: Entry<V>): void {
    if (entry.pinned) return;
    this.#lru.delete(entry.key);
    this.#lru.set(entry.key, entry);
  }

  #serve(entry: Entry<V>, now: number): Lookup<V> {
    const ageMs = Math.max(0, now - entry.loadedAt);
    const ttlLeftMs = Math.max(0, entry.policy.ttlMs - ageMs);
    entry.used = true;
    this.#touch(entry);
    if (ttlLeftMs > 0) this.#counts.hits++;
    else this.#counts.staleServes++;
    return { value: entry.value as V, status: ttlLeftMs > 0 ? 'hit' : 'stale', ageMs, ttlLeftMs };
  }

  #policy(opts: EntryOptions | undefined, existing: Entry<V> | undefined): FreshnessPolicy {
    if (opts?.policy) return { ...this.#opts.defaults, ...opts.policy };
    return existing?.policy ?? this.#opts.defaults;
  }

  /** The load of `key` that new requests should join, if one is running and not presumed lost. */
  #activeFlight(key: string, now: number): Flight<V> | undefined {
    const flight = this.#inflight.get(key);
    return flight && now - flight.startedAt < this.#maxLoadMs ? flight : undefined;
  }

  #refreshInBackground(
    entry: Entry<V>,
    loader: () => Promise<V>,
    now: number,
    refreshOthers: (() => void) | undefined,
  ): void {
    const key = entry.key;
    if (this.#activeFlight(key, now)) return;
    if (entry.failure !== undefined && now < entry.failure.retryAt) return;
    if (refreshOthers !== undefined) {
      try {
        refreshOthers();
      } catch (err) {
        this.#report(key, err);
      }
      if (this.#activeFlight(key, now)) return;
    }
    this.#start(key, loader, undefined).promise.then((outcome) => {
      if (outcome.ok) return;
      let notFound: boolean;
      try {
        notFound = this.#opts.isNotFound(outcome.error);
      } catch {
        notFound = false;
      }
      if (!notFound) this.#report(key, outcome.error);
    });
  }

  #report(key: string, err: unknown): void {
    try {
      this.#opts.onBackgroundError?.(key, err);
    } catch {
      // A failing error hook must not turn into an unhandled rejection.
    }
  }

  #start(key: string, loader: () => Promise<V>, opts: EntryOptions | undefined): Flight<V> {
    const { flight, finish } = this.#open(key, opts);
    let pending: Promise<V>;
    try {
      pending = loader();
    } catch (error) {
      pending = Promise.reject(error);
    }
    Promise.resolve(pending).then(
      (value) => finish({ ok: true, value }),
      (error: unknown) => finish({ ok: false, error }),
    );
    return flight;
  }

  /** Registers a load of `key` as in flight; `finish` stores its outcome and releases the waiters. */
  #open(key: string, opts: EntryOptions | undefined): { flight: Flight<V>; finish: (o: Outcome<V>) => void } {
    let resolve!: (o: Outcome<V>) => void;
    const promise = new Promise<Outcome<V>>((r) => {
      resolve = r;
    });
    const flight: Flight<V> = { promise, startedAt: this.#clock.now() };
    this.#inflight.set(key, flight);
    if (this.#find(key)?.negative === false) this.#counts.refreshes++;
    let done = false;
    const finish = (outcome: Outcome<V>): void => {
      if (done) return;
      done = true;
      try {
        this.#settle(key, flight, outcome, opts);
      } catch (err) {
        // A throwing sizeOf or isNotFound: nothing is stored, but the waiters still get the outcome and
        // nothing escapes as an unhandled rejection.
        this.#counts.errors++;
        this.#report(key, err);
      } finally {
        resolve(outcome);
      }
    };
    return { flight, finish };
  }

  #settle(key: string, flight: Flight<V>, outcome: Outcome<V>, opts: EntryOptions | undefined): void {
    // Deleted, or superseded by a newer load after this one was presumed lost: store nothing.
    if (this.#inflight.get(key) !== flight) return;
    this.#inflight.delete(key);
    const now = this.#clock.now();
    const existing = this.#find(key);
    if (outcome.ok) {
      this.#failures.delete(key);
      this.#store(key, outcome.value, false, undefined, now, opts, existing);
    } else if (this.#opts.isNotFound(outcome.error)) {
      this.#failures.delete(key);
      this.#store(key, undefined, true, outcome.error, now, opts, existing);
    } else {
      this.#counts.errors++;
      this.#fail(key, outcome.error, now);
    }
  }

  #store(
    key: string,
    value: V | undefined,
    negative: boolean,
    notFound: unknown,
    now: number,
    opts: EntryOptions | undefined,
    existing: Entry<V> | undefined,
  ): void {
    const pinned = opts?.pinned ?? existing?.pinned ?? false;
    const policy = this.#policy(opts, existing);
    const entry: Entry<V> = {
      key,
      value,
      negative,
      notFound,
      loadedAt: now,
      policy,
      pinned,
      bytes: this.#cost(key, value, negative),
      failure: undefined,
      used: false,
    };
    this.#remove(key);
    if (!pinned && entry.bytes > this.#allowance().readThroughBytes) {
      // It would push out every other read-through entry and still not fit: answered, not kept.
      this.#counts.evictions++;
      return;
    }
    const notAfter = negative ? undefined : this.#opts.notAfter?.(key, value as V);
    if (notAfter !== undefined && !Number.isNaN(notAfter)) this.#notAfters.set(key, notAfter);
    (pinned ? this.#pinned : this.#lru).set(key, entry);
    this.#account(entry, entry.bytes);
    this.#evict();
  }

  #remove(key: string): void {
    this.#notAfters.delete(key);
    const entry = this.#find(key);
    if (!entry) return;
    (entry.pinned ? this.#pinned : this.#lru).delete(key);
    this.#account(entry, -entry.bytes);
  }

  /** Evicts least recently used read-through entries until they fit in what pinned ones leave them. */
  #evict(): void {
    const { readThroughEntries, readThroughBytes } = this.#allowance();
    while ((this.#lru.size > readThroughEntries || this.#lruBytes > readThroughBytes) && this.#lru.size > 0) {
      const oldest = this.#lru.keys().next().value as string;
      this.#remove(oldest);
      this.#counts.evictions++;
    }
  }

  async #wait(flight: Flight<V>, waitMs: number): Promise<Outcome<V> | typeof TIMEOUT> {
    if (!Number.isFinite(waitMs)) return flight.promise;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMEOUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMEOUT), Math.max(0, waitMs));
      timer.unref();
    });
    try {
      return await Promise.race([flight.promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
