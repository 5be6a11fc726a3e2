// Generated from config.yaml by lambda-cache-types (from @lambda-cache/client); regenerate when it changes.
// Then refined by hand, as the generator suggests: the item type is the seed's row.
import type { CacheSchema } from '@lambda-cache/client';

/** The seed's item: `pKey`/`sKey` key and one `Data` attribute. */
export interface Row {
  readonly pKey: string;
  readonly sKey: string;
  readonly Data: string;
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
}
