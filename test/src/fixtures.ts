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

/** The AppConfig application and environment of {@link appconfigSeed}. */
export const APPCONFIG_APP = 'shop';
export const APPCONFIG_ENV = 'prod';

/** AppConfig's minimum poll interval: the poll tests wait no longer than a session allows. */
export const APPCONFIG_POLL_MS = 15_000;
/** Past the interval by this much before a poll is expected: the extension's and AppConfigData's clocks both allow it. */
export const APPCONFIG_POLL_MARGIN_MS = 600;

/** The AppConfig agent's path of a configuration of {@link APPCONFIG_APP} and {@link APPCONFIG_ENV}. */
export function appconfigAgentPath(profile: string, query = ''): string {
  return `/applications/${APPCONFIG_APP}/environments/${APPCONFIG_ENV}/configurations/${profile}${query}`;
}

/**
 * Configurations of three content types and a feature-flag profile, each with a version label (answered as
 * `Configuration-Version`). The texts are written by hand, spacing and non-ASCII included, so a body that
 * is re-serialised rather than passed through differs from them.
 */
export const APPCONFIG_CONFIGS = {
  settings: {
    content: '{ "currency": "EUR",\n  "limit-7c1d": 250, "motto": "Grüße — ünïcode" }\n',
    contentType: 'application/json',
    versionLabel: 'settings-v1',
  },
  motd: {
    content: 'Welcome to the shop, today until 18:00 — motd-5e2b\n',
    contentType: 'text/plain',
    versionLabel: 'motd-v1',
  },
  rules: {
    content: '# shipping rules\nfree-over: 50\nzones:\n  - eu-9a4f\n  - uk\n',
    contentType: 'application/x-yaml',
    versionLabel: 'rules-v1',
  },
} as const;

/** The feature flags of the `flags` profile, as GetLatestConfiguration answers them. */
export const APPCONFIG_FLAGS = {
  checkout: { enabled: true, variant: 'checkout-blue-3d8e' },
  search: { enabled: false },
  banner: { enabled: true, text: 'banner-text-61c0' },
};

/** A configuration of another application, named only in `AWS_APPCONFIG_EXTENSION_PREFETCH_LIST`. */
export const APPCONFIG_AGENT_CONFIG = {
  application: 'billing',
  environment: 'live',
  profile: 'limits',
  content: '{"maxInvoices":12,"note":"agent-listed-0b7e"}',
  contentType: 'application/json',
  versionLabel: 'limits-v3',
} as const;

/** {@link APPCONFIG_CONFIGS}, the flags and {@link APPCONFIG_AGENT_CONFIG}, as the local AppConfigData starts with them. */
export function appconfigSeed(): NonNullable<Seed['appconfig']> {
  return [
    ...Object.entries(APPCONFIG_CONFIGS).map(([profile, c]) => ({
      application: APPCONFIG_APP,
      environment: APPCONFIG_ENV,
      profile,
      ...c,
    })),
    {
      application: APPCONFIG_APP,
      environment: APPCONFIG_ENV,
      profile: 'flags',
      flags: APPCONFIG_FLAGS,
      versionLabel: 'flags-v1',
    },
    { ...APPCONFIG_AGENT_CONFIG },
  ];
}

/** An `appconfig:` section naming `profiles` of {@link APPCONFIG_APP}/{@link APPCONFIG_ENV}. */
export function appconfigConfig(profiles: readonly string[], pollInterval?: string): string {
  const lines = ['appconfig:'];
  for (const profile of profiles) {
    lines.push(
      `  - application: ${APPCONFIG_APP}`,
      `    environment: ${APPCONFIG_ENV}`,
      `    profile: ${profile}`,
    );
    if (pollInterval !== undefined) lines.push(`    pollInterval: ${pollInterval}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Texts of the AppConfig seed that must never be logged (the harness checks each stack's lines for them). */
export const APPCONFIG_VALUES: readonly string[] = [
  'limit-7c1d',
  'motd-5e2b',
  'eu-9a4f',
  'checkout-blue-3d8e',
  'banner-text-61c0',
  'agent-listed-0b7e',
];

/**
 * A handler written for AWS's AppConfig extension, as its documentation calls it: `fetch` to localhost on
 * `AWS_APPCONFIG_EXTENSION_HTTP_PORT` (else 2772), no token. The event names the path to read.
 */
export const APPCONFIG_AGENT_HANDLER = `export const handler = async (event) => {
  const port = process.env.AWS_APPCONFIG_EXTENSION_HTTP_PORT ?? 2772;
  const res = await fetch(\`http://localhost:\${port}\${event.path}\`);
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    version: res.headers.get('configuration-version'),
    body: await res.text(),
  };
};
`;

/** What {@link APPCONFIG_AGENT_HANDLER} returns. */
export interface AgentResult {
  status: number;
  contentType: string | null;
  version: string | null;
  body: string;
}

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
