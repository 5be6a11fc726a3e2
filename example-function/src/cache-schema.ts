// Generated from config.yaml by lambda-cache-types (from @lambda-cache/client); regenerate when it changes.
// Then refined by hand, as the generator suggests: the item type is the seed's row, and the secret and
// the feature-flag profile the function reads through (they are not in config.yaml) are added.
import type { CacheSchema } from '@lambda-cache/client';

/** The seed's item: `pKey`/`sKey` key and one `Data` attribute. */
export interface Row {
  readonly pKey: string;
  readonly sKey: string;
  readonly Data: string;
}

/** The flags of `example-app/local/feature-flags`, as seed.yaml deploys them. */
export interface ExampleFlags {
  readonly new_greeting: { readonly enabled: boolean; readonly text?: string };
  readonly beta_banner: { readonly enabled: boolean };
}

export interface Schema extends CacheSchema {
  readonly parameters: {
    readonly CacheExtensions_Parameter1: string;
    readonly '/aws/reference/secretsmanager/secret_info': string;
  };
  readonly tables: {
    readonly DynamoDbTable: {
      readonly key: { readonly pKey: string; readonly sKey: string };
      readonly item: Row;
    };
  };
  readonly secrets: {
    readonly 'example/api-key': string;
  };
  readonly appconfig: {
    readonly 'example-app/local/feature-flags': ExampleFlags;
  };
}
