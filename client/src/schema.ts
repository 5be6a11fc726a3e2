/**
 * Schema types: one optional type parameter of `createCacheClient<Schema>()` maps parameter names to value
 * types, table names to key and item types, and (optionally) secret ids and AppConfig configurations to
 * their value types, so a wrong name, table, key shape, secret or configuration fails to compile.
 * `lambda-cache-types config.yaml` writes a schema for what the config lists.
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
  /**
   * Secret id (name or ARN) → the value's type after `transform: 'json'` (use `string` when there is
   * none). Leave it out and `getSecret` takes any id.
   */
  readonly secrets?: Readonly<Record<string, unknown>>;
  /**
   * `` `${application}/${environment}/${profile}` `` → the configuration's type after `transform: 'json'`
   * (for a feature-flag profile, the map of its flags). Leave it out and `getAppConfig` takes any names.
   */
  readonly appconfig?: Readonly<Record<string, unknown>>;
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

/** A schema's secrets, or any id when it lists none. */
type SecretMap<S extends CacheSchema> = NonNullable<S['secrets']>;

/** Every secret id a schema accepts. */
export type SecretId<S extends CacheSchema> = Names<SecretMap<S>>;

/** The value type a schema gives a secret after `transform: 'json'` (`unknown` if it does not say). */
export type SecretValue<S extends CacheSchema, Id extends string> =
  Id extends SecretId<S> ? SecretMap<S>[Id] : unknown;

type ConfigurationMap<S extends CacheSchema> = NonNullable<S['appconfig']>;
type ConfigurationKey<S extends CacheSchema> = Names<ConfigurationMap<S>>;

// Each distributes over the union of keys (a naked type parameter), taking one part of each.
type ApplicationOf<K> = K extends `${infer A}/${string}/${string}` ? A : never;
type EnvironmentOf<K, A extends string> = K extends `${A}/${infer E}/${string}` ? E : never;
type ProfileOf<K, A extends string, E extends string> = K extends `${A}/${E}/${infer P}` ? P : never;

/** Every application a schema names; any string when the schema lists no configurations. */
export type ApplicationName<S extends CacheSchema> =
  string extends ConfigurationKey<S> ? string : ApplicationOf<ConfigurationKey<S>>;
/** Every environment a schema names for application `A`. */
export type EnvironmentName<S extends CacheSchema, A extends string> =
  string extends ConfigurationKey<S> ? string : EnvironmentOf<ConfigurationKey<S>, A>;
/** Every profile a schema names for application `A` in environment `E`. */
export type ProfileName<S extends CacheSchema, A extends string, E extends string> =
  string extends ConfigurationKey<S> ? string : ProfileOf<ConfigurationKey<S>, A, E>;

/** The type a schema gives a configuration after `transform: 'json'` (`unknown` if it does not say). */
export type ConfigurationValue<S extends CacheSchema, A extends string, E extends string, P extends string> =
  `${A}/${E}/${P}` extends ConfigurationKey<S> ? ConfigurationMap<S>[`${A}/${E}/${P}`] : unknown;

/** A feature flag as AppConfig returns it: whether it is on, and its attributes. */
export type FeatureFlag = { readonly enabled: boolean } & { readonly [attribute: string]: unknown };

/** The flag keys of a feature-flag configuration the schema types; any string when it does not. */
export type FlagName<S extends CacheSchema, A extends string, E extends string, P extends string> =
  unknown extends ConfigurationValue<S, A, E, P>
    ? string
    : Extract<keyof ConfigurationValue<S, A, E, P>, string>;

/** The type of one flag: what the schema's configuration type says it is, else {@link FeatureFlag}. */
export type FlagValue<
  S extends CacheSchema,
  A extends string,
  E extends string,
  P extends string,
  F extends string,
> =
  ConfigurationValue<S, A, E, P> extends Readonly<Record<F, infer V extends { readonly enabled: boolean }>>
    ? V
    : FeatureFlag;
