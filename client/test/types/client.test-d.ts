import type { ParameterPayload } from '@lambda-cache/shared';
import { describe, expectTypeOf, it } from 'vitest';
import {
  type CacheClient,
  type CacheSchema,
  createCacheClient,
  type FeatureFlag,
  getAppConfig,
  getFeatureFlag,
  getItem,
  getParameter,
  getSecret,
  NotFoundError,
  type Parameter,
  type Secret,
  UpstreamError,
} from '../../src/index.js';

interface AppConfig {
  readonly featureFlags: readonly string[];
}
interface Row {
  readonly pKey: string;
  readonly sKey: string;
  readonly Data: string;
}

interface Schema extends CacheSchema {
  readonly parameters: {
    readonly '/app/db-url': string;
    readonly '/app/config': AppConfig;
    readonly [name: `/app/tree/${string}`]: string;
  };
  readonly tables: {
    readonly DynamoDbTable: {
      readonly key: { readonly pKey: string; readonly sKey: string };
      readonly item: Row;
    };
    readonly Orders: {
      readonly key: { readonly id: number | bigint };
      readonly item: { readonly total: number };
    };
  };
}

interface DbCredentials {
  readonly user: string;
  readonly password: string;
}
interface Settings {
  readonly timeoutMs: number;
}
interface CheckoutFlag {
  readonly enabled: boolean;
  readonly limit: number;
}

/** A schema with secrets and configurations as well. */
interface FullSchema extends Schema {
  readonly secrets: {
    readonly 'prod/db': DbCredentials;
    readonly 'prod/api-key': string;
  };
  readonly appconfig: {
    readonly 'shop/prod/settings': Settings;
    readonly 'shop/prod/flags': { readonly 'new-checkout': CheckoutFlag; readonly beta: FeatureFlag };
    readonly 'shop/dev/settings': Settings;
  };
}

declare const typed: CacheClient<Schema>;
declare const full: CacheClient<FullSchema>;
const untyped = createCacheClient();

describe('getParameter types', () => {
  it('returns string, string[] or the parsed type when transform says so', () => {
    expectTypeOf(untyped.getParameter('/any')).resolves.toEqualTypeOf<string>();
    expectTypeOf(untyped.getParameter('/any', { transform: 'list' })).resolves.toEqualTypeOf<string[]>();
    expectTypeOf(untyped.getParameter('/any', { transform: 'json' })).resolves.toEqualTypeOf<unknown>();
    expectTypeOf(
      untyped.getParameter<AppConfig>('/any', { transform: 'json' }),
    ).resolves.toEqualTypeOf<AppConfig>();
    expectTypeOf(getParameter('/any', { decrypt: false })).resolves.toEqualTypeOf<string>();
  });

  it('returns the metadata when metadata is true', () => {
    expectTypeOf(untyped.getParameter('/any', { metadata: true })).resolves.toEqualTypeOf<
      Parameter<string>
    >();
    expectTypeOf(untyped.getParameter('/any', { metadata: true, transform: 'list' })).resolves.toEqualTypeOf<
      Parameter<string[]>
    >();
    expectTypeOf(
      typed.getParameter('/app/config', { metadata: true, transform: 'json' }),
    ).resolves.toEqualTypeOf<Parameter<AppConfig>>();
  });

  it('takes the value type from the schema when transform is json', () => {
    expectTypeOf(
      typed.getParameter('/app/config', { transform: 'json' }),
    ).resolves.toEqualTypeOf<AppConfig>();
    expectTypeOf(
      typed.getParameter('/app/config:3', { transform: 'json' }),
    ).resolves.toEqualTypeOf<AppConfig>();
    expectTypeOf(typed.getParameter('/app/tree/a/b')).resolves.toEqualTypeOf<string>();
  });

  it('refuses a name the schema does not know', () => {
    // @ts-expect-error not in the schema
    void typed.getParameter('/app/typo');
    // @ts-expect-error not in the schema, even with a transform
    void typed.getParameter('/nope', { transform: 'json' });
    // @ts-expect-error transform is json or list
    void untyped.getParameter('/any', { transform: 'yaml' });
  });

  it('keeps the shape of the wire payload when metadata is returned', () => {
    expectTypeOf<Parameter<string>>().toEqualTypeOf<ParameterPayload>();
  });
});

describe('getItem types', () => {
  it('returns the schema item or undefined when the table and key match', () => {
    expectTypeOf(typed.getItem('DynamoDbTable', { pKey: 'a', sKey: 'b' })).resolves.toEqualTypeOf<
      Row | undefined
    >();
    expectTypeOf(typed.getItem('Orders', { id: 1n })).resolves.toEqualTypeOf<
      { readonly total: number } | undefined
    >();
  });

  it('returns the asked type or a record when there is no schema', () => {
    expectTypeOf(untyped.getItem<Row>('T', { pKey: 'a', sKey: 'b' })).resolves.toEqualTypeOf<
      Row | undefined
    >();
    expectTypeOf(untyped.getItem('T', { id: 1 })).resolves.toEqualTypeOf<
      Record<string, unknown> | undefined
    >();
    expectTypeOf(getItem<Row>('T', { id: new Uint8Array(1) })).resolves.toEqualTypeOf<Row | undefined>();
  });

  it('refuses a wrong table, a wrong key shape or a wrong key type', () => {
    // @ts-expect-error unknown table
    void typed.getItem('Typo', { pKey: 'a', sKey: 'b' });
    // @ts-expect-error missing sort key
    void typed.getItem('DynamoDbTable', { pKey: 'a' });
    // @ts-expect-error extra attribute
    void typed.getItem('DynamoDbTable', { pKey: 'a', sKey: 'b', other: 'c' });
    // @ts-expect-error number where the schema says string
    void typed.getItem('DynamoDbTable', { pKey: 1, sKey: 'b' });
    // @ts-expect-error key values are strings, numbers, bigints or bytes
    void untyped.getItem('T', { id: true });
  });
});

describe('getSecret types', () => {
  it('returns string, bytes or the parsed type when transform says so', () => {
    expectTypeOf(untyped.getSecret('any')).resolves.toEqualTypeOf<string>();
    expectTypeOf(untyped.getSecret('any', { versionStage: 'AWSPREVIOUS' })).resolves.toEqualTypeOf<string>();
    expectTypeOf(untyped.getSecret('any', { transform: 'binary' })).resolves.toEqualTypeOf<Uint8Array>();
    expectTypeOf(untyped.getSecret('any', { transform: 'json' })).resolves.toEqualTypeOf<unknown>();
    expectTypeOf(
      untyped.getSecret<DbCredentials>('any', { transform: 'json' }),
    ).resolves.toEqualTypeOf<DbCredentials>();
    expectTypeOf(getSecret('any', { forceFetch: true })).resolves.toEqualTypeOf<string>();
  });

  it('returns the metadata when metadata is true', () => {
    expectTypeOf(untyped.getSecret('any', { metadata: true })).resolves.toEqualTypeOf<Secret<string>>();
    expectTypeOf(untyped.getSecret('any', { metadata: true, transform: 'binary' })).resolves.toEqualTypeOf<
      Secret<Uint8Array>
    >();
    expectTypeOf(full.getSecret('prod/db', { metadata: true, transform: 'json' })).resolves.toEqualTypeOf<
      Secret<DbCredentials>
    >();
  });

  it('takes the value type from the schema when transform is json', () => {
    expectTypeOf(full.getSecret('prod/db', { transform: 'json' })).resolves.toEqualTypeOf<DbCredentials>();
    expectTypeOf(full.getSecret('prod/api-key')).resolves.toEqualTypeOf<string>();
  });

  it('accepts any id when the schema lists no secrets', () => {
    expectTypeOf(typed.getSecret('whatever')).resolves.toEqualTypeOf<string>();
    expectTypeOf(typed.getSecret('whatever', { transform: 'json' })).resolves.toEqualTypeOf<unknown>();
  });

  it('refuses an id the schema does not know and an unknown transform', () => {
    // @ts-expect-error not in the schema
    void full.getSecret('prod/typo');
    // @ts-expect-error transform is json or binary
    void untyped.getSecret('any', { transform: 'list' });
    // @ts-expect-error an id is a string
    void untyped.getSecret(42);
  });
});

describe('getAppConfig and getFeatureFlag types', () => {
  it('returns text, bytes or the parsed type when transform says so', () => {
    expectTypeOf(untyped.getAppConfig('a', 'e', 'p')).resolves.toEqualTypeOf<string>();
    expectTypeOf(
      untyped.getAppConfig('a', 'e', 'p', { transform: 'binary' }),
    ).resolves.toEqualTypeOf<Uint8Array>();
    expectTypeOf(
      untyped.getAppConfig('a', 'e', 'p', { transform: 'json' }),
    ).resolves.toEqualTypeOf<unknown>();
    expectTypeOf(
      untyped.getAppConfig<Settings>('a', 'e', 'p', { transform: 'json' }),
    ).resolves.toEqualTypeOf<Settings>();
    expectTypeOf(getAppConfig('a', 'e', 'p', { forceFetch: true })).resolves.toEqualTypeOf<string>();
  });

  it('takes the configuration type from the schema when transform is json', () => {
    expectTypeOf(
      full.getAppConfig('shop', 'prod', 'settings', { transform: 'json' }),
    ).resolves.toEqualTypeOf<Settings>();
    expectTypeOf(typed.getAppConfig('any', 'thing', 'goes')).resolves.toEqualTypeOf<string>();
  });

  it('returns a flag typed by the schema, or { enabled, …attributes } without one', () => {
    expectTypeOf(
      full.getFeatureFlag('shop', 'prod', 'flags', 'new-checkout'),
    ).resolves.toEqualTypeOf<CheckoutFlag>();
    expectTypeOf(untyped.getFeatureFlag('a', 'e', 'p', 'f')).resolves.toEqualTypeOf<FeatureFlag>();
    expectTypeOf(getFeatureFlag('a', 'e', 'p', 'f'))
      .resolves.toHaveProperty('enabled')
      .toEqualTypeOf<boolean>();
    expectTypeOf(
      untyped.getFeatureFlag<CheckoutFlag>('a', 'e', 'p', 'f'),
    ).resolves.toEqualTypeOf<CheckoutFlag>();
  });

  it('refuses names and flags the schema does not know', () => {
    // @ts-expect-error no such application
    void full.getAppConfig('shoop', 'prod', 'settings');
    // @ts-expect-error no such environment for shop
    void full.getAppConfig('shop', 'staging', 'settings');
    // @ts-expect-error no flags profile in dev
    void full.getAppConfig('shop', 'dev', 'flags');
    // @ts-expect-error no such flag
    void full.getFeatureFlag('shop', 'prod', 'flags', 'gamma');
    // @ts-expect-error transform is json or binary
    void untyped.getAppConfig('a', 'e', 'p', { transform: 'list' });
  });
});

describe('error types', () => {
  it('narrows with instanceof when an error is caught', () => {
    const err: unknown = undefined;
    if (err instanceof UpstreamError) expectTypeOf(err.awsCode).toEqualTypeOf<string | undefined>();
    if (err instanceof NotFoundError)
      expectTypeOf(err.code).toEqualTypeOf<
        | 'NotFound'
        | 'TableNotFound'
        | 'BadRequest'
        | 'Forbidden'
        | 'Throttled'
        | 'UpstreamError'
        | 'UpstreamTimeout'
        | 'ExtensionUnavailable'
        | 'ExtensionError'
        | 'Timeout'
        | 'Aborted'
        | 'TransformFailed'
        | 'InvalidOption'
      >();
  });
});
