/**
 * `createCacheClient()`: reads parameters and items from the lambda-cache extension. One client per
 * execution environment, created outside the handler, so its connections are reused by every invoke.
 */
import {
  type DynamoDbPayload,
  dynamodbPath,
  type ParameterPayload,
  parameterPath,
  RouteError,
} from '@lambda-cache/shared';
import { fromWireItem, toWireKey } from './dynamodb.js';
import {
  BadRequestError,
  ExtensionError,
  InvalidOptionError,
  NotFoundError,
  TableNotFoundError,
  TransformError,
} from './errors.js';
import { freshnessMs, LocalCache } from './local-cache.js';
import type { CacheClientOptions } from './options.js';
import { type ResolvedOptions, resolveOptions } from './resolved-options.js';
import type {
  CacheSchema,
  DefaultSchema,
  ItemOf,
  KeyOf,
  ParameterName,
  ParameterValue,
  Resolved,
  TableName,
} from './schema.js';
import { type Reply, Transport } from './transport.js';

/** `json` parses the value; `list` splits a `StringList` on commas into `string[]`. */
export type Transform = 'json' | 'list';

export type ParameterType = 'String' | 'StringList' | 'SecureString';

/** A parameter with its metadata, as `getParameter(name, { metadata: true })` returns it. */
export interface Parameter<V = string> {
  /** The name as asked, including any `:version` or `:label` selector. */
  readonly name: string;
  readonly type: ParameterType;
  /** The value, after `transform` if one was asked for. */
  readonly value: V;
  readonly version: number;
  /** ISO 8601, or `null` when SSM did not say. */
  readonly lastModified: string | null;
  readonly arn?: string;
  readonly dataType?: string;
  readonly selector?: string;
  readonly sourceResult?: string;
}

export interface GetParameterOptions {
  /**
   * `json` parses the value (a {@link TransformError} if it is not JSON); `list` splits it on commas.
   * @default none: the value as stored
   */
  readonly transform?: Transform;
  /**
   * Decrypt a `SecureString`.
   * @default true
   */
  readonly decrypt?: boolean;
  /**
   * Skip the in-process layer and ask the extension to fetch the value from AWS now.
   * @default false
   */
  readonly forceFetch?: boolean;
  /** Aborts the call, retries included; the call then rejects with an `AbortError`. */
  readonly signal?: AbortSignal;
  /**
   * Return the whole {@link Parameter} (type, version, last modified) instead of the value alone.
   * @default false
   */
  readonly metadata?: boolean;
}

export interface GetItemOptions {
  /**
   * Skip the in-process layer and ask the extension to read the item from DynamoDB now.
   * @default false
   */
  readonly forceFetch?: boolean;
  /** Aborts the call, retries included; the call then rejects with an `AbortError`. */
  readonly signal?: AbortSignal;
}

type Json = GetParameterOptions & { readonly transform: 'json' };
type List = GetParameterOptions & { readonly transform: 'list' };
type Raw = GetParameterOptions & { readonly transform?: undefined };
type WithMetadata = { readonly metadata: true };
type WithoutMetadata = { readonly metadata?: false };

/**
 * A client of the lambda-cache extension. `Schema` (see {@link CacheSchema}) types names, tables, keys
 * and values; without it any name and any table is accepted.
 */
export interface CacheClient<Schema extends CacheSchema = DefaultSchema> {
  /**
   * A parameter's value from SSM Parameter Store, through the extension. Throws {@link NotFoundError}
   * when the parameter does not exist, as Powertools' `getParameter` throws for a missing parameter.
   * Like Powertools, a read served by the in-process layer returns the same `json` value, `list` array
   * or `metadata` object as the read that filled it: treat it as read-only.
   *
   * @example
   * const url = await cache.getParameter('/app/prod/db-url');
   * const config = await cache.getParameter<AppConfig>('/app/prod/config', { transform: 'json' });
   */
  getParameter<T = unknown, N extends ParameterName<Schema> = ParameterName<Schema>>(
    name: N,
    options: Json & WithMetadata,
  ): Promise<Parameter<Resolved<T, ParameterValue<Schema, N>>>>;
  getParameter<T = unknown, N extends ParameterName<Schema> = ParameterName<Schema>>(
    name: N,
    options: Json & WithoutMetadata,
  ): Promise<Resolved<T, ParameterValue<Schema, N>>>;
  getParameter<N extends ParameterName<Schema>>(
    name: N,
    options: List & WithMetadata,
  ): Promise<Parameter<string[]>>;
  getParameter<N extends ParameterName<Schema>>(name: N, options: List & WithoutMetadata): Promise<string[]>;
  getParameter<N extends ParameterName<Schema>>(
    name: N,
    options: Raw & WithMetadata,
  ): Promise<Parameter<string>>;
  getParameter<N extends ParameterName<Schema>>(name: N, options?: Raw & WithoutMetadata): Promise<string>;

  /**
   * An item from DynamoDB, through the extension, unmarshalled; `undefined` when there is no such item.
   * Throws {@link TableNotFoundError} when the table itself does not exist (a typo, another region).
   * A read served by the in-process layer returns the same object as the read that filled it: treat it
   * as read-only, or copy it (`structuredClone`) before changing it.
   *
   * @example
   * const row = await cache.getItem<Row>('DynamoDbTable', { pKey: 'pKey1', sKey: 'sKey1' });
   */
  getItem<T = unknown, Table extends TableName<Schema> = TableName<Schema>>(
    table: Table,
    key: KeyOf<Schema, Table>,
    options?: GetItemOptions,
  ): Promise<Resolved<T, ItemOf<Schema, Table>> | undefined>;

  /** Closes the client's connections; later calls reject. */
  close(): Promise<void>;
}

function isParameterPayload(body: unknown): body is ParameterPayload {
  return typeof body === 'object' && body !== null && typeof (body as ParameterPayload).value === 'string';
}

function isDynamoDbPayload(body: unknown): body is DynamoDbPayload {
  const item = (body as DynamoDbPayload | null)?.item;
  return typeof item === 'object' && item !== null && !Array.isArray(item);
}

function tableNotFound(table: string, err: NotFoundError): TableNotFoundError {
  return new TableNotFoundError(
    table,
    `table ${JSON.stringify(table.slice(0, 255))} does not exist (DynamoDB: ResourceNotFoundException): ` +
      `check its name and the region the extension reads it in. ${err.message}`,
    { status: err.status, awsCode: err.awsCode, extensionCode: err.extensionCode, cause: err },
  );
}

function route<T>(build: () => T): T {
  try {
    return build();
  } catch (err) {
    if (err instanceof RouteError) throw new BadRequestError(err.message, { cause: err });
    throw err;
  }
}

function transformValue(name: string, value: string, transform: Transform | undefined): unknown {
  if (transform === undefined) return value;
  if (transform === 'list') return value.split(',');
  try {
    return JSON.parse(value);
  } catch {
    throw new TransformError('json', `the value of parameter "${name}" is not valid JSON`);
  }
}

/** Key spaces of the in-process layer. */
const SPACE = { parameters: 0, rawParameters: 1, items: 2 } as const;

/** A parameter kept in the in-process layer: the answer, and each view of it already computed once. */
interface ParameterEntry {
  readonly body: ParameterPayload;
  /** Index: transform (0 none, 1 json, 2 list), plus 3 for the `metadata` shape. */
  readonly views: unknown[];
}

/**
 * The in-process layer key of an item read, built without marshalling: the table and each attribute's
 * name, type and text, length-prefixed so no two different keys share a text. Only strings and finite
 * numbers take this path; any other key (binary, bigint, a malformed one) is keyed by its canonical wire
 * text instead. One key spelled two ways (`1.5` and `1.50` are one JS number) gets one text; a string
 * and a number never do.
 */
function itemLayerKey(table: string, key: unknown): string | undefined {
  if (typeof key !== 'object' || key === null || Array.isArray(key)) return undefined;
  const names = Object.keys(key);
  if (names.length === 2) {
    if ((names[0] as string) > (names[1] as string)) names.reverse();
  } else if (names.length !== 1) {
    return undefined;
  }
  let text = `${table.length}:${table}`;
  for (const name of names) {
    const value: unknown = (key as Record<string, unknown>)[name];
    let typed: string;
    if (typeof value === 'string') typed = `S${value}`;
    else if (typeof value === 'number' && Number.isFinite(value)) typed = `N${value}`;
    else return undefined;
    text += `|${name.length}:${name}${typed.length}:${typed}`;
  }
  return text;
}

class Client {
  readonly #options: ResolvedOptions;
  readonly #transport: Transport;
  readonly #local: LocalCache | undefined;

  constructor(options: ResolvedOptions, env: NodeJS.ProcessEnv) {
    this.#options = options;
    this.#transport = new Transport(options, env);
    this.#local = options.localCache.enabled
      ? new LocalCache(options.localCache.maxEntries, options.now)
      : undefined;
  }

  getParameter(name: string, options?: GetParameterOptions): Promise<unknown> {
    if (typeof name !== 'string') {
      return Promise.reject(new BadRequestError('a parameter name must be a string'));
    }
    const transform = options?.transform;
    let view = 0;
    if (transform === 'json') view = 1;
    else if (transform === 'list') view = 2;
    else if (transform !== undefined) {
      return Promise.reject(
        new InvalidOptionError(`transform must be 'json' or 'list', not ${JSON.stringify(transform)}`),
      );
    }
    if (options?.metadata === true) view += 3;
    const decrypt = options?.decrypt !== false;
    // The layer is looked up by the name itself before any URL is built: a hit is one map read.
    const space = decrypt ? SPACE.parameters : SPACE.rawParameters;
    if (this.#local !== undefined && options?.forceFetch !== true) {
      const entry = this.#local.get(name, space) as ParameterEntry | undefined;
      if (entry !== undefined) {
        try {
          return Promise.resolve(parameterView(entry, name, view, transform));
        } catch (err) {
          return Promise.reject(err);
        }
      }
    }
    return this.#fetchParameter(name, decrypt, space, view, transform, options);
  }

  async #fetchParameter(
    name: string,
    decrypt: boolean,
    space: number,
    view: number,
    transform: Transform | undefined,
    options: GetParameterOptions | undefined,
  ): Promise<unknown> {
    const force = options?.forceFetch === true;
    const path = route(() =>
      parameterPath(name, { ...(decrypt ? {} : { decrypt: false }), ...(force ? { refresh: true } : {}) }),
    );
    const reply = await this.#transport.get(path, options?.signal);
    const body = reply.body;
    if (!isParameterPayload(body)) {
      throw new ExtensionError('the extension answered without a parameter value', { status: 200 });
    }
    const entry: ParameterEntry = { body, views: [] };
    this.#local?.set(name, entry, freshnessMs(reply.headers), space);
    return parameterView(entry, name, view, transform);
  }

  getItem(table: string, key: Record<string, never>, options?: GetItemOptions): Promise<unknown> {
    if (typeof table !== 'string') {
      return Promise.reject(new BadRequestError('a table name must be a string'));
    }
    let layerKey: string | undefined;
    if (this.#local !== undefined) {
      try {
        layerKey = itemLayerKey(table, key);
      } catch (err) {
        return Promise.reject(err);
      }
      if (layerKey !== undefined && options?.forceFetch !== true) {
        const hit = this.#local.get(layerKey, SPACE.items);
        if (hit !== undefined) return Promise.resolve(hit);
      }
    }
    return this.#fetchItem(table, key, layerKey, options);
  }

  async #fetchItem(
    table: string,
    key: Record<string, never>,
    cheapKey: string | undefined,
    options: GetItemOptions | undefined,
  ): Promise<unknown> {
    const wireKey = toWireKey(key);
    const force = options?.forceFetch === true;
    const path = route(() => dynamodbPath(table, wireKey, force ? { refresh: true } : {}));
    // A key with no cheap text is kept under its canonical path, which every spelling shares; a path starts
    // with '/', a cheap text with a digit, so the two never meet.
    let layerKey = cheapKey;
    if (this.#local !== undefined && cheapKey === undefined) {
      layerKey = force ? route(() => dynamodbPath(table, wireKey)) : path;
      if (!force) {
        const hit = this.#local.get(layerKey, SPACE.items);
        if (hit !== undefined) return hit;
      }
    }
    let reply: Reply;
    try {
      reply = await this.#transport.get(path, options?.signal);
    } catch (err) {
      if (err instanceof NotFoundError) {
        // DynamoDB's ResourceNotFoundException is the table (a typo, another region), not the item.
        if (err.awsCode === 'ResourceNotFoundException') throw tableNotFound(table, err);
        return undefined;
      }
      throw err;
    }
    const body = reply.body;
    if (!isDynamoDbPayload(body)) {
      throw new ExtensionError('the extension answered without an item', { status: 200 });
    }
    const item = fromWireItem(table, body.item, this.#options.bigNumbers);
    if (layerKey !== undefined) this.#local?.set(layerKey, item, freshnessMs(reply.headers), SPACE.items);
    return item;
  }

  close(): Promise<void> {
    this.#local?.clear();
    return this.#transport.close();
  }
}

/** The value (or metadata object) a call asked for, computed once per layer entry and then shared. */
function parameterView(
  entry: ParameterEntry,
  name: string,
  view: number,
  transform: Transform | undefined,
): unknown {
  const cached = entry.views[view];
  if (cached !== undefined) return cached;
  const result =
    view >= 3
      ? { ...entry.body, value: parameterView(entry, name, view - 3, transform) }
      : transformValue(name, entry.body.value, transform);
  entry.views[view] = result;
  return result;
}

/**
 * Creates a client of the lambda-cache extension. Create it once, outside the handler.
 *
 * @example
 * import { createCacheClient } from '@lambda-cache/client';
 * const cache = createCacheClient();
 * const url = await cache.getParameter('/app/prod/db-url');
 */
export function createCacheClient<Schema extends CacheSchema = DefaultSchema>(
  options: CacheClientOptions = {},
): CacheClient<Schema> {
  return new Client(resolveOptions(options, process.env), process.env) as unknown as CacheClient<Schema>;
}
