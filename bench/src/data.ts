/**
 * What the benchmark stores in the local backends and the config.yaml files that prefetch it. The seed's
 * own example (one parameter, one secret through SSM's reference prefix, one item) is the "seed's config";
 * the seed stack adds a secret and a configuration to it, for the hit path.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Seed } from '@lambda-cache/local';

export const REGION = 'us-west-2';

export const SEED_PARAMETER = 'CacheExtensions_Parameter1';
export const SEED_TABLE = 'DynamoDbTable';
export const SEED_ITEM_KEY = { pKey: 'pKey1', sKey: 'sKey1' } as const;
/** The seed's secret (its config reads it through SSM's reference name), read here from Secrets Manager. */
export const SEED_SECRET = 'secret_info';
/** The example function's feature-flag profile (`example-function/seed.yaml`) and the flag it reads. */
export const SEED_APPCONFIG = {
  application: 'example-app',
  environment: 'local',
  profile: 'feature-flags',
} as const;
export const SEED_FLAG = 'new_greeting';
/** The example's other secret, read through by its handler (`example-function/seed.yaml`). */
export const EXAMPLE_API_KEY = 'example/api-key';

/** The example function (`example-function/`, built): the seed's function, reading through the client. */
export const EXAMPLE_DIR = fileURLToPath(new URL('../../example-function/', import.meta.url));
export const EXAMPLE_HANDLER = 'dist/index.handler';
export const EXAMPLE_CONFIG = fileURLToPath(new URL('../../example-function/config.yaml', import.meta.url));
/** What `npm start` sets for the example (`example-function/scripts/start.mjs`): its flags, prefetched. */
export const EXAMPLE_ENV: Readonly<Record<string, string>> = {
  AWS_APPCONFIG_EXTENSION_PREFETCH_LIST: `/applications/${SEED_APPCONFIG.application}/environments/${SEED_APPCONFIG.environment}/configurations/${SEED_APPCONFIG.profile}`,
};

/** The seed's `config.yaml`, as the example function ships it (the seed's format, unchanged). */
export const SEED_CONFIG = readFileSync(
  new URL('../../example-function/config.yaml', import.meta.url),
  'utf8',
);

/**
 * The seed stack's config (hit path, client, no-cache): the seed's, then a `secrets:` and an `appconfig:`
 * section, so the secret and the configuration are prefetched as the parameter and the item are. Their
 * freshness outlasts the run, so every measured request is a fresh hit and none starts a refresh (the
 * parameter's 5 m default outlasts its own rounds too).
 */
export const SEED_STACK_CONFIG = [
  SEED_CONFIG.trimEnd(),
  'secrets:',
  `  - region: ${REGION}`,
  '    ttl: 1h',
  '    names:',
  `      - ${SEED_SECRET}`,
  'appconfig:',
  `  - application: ${SEED_APPCONFIG.application}`,
  `    environment: ${SEED_APPCONFIG.environment}`,
  `    profile: ${SEED_APPCONFIG.profile}`,
  `    region: ${REGION}`,
  '    pollInterval: 1h',
  '',
].join('\n');

export const BENCH_TABLE = 'BenchTable';

/** Names of the prefetch parameters, the 1 KB parameters and the read-through parameters. */
export const prefetchName = (i: number): string => `/bench/prefetch/p${i}`;
export const kilobyteName = (i: number): string => `/bench/kb/p${i}`;
export const READ_THROUGH_PREFIX = '/bench/read-through/p';
export const prefetchKey = (i: number): { pKey: string; sKey: string } => ({ pKey: `item${i}`, sKey: 'v1' });

export interface DataSizes {
  /** Parameters and items for the prefetch runs. */
  readonly prefetch: number;
  /** 1 KB parameters for the memory runs. */
  readonly kilobyte: number;
  readonly valueBytes: number;
  /** Parameters only ever read through. */
  readonly readThrough: number;
}

/** A deterministic printable value of exactly `bytes` characters. */
export function fixedValue(i: number, bytes: number): string {
  const head = `value-${i}-`;
  return head + 'x'.repeat(Math.max(0, bytes - head.length));
}

export function benchSeed(sizes: DataSizes): Seed {
  const parameters: { name: string; value: string }[] = [{ name: SEED_PARAMETER, value: 'Parameter_value' }];
  for (let i = 0; i < sizes.prefetch; i++)
    parameters.push({ name: prefetchName(i), value: fixedValue(i, 64) });
  for (let i = 0; i < sizes.kilobyte; i++)
    parameters.push({ name: kilobyteName(i), value: fixedValue(i, sizes.valueBytes) });
  for (let i = 0; i < sizes.readThrough; i++)
    parameters.push({ name: `${READ_THROUGH_PREFIX}${i}`, value: fixedValue(i, 32) });
  const items: Record<string, string>[] = [];
  for (let i = 0; i < sizes.prefetch; i++) items.push({ ...prefetchKey(i), Data: fixedValue(i, 64) });
  return {
    parameters,
    secrets: [
      { name: SEED_SECRET, value: 'secret-info-value' },
      // The example function's: a rotated secret, AWSCURRENT the second version.
      { name: EXAMPLE_API_KEY, versions: [{ value: 'bench-api-key-1' }, { value: 'bench-api-key-2' }] },
    ],
    appconfig: [
      {
        ...SEED_APPCONFIG,
        flags: {
          [SEED_FLAG]: { enabled: true, text: 'Hello from the bench' },
          beta_banner: { enabled: false },
        },
      },
    ],
    tables: [
      {
        name: SEED_TABLE,
        hashKey: { name: 'pKey', type: 'S' },
        sortKey: { name: 'sKey', type: 'S' },
        items: [{ ...SEED_ITEM_KEY, Data: 'Data goes here' }],
      },
      {
        name: BENCH_TABLE,
        hashKey: { name: 'pKey', type: 'S' },
        sortKey: { name: 'sKey', type: 'S' },
        items,
      },
    ],
  };
}

/** A config.yaml in the seed's own format: one `names` list, one `dynamodb` entry per item. */
export function configFor(parameterNames: readonly string[], itemCount: number): string {
  const lines: string[] = [];
  if (parameterNames.length > 0) {
    lines.push('parameters:', `  - region: ${REGION}`, '    names:');
    for (const name of parameterNames) lines.push(`      - ${name}`);
  }
  if (itemCount > 0) {
    lines.push('dynamodb:');
    for (let i = 0; i < itemCount; i++) {
      const key = prefetchKey(i);
      lines.push(
        `  - table: ${BENCH_TABLE}`,
        '    hashkey: pKey',
        '    hashkeytype: S',
        `    hashkeyvalue: ${key.pKey}`,
        '    sortkey: sKey',
        '    sortkeytype: S',
        `    sortkeyvalue: ${key.sKey}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** A name of the generated config: 19 characters, so 1 MiB holds about 37 000 of them. */
export const configLoadName = (i: number): string => `/bench/cfg/p${String(i).padStart(7, '0')}`;

/**
 * A seed-format config.yaml of at most `bytes` bytes, as many {@link configLoadName}s in one `names` list
 * as fit (the extension refuses a config over 1 MiB, so 1 MiB is the largest a user can have).
 */
export function configOfBytes(bytes: number): { text: string; names: number } {
  const lines = ['parameters:', `  - region: ${REGION}`, '    names:'];
  let size = lines.reduce((n, l) => n + l.length + 1, 0);
  let names = 0;
  for (;;) {
    const line = `      - ${configLoadName(names)}`;
    if (size + line.length + 1 > bytes) break;
    lines.push(line);
    size += line.length + 1;
    names++;
  }
  return { text: `${lines.join('\n')}\n`, names };
}
