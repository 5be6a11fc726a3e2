/**
 * The store behind the server, generic over sources (`sources/source.ts`): every source's entries live in
 * one injected cache, keyed `tag + SEP + source.encode(target)`, held as the bytes the source's main form
 * is served as, and loaded through one path: a per-source {@link Coalescer} that batches targets of one
 * `source.group()` up to `source.maxBatch`, used alike by read-through misses, prefetch and refresh-ahead.
 */
import type { HealthPayload, StatsPayload } from '@lambda-cache/shared';
import { Cache, defaultPolicy, type EntryOptions, type Lookup } from './cache.js';
import type { Clock } from './clock.js';
import { Coalescer } from './coalesce.js';
import type { CacheConfig } from './config.js';
import { errorCode, isNotFound } from './errors.js';
import type { SourceHealth } from './health.js';
import type { Logger } from './log.js';
import { chunk } from './sources/batching.js';
import { own, SEP } from './sources/codec.js';
import {
  type Body,
  type LoadReason,
  type Read,
  type Source,
  type Stored,
  UNCHANGED,
} from './sources/source.js';
import type { Reply, SourceRoutes, Store } from './store.js';

// biome-ignore lint/suspicious/noExplicitAny: the store holds sources of every target and payload type
type AnySource = Source<any, any, any>;

/**
 * What the cache holds for a key: the source's stored value (its main body and the few facts a hit
 * needs), and the other forms built from it on first use, kept beside it so each is built once.
 */
export class Value implements Stored<unknown> {
  /** `[name, body, name, body, …]`, at most {@link MAX_FORMS} forms. */
  forms: Array<string | Body> | undefined = undefined;
  /** The main form's extra headers: on the prototype, so values without any carry no field for them. */
  declare readonly headers: readonly string[] | undefined;

  constructor(
    readonly body: Buffer,
    readonly contentType: string,
    readonly meta: unknown,
  ) {}
}
Object.defineProperty(Value.prototype, 'headers', { value: undefined });

/** A value whose main form has extra headers (AppConfig's `Configuration-Version`). */
class ValueWithHeaders extends Value {
  constructor(
    body: Buffer,
    contentType: string,
    meta: unknown,
    override readonly headers: readonly string[],
  ) {
    super(body, contentType, meta);
  }
}

/** A value object (its fields and the forms slot). Measured with `scripts/entry-cost.mjs`. */
const VALUE_OVERHEAD_BYTES = 64;
/**
 * A body besides its bytes: the `Buffer` view and its `ArrayBuffer` on the heap, and outside it the
 * backing store's records and malloc's headers, which `process.memoryUsage().external` does not show
 * (it counts the bytes alone). Measured with `scripts/entry-cost.mjs` (USS growth, one form against two).
 */
const BODY_OVERHEAD_BYTES = 400;
/** A kept form besides its body: its `Body` record and its two slots in the list. */
const FORM_OVERHEAD_BYTES = 64;
/**
 * Forms kept per entry (the AWS-compatible and the seed's bodies; a few feature-flag subsets). Past this a
 * form is built for the request and not kept, so a caller asking for ever new subsets cannot grow an entry.
 */
const MAX_FORMS = 4;

function sizeOf(v: Value): number {
  let bytes = VALUE_OVERHEAD_BYTES + BODY_OVERHEAD_BYTES + v.body.byteLength;
  const forms = v.forms;
  if (forms !== undefined) {
    for (let i = 1; i < forms.length; i += 2) {
      bytes += FORM_OVERHEAD_BYTES + BODY_OVERHEAD_BYTES + (forms[i] as Body).body.byteLength;
    }
  }
  return bytes;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** How a load is asked for: a {@link LoadReason}, or `force`, a request that bypasses the cache. */
type Mode = LoadReason | 'force';

/** A source as the store runs it. */
interface Lane {
  readonly source: AnySource;
  /** `tag + SEP`: what every cache key of the source starts with. */
  readonly prefix: string;
  /** One per {@link Mode}, made on first use. */
  readonly batches: Map<Mode, Coalescer<string, Value>>;
  /** Targets of keys waiting in a batch, so the batch need not decode them from their keys. */
  readonly waiting: Map<string, unknown>;
}

/** The source a cache key belongs to, by its tag. */
function sourceOfKey<S extends { readonly source: AnySource }>(
  byTag: ReadonlyMap<string, S>,
  key: string,
): S | undefined {
  return byTag.get(key.slice(0, key.indexOf(SEP)));
}

/** Names of a cache key's target, for logs (never a value). */
function describeKey(
  byTag: ReadonlyMap<string, { readonly source: AnySource }>,
  key: string,
): Readonly<Record<string, string>> {
  const lane = sourceOfKey(byTag, key);
  if (lane === undefined) return {};
  try {
    return lane.source.describe(lane.source.decode(key.slice(lane.source.tag.length + SEP.length)));
  } catch {
    return {};
  }
}

export interface StoreCacheOptions {
  readonly sources: readonly AnySource[];
  readonly clock: Clock;
  readonly logger: Logger;
  /** Default TTL (`CACHE_EXTENSION_TTL`). */
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly maxBytes: number;
  /** How long a request waits for an entry that is loading. */
  readonly waitMs: number;
}

/**
 * The cache a {@link SourceStore} keeps its values in: it counts what a {@link Value} keeps, caches the
 * sources' not-found answers, ends each value at its source's `notAfter`, and logs failed background
 * refreshes by the names of what failed.
 */
export function createStoreCache(opts: StoreCacheOptions): Cache<Value> {
  const byTag = new Map(opts.sources.map((source) => [source.tag, { source }]));
  return new Cache<Value>({
    clock: opts.clock,
    maxEntries: opts.maxEntries,
    maxBytes: opts.maxBytes,
    defaults: defaultPolicy(opts.ttlMs),
    sizeOf,
    isNotFound,
    waitMs: opts.waitMs,
    notAfter: (key, value) => sourceOfKey(byTag, key)?.source.notAfter?.(value),
    onBackgroundError: (key, err) => {
      opts.logger.warn('background refresh failed; serving the last good value', {
        ...describeKey(byTag, key),
        error: errorCode(err),
      });
    },
  });
}

export interface SourceStoreOptions {
  readonly sources: readonly AnySource[];
  /** Made with {@link createStoreCache}. */
  readonly cache: Cache<Value>;
  readonly config: CacheConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The cache's bounds, for `/v1/stats` and the start warning. */
  readonly maxEntries: number;
  readonly maxBytes: number;
  /** Backend calls so far, by operation (counted by the AWS client). */
  readonly backendCalls: Readonly<Record<string, number>>;
  /** Whether each source's AWS calls are failing, for `/v1/health`. */
  readonly health?: SourceHealth;
}

/** What prefetch did: entries loaded per source's label (`parameters`, `items`, …), and what did not load. */
export interface PrefetchReport {
  readonly [label: string]: number;
  readonly ms: number;
  readonly notFound: number;
  readonly failed: number;
  /** Loads still running at the deadline; they go on, and requests wait for them. */
  readonly pending: number;
}

/** A stale read starts a refresh of every entry about to expire at most this often (see `refreshStale`). */
const STALE_REFRESH_INTERVAL_MS = 1000;

export class SourceStore implements Store {
  private readonly cache: Cache<Value>;
  private readonly lanes = new Map<string, Lane>();
  private readonly routeSets: readonly SourceRoutes[];
  /** Cache keys of targets, per target object: the server hands the same read to every equal request. */
  private readonly keys = new WeakMap<object, string>();
  /** Keys of configured entries (prefetched, pinned) for `/v1/health`. */
  private readonly configuredKeys = new Set<string>();
  private readonly startedAt: number;
  private status: 'starting' | 'ready' | 'stopping' = 'starting';
  /** When a stale read last started a refresh of every entry about to expire (see `refreshStale`). */
  private staleRefreshAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: SourceStoreOptions) {
    this.cache = opts.cache;
    this.startedAt = opts.clock.now();
    for (const source of opts.sources) {
      if (this.lanes.has(source.tag) || source.tag.includes(SEP)) {
        throw new Error(`source tag ${JSON.stringify(source.tag)} is taken or holds the key separator`);
      }
      this.lanes.set(source.tag, {
        source,
        prefix: `${source.tag}${SEP}`,
        batches: new Map(),
        waiting: new Map(),
      });
    }
    this.routeSets = opts.sources.map((source) => ({ source: source.tag, routes: source.routes }));
  }

  routes(): readonly SourceRoutes[] {
    return this.routeSets;
  }

  private keyOf(lane: Lane, target: unknown): string {
    if (typeof target !== 'object' || target === null) return lane.prefix + lane.source.encode(target);
    let key = this.keys.get(target);
    if (key === undefined) {
      key = lane.prefix + lane.source.encode(target);
      this.keys.set(target, key);
    }
    return key;
  }

  private entryOptions(lane: Lane, ttlMs: number | undefined, pinned: boolean | undefined): EntryOptions {
    const ahead = lane.source.refreshAhead === false ? { refreshAheadMs: 0 } : undefined;
    const policy = ttlMs !== undefined ? { ...defaultPolicy(ttlMs), ...ahead } : ahead;
    return { ...(policy ? { policy } : {}), ...(pinned !== undefined ? { pinned } : {}) };
  }

  /**
   * A fresh hit does the minimum: the key (remembered per target), one lookup, the stored body; no
   * promise. Anything else loads, through the source's batches.
   */
  read(tag: string, read: Read<unknown>): Reply | Promise<Reply> {
    const lane = this.lanes.get(tag);
    if (lane === undefined) return Promise.reject(new Error(`no source is tagged ${tag}`));
    let target = read.target;
    let key = this.keyOf(lane, target);
    if (!read.refresh) {
      const hit = this.cache.fresh(key);
      if (hit !== undefined) return this.reply(lane, hit, read.form, key);
      if (lane.source.alias !== undefined && !this.cache.has(key)) {
        const other = lane.source.alias(target, (t: unknown) => this.cache.peek(this.keyOf(lane, t)));
        if (other !== undefined) {
          target = other;
          key = this.keyOf(lane, other);
          const aliasHit = this.cache.fresh(key);
          if (aliasHit !== undefined) return this.reply(lane, aliasHit, read.form, key);
        }
      }
    }
    return this.load(lane, target, key, read);
  }

  private async load(lane: Lane, target: unknown, key: string, read: Read<unknown>): Promise<Reply> {
    const lookup = await this.cache.get(
      key,
      () => this.enqueue(lane, target, key, read.refresh ? 'force' : 'read'),
      {
        // A configured entry whose prefetch failed is pinned when it loads on demand, like its siblings.
        ...this.entryOptions(lane, lane.source.ttlOf(target), this.configuredKeys.has(key) || undefined),
        forceRefresh: read.refresh,
        refreshOthers: this.refreshStale,
      },
    );
    return this.reply(lane, lookup, read.form, key);
  }

  private reply(lane: Lane, lookup: Lookup<Value>, form: string, key: string): Reply {
    const v = lookup.value;
    const body: Body = form === 'main' ? v : this.formOf(lane, v, form, key);
    return {
      body: body.body,
      contentType: body.contentType,
      headers: body.headers,
      cache: lookup.status,
      ageMs: lookup.ageMs,
      ttlLeftMs: lookup.ttlLeftMs,
    };
  }

  /** `form` of `v`: kept from an earlier request, or built now, kept and counted in the budget. */
  private formOf(lane: Lane, v: Value, form: string, key: string): Body {
    const forms = v.forms;
    if (forms !== undefined) {
      for (let i = 0; i < forms.length; i += 2) if (forms[i] === form) return forms[i + 1] as Body;
    }
    const built = lane.source.form(v, form);
    if (built === undefined) throw new Error(`source ${lane.source.tag} has no ${form} form`);
    const body = own(built.body);
    const kept: Body = body === built.body ? built : { ...built, body };
    if ((forms?.length ?? 0) < MAX_FORMS * 2) {
      if (v.forms === undefined) v.forms = [form, kept];
      else v.forms.push(form, kept);
      // Counted if `v` is still what the cache holds for `key` (a load may have replaced it meanwhile).
      if (this.cache.peek(key) === v) this.cache.resized(key);
    }
    return kept;
  }

  /** Puts `key` in its source's batch for `mode`; resolves with its value once the batch is answered. */
  private enqueue(lane: Lane, target: unknown, key: string, mode: Mode): Promise<Value> {
    let batches = lane.batches.get(mode);
    if (batches === undefined) {
      batches = new Coalescer<string, Value>({
        maxBatch: lane.source.maxBatch,
        load: (group, keys) => this.loadBatch(lane, group, keys, mode),
      });
      lane.batches.set(mode, batches);
    }
    const group = lane.source.group(target);
    lane.waiting.set(key, target);
    return batches.load(group, key);
  }

  /**
   * One `source.load` call. What the cache holds for each key is passed as `previous` (but for a forced
   * read, which wants the backend's answer), so a source can answer {@link UNCHANGED}: the held value is
   * stored again, fresh, forms and all.
   */
  private async loadBatch(
    lane: Lane,
    group: string,
    keys: string[],
    mode: Mode,
  ): Promise<Map<string, Value | Error>> {
    const { source } = lane;
    const targets = keys.map((key) => {
      const target = lane.waiting.has(key)
        ? lane.waiting.get(key)
        : source.decode(key.slice(lane.prefix.length));
      lane.waiting.delete(key);
      return target;
    });
    const previous = keys.map((key) => (mode === 'force' ? undefined : this.cache.peek(key)));
    const results = await source.load(group, targets, previous, mode === 'force' ? 'read' : mode);
    const out = new Map<string, Value | Error>();
    keys.forEach((key, i) => {
      const result = results[i];
      if (result === UNCHANGED) {
        const held = previous[i];
        out.set(key, held ?? new Error(`source ${source.tag} answered unchanged without a previous value`));
      } else if (result instanceof Error) {
        out.set(key, result);
      } else if (result !== undefined) {
        try {
          out.set(key, this.value(source.store(result)));
        } catch (err) {
          out.set(key, asError(err));
        }
      }
    });
    return out;
  }

  private value(stored: Stored<unknown>): Value {
    const body = own(stored.body);
    return stored.headers === undefined
      ? new Value(body, stored.contentType, stored.meta)
      : new ValueWithHeaders(body, stored.contentType, stored.meta, stored.headers);
  }

  /**
   * Loads `keys` (of any sources), `cache.loadMany`'s batch for prefetch and refresh: grouped by source and
   * `source.group()`, then `source.maxBatch` a call. The keys are all known at once, so they are cut into
   * batches here, not queued one by one through the coalescer: a 10 000-entry prefetch then makes a
   * thousand batch objects, not ten thousand promises and closures alive at once (which left about 4 KiB
   * of garbage an entry in the heap after prefetch, counted in the extension's memory).
   */
  private async batch(
    keys: readonly string[],
    mode: Mode,
    known?: ReadonlyMap<string, unknown>,
  ): Promise<Map<string, Value | Error>> {
    const out = new Map<string, Value | Error>();
    const groups = new Map<Lane, Map<string, string[]>>();
    for (const key of keys) {
      const lane = sourceOfKey(this.lanes, key);
      if (lane === undefined) {
        out.set(key, new Error('no source for the key'));
        continue;
      }
      let group: string;
      try {
        const target = known?.has(key) ? known.get(key) : lane.source.decode(key.slice(lane.prefix.length));
        group = lane.source.group(target);
        lane.waiting.set(key, target);
      } catch (err) {
        out.set(key, asError(err));
        continue;
      }
      let byGroup = groups.get(lane);
      if (byGroup === undefined) {
        byGroup = new Map();
        groups.set(lane, byGroup);
      }
      const list = byGroup.get(group);
      if (list === undefined) byGroup.set(group, [key]);
      else list.push(key);
    }
    const calls: Promise<void>[] = [];
    for (const [lane, byGroup] of groups) {
      for (const [group, list] of byGroup) {
        for (const ks of chunk(list, lane.source.maxBatch)) {
          calls.push(
            this.loadBatch(lane, group, ks, mode).then(
              (answers) => {
                for (const k of ks) out.set(k, answers.get(k) ?? new Error('the batch returned no result'));
              },
              (err: unknown) => {
                for (const k of ks) {
                  lane.waiting.delete(k);
                  out.set(k, asError(err));
                }
              },
            ),
          );
        }
      }
    }
    await Promise.all(calls);
    return out;
  }

  /** Loads everything the sources' config sections name, batched; resolves by `deadlineMs` even if loads are still running. */
  async prefetch(deadlineMs: number): Promise<PrefetchReport> {
    const started = this.opts.clock.now();
    const { config, logger } = this.opts;
    const loaded: Record<string, number> = {};
    let notFound = 0;
    let failed = 0;
    const record = (label: string, key: string, result: Value | Error): void => {
      if (!(result instanceof Error)) {
        loaded[label] = (loaded[label] ?? 0) + 1;
        return;
      }
      const missing = isNotFound(result);
      if (missing) notFound++;
      else failed++;
      logger.warn(missing ? 'configured item does not exist' : 'prefetch failed; will retry on demand', {
        ...describeKey(this.lanes, key),
        error: errorCode(result),
      });
    };

    const jobs: Promise<void>[] = [];
    for (const lane of this.lanes.values()) {
      const { source } = lane;
      const label = source.label ?? source.tag;
      loaded[label] = 0;
      const targets = new Map<string, unknown>();
      const entries: Array<{ key: string; opts: EntryOptions }> = [];
      for (const c of source.configured(config)) {
        const key = this.keyOf(lane, c.target);
        this.configuredKeys.add(key);
        targets.set(key, c.target);
        entries.push({ key, opts: this.entryOptions(lane, c.ttlMs, true) });
      }
      if (entries.length > 0) {
        jobs.push(
          this.cache
            .loadMany(entries, (keys) => this.batch(keys, 'prefetch', targets))
            .then((results) => {
              for (const [key, result] of results) record(label, key, result);
            }),
        );
      }
      for (const discovery of source.discover?.() ?? []) {
        jobs.push(
          discovery.found.then(
            async (found) => {
              const values = new Map<string, Value | Error>();
              const found_ = found.map((f) => {
                const key = this.keyOf(lane, f.target);
                this.configuredKeys.add(key);
                try {
                  values.set(key, this.value(source.store(f.payload)));
                } catch (err) {
                  values.set(key, asError(err));
                }
                return { key, opts: this.entryOptions(lane, f.ttlMs, true) };
              });
              const results = await this.cache.loadMany(found_, async () => values);
              for (const [key, result] of results) record(label, key, result);
            },
            (err: unknown) => {
              failed++;
              logger.warn('prefetch of a listed set failed; its entries load on demand', {
                ...discovery.what,
                error: errorCode(err),
              });
            },
          ),
        );
      }
    }

    let timer: NodeJS.Timeout | undefined;
    const all = Promise.all(jobs).then(() => true);
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), deadlineMs);
      timer.unref();
    });
    const finished = await Promise.race([all, timedOut]);
    clearTimeout(timer);
    let done = notFound + failed;
    for (const n of Object.values(loaded)) done += n;
    const pending = finished ? 0 : Math.max(0, this.configuredKeys.size - done);
    if (!finished)
      logger.warn('prefetch deadline passed; the rest loads in the background', { deadlineMs, pending });
    this.warnIfBudgetFull();
    return { ms: this.opts.clock.now() - started, ...loaded, notFound, failed, pending };
  }

  /**
   * Configured entries are pinned; when they leave read-through entries less than the reserve, the cache
   * grows past the configured bound by that reserve (see `READ_THROUGH_RESERVE`), and the user should know.
   */
  private warnIfBudgetFull(): void {
    const b = this.cache.budget();
    if (!b.full) return;
    this.opts.logger.warn(
      'configured entries fill the cache budget; read-through and not-found entries keep only the reserve beyond it',
      {
        configuredEntries: b.pinnedEntries,
        configuredBytes: b.pinnedBytes,
        maxEntries: this.opts.maxEntries,
        maxBytes: this.opts.maxBytes,
        readThroughEntries: b.readThroughEntries,
        readThroughBytes: b.readThroughBytes,
      },
    );
  }

  /**
   * Refresh-ahead (on INVOKE): reloads, through the sources' batches, every entry whose freshness ends
   * within its own window (a fifth of the entry's own TTL, 1 s to 1 min: `refreshAheadMs`), capped by
   * `maxWithinMs` if given. Resolves with the number of entries refreshed; failures keep the old values
   * (stale-if-error).
   */
  async refreshExpiring(maxWithinMs?: number): Promise<number> {
    const keys = this.cache.expiring(maxWithinMs);
    if (keys.length > 0) await this.refresh(keys);
    return keys.length;
  }

  /**
   * A stale read's background refresh, for the cache to call before it refreshes that key alone: every
   * entry about to expire is refreshed with it, as on INVOKE. Entries loaded together go stale together,
   * so their refreshes go out as a few full batches however the reads are spread in time (reads arriving
   * over many I/O turns otherwise made as many calls of one name each, and under throttling as many
   * retries). At most once a second: a refresh started then took every entry already expired and, but for
   * AppConfig's (which are not refreshed ahead), every one expiring within the next second, so a stale
   * key that finds no refresh running in between is refreshed on its own.
   */
  private readonly refreshStale = (): void => {
    const now = this.opts.clock.now();
    if (now - this.staleRefreshAt < STALE_REFRESH_INTERVAL_MS) return;
    this.staleRefreshAt = now;
    const keys = this.cache.expiring();
    if (keys.length > 0) void this.refresh(keys);
  };

  /** Reloads `keys` through the sources' batches; failures keep the old values and are logged once. */
  private async refresh(keys: readonly string[]): Promise<void> {
    const results = await this.cache.loadMany(
      keys.map((key) => ({ key })),
      (ks) => this.batch(ks, 'refresh'),
    );
    let failed = 0;
    let first: [string, Error] | undefined;
    for (const [key, result] of results) {
      if (!(result instanceof Error) || isNotFound(result)) continue;
      failed++;
      first ??= [key, result];
    }
    if (first === undefined) return;
    // As a single key's background refresh logs it, with how many failed: the first names them.
    this.opts.logger.warn('background refresh failed; serving the last good value', {
      ...describeKey(this.lanes, first[0]),
      error: errorCode(first[1]),
      failed,
      of: keys.length,
    });
  }

  markReady(): void {
    this.status = 'ready';
  }

  markStopping(): void {
    this.status = 'stopping';
  }

  health(): HealthPayload {
    let failed = 0;
    for (const key of this.configuredKeys) if (!this.cache.has(key)) failed++;
    const sources = this.opts.health;
    const status: HealthPayload['status'] =
      this.status === 'ready' && sources?.anyFailing ? 'degraded' : this.status;
    return {
      status,
      entries: this.cache.size,
      failed,
      uptimeMs: this.opts.clock.now() - this.startedAt,
      ...(sources ? { sources: sources.snapshot() } : {}),
    };
  }

  stats(): StatsPayload {
    const s = this.cache.stats();
    return {
      entries: s.entries,
      bytes: s.bytes,
      maxEntries: this.opts.maxEntries,
      maxBytes: this.opts.maxBytes,
      hits: s.hits,
      misses: s.misses,
      staleServes: s.staleServes,
      negativeHits: s.negativeHits,
      evictions: s.evictions,
      refreshes: s.refreshes,
      backendCalls: { ...this.opts.backendCalls },
      errors: s.errors,
    };
  }
}
