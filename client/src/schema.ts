/**
 * Schema types: one optional type parameter of `createCacheClient<Schema>()` maps parameter names to value
 * types and table names to key and item types, so a wrong name, table or key shape fails to compile.
 * `lambda-cache-types config.yaml` writes a schema for the configured parameters and tables.
 */

/** A key attribute as function code writes it: string (S), number or bigint (N), bytes (B). */
export type KeyValue = string | number | bigint | Uint8Array;

/** A DynamoDB primary key: the partition key and, if the table has one, the sort key. */
export type ItemKey = Readonly<Record<string, KeyValue>>;

/** What a schema describes about one table. */
export interface TableSchema {
  readonly key: ItemKey;
  readonly item: object;
}

/** The shape every schema has. */
export interface CacheSchema {
  /** Parameter name → the value's type after `transform: 'json'` (use `string` when there is none). */
  readonly parameters: Readonly<Record<string, unknown>>;
  /** Table name → its key and item types. */
  readonly tables: Readonly<Record<string, TableSchema>>;
}

/** The permissive schema used when none is given: any name, any table, any key, items as plain records. */
export interface DefaultSchema extends CacheSchema {
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly tables: Readonly<
    Record<string, { readonly key: ItemKey; readonly item: Record<string, unknown> }>
  >;
}

type Names<T> = Extract<keyof T, string>;

/**
 * Every name a schema accepts: each configured name, optionally with a `:version` or `:label` selector.
 * Hierarchies (`path:` in config.yaml) are written as template literal keys such as `` `/app/${string}` ``.
 */
export type ParameterName<S extends CacheSchema> =
  | Names<S['parameters']>
  | `${Names<S['parameters']>}:${string}`;

type BaseName<S extends CacheSchema, N extends string> =
  N extends Names<S['parameters']>
    ? N
    : N extends `${infer B extends Names<S['parameters']>}:${string}`
      ? B
      : Names<S['parameters']>;

/** The value type a schema gives a name (`unknown` if the schema does not say). */
export type ParameterValue<S extends CacheSchema, N extends string> = S['parameters'][BaseName<S, N>];

export type TableName<S extends CacheSchema> = Names<S['tables']>;
export type KeyOf<S extends CacheSchema, T extends string> =
  T extends TableName<S> ? S['tables'][T]['key'] : never;
export type ItemOf<S extends CacheSchema, T extends string> =
  T extends TableName<S> ? S['tables'][T]['item'] : never;

/** `Explicit` when the caller named a type argument, otherwise `FromSchema`. */
export type Resolved<Explicit, FromSchema> = unknown extends Explicit ? FromSchema : Explicit;
