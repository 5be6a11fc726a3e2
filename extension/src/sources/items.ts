/**
 * DynamoDB items as a source: what `dynamodb:` names is prefetched, anything else read through;
 * `BatchGetItem` across the tables of one region, `GetItem` for a lone read (the wire is `dynamodb.ts`).
 * Stored as the v1 body; the seed's plain-JSON body is built from it on first use.
 */
import {
  type AttributeValueJson,
  type DynamoDbPayload,
  encodeKey,
  type ItemJson,
  type KeyAttributes,
  type KeyAttributeValue,
  LEGACY_ROUTES,
  parseDynamoDbQuery,
  ROUTES,
} from '@lambda-cache/shared';
import type { CacheConfig, TableEntry } from '../config.js';
import { HttpError, KeySchemaMismatchError } from '../errors.js';
import type { Logger } from '../log.js';
import { JSON_TYPE, regionOfPart, regionPart, SEP } from './codec.js';
import { BATCH_GET_LIMIT, DynamoDbSource, itemId } from './dynamodb.js';
import { notConfigured, seedRoutes, v1Hint } from './seed.js';
import type {
  Body,
  ConfiguredTarget,
  LoadReason,
  LoadResult,
  Read,
  Source,
  SourceEntry,
  SourceRoute,
  Stored,
} from './source.js';

/** An item as the cache keys it: table, canonical key and region. */
export interface ItemTarget {
  /** `undefined`: the function's own region. */
  readonly region: string | undefined;
  readonly table: string;
  /** Canonical (see `normalizeKey`). */
  readonly key: KeyAttributes;
}

/** A number as JSON allows it; DynamoDB sends its numbers so, and any other text is not written raw. */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * A DynamoDB number as JSON with its exact digits: `JSON.stringify(Number(n))` would round
 * `12345678901234567890` to `12345678901234567000`. Only text that is a JSON number is written as it is.
 */
function numberJson(n: string): string {
  if (JSON_NUMBER.test(n)) return n;
  const value = Number(n);
  return Number.isFinite(value) ? JSON.stringify(value) : 'null';
}

function listJson<T>(items: readonly T[], write: (item: T) => string): string {
  return `[${items.map(write).join(',')}]`;
}

/**
 * An attribute as plain JSON, as the seed's Go code marshalled it (binary as base64), but with numbers
 * exact. Every string and key goes through `JSON.stringify`; only checked number text is written raw.
 */
function plainJson(v: AttributeValueJson): string {
  if ('S' in v) return JSON.stringify(v.S);
  if ('N' in v) return numberJson(v.N);
  if ('B' in v) return JSON.stringify(v.B);
  if ('BOOL' in v) return v.BOOL ? 'true' : 'false';
  if ('NULL' in v) return 'null';
  if ('SS' in v) return listJson(v.SS, (s) => JSON.stringify(s));
  if ('NS' in v) return listJson(v.NS, numberJson);
  if ('BS' in v) return listJson(v.BS, (s) => JSON.stringify(s));
  if ('L' in v) return listJson(v.L, plainJson);
  return plainItemJson(v.M);
}

/** The item as plain JSON text with keys in sorted order (Go's `encoding/json` sorts map keys). */
export function plainItemJson(item: ItemJson): string {
  const keys = Object.keys(item).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${keys.map((k) => `${JSON.stringify(k)}:${plainJson(item[k] as AttributeValueJson)}`).join(',')}}`;
}

/** The seed's body of an item: plain JSON. */
export function legacyItemBody(item: ItemJson): Buffer {
  return Buffer.from(plainItemJson(item));
}

function keyText(v: KeyAttributeValue): string {
  return 'S' in v ? v.S : 'N' in v ? v.N : v.B;
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

/** A configured item as the seed's routes reach it: its read, built once. */
interface SeedItem {
  readonly read: Read<ItemTarget>;
  /** Its encoded target, to tell one item configured twice from two items. */
  readonly id: string;
}

/** A seed id that more than one configured item spells. */
interface AmbiguousSeedId {
  readonly ambiguous: number;
}

const V1_ROUTE = '/v1/dynamodb?table=TABLE&key=KEY';

export interface ItemSourceOptions {
  readonly config: CacheConfig;
  /** Region of anything not configured with one. */
  readonly region: string | undefined;
  readonly logger: Logger;
  readonly dynamodb: DynamoDbSource;
}

/** The `/v1/dynamodb` body: the payload's JSON (DynamoDB JSON keeps every value's type and digits). */
export function v1ItemBody(payload: DynamoDbPayload): Buffer {
  return Buffer.from(JSON.stringify(payload));
}

export class ItemSource implements Source<ItemTarget, DynamoDbPayload, undefined> {
  readonly tag = 'i';
  readonly service = 'dynamodb';
  readonly label = 'items';
  readonly maxBatch = BATCH_GET_LIMIT;
  readonly routes: ReadonlyArray<SourceRoute<ItemTarget>>;
  private readonly tables = new Map<string, TableEntry>();
  /** Configured items by their seed id, for the seed's `/dynamodb` routes. */
  private readonly seedItems = new Map<string, SeedItem | AmbiguousSeedId>();

  constructor(private readonly opts: ItemSourceOptions) {
    for (const t of opts.config.tables) if (!this.tables.has(t.table)) this.tables.set(t.table, t);
    this.indexSeedItems();
    const legacy = LEGACY_ROUTES.dynamodb;
    this.routes = [
      {
        path: ROUTES.dynamodb,
        token: true,
        parse: (query) => {
          const q = parseDynamoDbQuery(new URLSearchParams(query));
          const region = this.tables.get(q.table)?.region ?? opts.region;
          return { target: { region, table: q.table, key: q.key }, form: 'main', refresh: q.refresh };
        },
      },
      ...seedRoutes(legacy, (name) => this.seedRead(name)),
    ];
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
        const target: ItemTarget = { region, table: t.table, key: k };
        const item: SeedItem = {
          read: { target, form: 'legacy', refresh: false },
          id: this.encode(target),
        };
        for (const id of seedIds(t.table, k)) {
          const known = this.seedItems.get(id);
          if (known === undefined) this.seedItems.set(id, item);
          else if (!('ambiguous' in known) && known.id === item.id) continue;
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

  /** The seed's item routes: only configured items, by their seed id (see {@link indexSeedItems}). */
  private seedRead(id: string): Read<ItemTarget> {
    const found = this.seedItems.get(id);
    if (found === undefined) throw notConfigured(`item with the id ${id.slice(0, 200)}`, V1_ROUTE);
    if ('ambiguous' in found) {
      throw HttpError.of(
        'BadRequest',
        `${id.slice(0, 200)} names ${found.ambiguous} configured items (a "-" in the table name or a key value, or two items that swap their values), so the seed routes serve neither; ${v1Hint(V1_ROUTE)}`,
      );
    }
    return found.read;
  }

  /** The key's JSON holds no raw newline (JSON escapes it), so the table, free-form, can come last. */
  encode(t: ItemTarget): string {
    return `${regionPart(t.region)}${SEP}${encodeKey(t.key)}${SEP}${t.table}`;
  }

  decode(text: string): ItemTarget {
    const i = text.indexOf(SEP);
    const j = text.indexOf(SEP, i + 1);
    return {
      region: regionOfPart(text.slice(0, i)),
      key: JSON.parse(text.slice(i + 1, j)) as KeyAttributes,
      table: text.slice(j + 1),
    };
  }

  group(t: ItemTarget): string {
    return regionPart(t.region);
  }

  /** One read alone is a `GetItem`; anything else one `BatchGetItem` per 100 keys, across tables. */
  async load(
    _group: string,
    targets: readonly ItemTarget[],
    _previous: unknown,
    reason?: LoadReason,
  ): Promise<Array<LoadResult<DynamoDbPayload>>> {
    const first = targets[0];
    if (first === undefined) return [];
    const { dynamodb } = this.opts;
    if (targets.length === 1 && (reason === undefined || reason === 'read')) {
      const result = await dynamodb
        .getItem(first.region, first.table, first.key)
        .then((item) => this.payload(first, item))
        .catch((err: Error) => this.withExpectedKey(first.table, err));
      return [result];
    }
    const got = await dynamodb.batchGet(first.region, targets);
    return targets.map((t) => {
      const r = got.get(itemId(t.table, t.key));
      if (r === undefined) return new Error('DynamoDB gave no result for the item');
      return r instanceof Error ? this.withExpectedKey(t.table, r) : this.payload(t, r);
    });
  }

  private payload(t: ItemTarget, item: ItemJson): DynamoDbPayload {
    return { table: t.table, key: t.key, item };
  }

  /** A refused key, told which key the config declares for its table (DynamoDB's answer does not). */
  private withExpectedKey(table: string, err: Error): Error {
    if (!(err instanceof KeySchemaMismatchError)) return err;
    const schema = this.opts.config.keySchemas.find((k) => k.table === table);
    if (!schema) return err;
    return err.expecting(Object.fromEntries(schema.attributes.map((a) => [a.name, a.type])));
  }

  store(payload: DynamoDbPayload): Stored<undefined> {
    return { body: v1ItemBody(payload), contentType: JSON_TYPE, meta: undefined };
  }

  /** `legacy`: the item as plain JSON, as the seed served it. */
  form(stored: Stored<undefined>, form: string): Body | undefined {
    if (form !== 'legacy') return undefined;
    const payload = JSON.parse(stored.body.toString('utf8')) as DynamoDbPayload;
    return { body: legacyItemBody(payload.item), contentType: JSON_TYPE };
  }

  *configured(config: CacheConfig): Iterable<ConfiguredTarget<ItemTarget>> {
    for (const t of config.tables) {
      const region = t.region ?? this.opts.region;
      for (const key of t.keys) yield { target: { region, table: t.table, key }, ttlMs: t.ttlMs };
    }
  }

  ttlOf(t: ItemTarget): number | undefined {
    return this.tables.get(t.table)?.ttlMs;
  }

  describe(t: ItemTarget): Readonly<Record<string, string>> {
    return { table: t.table, key: encodeKey(t.key) };
  }
}

/** The registry's entry: DynamoDB items through the lean AWS client. */
export const ITEMS: SourceEntry = {
  create: (deps) =>
    new ItemSource({
      config: deps.config,
      region: deps.region,
      logger: deps.logger,
      dynamodb: new DynamoDbSource({ aws: deps.aws }),
    }),
};
