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
  TransformError,
} from './errors.js';
import { freshnessMs, LocalCache } from './local-cache.js';
import { type CacheClientOptions, type ResolvedOptions, resolveOptions } from './options.js';
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
import { Transport } from './transport.js';

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

  /** The extension's answer for `key`, from the in-process layer when it is still fresh there. */
  async #read(
    key: string,
    refreshPath: string,
    force: boolean | undefined,
    signal?: AbortSignal,
  ): Promise<unknown> {
    if (this.#local !== undefined && force !== true) {
      const hit = this.#local.get(key);
      if (hit !== undefined) return hit;
    }
    const reply = await this.#transport.get(force === true ? refreshPath : key, signal);
    this.#local?.set(key, reply.body, freshnessMs(reply.headers));
    return reply.body;
  }

  async getParameter(name: string, options: GetParameterOptions = {}): Promise<unknown> {
    if (typeof name !== 'string') throw new BadRequestError('a parameter name must be a string');
    const { transform, decrypt, forceFetch, signal, metadata } = options;
    if (transform !== undefined && transform !== 'json' && transform !== 'list') {
      throw new InvalidOptionError(`transform must be 'json' or 'list', not ${JSON.stringify(transform)}`);
    }
    const decryptOpt = decrypt === false ? { decrypt: false } : {};
    const key = route(() => parameterPath(name, decryptOpt));
    const refreshPath = route(() => parameterPath(name, { ...decryptOpt, refresh: true }));
    const body = await this.#read(key, refreshPath, forceFetch, signal);
    if (!isParameterPayload(body)) {
      throw new ExtensionError('the extension answered without a parameter value', { status: 200 });
    }
    const value = transformValue(name, body.value, transform);
    return metadata === true ? { ...body, value } : value;
  }

  async getItem(table: string, key: Record<string, never>, options: GetItemOptions = {}): Promise<unknown> {
    if (typeof table !== 'string') throw new BadRequestError('a table name must be a string');
    const wireKey = toWireKey(key);
    const path = route(() => dynamodbPath(table, wireKey));
    const refreshPath = route(() => dynamodbPath(table, wireKey, { refresh: true }));
    let body: unknown;
    try {
      body = await this.#read(path, refreshPath, options.forceFetch, options.signal);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
    if (!isDynamoDbPayload(body)) {
      throw new ExtensionError('the extension answered without an item', { status: 200 });
    }
    return fromWireItem(table, body.item, this.#options.bigNumbers);
  }

  close(): Promise<void> {
    this.#local?.clear();
    return this.#transport.close();
  }
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
