/**
 * The seed's example function, in TypeScript: it reads the item and the parameters that `config.yaml`
 * asks the extension to prefetch, a Secrets Manager secret and an AppConfig feature flag, through
 * `@lambda-cache/client`, and never calls AWS itself.
 */
import { createCacheClient } from '@lambda-cache/client';
import type { ExampleFlags, Row, Schema } from './cache-schema.js';

export type { ExampleFlags, Row, Schema };

export const TABLE = 'DynamoDbTable';
export const KEY = { pKey: 'pKey1', sKey: 'sKey1' } as const;
export const PARAMETER = 'CacheExtensions_Parameter1';
/** A Secrets Manager secret read through SSM's reference path, as the seed's config does. */
export const SECRET = '/aws/reference/secretsmanager/secret_info';
/**
 * A secret read from Secrets Manager directly (`getSecret`). Not in `config.yaml`, which stays the seed's:
 * the extension reads it through on the first call and keeps it, as AWS's Parameters and Secrets extension
 * does; a rotation is picked up when the cached version is revalidated.
 */
export const API_KEY = 'example/api-key';
/**
 * An AppConfig feature flag. `npm start` prefetches its profile with the AppConfig agent's own variable,
 * `AWS_APPCONFIG_EXTENSION_PREFETCH_LIST` (see README.md), so `config.yaml` stays the seed's.
 */
export const FLAGS = { application: 'example-app', environment: 'local', profile: 'feature-flags' } as const;
export const FLAG = 'new_greeting';

/** What the handler returns: the item, and how long each read took. Values are not echoed. */
export interface ExampleResponse {
  readonly statusCode: 200;
  readonly body: string;
}

export interface ExampleBody {
  readonly item: Row;
  /** Name → length of the value: proof it was read, without putting a secret into a response or a log. */
  readonly parameters: Readonly<Record<string, { readonly length: number }>>;
  /** Secret id → the length of its value and the staging labels of the version read (`AWSCURRENT`). */
  readonly secrets: Readonly<
    Record<string, { readonly length: number; readonly versionStages: readonly string[] }>
  >;
  /** Flag name → whether it is on (its attributes are not echoed). */
  readonly featureFlags: Readonly<Record<string, { readonly enabled: boolean }>>;
  /** Milliseconds each read took, measured inside the function. */
  readonly readMs: {
    readonly item: number;
    readonly parameter: number;
    readonly secret: number;
    readonly apiKey: number;
    readonly flag: number;
  };
}

// Created once per execution environment, outside the handler, so its connection pool is reused by
// every invoke that follows. `Schema` (generated from config.yaml) makes a misspelt parameter or table
// name, or a wrong key, a compile error.
const cache = createCacheClient<Schema>();

async function timed<T>(read: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await read();
  return { value, ms: Math.round((performance.now() - start) * 1000) / 1000 };
}

/** The item with its attributes in name order, so the log line reads the same as the seed's. */
function sorted(row: Row): Row {
  return Object.fromEntries(Object.entries(row).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) as Row;
}

export async function handler(_event: unknown): Promise<ExampleResponse> {
  const [item, parameter, secret, apiKey, flag] = await Promise.all([
    timed(() => cache.getItem(TABLE, KEY)),
    timed(() => cache.getParameter(PARAMETER)),
    timed(() => cache.getParameter(SECRET)),
    timed(() => cache.getSecret(API_KEY, { metadata: true })),
    timed(() => cache.getFeatureFlag(FLAGS.application, FLAGS.environment, FLAGS.profile, FLAG)),
  ]);
  // A missing item comes back as `undefined`: fail the invoke with a message that says which one.
  if (item.value === undefined) {
    throw new Error(
      `${TABLE} has no item ${JSON.stringify(KEY)}: load seed.yaml, or create it as the README says`,
    );
  }
  const row = sorted(item.value);
  console.log(`Finally got some response here: ${JSON.stringify(row)}`);
  console.log(
    `Read ${PARAMETER} (${parameter.value.length} chars) and ${SECRET} (${secret.value.length} chars)`,
  );
  console.log(
    `Read secret ${API_KEY} (${apiKey.value.value.length} chars, ${apiKey.value.versionStages.join(',')}); feature flag ${FLAG} enabled=${flag.value.enabled}`,
  );
  const body: ExampleBody = {
    item: row,
    parameters: {
      [PARAMETER]: { length: parameter.value.length },
      [SECRET]: { length: secret.value.length },
    },
    secrets: {
      [API_KEY]: { length: apiKey.value.value.length, versionStages: apiKey.value.versionStages },
    },
    featureFlags: { [FLAG]: { enabled: flag.value.enabled } },
    readMs: {
      item: item.ms,
      parameter: parameter.ms,
      secret: secret.ms,
      apiKey: apiKey.ms,
      flag: flag.ms,
    },
  };
  return { statusCode: 200, body: JSON.stringify(body) };
}
