/**
 * `@lambda-cache/client`: typed reads of SSM parameters, DynamoDB items, Secrets Manager secrets and
 * AppConfig configurations from the lambda-cache Lambda extension on 127.0.0.1.
 *
 * @example
 * import { createCacheClient } from '@lambda-cache/client';
 * const cache = createCacheClient();
 * const url = await cache.getParameter('/app/prod/db-url');
 * const row = await cache.getItem<Row>('DynamoDbTable', { pKey: 'pKey1', sKey: 'sKey1' });
 * const apiKey = await cache.getSecret('prod/api-key');
 */
import { type CacheClient, createCacheClient } from './client.js';

export {
  type BinaryTransform,
  type CacheClient,
  createCacheClient,
  type GetAppConfigOptions,
  type GetFeatureFlagOptions,
  type GetItemOptions,
  type GetParameterOptions,
  type GetSecretOptions,
  type Parameter,
  type ParameterType,
  type Secret,
  type Transform,
} from './client.js';
export {
  AbortError,
  BadRequestError,
  CacheClientError,
  type CacheClientErrorCode,
  type CacheClientErrorOptions,
  ExtensionError,
  ExtensionUnavailableError,
  ForbiddenError,
  InvalidOptionError,
  NotFoundError,
  TableNotFoundError,
  ThrottledError,
  TimeoutError,
  TransformError,
  UpstreamError,
  UpstreamTimeoutError,
} from './errors.js';
export {
  type BigNumbers,
  type CacheClientOptions,
  CLIENT_DEFAULTS,
  type LocalCacheOptions,
  type RequestDispatcher,
  type RetryOptions,
} from './options.js';
export type {
  ApplicationName,
  CacheSchema,
  ConfigurationValue,
  DefaultSchema,
  EnvironmentName,
  FeatureFlag,
  FlagName,
  FlagValue,
  ItemKey,
  ItemOf,
  KeyOf,
  KeyValue,
  ParameterName,
  ParameterValue,
  ProfileName,
  SecretId,
  SecretValue,
  TableName,
  TableSchema,
} from './schema.js';

let defaultClient: CacheClient | undefined;

/** The client behind the module-level helpers, created on first use with the default options. */
function defaultCacheClient(): CacheClient {
  defaultClient ??= createCacheClient();
  return defaultClient;
}

/**
 * `getParameter` of a default client created on first use.
 *
 * @example
 * import { getParameter } from '@lambda-cache/client';
 * const url = await getParameter('/app/prod/db-url');
 */
export const getParameter: CacheClient['getParameter'] = (async (name: string, options?: object) =>
  (defaultCacheClient().getParameter as (n: string, o?: object) => Promise<unknown>)(
    name,
    options,
  )) as CacheClient['getParameter'];

/**
 * `getItem` of a default client created on first use; `undefined` when there is no such item.
 *
 * @example
 * import { getItem } from '@lambda-cache/client';
 * const row = await getItem<Row>('DynamoDbTable', { pKey: 'pKey1', sKey: 'sKey1' });
 */
export const getItem: CacheClient['getItem'] = (async (table, key, options) =>
  defaultCacheClient().getItem(table, key, options)) as CacheClient['getItem'];

/**
 * `getSecret` of a default client created on first use.
 *
 * @example
 * import { getSecret } from '@lambda-cache/client';
 * const db = await getSecret<DbCredentials>('prod/db', { transform: 'json' });
 */
export const getSecret: CacheClient['getSecret'] = (async (id: string, options?: object) =>
  (defaultCacheClient().getSecret as (i: string, o?: object) => Promise<unknown>)(
    id,
    options,
  )) as CacheClient['getSecret'];

/**
 * `getAppConfig` of a default client created on first use.
 *
 * @example
 * import { getAppConfig } from '@lambda-cache/client';
 * const settings = await getAppConfig<Settings>('my-app', 'prod', 'settings', { transform: 'json' });
 */
export const getAppConfig: CacheClient['getAppConfig'] = (async (
  application: string,
  environment: string,
  profile: string,
  options?: object,
) =>
  (defaultCacheClient().getAppConfig as (a: string, e: string, p: string, o?: object) => Promise<unknown>)(
    application,
    environment,
    profile,
    options,
  )) as CacheClient['getAppConfig'];

/**
 * `getFeatureFlag` of a default client created on first use.
 *
 * @example
 * import { getFeatureFlag } from '@lambda-cache/client';
 * const { enabled } = await getFeatureFlag('my-app', 'prod', 'flags', 'new-checkout');
 */
export const getFeatureFlag: CacheClient['getFeatureFlag'] = (async (
  application,
  environment,
  profile,
  flag,
  options,
) =>
  defaultCacheClient().getFeatureFlag(
    application,
    environment,
    profile,
    flag,
    options,
  )) as CacheClient['getFeatureFlag'];

/** Closes the default client, if one was created; the next helper call creates a new one. */
export async function close(): Promise<void> {
  const client = defaultClient;
  defaultClient = undefined;
  await client?.close();
}
