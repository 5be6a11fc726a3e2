/**
 * The store behind the server: configured and read-through parameters and items, held in the cache as
 * ready-to-send bodies and loaded from the sources in batches (prefetch, refresh-ahead, coalesced misses).
 */
import {
  type DynamoDbPayload,
  type DynamoDbQuery,
  EXTENSION_REQUEST_WAIT_MS,
  encodeKey,
  type HealthPayload,
  type ItemJson,
  type KeyAttributes,
  type KeyAttributeValue,
  type ParameterPayload,
  type ParameterQuery,
  type ParameterType,
  type StatsPayload,
} from '@lambda-cache/shared';
import {
  awsParameterBody,
  JSON_TYPE,
  legacyItemBody,
  TEXT_TYPE,
  v1ItemBody,
  v1ParameterBody,
} from './bodies.js';
import { Cache, defaultPolicy, type EntryOptions, type Lookup } from './cache.js';
import type { Clock } from './clock.js';
import { Coalescer } from './coalesce.js';
import type { CacheConfig, ParameterEntry, ParameterPathEntry, TableEntry } from './config.js';
import { errorCode, HttpError, isNotFound, KeySchemaMismatchError } from './errors.js';
import type { SourceHealth } from './health.js';
import type { Logger } from './log.js';
import { type DynamoDbSource, type ItemRequest, itemId } from './sources/dynamodb.js';
import { GET_PARAMETERS_BATCH, type SsmSource } from './sources/ssm.js';
import type { ItemForm, ParameterForm, Reply, Store } from './store.js';

/**
 * Values are kept compact: the v1 body (which holds the whole payload once) and what a hit needs besides
 * it. The other forms are built from the body on first use; nothing else of a load is retained.
 */
interface ParameterValue {
  readonly kind: 'parameter';
  readonly type: ParameterType;
  readonly v1: Buffer;
  aws?: Buffer;
  legacy?: Buffer;
}

interface ItemValue {
  readonly kind: 'item';
  readonly v1: Buffer;
  legacy?: Buffer;
}

type Value = ParameterValue | ItemValue;

/** What a cache key stands for; cache keys are built from, and parsed back into, these. */
type Target =
  | { kind: 'parameter'; region: string | undefined; decrypt: boolean; name: string }
  | { kind: 'item'; region: string | undefined; table: string; key: KeyAttributes };

const SEP = '\n';

/** The name or key is last, so any character in it is safe. */
function cacheKey(t: Target): string {
  return t.kind === 'parameter'
    ? `p${SEP}${t.region ?? ''}${SEP}${t.decrypt ? '1' : '0'}${SEP}${t.name}`
    : `i${SEP}${t.region ?? ''}${SEP}${t.table}${SEP}${encodeKey(t.key)}`;
}

function parseCacheKey(key: string): Target {
  const [kind, region, third] = key.split(SEP, 3);
  const rest = key.slice((kind?.length ?? 0) + (region?.length ?? 0) + (third?.length ?? 0) + 3);
  const r = region === '' ? undefined : region;
  if (kind === 'p') return { kind: 'parameter', region: r, decrypt: third === '1', name: rest };
  return { kind: 'item', region: r, table: third ?? '', key: JSON.parse(rest) as KeyAttributes };
}

/**
 * The body in a buffer of its own. A small `Buffer.from` is a slice of a shared 8 KiB pool, and one live
 * slice keeps the whole pool block: cached bodies that outlive their neighbours would each hold up to
 * 8 KiB the budget never sees.
 */
function own(body: Buffer): Buffer {
  if (body.byteLength === body.buffer.byteLength) return body;
  const copy = Buffer.allocUnsafeSlow(body.byteLength);
  body.copy(copy);
  return copy;
}

function parameterValue(payload: ParameterPayload): ParameterValue {
  return { kind: 'parameter', type: payload.type, v1: own(v1ParameterBody(payload)) };
}

function itemValue(table: string, key: KeyAttributes, item: ItemJson): ItemValue {
  return { kind: 'item', v1: own(v1ItemBody({ table, key, item })) };
}

/** The v1 body is `JSON.stringify(payload)`, so parsing it gives the payload back, field for field. */
function payloadOf<P>(v: Value): P {
  return JSON.parse(v.v1.toString('utf8')) as P;
}

/** A value object (kind, type, the form slots). Measured with `scripts/entry-cost.mjs`. */
const VALUE_OVERHEAD_BYTES = 64;
/**
 * A body besides its bytes: the `Buffer` view, its `ArrayBuffer` and the allocation behind it. Measured
 * with `scripts/entry-cost.mjs` (one form against three).
 */
const BODY_OVERHEAD_BYTES = 200;

function bodyBytes(body: Buffer | undefined): number {
  return body === undefined ? 0 : BODY_OVERHEAD_BYTES + body.byteLength;
}

/** What a value keeps: every body form built so far (the v1 one at load, the others on first use). */
function sizeOf(v: Value): number {
  return (
    VALUE_OVERHEAD_BYTES +
    bodyBytes(v.v1) +
    bodyBytes(v.legacy) +
    (v.kind === 'parameter' ? bodyBytes(v.aws) : 0)
  );
}

function keyText(v: KeyAttributeValue): string {
  return 'S' in v ? v.S : 'N' in v ? v.N : v.B;
}

/** A configured item as the seed's routes reach it: everything a hit needs, built once. */
interface SeedItem {
  readonly query: DynamoDbQuery;
  readonly table: TableEntry;
  readonly region: string | undefined;
  readonly key: string;
}

/** A seed id that more than one configured item spells. */
interface AmbiguousSeedId {
  readonly ambiguous: number;
}

/**
 * The ids the seed gave an item, `TABLE-HASH[-SORT]`. The config keeps a key's attributes sorted by name,
 * not which one is the partition key, so a two-attribute key is spelt both ways.
 */
function seedIds(table: string, key: KeyAttributes): string[] {
  const values = Object.values(key).map(keyText);
  if (values.length !== 2) return [`${table}-${values.join('-')}`];
  const [a, b] = values as [string, string];
  return a === b ? [`${table}-${a}-${b}`] : [`${table}-${a}-${b}`, `${table}-${b}-${a}`];
}

/** A configured `path`, as the seed's parameter routes test names against it. */
interface SeedPath {
  /** The path with a trailing `/`. */
  readonly prefix: string;
  readonly recursive: boolean;
}

const DYNAMODB_V1 = '/v1/dynamodb?table=TABLE&key=KEY';

/** How to read what the seed routes refuse: the v1 route, with the token. */
function v1Hint(route: string): string {
  return `read it with GET ${route} and the X-Aws-Parameters-Secrets-Token header`;
}

/** The answer of a seed route asked for something the config does not name. */
function notConfigured(what: string, route: string): HttpError {
  return HttpError.of(
    'NotFound',
    `the seed routes serve only configured entries, and config.yaml names no ${what}; ${v1Hint(route)}`,
  );
}

export interface AwsStoreOptions {
  config: CacheConfig;
  ssm: SsmSource;
  dynamodb: DynamoDbSource;
  clock: Clock;
  logger: Logger;
  /** Default TTL (`CACHE_EXTENSION_TTL`). */
  ttlMs: number;
  maxEntries: number;
  maxBytes: number;
  /** Region of anything not configured with one; `undefined` lets the SDK decide. */
  region: string | undefined;
  /** Backend calls so far, by operation (shared with the sources' counters). */
  backendCalls: Readonly<Record<string, number>>;
  /** How long a request waits for an item that is loading. @default 5000 */
  waitMs?: number;
  /** Whether each source's AWS calls are failing, for `/v1/health`. */
  sources?: SourceHealth;
}

export interface PrefetchReport {
  readonly ms: number;
  readonly parameters: number;
  readonly items: number;
  readonly notFound: number;
  readonly failed: number;
  /** Loads still running at the deadline; they go on, and requests wait for them. */
  readonly pending: number;
}

export class AwsStore implements Store {
  private readonly cache: Cache<Value>;
  private readonly paramsByName = new Map<string, ParameterEntry>();
  private readonly paths: ParameterPathEntry[];
  private readonly tablesByName = new Map<string, TableEntry>();
  /** Configured items by their seed id, for the seed's `/dynamodb` routes. */
  private readonly seedItems = new Map<string, SeedItem | AmbiguousSeedId>();
  /** Configured hierarchies, for the seed's `/parameters` routes. */
  private readonly seedPaths: readonly SeedPath[];
  /** Keys of configured entries (prefetched, pinned) for `/v1/health`. */
  private readonly configuredKeys = new Set<string>();
  private readonly startedAt: number;
  private status: 'starting' | 'ready' | 'stopping' = 'starting';
  private readonly ssmBatches: Coalescer<string, ParameterPayload>;
  private readonly itemBatches: Coalescer<string, ItemJson>;
  private readonly itemKeys = new WeakMap<DynamoDbQuery, string>();

  constructor(private readonly opts: AwsStoreOptions) {
    this.startedAt = opts.clock.now();
    this.cache = new Cache<Value>({
      clock: opts.clock,
      maxEntries: opts.maxEntries,
      maxBytes: opts.maxBytes,
      defaults: defaultPolicy(opts.ttlMs),
      sizeOf,
      isNotFound,
      waitMs: opts.waitMs ?? EXTENSION_REQUEST_WAIT_MS,
      onBackgroundError: (key, err) => {
        opts.logger.warn('background refresh failed; serving the last good value', {
          ...this.describe(key),
          error: errorCode(err),
        });
      },
    });
    for (const p of opts.config.parameters)
      if (!this.paramsByName.has(p.name)) this.paramsByName.set(p.name, p);
    // Longest path first, so a name finds its most specific hierarchy.
    this.paths = [...opts.config.paths].sort((a, b) => b.path.length - a.path.length);
    for (const t of opts.config.tables)
      if (!this.tablesByName.has(t.table)) this.tablesByName.set(t.table, t);
    this.seedPaths = this.paths.map((p) => ({
      prefix: p.path.endsWith('/') ? p.path : `${p.path}/`,
      recursive: p.recursive,
    }));
    this.indexSeedItems();
    this.ssmBatches = new Coalescer({
      maxBatch: GET_PARAMETERS_BATCH,
      load: (group, names) => {
        const [region, decrypt] = JSON.parse(group) as [string | null, boolean];
        return opts.ssm.getParameters(region ?? undefined, names, decrypt);
      },
    });
    this.itemBatches = new Coalescer({
      maxBatch: 100,
      load: async (region, ids) => {
        const requests = ids.map((id) => JSON.parse(id) as ItemRequest);
        const r = region === '' ? undefined : region;
        if (requests.length === 1) {
          const only = requests[0] as ItemRequest;
          const id = ids[0] as string;
          const result = await opts.dynamodb.getItem(r, only.table, only.key).catch((e: Error) => e);
          return new Map([[id, result]]);
        }
        const got = await opts.dynamodb.batchGet(r, requests);
        const out = new Map<string, ItemJson | Error>();
        requests.forEach((req, i) => {
          const v = got.get(itemId(req.table, req.key));
          if (v !== undefined) out.set(ids[i] as string, v);
        });
        return out;
      },
    });
  }

  /** Names and table of a cache key, for logs (never a value). */
  private describe(key: string): Record<string, string> {
    const t = parseCacheKey(key);
    return t.kind === 'parameter' ? { parameter: t.name } : { table: t.table, key: encodeKey(t.key) };
  }

  private parameterRegion(name: string): string | undefined {
    const configured = this.paramsByName.get(name);
    if (configured) return configured.region ?? this.opts.region;
    for (const p of this.paths) {
      const prefix = p.path.endsWith('/') ? p.path : `${p.path}/`;
      if (name.startsWith(prefix)) return p.region ?? this.opts.region;
    }
    return this.opts.region;
  }

  private parameterTtl(name: string): number | undefined {
    const configured = this.paramsByName.get(name);
    if (configured) return configured.ttlMs;
    for (const p of this.paths) {
      const prefix = p.path.endsWith('/') ? p.path : `${p.path}/`;
      if (name.startsWith(prefix)) return p.ttlMs;
    }
    return undefined;
  }

  private entryOptions(ttlMs: number | undefined, pinned?: boolean): EntryOptions {
    return {
      ...(ttlMs !== undefined ? { policy: defaultPolicy(ttlMs) } : {}),
      ...(pinned !== undefined ? { pinned } : {}),
    };
  }

  private loader(t: Target): () => Promise<Value> {
    if (t.kind === 'parameter') {
      const group = JSON.stringify([t.region ?? null, t.decrypt]);
      return async () => parameterValue(await this.ssmBatches.load(group, t.name));
    }
    const id = JSON.stringify({ table: t.table, key: t.key });
    return async () =>
      itemValue(
        t.table,
        t.key,
        await this.itemBatches.load(t.region ?? '', id).catch((err: unknown) => {
          throw this.withExpectedKey(t.table, err);
        }),
      );
  }

  /** A refused key, told which key the config declares for its table (DynamoDB's answer does not). */
  private withExpectedKey(table: string, err: unknown): unknown {
    if (!(err instanceof KeySchemaMismatchError)) return err;
    const schema = this.opts.config.keySchemas.find((k) => k.table === table);
    if (!schema) return err;
    return err.expecting(Object.fromEntries(schema.attributes.map((a) => [a.name, a.type])));
  }

  private reply(lookup: Lookup<Value>, body: Buffer, contentType: string): Reply {
    return { body, contentType, cache: lookup.status, ageMs: lookup.ageMs, ttlLeftMs: lookup.ttlLeftMs };
  }

  /**
   * A parameter in `form`. The `legacy` form is what the seed's routes ask for, and they serve only the
   * names the config covers ({@link isConfiguredName}): anything else is a 404, without a backend call, so a
   * function tricked into fetching a local URL cannot read whatever the role can.
   */
  parameter(query: ParameterQuery, form: ParameterForm): Reply | Promise<Reply> {
    if (form === 'legacy' && !this.isConfiguredName(query.name)) {
      return Promise.reject(
        notConfigured(`parameter ${query.name.slice(0, 200)}`, '/v1/parameters?name=NAME'),
      );
    }
    // A fresh hit does the minimum: the key, one lookup, the stored body. Loaders are built on a miss.
    if (!query.refresh) {
      const region = this.parameterRegion(query.name);
      let key = cacheKey({ kind: 'parameter', region, decrypt: query.decrypt, name: query.name });
      let hit = this.cache.fresh(key);
      if (hit === undefined && !this.cache.has(key)) {
        const other = cacheKey({ kind: 'parameter', region, decrypt: !query.decrypt, name: query.name });
        const v = this.cache.peek(other);
        if (v?.kind === 'parameter' && v.type !== 'SecureString') {
          hit = this.cache.fresh(other);
          key = other;
        }
      }
      if (hit !== undefined) return this.parameterReply(hit, form, key);
    }
    return this.loadParameter(query, form);
  }

  private async loadParameter(query: ParameterQuery, form: ParameterForm): Promise<Reply> {
    const region = this.parameterRegion(query.name);
    let target: Target = { kind: 'parameter', region, decrypt: query.decrypt, name: query.name };
    let key = cacheKey(target);
    if (!this.cache.has(key) && !query.refresh) {
      // A String parameter reads the same with or without decryption: use the other entry if it is one.
      const other: Target = { ...target, decrypt: !query.decrypt };
      const v = this.cache.peek(cacheKey(other));
      if (v?.kind === 'parameter' && v.type !== 'SecureString') {
        target = other;
        key = cacheKey(other);
      }
    }
    const lookup = await this.cache.get(key, this.loader(target), {
      // A configured entry whose prefetch failed is pinned when it loads on demand, like its siblings.
      ...this.entryOptions(this.parameterTtl(query.name), this.configuredKeys.has(key) || undefined),
      forceRefresh: query.refresh,
    });
    return this.parameterReply(lookup, form, key);
  }

  /** The reply in `form`; a form built now is kept beside the v1 body and counted in the budget. */
  private parameterReply(lookup: Lookup<Value>, form: ParameterForm, key: string): Reply {
    const v = lookup.value as ParameterValue;
    if (form === 'v1') return this.reply(lookup, v.v1, JSON_TYPE);
    if (form === 'aws') {
      if (v.aws === undefined) {
        v.aws = own(awsParameterBody(payloadOf<ParameterPayload>(v)));
        this.grew(key, v);
      }
      return this.reply(lookup, v.aws, JSON_TYPE);
    }
    if (v.legacy === undefined) {
      v.legacy = own(Buffer.from(payloadOf<ParameterPayload>(v).value));
      this.grew(key, v);
    }
    return this.reply(lookup, v.legacy, TEXT_TYPE);
  }

  /** A form was added to `v`: the budget counts it, if `v` is still what the cache holds for `key`. */
  private grew(key: string, v: Value): void {
    if (this.cache.peek(key) === v) this.cache.resized(key);
  }

  /**
   * The cache key of an item query. The server hands the same query object to every request with the
   * same query string, so the key (an `encodeKey` of the item key) is built once per distinct query.
   */
  private itemKey(query: DynamoDbQuery, region: string | undefined): string {
    let key = this.itemKeys.get(query);
    if (key === undefined) {
      key = cacheKey({ kind: 'item', region, table: query.table, key: query.key });
      this.itemKeys.set(query, key);
    }
    return key;
  }

  item(query: DynamoDbQuery, form: ItemForm): Reply | Promise<Reply> {
    const table = this.tablesByName.get(query.table);
    const region = table?.region ?? this.opts.region;
    const key = this.itemKey(query, region);
    if (!query.refresh) {
      const hit = this.cache.fresh(key);
      if (hit !== undefined) return this.itemReply(hit, form, key);
    }
    return this.loadItem(query, form, table, region, key);
  }

  private async loadItem(
    query: DynamoDbQuery,
    form: ItemForm,
    table: TableEntry | undefined,
    region: string | undefined,
    key: string,
  ): Promise<Reply> {
    const target: Target = { kind: 'item', region, table: query.table, key: query.key };
    const lookup = await this.cache.get(key, this.loader(target), {
      ...this.entryOptions(table?.ttlMs, this.configuredKeys.has(key) || undefined),
      forceRefresh: query.refresh,
    });
    return this.itemReply(lookup, form, key);
  }

  private itemReply(lookup: Lookup<Value>, form: ItemForm, key: string): Reply {
    const v = lookup.value as ItemValue;
    if (form === 'v1') return this.reply(lookup, v.v1, JSON_TYPE);
    if (v.legacy === undefined) {
      v.legacy = own(legacyItemBody(payloadOf<DynamoDbPayload>(v).item));
      this.grew(key, v);
    }
    return this.reply(lookup, v.legacy, JSON_TYPE);
  }

  /**
   * Indexes every configured item by the id the seed's routes use, `TABLE-HASH[-SORT]` (both orders of a
   * two-attribute key: see {@link seedIds}). Ids are matched whole, so a `-` inside a table name or a key
   * value needs no parsing; but two items can then spell one id (`T-a-b-c` is `a-b`/`c` and `a`/`b-c`,
   * and `T-1-2` is `1`/`2` and `2`/`1` when two items swap their values). Such an id names neither: the seed
   * routes refuse it, rather than answer one item for the other, and the start log says which tables have
   * one.
   */
  private indexSeedItems(): void {
    const ambiguousTables = new Set<string>();
    for (const t of this.opts.config.tables) {
      const region = t.region ?? this.opts.region;
      for (const k of t.keys) {
        const key = cacheKey({ kind: 'item', region, table: t.table, key: k });
        const item: SeedItem = { query: { table: t.table, key: k, refresh: false }, table: t, region, key };
        for (const id of seedIds(t.table, k)) {
          const known = this.seedItems.get(id);
          if (known === undefined) this.seedItems.set(id, item);
          else if (!('ambiguous' in known) && known.key === key) continue;
          else {
            this.seedItems.set(id, { ambiguous: 'ambiguous' in known ? known.ambiguous + 1 : 2 });
            ambiguousTables.add(t.table);
          }
        }
      }
    }
    if (ambiguousTables.size > 0) {
      this.opts.logger.warn('configured items share a seed id; the seed routes refuse those ids', {
        tables: [...ambiguousTables].join(','),
      });
    }
  }

  /**
   * A name the seed's routes may serve: one the config names, or one under a configured `path` (a direct
   * child, unless the path is `recursive`). Runs on every seed-route read; allocates nothing.
   */
  private isConfiguredName(name: string): boolean {
    if (this.paramsByName.has(name)) return true;
    for (const p of this.seedPaths) {
      if (
        name.length > p.prefix.length &&
        name.startsWith(p.prefix) &&
        (p.recursive || name.indexOf('/', p.prefix.length) === -1)
      )
        return true;
    }
    return false;
  }

  /**
   * The seed's item routes: only configured items, by their seed id (see {@link indexSeedItems}). A fresh
   * hit builds nothing; anything else loads as `item` would.
   */
  async legacyItem(id: string): Promise<Reply> {
    const found = this.seedItems.get(id);
    if (found === undefined) {
      throw notConfigured(`item with the id ${id.slice(0, 200)}`, DYNAMODB_V1);
    }
    if ('ambiguous' in found) {
      throw HttpError.of(
        'BadRequest',
        `${id.slice(0, 200)} names ${found.ambiguous} configured items (a "-" in the table name or a key value, or two items that swap their values), so the seed routes serve neither; ${v1Hint(DYNAMODB_V1)}`,
      );
    }
    const hit = this.cache.fresh(found.key);
    if (hit !== undefined) return this.itemReply(hit, 'legacy', found.key);
    return this.loadItem(found.query, 'legacy', found.table, found.region, found.key);
  }

  /** Loads everything in the config, batched; resolves by `deadlineMs` even if loads are still running. */
  async prefetch(deadlineMs: number): Promise<PrefetchReport> {
    const started = this.opts.clock.now();
    const { config, logger } = this.opts;
    const counts = { parameters: 0, items: 0, notFound: 0, failed: 0 };
    const record = (key: string, result: Value | Error): void => {
      if (!(result instanceof Error)) {
        if (result.kind === 'parameter') counts.parameters++;
        else counts.items++;
        return;
      }
      if (isNotFound(result)) counts.notFound++;
      else counts.failed++;
      logger.warn(
        isNotFound(result) ? 'configured item does not exist' : 'prefetch failed; will retry on demand',
        {
          ...this.describe(key),
          error: errorCode(result),
        },
      );
    };

    const jobs: Promise<void>[] = [];
    // Parameters by name: one GetParameters per 10 names of a region and decryption setting.
    const groups = new Map<
      string,
      { region: string | undefined; decrypt: boolean; entries: ParameterEntry[] }
    >();
    for (const p of config.parameters) {
      const region = p.region ?? this.opts.region;
      const g = JSON.stringify([region ?? null, p.decrypt]);
      let group = groups.get(g);
      if (!group) {
        group = { region, decrypt: p.decrypt, entries: [] };
        groups.set(g, group);
      }
      group.entries.push(p);
    }
    for (const group of groups.values()) {
      const byKey = new Map<string, string>();
      const entries = group.entries.map((p) => {
        const key = cacheKey({
          kind: 'parameter',
          region: group.region,
          decrypt: group.decrypt,
          name: p.name,
        });
        byKey.set(key, p.name);
        this.configuredKeys.add(key);
        return { key, opts: this.entryOptions(p.ttlMs, true) };
      });
      jobs.push(
        this.cache
          .loadMany(entries, async (keys) => {
            const names = keys.map((k) => byKey.get(k) as string);
            const got = await this.opts.ssm.getParameters(group.region, names, group.decrypt);
            return this.mapParameters(keys, names, got);
          })
          .then((results) => {
            for (const [k, r] of results) record(k, r);
          }),
      );
    }
    // Hierarchies: the path query says which names exist; then each is stored like a configured name.
    for (const p of config.paths) {
      const region = p.region ?? this.opts.region;
      jobs.push(
        this.opts.ssm
          .getParametersByPath(region, p.path, p.recursive, p.decrypt)
          .then(async ({ parameters, truncated }) => {
            if (truncated)
              logger.warn('parameter path has too many parameters; loaded the first pages', { path: p.path });
            const values = new Map<string, Value>();
            for (const payload of parameters) {
              const key = cacheKey({ kind: 'parameter', region, decrypt: p.decrypt, name: payload.name });
              values.set(key, parameterValue(payload));
              this.configuredKeys.add(key);
            }
            const results = await this.cache.loadMany(
              [...values.keys()].map((key) => ({ key, opts: this.entryOptions(p.ttlMs, true) })),
              async () => values,
            );
            for (const [k, r] of results) record(k, r);
          })
          .catch((err: unknown) => {
            counts.failed++;
            logger.warn('prefetch of a parameter path failed; its names load on demand', {
              path: p.path,
              error: errorCode(err),
            });
          }),
      );
    }
    // Items: one BatchGetItem per 100 keys of a region, across tables.
    const byRegion = new Map<
      string,
      Array<{ key: string; request: ItemRequest; ttlMs: number | undefined }>
    >();
    for (const t of config.tables) {
      const region = t.region ?? this.opts.region;
      let list = byRegion.get(region ?? '');
      if (!list) {
        list = [];
        byRegion.set(region ?? '', list);
      }
      for (const k of t.keys) {
        const key = cacheKey({ kind: 'item', region, table: t.table, key: k });
        this.configuredKeys.add(key);
        list.push({ key, request: { table: t.table, key: k }, ttlMs: t.ttlMs });
      }
    }
    for (const [region, list] of byRegion) {
      jobs.push(
        this.loadItems(region === '' ? undefined : region, list, true).then((results) => {
          for (const [k, r] of results) record(k, r);
        }),
      );
    }

    let timer: NodeJS.Timeout | undefined;
    const all = Promise.all(jobs).then(() => true);
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), deadlineMs);
      timer.unref();
    });
    const finished = await Promise.race([all, timedOut]);
    clearTimeout(timer);
    const done = counts.parameters + counts.items + counts.notFound + counts.failed;
    const pending = finished ? 0 : Math.max(0, this.configuredKeys.size - done);
    if (!finished)
      logger.warn('prefetch deadline passed; the rest loads in the background', { deadlineMs, pending });
    this.warnIfBudgetFull();
    return { ms: this.opts.clock.now() - started, ...counts, pending };
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

  private mapParameters(
    keys: readonly string[],
    names: readonly string[],
    got: Map<string, ParameterPayload | Error>,
  ): Map<string, Value | Error> {
    const out = new Map<string, Value | Error>();
    keys.forEach((key, i) => {
      const r = got.get(names[i] as string);
      if (r !== undefined) out.set(key, r instanceof Error ? r : parameterValue(r));
    });
    return out;
  }

  private loadItems(
    region: string | undefined,
    list: ReadonlyArray<{ key: string; request: ItemRequest; ttlMs: number | undefined }>,
    pinned: boolean | undefined,
  ): Promise<Map<string, Value | Error>> {
    const byKey = new Map(list.map((e) => [e.key, e.request]));
    return this.cache.loadMany(
      list.map((e) => ({ key: e.key, opts: pinned === undefined ? {} : this.entryOptions(e.ttlMs, pinned) })),
      async (keys) => {
        const requests = keys.map((k) => byKey.get(k) as ItemRequest);
        const got = await this.opts.dynamodb.batchGet(region, requests);
        const out = new Map<string, Value | Error>();
        keys.forEach((k, i) => {
          const req = requests[i] as ItemRequest;
          const r = got.get(itemId(req.table, req.key));
          if (r !== undefined) out.set(k, r instanceof Error ? r : itemValue(req.table, req.key, r));
        });
        return out;
      },
    );
  }

  /**
   * Refresh-ahead (on INVOKE): reloads, in batches, every entry whose freshness ends within its own
   * window (a fifth of the entry's TTL, 1 s to 1 min: `refreshAheadMs`), capped by `maxWithinMs` if given.
   * Resolves with the number of entries refreshed; failures keep the old values (stale-if-error).
   */
  async refreshExpiring(maxWithinMs?: number): Promise<number> {
    const keys = this.cache.expiring(maxWithinMs);
    if (keys.length === 0) return 0;
    const params = new Map<
      string,
      { region: string | undefined; decrypt: boolean; keys: string[]; names: string[] }
    >();
    const items = new Map<string, Array<{ key: string; request: ItemRequest; ttlMs: number | undefined }>>();
    for (const key of keys) {
      const t = parseCacheKey(key);
      if (t.kind === 'parameter') {
        const g = JSON.stringify([t.region ?? null, t.decrypt]);
        let group = params.get(g);
        if (!group) {
          group = { region: t.region, decrypt: t.decrypt, keys: [], names: [] };
          params.set(g, group);
        }
        group.keys.push(key);
        group.names.push(t.name);
      } else {
        let list = items.get(t.region ?? '');
        if (!list) {
          list = [];
          items.set(t.region ?? '', list);
        }
        list.push({ key, request: { table: t.table, key: t.key }, ttlMs: undefined });
      }
    }
    const jobs: Promise<unknown>[] = [];
    for (const g of params.values()) {
      jobs.push(
        this.cache.loadMany(
          g.keys.map((key) => ({ key })),
          async (ks) => {
            const names = ks.map((k) => (parseCacheKey(k) as { name: string }).name);
            return this.mapParameters(
              ks,
              names,
              await this.opts.ssm.getParameters(g.region, names, g.decrypt),
            );
          },
        ),
      );
    }
    for (const [region, list] of items)
      jobs.push(this.loadItems(region === '' ? undefined : region, list, undefined));
    await Promise.all(jobs);
    return keys.length;
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
    const sources = this.opts.sources;
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
