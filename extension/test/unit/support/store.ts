/**
 * The store as the extension builds it (SSM and DynamoDB sources over the given wire fakes, one injected
 * cache), and reads through the sources' own routes, as the server makes them: a test names the query it
 * means, the route's `parse` turns it into the read the store gets.
 */
import {
  type DynamoDbQuery,
  encodeKey,
  LEGACY_ROUTES,
  type ParameterQuery,
  ROUTES,
} from '@lambda-cache/shared';
import type { Clock } from '../../../src/clock.js';
import type { CacheConfig } from '../../../src/config.js';
import type { SourceHealth } from '../../../src/health.js';
import type { Logger } from '../../../src/log.js';
import { createStoreCache, SourceStore } from '../../../src/source-store.js';
import type { DynamoDbSource } from '../../../src/sources/dynamodb.js';
import { ItemSource } from '../../../src/sources/items.js';
import { ParameterSource } from '../../../src/sources/parameters.js';
import type { SsmSource } from '../../../src/sources/ssm.js';
import type { Reply } from '../../../src/store.js';

export interface TestStoreOptions {
  config: CacheConfig;
  ssm: SsmSource;
  dynamodb: DynamoDbSource;
  clock: Clock;
  logger: Logger;
  ttlMs: number;
  maxEntries: number;
  maxBytes: number;
  region: string | undefined;
  backendCalls: Readonly<Record<string, number>>;
  /** @default 5000 */
  waitMs?: number;
  health?: SourceHealth;
}

export function makeStore(opts: TestStoreOptions): SourceStore {
  const { config, region, logger } = opts;
  const sources = [
    new ParameterSource({ config, region, logger, ssm: opts.ssm }),
    new ItemSource({ config, region, logger, dynamodb: opts.dynamodb }),
  ];
  const cache = createStoreCache({
    sources,
    clock: opts.clock,
    logger,
    ttlMs: opts.ttlMs,
    maxEntries: opts.maxEntries,
    maxBytes: opts.maxBytes,
    waitMs: opts.waitMs ?? 5000,
  });
  return new SourceStore({
    sources,
    cache,
    config,
    clock: opts.clock,
    logger,
    maxEntries: opts.maxEntries,
    maxBytes: opts.maxBytes,
    backendCalls: opts.backendCalls,
    ...(opts.health ? { health: opts.health } : {}),
  });
}

/** The answer of `store` to `GET path?query`, routed and parsed as the server does. */
export function get(store: SourceStore, path: string, query = ''): Reply | Promise<Reply> {
  for (const { source, routes } of store.routes()) {
    for (const r of routes) {
      const match = r.prefix ? path.startsWith(r.path) : path === r.path;
      if (!match) continue;
      try {
        return store.read(source, r.parse(query, path));
      } catch (err) {
        return Promise.reject(err);
      }
    }
  }
  return Promise.reject(new Error(`no route ${path}`));
}

const search = (params: Record<string, string>): string => new URLSearchParams(params).toString();

/** A parameter read: `v1` on `/v1/parameters`, `aws` on AWS's extension's route, `legacy` on the seed's. */
export function parameter(
  store: SourceStore,
  q: ParameterQuery,
  form: 'v1' | 'aws' | 'legacy',
): Reply | Promise<Reply> {
  if (form === 'aws') {
    return get(store, ROUTES.awsParameter, search({ name: q.name, withDecryption: String(q.decrypt) }));
  }
  if (form === 'legacy') return get(store, LEGACY_ROUTES.parameters, search({ name: q.name }));
  return get(
    store,
    ROUTES.parameters,
    search({ name: q.name, decrypt: String(q.decrypt), refresh: String(q.refresh) }),
  );
}

/** An item read on `/v1/dynamodb`. */
export function item(store: SourceStore, q: DynamoDbQuery, _form: 'v1' = 'v1'): Reply | Promise<Reply> {
  return get(
    store,
    ROUTES.dynamodb,
    search({ table: q.table, key: encodeKey(q.key), refresh: String(q.refresh) }),
  );
}

/** The seed's `GET /dynamodb/ID`. */
export async function legacyItem(store: SourceStore, id: string): Promise<Reply> {
  return get(store, `${LEGACY_ROUTES.dynamodb}/${encodeURIComponent(id)}`);
}
