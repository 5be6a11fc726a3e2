/**
 * DynamoDB over awsJson 1.0 through the lean AWS client: `BatchGetItem` (at most 100 keys a call,
 * `UnprocessedKeys` retried with jittered backoff) and `GetItem` for a single read. Items stay DynamoDB
 * JSON as the wire sends them — numbers keep their exact digits, binary stays base64.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html
 */
import {
  type AttributeValueJson,
  encodeKey,
  type ItemJson,
  type KeyAttributes,
  type KeyAttributeValue,
} from '@lambda-cache/shared';
import type { AwsClient } from '../aws/index.js';
import {
  isCallerError,
  isResourceMissing,
  KeySchemaMismatchError,
  NotFoundError,
  UnprocessedKeysError,
  UnreadableAnswerError,
} from '../errors.js';
import { chunk, jitteredDelay, Limiter, MAX_CALLS_IN_FLIGHT, sleep } from './batching.js';

/** An attribute value as DynamoDB's JSON protocol sends it: already DynamoDB JSON (binary as base64). */
type AttributeValue = AttributeValueJson;
type WireItem = Record<string, unknown>;
interface KeysAndAttributes {
  Keys?: WireItem[];
}
interface BatchGetItemOutput {
  Responses?: Record<string, WireItem[]>;
  UnprocessedKeys?: Record<string, { Keys?: WireItem[] }>;
}
interface GetItemOutput {
  Item?: WireItem;
}

/** `BatchGetItem` accepts at most 100 keys a call. */
export const BATCH_GET_LIMIT = 100;
/** Rounds of `UnprocessedKeys` retries before the leftover keys fail as throttled. */
const MAX_UNPROCESSED_ROUNDS = 6;

export interface ItemRequest {
  readonly table: string;
  /** Canonical (see `normalizeKey`). */
  readonly key: KeyAttributes;
}

export interface DynamoDbSourceOptions {
  aws: AwsClient;
  /** Waits between `UnprocessedKeys` rounds. @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /** Calls sent at once; the others wait their turn. @default MAX_CALLS_IN_FLIGHT */
  maxInFlight?: number;
}

/** The id of one item in a batch result: table and canonical key. */
export function itemId(table: string, key: KeyAttributes): string {
  return `${table}\n${encodeKey(key)}`;
}

type Wire = WireItem;

function strings(v: unknown): readonly string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw unreadable();
  return [...(v as string[])];
}

function unreadable(): UnreadableAnswerError {
  return new UnreadableAnswerError('DynamoDB sent an attribute value that is not DynamoDB JSON');
}

/**
 * One attribute value of an answer, checked and copied: the wire already is DynamoDB JSON, but a
 * backend's answer is input like any other, and what it holds ends up in a body the function parses.
 */
export function toJson(value: unknown): AttributeValueJson {
  if (typeof value !== 'object' || value === null) throw unreadable();
  const v = value as Wire;
  if (typeof v.S === 'string') return { S: v.S };
  if (typeof v.N === 'string') return { N: v.N };
  if (typeof v.B === 'string') return { B: v.B };
  if (typeof v.BOOL === 'boolean') return { BOOL: v.BOOL };
  if (v.NULL === true) return { NULL: true };
  if (v.SS !== undefined) return { SS: strings(v.SS) };
  if (v.NS !== undefined) return { NS: strings(v.NS) };
  if (v.BS !== undefined) return { BS: strings(v.BS) };
  if (Array.isArray(v.L)) return { L: v.L.map(toJson) };
  if (typeof v.M === 'object' && v.M !== null) return { M: toItemJson(v.M as Wire) };
  throw unreadable();
}

/** Sets an own property, even one named `__proto__` (plain assignment would change the prototype). */
export function setOwn<T>(target: Record<string, T>, name: string, value: T): void {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}

export function toItemJson(item: Wire): ItemJson {
  const out: Record<string, AttributeValueJson> = {};
  for (const [k, v] of Object.entries(item)) setOwn(out, k, toJson(v));
  return out;
}

function keyValue(v: KeyAttributeValue): AttributeValue {
  if ('S' in v) return { S: v.S };
  if ('N' in v) return { N: v.N };
  return { B: v.B };
}

function wireKey(key: KeyAttributes): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(key)) setOwn(out, k, keyValue(v));
  return out;
}

/**
 * The text that identifies a key within a table, computed the same way from a requested key and from a
 * returned item: numbers are compared as DynamoDB canonicalizes them, binary by its bytes.
 */
function matchText(names: readonly string[], attrs: Wire): string | undefined {
  const parts: string[] = [];
  for (const n of names) {
    const v = Object.hasOwn(attrs, n) ? (attrs[n] as Wire | undefined) : undefined;
    if (typeof v?.S === 'string') parts.push(`S${v.S}`);
    else if (typeof v?.N === 'string') parts.push(`N${v.N}`);
    else if (typeof v?.B === 'string') parts.push(`B${v.B}`);
    else return undefined;
  }
  return JSON.stringify(parts);
}

/** A refused key as the table's error (a ValidationException names neither); anything else as it is. */
function keyError(table: string, err: unknown): unknown {
  return isCallerError(err) ? new KeySchemaMismatchError(table, err.awsCode, undefined, { cause: err }) : err;
}

export class DynamoDbSource {
  private readonly wait: (ms: number) => Promise<void>;
  /** Shared by every caller (prefetch, refresh-ahead, read-through), so the bound holds for the source. */
  private readonly limiter: Limiter;

  constructor(private readonly opts: DynamoDbSourceOptions) {
    this.wait = opts.sleep ?? sleep;
    this.limiter = new Limiter(opts.maxInFlight ?? MAX_CALLS_IN_FLIGHT);
  }

  /**
   * One item; a missing item throws {@link NotFoundError}, a key DynamoDB refuses for the table
   * {@link KeySchemaMismatchError}.
   */
  async getItem(region: string | undefined, table: string, key: KeyAttributes): Promise<ItemJson> {
    const res = await this.limiter
      .run(() =>
        this.opts.aws.json<GetItemOutput>('dynamodb', region, 'GetItem', {
          TableName: table,
          Key: wireKey(key),
        }),
      )
      .catch((err: unknown) => {
        throw keyError(table, err);
      });
    if (!res.Item) throw new NotFoundError(`item ${encodeKey(key)} was not found in table ${table}`);
    return toItemJson(res.Item);
  }

  /**
   * Any number of items from any tables of one region, 100 keys a call. The result has an entry for every
   * request, by {@link itemId}: the item, a {@link NotFoundError}, or the error of its call.
   */
  async batchGet(
    region: string | undefined,
    requests: readonly ItemRequest[],
  ): Promise<Map<string, ItemJson | Error>> {
    const out = new Map<string, ItemJson | Error>();
    const unique = new Map<string, ItemRequest>();
    for (const r of requests) unique.set(itemId(r.table, r.key), r);
    await Promise.all(chunk([...unique.values()], BATCH_GET_LIMIT).map((b) => this.batch(region, b, out)));
    return out;
  }

  private async batch(
    region: string | undefined,
    requests: readonly ItemRequest[],
    out: Map<string, ItemJson | Error>,
  ): Promise<void> {
    // table → match text → request, so returned items (in any order) find the key they answer.
    const pending = new Map<string, { names: string[]; byMatch: Map<string, ItemRequest> }>();
    for (const r of requests) {
      const requested = wireKey(r.key);
      let t = pending.get(r.table);
      if (!t) {
        t = { names: Object.keys(r.key), byMatch: new Map() };
        pending.set(r.table, t);
      }
      const m = matchText(t.names, requested);
      if (m === undefined || Object.keys(r.key).length !== t.names.length) {
        // A key with other attribute names than its table's first key: ask for it on its own.
        out.set(itemId(r.table, r.key), await this.getItem(region, r.table, r.key).catch((e: Error) => e));
        continue;
      }
      t.byMatch.set(m, r);
    }
    let unprocessed: Record<string, KeysAndAttributes> | undefined = {};
    for (const [table, t] of pending) {
      if (t.byMatch.size > 0)
        unprocessed[table] = { Keys: [...t.byMatch.values()].map((r) => wireKey(r.key)) };
    }
    for (let round = 0; unprocessed && Object.keys(unprocessed).length > 0; round++) {
      if (round > MAX_UNPROCESSED_ROUNDS) {
        for (const t of pending.values()) {
          for (const r of t.byMatch.values()) {
            out.set(itemId(r.table, r.key), new UnprocessedKeysError('DynamoDB left the key unprocessed'));
          }
        }
        return;
      }
      if (round > 0) await this.wait(jitteredDelay(round - 1));
      let res: BatchGetItemOutput;
      try {
        const items = unprocessed;
        // Only the call holds a slot: the backoff between rounds and per-table fallbacks do not.
        res = await this.limiter.run(() =>
          this.opts.aws.json<BatchGetItemOutput>('dynamodb', region, 'BatchGetItem', { RequestItems: items }),
        );
      } catch (err) {
        const left = [...pending.values()].filter((t) => t.byMatch.size > 0);
        if ((isResourceMissing(err) || isCallerError(err)) && left.length > 1) {
          // One missing table, or one table's refused keys, fail the whole call: ask per table, so the
          // other tables' items are not reported with it.
          await Promise.all(left.map((t) => this.batch(region, [...t.byMatch.values()], out)));
          return;
        }
        for (const t of left)
          for (const r of t.byMatch.values())
            out.set(itemId(r.table, r.key), keyError(r.table, err) as Error);
        return;
      }
      for (const [table, items] of Object.entries(res.Responses ?? {})) {
        const t = pending.get(table);
        if (!t) continue;
        for (const item of items) {
          const m = matchText(t.names, item);
          const r = m === undefined ? undefined : t.byMatch.get(m);
          if (!r) continue;
          out.set(itemId(r.table, r.key), toItemJson(item));
          t.byMatch.delete(m as string);
        }
      }
      unprocessed = res.UnprocessedKeys;
      // Keys neither returned nor unprocessed do not exist.
      const still = new Set<string>();
      for (const [table, ka] of Object.entries(unprocessed ?? {})) {
        const t = pending.get(table);
        for (const k of ka.Keys ?? []) {
          const m = t ? matchText(t.names, k) : undefined;
          if (m !== undefined) still.add(`${table}\n${m}`);
        }
      }
      for (const [table, t] of pending) {
        for (const [m, r] of t.byMatch) {
          if (still.has(`${table}\n${m}`)) continue;
          out.set(
            itemId(r.table, r.key),
            new NotFoundError(`item ${encodeKey(r.key)} was not found in table ${table}`),
          );
          t.byMatch.delete(m);
        }
      }
    }
  }
}
