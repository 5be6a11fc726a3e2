/**
 * `createCacheClient()`: reads parameters, items, secrets and AppConfig configurations from the
 * lambda-cache extension. One client per execution environment, created outside the handler, so its
 * connections are reused by every invoke.
 */
import {
  appConfigPath,
  type DynamoDbPayload,
  dynamodbPath,
  type ParameterPayload,
  parameterPath,
  RouteError,
  type SecretPayload,
  secretPath,
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
import {
  configurationLayerKey,
  featureFlagLayerKey,
  itemLayerKey,
  itemPathKey,
  parameterSpace,
  SPACE,
  type Space,
  secretLayerKey,
} from './layer-keys.js';
import { freshnessMs, LocalCache } from './local-cache.js';
import type { CacheClientOptions } from './options.js';
import { type ResolvedOptions, resolveOptions } from './resolved-options.js';
import type {
  ApplicationName,
  CacheSchema,
  ConfigurationValue,
  DefaultSchema,
  EnvironmentName,
  FlagName,
  FlagValue,
  ItemOf,
  KeyOf,
  ParameterName,
  ParameterValue,
  ProfileName,
  Resolved,
  SecretId,
  SecretValue,
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

/** `json` parses the value; `binary` gives its bytes. */
export type BinaryTransform = 'json' | 'binary';

/** A secret with its metadata, as `getSecret(id, { metadata: true })` returns it. */
export interface Secret<V = string> {
  /** The secret's name (also when it was asked for by ARN). */
  readonly name: string;
  readonly arn: string;
  readonly versionId: string;
  /** The staging labels of this version, e.g. `['AWSCURRENT']`. */
  readonly versionStages: readonly string[];
  /** When this version was created, ISO 8601; `null` when Secrets Manager did not say. */
  readonly createdDate: string | null;
  /** The value, after `transform` if one was asked for. */
  readonly value: V;
}

export interface GetSecretOptions {
  /**
   * `json` parses the value (a {@link TransformError} if it is not JSON); `binary` returns its bytes as a
   * `Uint8Array` (a binary secret's bytes, or a string secret's UTF-8 bytes).
   * @default none: the secret string (a binary secret then throws {@link TransformError})
   */
  readonly transform?: BinaryTransform;
  /**
   * The version with this staging label, e.g. `AWSPREVIOUS`; not with `versionId`.
   * @default the `AWSCURRENT` version
   */
  readonly versionStage?: string;
  /**
   * The version with this id; not with `versionStage`.
   * @default the `AWSCURRENT` version
   */
  readonly versionId?: string;
  /**
   * Skip the in-process layer and ask the extension to fetch the secret from Secrets Manager now.
   * @default false
   */
  readonly forceFetch?: boolean;
  /** Aborts the call, retries included; the call then rejects with an `AbortError`. */
  readonly signal?: AbortSignal;
  /**
   * Return the whole {@link Secret} (name, ARN, version id and stages, created date) instead of the value.
   * @default false
   */
  readonly metadata?: boolean;
}

export interface GetAppConfigOptions {
  /**
   * `json` parses the configuration (a {@link TransformError} if it is not JSON); `binary` returns its
   * bytes as they came.
   * @default none: the configuration as text (UTF-8)
   */
  readonly transform?: BinaryTransform;
  /**
   * Skip the in-process layer and ask the extension to fetch the configuration from AppConfig now.
   * @default false
   */
  readonly forceFetch?: boolean;
  /** Aborts the call, retries included; the call then rejects with an `AbortError`. */
  readonly signal?: AbortSignal;
}

export interface GetFeatureFlagOptions {
  /**
   * Skip the in-process layer and ask the extension to fetch the configuration from AppConfig now.
   * @default false
   */
  readonly forceFetch?: boolean;
  /** Aborts the call, retries included; the call then rejects with an `AbortError`. */
  readonly signal?: AbortSignal;
}

type SecretJson = GetSecretOptions & { readonly transform: 'json' };
type SecretBytes = GetSecretOptions & { readonly transform: 'binary' };
type SecretRaw = GetSecretOptions & { readonly transform?: undefined };
type ConfigurationJson = GetAppConfigOptions & { readonly transform: 'json' };
type ConfigurationBytes = GetAppConfigOptions & { readonly transform: 'binary' };
type ConfigurationRaw = GetAppConfigOptions & { readonly transform?: undefined };

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

  /**
   * A secret's value from Secrets Manager, through the extension: the secret string, its parsed JSON
   * (`transform: 'json'`) or its bytes (`transform: 'binary'`). Throws {@link NotFoundError} when the
   * secret, or the version asked for, does not exist. A read served by the in-process layer returns the
   * same `json` value, bytes or `metadata` object as the read that filled it: treat it as read-only.
   *
   * @example
   * const apiKey = await cache.getSecret('prod/api-key');
   * const db = await cache.getSecret<DbCredentials>('prod/db', { transform: 'json' });
   */
  getSecret<T = unknown, Id extends SecretId<Schema> = SecretId<Schema>>(
    id: Id,
    options: SecretJson & WithMetadata,
  ): Promise<Secret<Resolved<T, SecretValue<Schema, Id>>>>;
  getSecret<T = unknown, Id extends SecretId<Schema> = SecretId<Schema>>(
    id: Id,
    options: SecretJson & WithoutMetadata,
  ): Promise<Resolved<T, SecretValue<Schema, Id>>>;
  getSecret<Id extends SecretId<Schema>>(
    id: Id,
    options: SecretBytes & WithMetadata,
  ): Promise<Secret<Uint8Array>>;
  getSecret<Id extends SecretId<Schema>>(id: Id, options: SecretBytes & WithoutMetadata): Promise<Uint8Array>;
  getSecret<Id extends SecretId<Schema>>(id: Id, options: SecretRaw & WithMetadata): Promise<Secret<string>>;
  getSecret<Id extends SecretId<Schema>>(id: Id, options?: SecretRaw & WithoutMetadata): Promise<string>;

  /**
   * An AppConfig configuration, through the extension: its text (UTF-8), its parsed JSON
   * (`transform: 'json'`) or its bytes as they came (`transform: 'binary'`). Application, environment and
   * profile are names or ids. Throws {@link NotFoundError} when one of them does not exist. A read served by
   * the in-process layer returns the same `json` value or bytes as the read that filled it.
   *
   * @example
   * const settings = await cache.getAppConfig<Settings>('my-app', 'prod', 'settings', { transform: 'json' });
   */
  getAppConfig<
    T = unknown,
    A extends ApplicationName<Schema> = ApplicationName<Schema>,
    E extends EnvironmentName<Schema, A> = EnvironmentName<Schema, A>,
    P extends ProfileName<Schema, A, E> = ProfileName<Schema, A, E>,
  >(
    application: A,
    environment: E,
    profile: P,
    options: ConfigurationJson,
  ): Promise<Resolved<T, ConfigurationValue<Schema, A, E, P>>>;
  getAppConfig<
    A extends ApplicationName<Schema>,
    E extends EnvironmentName<Schema, A>,
    P extends ProfileName<Schema, A, E>,
  >(application: A, environment: E, profile: P, options: ConfigurationBytes): Promise<Uint8Array>;
  getAppConfig<
    A extends ApplicationName<Schema>,
    E extends EnvironmentName<Schema, A>,
    P extends ProfileName<Schema, A, E>,
  >(application: A, environment: E, profile: P, options?: ConfigurationRaw): Promise<string>;

  /**
   * One flag of an AppConfig feature-flag profile, `{ enabled, …attributes }`, in one request that asks
   * the extension for that flag alone. Throws {@link NotFoundError} when the flag, or the configuration,
   * does not exist. A read served by the in-process layer returns the same object: treat it as read-only.
   *
   * @example
   * const { enabled } = await cache.getFeatureFlag('my-app', 'prod', 'flags', 'new-checkout');
   */
  getFeatureFlag<
    T = unknown,
    A extends ApplicationName<Schema> = ApplicationName<Schema>,
    E extends EnvironmentName<Schema, A> = EnvironmentName<Schema, A>,
    P extends ProfileName<Schema, A, E> = ProfileName<Schema, A, E>,
    F extends FlagName<Schema, A, E, P> = FlagName<Schema, A, E, P>,
  >(
    application: A,
    environment: E,
    profile: P,
    flag: F,
    options?: GetFeatureFlagOptions,
  ): Promise<Resolved<T, FlagValue<Schema, A, E, P, F>>>;

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

function isSecretPayload(body: unknown): body is SecretPayload {
  if (typeof body !== 'object' || body === null) return false;
  const p = body as SecretPayload;
  return (
    typeof p.name === 'string' && (typeof p.secretString === 'string' || typeof p.secretBinary === 'string')
  );
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

/** A parameter kept in the in-process layer: the answer, and each view of it already computed once. */
interface ParameterEntry {
  readonly body: ParameterPayload;
  /** Index: transform (0 none, 1 json, 2 list), plus 3 for the `metadata` shape. */
  readonly views: unknown[];
}

/** A secret kept in the in-process layer. */
interface SecretEntry {
  readonly body: SecretPayload;
  /** Index: transform (0 none, 1 json, 2 binary), plus 3 for the `metadata` shape. */
  readonly views: unknown[];
}

/** A configuration kept in the in-process layer: its bytes as they came. */
interface ConfigurationEntry {
  readonly bytes: Buffer;
  /** Index: transform (0 text, 1 json, 2 binary). */
  readonly views: unknown[];
}

/** View index of a `json` / `binary` transform; `undefined` for anything else. */
function binaryTransformView(transform: unknown): number | undefined {
  if (transform === undefined) return 0;
  if (transform === 'json') return 1;
  if (transform === 'binary') return 2;
  return undefined;
}

function badBinaryTransform(transform: unknown): InvalidOptionError {
  return new InvalidOptionError(`transform must be 'json' or 'binary', not ${JSON.stringify(transform)}`);
}

function bytesOf(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** UTF-8, a byte-order mark dropped (as a JSON parser expects), invalid sequences as U+FFFD. */
const utf8 = new TextDecoder();
/** The same, refusing invalid sequences: a binary secret read as JSON. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new TransformError('json', `${what} is not valid JSON`);
  }
}

/** A view of a secret; the messages name the secret as asked, never its value. */
function secretValue(body: SecretPayload, id: string, view: number): unknown {
  const what = `the value of secret ${JSON.stringify(id)}`;
  if (view === 2) {
    return body.secretBinary === undefined
      ? bytesOf(Buffer.from(body.secretString ?? '', 'utf8'))
      : bytesOf(Buffer.from(body.secretBinary, 'base64'));
  }
  if (body.secretString !== undefined) {
    return view === 0 ? body.secretString : parseJson(body.secretString, what);
  }
  if (view === 0) {
    throw new TransformError(
      'string',
      `secret ${JSON.stringify(id)} is binary (SecretBinary): read it with transform: 'binary' or 'json'`,
    );
  }
  let text: string;
  try {
    text = strictUtf8.decode(Buffer.from(body.secretBinary ?? '', 'base64'));
  } catch {
    throw new TransformError('json', `${what} is binary and not UTF-8 text, so not JSON`);
  }
  return parseJson(text, what);
}

function secretView(entry: SecretEntry, id: string, view: number): unknown {
  const cached = entry.views[view];
  if (cached !== undefined) return cached;
  const { name, arn, versionId, versionStages, createdDate } = entry.body;
  const result =
    view >= 3
      ? { name, arn, versionId, versionStages, createdDate, value: secretView(entry, id, view - 3) }
      : secretValue(entry.body, id, view);
  entry.views[view] = result;
  return result;
}

/** Application, environment and profile name the configuration only in the message of one that is not JSON. */
function configurationView(
  entry: ConfigurationEntry,
  view: number,
  application: string,
  environment: string,
  profile: string,
): unknown {
  const cached = entry.views[view];
  if (cached !== undefined) return cached;
  let result: unknown;
  if (view === 2) result = bytesOf(entry.bytes);
  else if (view === 0) result = utf8.decode(entry.bytes);
  else
    result = parseJson(
      utf8.decode(entry.bytes),
      `configuration ${JSON.stringify(`${application}/${environment}/${profile}`)}`,
    );
  entry.views[view] = result;
  return result;
}

function isFeatureFlag(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as { enabled?: unknown }).enabled === 'boolean'
  );
}

function notString(what: string): Promise<never> {
  return Promise.reject(new BadRequestError(`${what} must be a string`));
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
    const space = parameterSpace(decrypt);
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
    space: Space,
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
      layerKey = force ? route(() => itemPathKey(table, wireKey)) : path;
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

  getSecret(id: string, options?: GetSecretOptions): Promise<unknown> {
    if (typeof id !== 'string') return notString('a secret id');
    let view = binaryTransformView(options?.transform);
    if (view === undefined) return Promise.reject(badBinaryTransform(options?.transform));
    if (options?.metadata === true) view += 3;
    const { space, key } = secretLayerKey(id, options?.versionId, options?.versionStage);
    if (this.#local !== undefined && options?.forceFetch !== true) {
      const entry = this.#local.get(key, space) as SecretEntry | undefined;
      if (entry !== undefined) {
        try {
          return Promise.resolve(secretView(entry, id, view));
        } catch (err) {
          return Promise.reject(err);
        }
      }
    }
    return this.#fetchSecret(id, space, key, view, options);
  }

  async #fetchSecret(
    id: string,
    space: Space,
    key: string,
    view: number,
    options: GetSecretOptions | undefined,
  ): Promise<unknown> {
    const versionId = options?.versionId;
    const versionStage = options?.versionStage;
    const path = route(() =>
      secretPath(id, {
        ...(versionId === undefined ? {} : { versionId }),
        ...(versionStage === undefined ? {} : { versionStage }),
        ...(options?.forceFetch === true ? { refresh: true } : {}),
      }),
    );
    const reply = await this.#transport.get(path, options?.signal);
    if (!isSecretPayload(reply.body)) {
      throw new ExtensionError('the extension answered without a secret value', { status: 200 });
    }
    const entry: SecretEntry = { body: reply.body, views: [] };
    this.#local?.set(key, entry, freshnessMs(reply.headers), space);
    return secretView(entry, id, view);
  }

  getAppConfig(
    application: string,
    environment: string,
    profile: string,
    options?: GetAppConfigOptions,
  ): Promise<unknown> {
    if (typeof application !== 'string') return notString('an application');
    if (typeof environment !== 'string') return notString('an environment');
    if (typeof profile !== 'string') return notString('a configuration profile');
    const view = binaryTransformView(options?.transform);
    if (view === undefined) return Promise.reject(badBinaryTransform(options?.transform));
    const key = configurationLayerKey(application, environment, profile);
    if (this.#local !== undefined && options?.forceFetch !== true) {
      const entry = this.#local.get(key, SPACE.configurations) as ConfigurationEntry | undefined;
      if (entry !== undefined) {
        try {
          return Promise.resolve(configurationView(entry, view, application, environment, profile));
        } catch (err) {
          return Promise.reject(err);
        }
      }
    }
    return this.#fetchConfiguration(application, environment, profile, key, view, options);
  }

  async #fetchConfiguration(
    application: string,
    environment: string,
    profile: string,
    key: string,
    view: number,
    options: GetAppConfigOptions | undefined,
  ): Promise<unknown> {
    const path = route(() =>
      appConfigPath(application, environment, profile, options?.forceFetch === true ? { refresh: true } : {}),
    );
    const reply = await this.#transport.getRaw(path, options?.signal);
    const entry: ConfigurationEntry = { bytes: reply.bytes, views: [] };
    this.#local?.set(key, entry, freshnessMs(reply.headers), SPACE.configurations);
    return configurationView(entry, view, application, environment, profile);
  }

  getFeatureFlag(
    application: string,
    environment: string,
    profile: string,
    flag: string,
    options?: GetFeatureFlagOptions,
  ): Promise<unknown> {
    if (typeof application !== 'string') return notString('an application');
    if (typeof environment !== 'string') return notString('an environment');
    if (typeof profile !== 'string') return notString('a configuration profile');
    if (typeof flag !== 'string') return notString('a flag key');
    const key = featureFlagLayerKey(application, environment, profile, flag);
    if (this.#local !== undefined && options?.forceFetch !== true) {
      const hit = this.#local.get(key, SPACE.featureFlags);
      if (hit !== undefined) return Promise.resolve(hit);
    }
    return this.#fetchFeatureFlag(application, environment, profile, flag, key, options);
  }

  async #fetchFeatureFlag(
    application: string,
    environment: string,
    profile: string,
    flag: string,
    key: string,
    options: GetFeatureFlagOptions | undefined,
  ): Promise<unknown> {
    const path = route(() =>
      appConfigPath(application, environment, profile, {
        flags: [flag],
        ...(options?.forceFetch === true ? { refresh: true } : {}),
      }),
    );
    const reply = await this.#transport.get(path, options?.signal);
    const body = reply.body as Record<string, unknown>;
    const value = Object.hasOwn(body, flag) ? body[flag] : undefined;
    if (!isFeatureFlag(value)) {
      throw new ExtensionError(
        `the extension answered without flag ${JSON.stringify(flag)} as { enabled, …attributes }`,
        { status: 200 },
      );
    }
    this.#local?.set(key, value, freshnessMs(reply.headers), SPACE.featureFlags);
    return value;
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
