/**
 * The seed's example, as its README set it up: one parameter, one Secrets Manager secret read through
 * SSM's `/aws/reference/secretsmanager/` prefix, and one item of `DynamoDbTable` (pKey/sKey).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadSeed, type Seed } from '@lambda-cache/local';

export const SEED_REGION = 'us-west-2';
export const SEED_TABLE = 'DynamoDbTable';
export const SEED_PARAMETER = 'CacheExtensions_Parameter1';
export const SEED_PARAMETER_VALUE = 'Parameter_value';
export const SEED_SECRET = 'secret_info';
export const SEED_SECRET_VALUE = 'secret-info-value-2f9c1e';
export const SEED_ITEM = { pKey: 'pKey1', sKey: 'sKey1', Data: 'Data goes here' } as const;

/** The seed's `config.yaml`, byte for byte as the seed wrote it: the extension's config fixture. */
export const seedConfig = readFileSync(
  new URL('../../extension/test/fixtures/seed.yaml', import.meta.url),
  'utf8',
);

export function seedData(): Seed {
  return {
    parameters: [{ name: SEED_PARAMETER, value: SEED_PARAMETER_VALUE }],
    secrets: [{ name: SEED_SECRET, value: SEED_SECRET_VALUE }],
    tables: [
      {
        name: SEED_TABLE,
        hashKey: { name: 'pKey', type: 'S' },
        sortKey: { name: 'sKey', type: 'S' },
        items: [{ ...SEED_ITEM }],
      },
    ],
  };
}

/** The `key=` value of the seed's item, in DynamoDB JSON. */
export const SEED_ITEM_KEY = { pKey: { S: 'pKey1' }, sKey: { S: 'sKey1' } } as const;

/**
 * The example function's `seed.yaml`, as `npm start` loads it: besides the seed's parameter and item, a
 * JSON secret (`secret_info`), a secret rotated once ({@link EXAMPLE_ROTATED_SECRET}) and a feature-flag
 * profile ({@link EXAMPLE_FLAGS}).
 */
export function exampleSeed(): Promise<Seed> {
  return loadSeed(fileURLToPath(new URL('../../example-function/seed.yaml', import.meta.url)));
}

/** The example seed's secret with two versions: the first is `AWSPREVIOUS`, the second `AWSCURRENT`. */
export const EXAMPLE_ROTATED_SECRET = 'example/api-key';

/** The example seed's feature-flag profile and its flags. */
export const EXAMPLE_FLAGS = {
  application: 'example-app',
  environment: 'local',
  profile: 'feature-flags',
  flags: ['new_greeting', 'beta_banner'],
} as const;
