/**
 * `@lambda-cache/client`: typed reads of SSM parameters and DynamoDB items from the lambda-cache Lambda
 * extension on 127.0.0.1.
 *
 * @example
 * import { createCacheClient } from '@lambda-cache/client';
 * const cache = createCacheClient();
 * const url = await cache.getParameter('/app/prod/db-url');
 * const row = await cache.getItem<Row>('DynamoDbTable', { pKey: 'pKey1', sKey: 'sKey1' });
 */
import { type CacheClient, createCacheClient } from './client.js';

export {
  type CacheClient,
  createCacheClient,
  type GetItemOptions,
  type GetParameterOptions,
  type Parameter,
  type ParameterType,
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
  CacheSchema,
  DefaultSchema,
  ItemKey,
  ItemOf,
  KeyOf,
  KeyValue,
  ParameterName,
  ParameterValue,
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

/** Closes the default client, if one was created; the next helper call creates a new one. */
export async function close(): Promise<void> {
  const client = defaultClient;
  defaultClient = undefined;
  await client?.close();
}
