/**
 * The seed's example function, in TypeScript: it reads the item and the parameters that `config.yaml`
 * asks the extension to prefetch, through `@lambda-cache/client`, and never calls AWS itself.
 */
import { createCacheClient } from '@lambda-cache/client';
import type { Row, Schema } from './cache-schema.js';

export type { Row, Schema };

export const TABLE = 'DynamoDbTable';
export const KEY = { pKey: 'pKey1', sKey: 'sKey1' } as const;
export const PARAMETER = 'CacheExtensions_Parameter1';
/** A Secrets Manager secret read through SSM's reference path, as the seed's config does. */
export const SECRET = '/aws/reference/secretsmanager/secret_info';

/** What the handler returns: the item, and how long each read took. Parameter values are not echoed. */
export interface ExampleResponse {
  readonly statusCode: 200;
  readonly body: string;
}

export interface ExampleBody {
  readonly item: Row;
  /** Name → length of the value: proof it was read, without putting a secret into a response or a log. */
  readonly parameters: Readonly<Record<string, { readonly length: number }>>;
  /** Milliseconds each read took, measured inside the function. */
  readonly readMs: { readonly item: number; readonly parameter: number; readonly secret: number };
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
  const [item, parameter, secret] = await Promise.all([
    timed(() => cache.getItem(TABLE, KEY)),
    timed(() => cache.getParameter(PARAMETER)),
    timed(() => cache.getParameter(SECRET)),
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
  const body: ExampleBody = {
    item: row,
    parameters: {
      [PARAMETER]: { length: parameter.value.length },
      [SECRET]: { length: secret.value.length },
    },
    readMs: { item: item.ms, parameter: parameter.ms, secret: secret.ms },
  };
  return { statusCode: 200, body: JSON.stringify(body) };
}
