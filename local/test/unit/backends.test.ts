import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { checkSeed, loadSeed, SeedError, startBackends } from '../../src/backends.js';
import { secretsClient, ssmClient } from '../fixtures/aws-clients.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const exampleSeed = fileURLToPath(new URL('../../../example-function/seed.yaml', import.meta.url));

/** One GetLatestConfiguration of a fresh session, over the restJson1 wire. */
async function latestConfiguration(
  endpoint: string,
  ids: { application: string; environment: string; profile: string },
): Promise<{ contentType: string | null; text: string }> {
  const started = await fetch(`${endpoint}/configurationsessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      ApplicationIdentifier: ids.application,
      EnvironmentIdentifier: ids.environment,
      ConfigurationProfileIdentifier: ids.profile,
    }),
  });
  const { InitialConfigurationToken } = (await started.json()) as { InitialConfigurationToken: string };
  const latest = await fetch(
    `${endpoint}/configuration?configuration_token=${encodeURIComponent(InitialConfigurationToken)}`,
  );
  return { contentType: latest.headers.get('content-type'), text: await latest.text() };
}

/**
 * Counts of the handle kinds a leaked server or socket would show up as, once the handles that
 * earlier tests closed have left the list (a closed handle is listed until the next loop turn).
 */
async function settledHandles(): Promise<Record<string, number>> {
  let previous = JSON.stringify(networkHandles());
  for (let i = 0; i < 50; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    const current = JSON.stringify(networkHandles());
    if (current === previous) break;
    previous = current;
  }
  return networkHandles();
}

function networkHandles(): Record<string, number> {
  const counts: Record<string, number> = { TCPServerWrap: 0, TCPSocketWrap: 0 };
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind in counts) counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

describe('loadSeed', () => {
  it('reads parameters, secrets and tables when the file is YAML', async () => {
    const seed = await loadSeed(fixture('seed.yaml'));
    expect(seed.parameters?.map((p) => p.name)).toEqual([
      'CacheExtensions_Parameter1',
      '/app/prod/db-url',
      '/app/prod/feature',
    ]);
    expect(seed.parameters?.[2]).toMatchObject({ value: 'on', history: ['off', 'maybe'], labels: ['live'] });
    expect(seed.tables?.[0]).toMatchObject({ name: 'DynamoDbTable', sortKey: { name: 'sKey', type: 'S' } });
  });

  it('reads the same shape when the file is JSON', async () => {
    const seed = await loadSeed(fixture('seed.json'));
    expect(seed.tables?.[0]?.items).toEqual([{ id: 7, ok: true }]);
  });

  it('names the file and the member when a key is unknown', async () => {
    const error = await loadSeed(fixture('seed-unknown-key.yaml')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SeedError);
    expect((error as Error).message).toContain('seed-unknown-key.yaml');
    expect((error as Error).message).toContain('parameters[0].colour');
  });

  it('names the item attribute when a key value has the wrong type', async () => {
    await expect(loadSeed(fixture('seed-bad-key-type.yaml'))).rejects.toThrow(
      /tables\[0\]\.items\[0\]\.id must be a number/,
    );
  });

  it('takes the text of numbers and booleans and the JSON of a secret mapping when values are not strings', () => {
    const seed = checkSeed({
      parameters: [{ name: '/n', value: 42, history: [true] }],
      secrets: [{ name: 's', value: { user: 'app', port: 5432 } }],
    });
    expect(seed.parameters?.[0]).toMatchObject({ value: '42', history: ['true'] });
    expect(seed.secrets?.[0]?.value).toBe('{"user":"app","port":5432}');
  });

  it('refuses an empty or missing value and names it', () => {
    expect(() => checkSeed({ parameters: [{ name: '/n' }] })).toThrow(
      /parameters\[0\]\.value must be a non-empty string/,
    );
    expect(() => checkSeed({ secrets: [{ name: 's', value: '' }] })).toThrow(/secrets\[0\]\.value must be/);
  });

  it('names the table when its name breaks the DynamoDB rule', () => {
    expect(() =>
      checkSeed({ tables: [{ name: 'T', hashKey: { name: 'id', type: 'S' }, items: [] }] }),
    ).toThrow(/seed: tables\[0\]\.name must be 3 to 255 characters/);
  });

  it('reads secret versions, binary secrets, rotation and appconfig entries when the file is YAML', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seed-'));
    try {
      await writeFile(
        join(dir, 'seed.yaml'),
        [
          'secrets:',
          '  - name: db',
          '    description: Database login',
          '    versions:',
          '      - value: { user: app, password: old }',
          '      - value: new',
          '        stages: [AWSCURRENT, blue]',
          '      - binary: AAEC',
          '        stages: [AWSPENDING]',
          '        id: 0123456789abcdef0123456789abcdef',
          '    rotation: { afterDays: 30, lastRotated: 2026-01-01T00:00:00Z }',
          'appconfig:',
          '  - { application: shop, environment: prod, profile: settings, content: { maxItems: 10 }, versionLabel: v1 }',
          '  - application: shop',
          '    environment: prod',
          '    profile: flags',
          '    flags: { ui_refresh: { enabled: true, colour: blue } }',
          '',
        ].join('\n'),
      );
      const seed = await loadSeed(join(dir, 'seed.yaml'));
      expect(seed.secrets?.[0]).toEqual({
        name: 'db',
        description: 'Database login',
        versions: [
          { value: '{"user":"app","password":"old"}' },
          { value: 'new', stages: ['AWSCURRENT', 'blue'] },
          { binary: 'AAEC', stages: ['AWSPENDING'], id: '0123456789abcdef0123456789abcdef' },
        ],
        rotation: { afterDays: 30, lastRotated: '2026-01-01T00:00:00Z' },
      });
      expect(seed.appconfig).toEqual([
        {
          application: 'shop',
          environment: 'prod',
          profile: 'settings',
          content: { maxItems: 10 },
          versionLabel: 'v1',
        },
        {
          application: 'shop',
          environment: 'prod',
          profile: 'flags',
          flags: { ui_refresh: { enabled: true, colour: 'blue' } },
        },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names the member when a secret or appconfig entry has the wrong shape', () => {
    const cases: Array<[unknown, RegExp]> = [
      [
        { secrets: [{ name: 's', value: 'x', versions: [{ value: 'y' }] }] },
        /secrets\[0\]\.versions must be absent/,
      ],
      [
        { secrets: [{ name: 's', value: 'x', binary: 'AA==' }] },
        /secrets\[0\] must be given value or binary/,
      ],
      [{ secrets: [{ name: 's', binary: 'not base64!' }] }, /secrets\[0\]\.binary must be base64/],
      [{ secrets: [{ name: 's', versions: [] }] }, /secrets\[0\]\.versions must be a list of at least one/],
      [
        { secrets: [{ name: 's', versions: [{ value: 'x', stages: 'AWSCURRENT' }] }] },
        /versions\[0\]\.stages must be a list/,
      ],
      [
        { secrets: [{ name: 's', value: 'x', rotation: { afterDays: 0 } }] },
        /rotation\.afterDays must be a whole number/,
      ],
      [
        { secrets: [{ name: 's', value: 'x', rotation: { nextRotation: 'soon' } }] },
        /rotation\.nextRotation must be an ISO 8601 date/,
      ],
      [
        { appconfig: [{ application: 'a', environment: 'e', profile: 'p' }] },
        /appconfig\[0\] must be given content or flags/,
      ],
      [
        { appconfig: [{ application: 'a', environment: 'e', content: 'x' }] },
        /appconfig\[0\]\.profile must be a non-empty string/,
      ],
      [
        {
          appconfig: [
            { application: 'a', environment: 'e', profile: 'p', flags: { on: { enabled: 'yes' } } },
          ],
        },
        /appconfig\[0\]\.flags: flag on: enabled must be true or false/,
      ],
      [
        { appconfig: [{ application: 'a', environment: 'e', profile: 'p', content: 'x', colour: 1 }] },
        /appconfig\[0\]\.colour must be absent/,
      ],
    ];
    for (const [seed, message] of cases) {
      expect(() => checkSeed(seed)).toThrow(message);
    }
  });

  it('names the file when it is not valid YAML', async () => {
    // Written at run time: a broken YAML file in the tree would fail the formatter.
    const dir = await mkdtemp(join(tmpdir(), 'seed-'));
    try {
      await writeFile(join(dir, 'broken.yaml'), 'parameters: [\n  - name: : :\n');
      await expect(loadSeed(join(dir, 'broken.yaml'))).rejects.toThrow(/broken\.yaml: not valid YAML/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names the file when it does not exist', async () => {
    await expect(loadSeed(fixture('missing.yaml'))).rejects.toThrow(
      /missing\.yaml: cannot read the seed file \(ENOENT\)/,
    );
  });

  it('refuses a file when its extension is not yaml, yml or json', async () => {
    await expect(loadSeed(fixture('aws-clients.ts'))).rejects.toThrow(SeedError);
  });
});

describe('startBackends', () => {
  it('serves the seed file to SDK clients configured only by env when given a path', async () => {
    const backends = await startBackends({ seed: fixture('seed.yaml'), region: 'us-west-2' });
    const saved = { ...process.env };
    Object.assign(process.env, backends.env);
    delete process.env.AWS_PROFILE;
    const ssm = new SSMClient({ maxAttempts: 1 });
    const secrets = new SecretsManagerClient({ maxAttempts: 1 });
    const dynamo = new DynamoDBClient({ maxAttempts: 1 });
    try {
      expect(backends.env).toMatchObject({ AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'us-west-2' });
      expect(backends.env.AWS_ENDPOINT_URL_SSM).toBe(backends.ssm.endpoint);
      expect(backends.env.AWS_ENDPOINT_URL_SECRETS_MANAGER).toBe(backends.secretsManager.endpoint);
      expect(backends.env.AWS_ENDPOINT_URL_APPCONFIGDATA).toBe(backends.appConfig.endpoint);
      expect(backends.ssm.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const parameter = await ssm.send(new GetParameterCommand({ Name: 'CacheExtensions_Parameter1' }));
      expect(parameter.Parameter?.Value).toBe('Parameter 1 value');
      expect(parameter.Parameter?.ARN).toContain(':us-west-2:');
      const secret = await secrets.send(new GetSecretValueCommand({ SecretId: 'secret_info' }));
      expect(JSON.parse(secret.SecretString ?? '{}')).toMatchObject({ username: 'app' });
      const item = await dynamo.send(
        new GetItemCommand({
          TableName: 'DynamoDbTable',
          Key: { pKey: { S: 'pKey1' }, sKey: { S: 'sKey1' } },
        }),
      );
      expect(item.Item?.Data).toEqual({ S: 'Data goes here' });
      expect(backends.ssm.calls).toEqual({ GetParameter: 1 });
      expect(backends.secretsManager.calls).toEqual({ GetSecretValue: 1 });
      expect(backends.dynamodb.calls).toEqual({ GetItem: 1 });
    } finally {
      process.env = saved;
      ssm.destroy();
      secrets.destroy();
      dynamo.destroy();
      await backends.close();
    }
  });

  it('gives each history entry its own version and labels the current one when seeded', async () => {
    const backends = await startBackends({ seed: fixture('seed.yaml') });
    const ssm = ssmClient(backends.ssm);
    try {
      const result = await ssm.send(
        new GetParametersCommand({
          Names: ['/app/prod/feature:1', '/app/prod/feature:live', '/app/prod/feature:2'],
        }),
      );
      expect(result.Parameters?.map((p) => [p.Value, p.Version])).toEqual([
        ['off', 1],
        ['on', 3],
        ['maybe', 2],
      ]);
    } finally {
      ssm.destroy();
      await backends.close();
    }
  });

  it('adds a version readable over HTTP when putParameter overwrites', async () => {
    const backends = await startBackends();
    const ssm = ssmClient(backends.ssm);
    try {
      backends.ssm.putParameter({ name: '/late', value: 'one' });
      backends.ssm.putParameter({ name: '/late', value: 'two', overwrite: true });
      expect(() => backends.ssm.putParameter({ name: '/late', value: 'three' })).toThrow(/already exists/);
      const { Parameter } = await ssm.send(new GetParameterCommand({ Name: '/late' }));
      expect(Parameter).toMatchObject({ Value: 'two', Version: 2 });
      expect(backends.ssm.calls).toEqual({ GetParameter: 1 });
    } finally {
      ssm.destroy();
      await backends.close();
    }
  });

  it('refuses a seed with a clear error and leaves nothing listening when the seed is invalid', async () => {
    const before = await settledHandles();
    await expect(
      startBackends({
        seed: { tables: [{ name: 'T', hashKey: { name: 'id', type: 'S' }, items: [{ id: 1 }] }] },
      }),
    ).rejects.toThrow(SeedError);
    expect(networkHandles()).toEqual(before);
  });

  it('leaves no server or socket open when closed, and closes again without error', async () => {
    const before = await settledHandles();
    const backends = await startBackends({ seed: fixture('seed.yaml') });
    const ssm = ssmClient(backends.ssm);
    await ssm.send(new GetParameterCommand({ Name: 'CacheExtensions_Parameter1' }));
    expect(networkHandles().TCPServerWrap).toBeGreaterThan(before.TCPServerWrap ?? 0);
    ssm.destroy();
    await backends.close();
    await backends.close();
    expect(await settledHandles()).toEqual(before);
  });

  it('names the entry when a seeded parameter breaks an AWS rule', async () => {
    await expect(
      startBackends({
        seed: {
          parameters: [
            { name: '/ok', value: 'v' },
            { name: 'aws-reserved', value: 'v' },
          ],
        },
      }),
    ).rejects.toThrow(/^seed: parameters\[1\]: .*prefixed with "aws" or "ssm"/);
    await expect(
      startBackends({ seed: { parameters: [{ name: '/ok', value: 'v', labels: ['9lives'] }] } }),
    ).rejects.toThrow(SeedError);
  });

  it('names the table and closes what it started when DynamoDB refuses a seeded item', async () => {
    const before = await settledHandles();
    const big = 'x'.repeat(500 * 1024);
    await expect(
      startBackends({
        seed: { tables: [{ name: 'Big', hashKey: { name: 'id', type: 'S' }, items: [{ id: '1', big }] }] },
      }),
    ).rejects.toThrow(/^seed: tables\[0\]: Could not write items into Big/);
    expect(await settledHandles()).toEqual(before);
  });

  it('serves seeded secret versions with their stages, a binary version and the rotation dates', async () => {
    const backends = await startBackends({
      seed: {
        secrets: [
          {
            name: 'db',
            description: 'Database login',
            versions: [
              { value: 'one' },
              { value: 'two', stages: ['AWSCURRENT', 'blue'] },
              { binary: 'AAEC', stages: ['AWSPENDING'], id: '0123456789abcdef0123456789abcdef' },
            ],
            rotation: { afterDays: 30, lastRotated: '2026-01-01T00:00:00Z' },
          },
        ],
      },
    });
    const secrets = secretsClient(backends.secretsManager);
    try {
      const get = (VersionStage: string) =>
        secrets.send(new GetSecretValueCommand({ SecretId: 'db', VersionStage }));
      expect((await get('AWSCURRENT')).SecretString).toBe('two');
      expect((await get('blue')).SecretString).toBe('two');
      expect((await get('AWSPREVIOUS')).SecretString).toBe('one');
      const pending = await get('AWSPENDING');
      expect(pending.VersionId).toBe('0123456789abcdef0123456789abcdef');
      expect(Array.from(pending.SecretBinary ?? [])).toEqual([0, 1, 2]);
      const described = await secrets.send(new DescribeSecretCommand({ SecretId: 'db' }));
      expect(described).toMatchObject({
        Description: 'Database login',
        RotationEnabled: true,
        RotationRules: { AutomaticallyAfterDays: 30 },
        LastRotatedDate: new Date('2026-01-01T00:00:00Z'),
        NextRotationDate: new Date('2026-01-31T00:00:00Z'),
      });
      expect(backends.secretsManager.calls).toEqual({ GetSecretValue: 4, DescribeSecret: 1 });
    } finally {
      secrets.destroy();
      await backends.close();
    }
  });

  it('names the entry when a seeded secret version breaks an AWS rule', async () => {
    await expect(
      startBackends({ seed: { secrets: [{ name: 's', versions: [{ value: 'x', id: 'short' }] }] } }),
    ).rejects.toThrow(/^seed: secrets\[0\]: .*clientRequestToken.*length greater than or equal to 32/);
  });

  it('serves the secrets and the feature flags of example-function/seed.yaml', async () => {
    const backends = await startBackends({ seed: exampleSeed });
    const secrets = secretsClient(backends.secretsManager);
    try {
      const current = await secrets.send(new GetSecretValueCommand({ SecretId: 'example/api-key' }));
      expect(current.SecretString).toBe('placeholder-key-2');
      const described = await secrets.send(new DescribeSecretCommand({ SecretId: 'example/api-key' }));
      expect(described).toMatchObject({
        RotationEnabled: true,
        NextRotationDate: new Date('2026-01-31T00:00:00Z'),
      });
      const flags = await latestConfiguration(backends.appConfig.endpoint, {
        application: 'example-app',
        environment: 'local',
        profile: 'feature-flags',
      });
      expect(flags.contentType).toBe('application/json');
      expect(JSON.parse(flags.text)).toEqual({
        new_greeting: { enabled: true, text: 'Hello from AppConfig' },
        beta_banner: { enabled: false },
      });
      expect(backends.appConfig.calls).toEqual({ StartConfigurationSession: 1, GetLatestConfiguration: 1 });
    } finally {
      secrets.destroy();
      await backends.close();
    }
  });

  it('refuses any host but loopback', async () => {
    await expect(startBackends({ host: '0.0.0.0' as '127.0.0.1' })).rejects.toThrow(RangeError);
  });
});
