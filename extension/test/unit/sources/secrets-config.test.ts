import { describe, expect, it } from 'vitest';
import { ConfigError, MAX_CONFIG_ENTRIES, sectionOf } from '../../../src/config.js';
import { parseConfig } from '../../../src/config-yaml.js';
import { type SecretEntry, secretIdProblem, secretsSection } from '../../../src/sources/secrets-config.js';

const ARN = 'arn:aws:secretsmanager:us-west-2:123456789012:secret:prod/api-key-AbCdEf';
const VERSION = 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111';

function read(text: string): readonly SecretEntry[] {
  return sectionOf(parseConfig(text, 'config.yaml', [secretsSection]), secretsSection);
}

function message(text: string): string {
  try {
    read(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

const entry = (id: string, more: Partial<SecretEntry> = {}): SecretEntry => ({
  id,
  region: undefined,
  versionId: undefined,
  versionStage: undefined,
  ttlMs: undefined,
  json: false,
  ...more,
});

describe('secretsSection', () => {
  it('reads names, ARNs and mappings with the group’s settings as defaults', () => {
    const entries = read(
      [
        'secrets:',
        '  - region: us-west-2',
        '    ttl: 10m',
        '    json: true',
        '    names:',
        '      - prod/db',
        `      - ${ARN}`,
        '      - { name: prod/old, versionStage: AWSPREVIOUS, ttl: 1h, json: false }',
        `      - { name: prod/pinned, versionId: ${VERSION} }`,
        '  - names: [other]',
      ].join('\n'),
    );
    expect(entries).toStrictEqual([
      entry('prod/db', { region: 'us-west-2', ttlMs: 600_000, json: true }),
      entry(ARN, { region: 'us-west-2', ttlMs: 600_000, json: true }),
      entry('prod/old', { region: 'us-west-2', versionStage: 'AWSPREVIOUS', ttlMs: 3_600_000 }),
      entry('prod/pinned', { region: 'us-west-2', versionId: VERSION, ttlMs: 600_000, json: true }),
      entry('other'),
    ]);
    expect(Object.isFrozen(entries)).toBe(true);
    expect(secretsSection.describe(entries)).toBe('5 secrets');
  });

  it('reads nothing when the section is absent or empty', () => {
    expect(read('parameters: []')).toEqual([]);
    expect(read('secrets:')).toEqual([]);
    expect(read('secrets: []')).toEqual([]);
  });

  it('loads a secret once when it is listed twice, AWSCURRENT and no stage being the same', () => {
    const entries = read(
      [
        'secrets:',
        '  - names: [a, { name: a, versionStage: AWSCURRENT }]',
        '  - names: [a]',
        '  - region: eu-west-1',
        '    names: [a]',
      ].join('\n'),
    );
    expect(entries).toStrictEqual([entry('a'), entry('a', { region: 'eu-west-1' })]);
  });

  it('names the line of the first listing when a repeat has another ttl or json', () => {
    expect(message('secrets:\n  - names: [a]\n  - ttl: 5s\n    names: [a]')).toBe(
      'config.yaml:4:13: secrets[1].names[0]: secret a is also listed at line 2 with another ttl (expected one ttl and one json setting for both, or the secret listed once)',
    );
    expect(message('secrets:\n  - names: [a, { name: a, json: true }]')).toMatch(
      /^config\.yaml:2:24: secrets\[0\]\.names\[1\]\.name: secret a is also listed at line 2 with another json/,
    );
  });

  it.each([
    [
      'secrets: 3',
      'config.yaml:1:10: secrets: is a number (3) (expected a list of groups with region, ttl, json, names)',
    ],
    [
      'secrets:\n  - ',
      'config.yaml:2:5: secrets[0]: is empty (expected a mapping with region, ttl, json, names)',
    ],
    [
      'secrets:\n  - [a]',
      'config.yaml:2:5: secrets[0]: is a list (expected a mapping with region, ttl, json, names)',
    ],
    [
      'secrets:\n  - region: us-west-2',
      'config.yaml:2:5: secrets[0]: misses names (expected names: a list of secret names or ARNs)',
    ],
    [
      'secrets:\n  - names:',
      'config.yaml:2:11: secrets[0].names: is empty (expected names: a list of secret names or ARNs)',
    ],
    [
      'secrets:\n  - names: [a]\n    nmes: [b]',
      'config.yaml:3:5: secrets[0].nmes: unknown key (expected one of region, ttl, json, names)',
    ],
    [
      'secrets:\n  - Names: [a]',
      'config.yaml:2:5: secrets[0].Names: unknown key, did you mean names? (expected one of region, ttl, json, names)',
    ],
    [
      'secrets:\n  - region: mars\n    names: [a]',
      'config.yaml:2:13: secrets[0].region: "mars" is not a region (expected an AWS region such as us-west-2, or no region for the function’s own)',
    ],
    [
      'secrets:\n  - ttl: soon\n    names: [a]',
      'config.yaml:2:10: secrets[0].ttl: "soon" is not a valid duration (expected a duration from 0s to 24h with a unit: ms, s, m or h, e.g. 30s, 5m, 1h30m)',
    ],
    [
      'secrets:\n  - json: yes\n    names: [a]',
      'config.yaml:2:11: secrets[0].json: is a string (expected true or false)',
    ],
    [
      'secrets:\n  - names: [[a]]',
      'config.yaml:2:13: secrets[0].names[0]: is a list (expected a secret name or ARN, or a mapping with name, versionStage, versionId, ttl, json)',
    ],
    [
      'secrets:\n  - names: [a, ~]',
      'config.yaml:2:16: secrets[0].names[1]: is empty (expected a secret name or ARN, or a mapping with name, versionStage, versionId, ttl, json)',
    ],
    [
      'secrets:\n  - names: [{ ttl: 1s }]',
      'config.yaml:2:13: secrets[0].names[0]: misses name (expected a secret name (1 to 512 of A-Z a-z 0-9 / _ + = . @ -) or a secret ARN such as arn:aws:secretsmanager:us-west-2:123456789012:secret:prod/db-AbCdEf, at most 2048 characters)',
    ],
    [
      'secrets:\n  - names: [{ name: a, stage: x }]',
      'config.yaml:2:24: secrets[0].names[0].stage: unknown key (expected one of name, versionStage, versionId, ttl, json)',
    ],
  ])('fails with its message when the config is %j', (text, expected) => {
    expect(message(text)).toBe(expected);
  });

  it.each([
    ['names: ["has space"]', '"has space" is not a secret name'],
    ['names: ["bad#char"]', '"bad#char" is not a secret name'],
    [`names: [${'n'.repeat(513)}]`, 'is not a secret name'],
    [`names: [${'n'.repeat(2049)}]`, 'is 2049 characters long'],
    ['names: ["arn:aws:ssm:us-west-2:123456789012:parameter/x"]', 'is not a Secrets Manager secret ARN'],
    ['names: ["arn:aws:secretsmanager:us-west-2:12345:secret:x"]', 'is not a Secrets Manager secret ARN'],
    ['names: [""]', 'is empty'],
  ])('refuses the id in %s', (names, problem) => {
    const text = message(`secrets:\n  - ${names}`);
    expect(text).toContain(`secrets[0].names[0]: `);
    expect(text).toContain(problem);
    expect(text).toContain('(expected a secret name (1 to 512');
  });

  it('refuses a version id that is not 32 to 64 letters, digits or hyphens', () => {
    expect(message('secrets:\n  - names: [{ name: a, versionId: v1 }]')).toBe(
      'config.yaml:2:35: secrets[0].names[0].versionId: "v1" is not a version id (expected a version id of 32 to 64 letters, digits or hyphens, e.g. a UUID)',
    );
  });

  it('refuses an empty or overlong staging label', () => {
    expect(message('secrets:\n  - names: [{ name: a, versionStage: "" }]')).toContain(
      'secrets[0].names[0].versionStage: is empty (expected a staging label of 1 to 256 characters',
    );
    expect(message(`secrets:\n  - names: [{ name: a, versionStage: ${'s'.repeat(257)} }]`)).toContain(
      'is not a staging label (expected a staging label of 1 to 256 characters, e.g. AWSCURRENT or AWSPREVIOUS)',
    );
  });

  it('refuses versionId and versionStage together', () => {
    expect(
      message(`secrets:\n  - names: [{ name: a, versionId: ${VERSION}, versionStage: AWSPREVIOUS }]`),
    ).toBe(
      'config.yaml:2:73: secrets[0].names[0].versionStage: is given with versionId (expected versionId or versionStage, not both (a version id names one version already))',
    );
  });

  it('refuses an ARN of another region than its group’s', () => {
    expect(message(`secrets:\n  - region: eu-west-1\n    names: [${ARN}]`)).toBe(
      `config.yaml:3:13: secrets[0].names[0]: names region us-west-2, but its group has region eu-west-1 (expected the ARN’s own region in region, or no region)`,
    );
  });

  it('counts names toward MAX_CONFIG_ENTRIES, aliases expanded', () => {
    const names = Array.from({ length: 1000 }, (_, i) => `s${i}`).join(', ');
    const copies = Math.ceil(MAX_CONFIG_ENTRIES / 1000) + 1;
    const groups = Array.from({ length: copies }, () => '  - names: *n').join('\n');
    const text = `secrets:\n  - names: &n [${names}]\n${groups}`;
    expect(() => read(text)).toThrow(
      /secrets\[\d+\]\.names: makes the config list more than 100000 entries once aliases are expanded/,
    );
  });

  it('reads a config without the section as no secrets', () => {
    const config = parseConfig('parameters: []', 'config.yaml');
    expect(sectionOf(config, secretsSection)).toEqual([]);
  });
});

describe('secretIdProblem', () => {
  it('accepts names, full and partial ARNs of any partition', () => {
    expect(secretIdProblem('prod/db+x=y.z@w-1_2')).toBeUndefined();
    expect(secretIdProblem(ARN)).toBeUndefined();
    expect(
      secretIdProblem('arn:aws:secretsmanager:us-west-2:123456789012:secret:prod/api-key'),
    ).toBeUndefined();
    expect(secretIdProblem('arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:x')).toBeUndefined();
  });
});
