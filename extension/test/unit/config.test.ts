import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import {
  ConfigError,
  type ConfigSection,
  describeConfig,
  loadConfig,
  MAX_CONFIG_BYTES,
  MAX_CONFIG_ENTRIES,
  readSimpleConfig,
  sectionOf,
} from '../../src/config.js';
import { parseConfig, parseYamlConfig } from '../../src/config-yaml.js';
import { appconfigSection } from '../../src/sources/appconfig-config.js';
import { secretsSection } from '../../src/sources/secrets-config.js';

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));
const fixture = (name: string) => join(fixtures, name);

/** Loads a fixture that must fail and returns its error. */
async function failure(name: string): Promise<ConfigError> {
  const err = await loadConfig(fixture(name), { required: true }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

function parseFailure(text: string): ConfigError {
  try {
    parseConfig(text, 'config.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('reads the seed file exactly as the seed wrote it', async () => {
    const config = await loadConfig(fixture('seed.yaml'), { required: true });
    expect(config).toStrictEqual({
      file: fixture('seed.yaml'),
      found: true,
      parameters: [
        { name: 'CacheExtensions_Parameter1', region: 'us-west-2', decrypt: true, ttlMs: undefined },
        {
          name: '/aws/reference/secretsmanager/secret_info',
          region: 'us-west-2',
          decrypt: true,
          ttlMs: undefined,
        },
      ],
      paths: [],
      tables: [
        {
          table: 'DynamoDbTable',
          region: undefined,
          ttlMs: undefined,
          keys: [{ pKey: { S: 'pKey1' }, sKey: { S: 'sKey1' } }],
        },
      ],
      keySchemas: [
        {
          table: 'DynamoDbTable',
          region: undefined,
          attributes: [
            { name: 'pKey', type: 'S' },
            { name: 'sKey', type: 'S' },
          ],
        },
      ],
      sections: new Map(),
    });
  });

  it('reads every extension and lists each item once when items repeat', async () => {
    const config = await loadConfig(fixture('extended.yaml'), { required: true });
    expect(config.parameters).toStrictEqual([
      { name: '/app/prod/plain', region: 'eu-west-1', decrypt: false, ttlMs: 30_000 },
      { name: '/app/prod/db-password', region: 'eu-west-1', decrypt: true, ttlMs: 60_000 },
      { name: '/app/shared/url', region: undefined, decrypt: true, ttlMs: undefined },
      { name: '/app/shared/url:2', region: undefined, decrypt: true, ttlMs: undefined },
      { name: '/app/shared/url:live', region: undefined, decrypt: true, ttlMs: undefined },
    ]);
    expect(config.paths).toStrictEqual([
      {
        path: '/app/prod/feature-flags/',
        recursive: true,
        region: undefined,
        decrypt: true,
        ttlMs: 5_400_000,
      },
      { path: '/app/shared/', recursive: false, region: undefined, decrypt: true, ttlMs: undefined },
    ]);
    expect(config.tables).toStrictEqual([
      {
        table: 'Orders',
        region: 'us-east-2',
        ttlMs: 600_000,
        keys: [
          { customer: { S: 'c-1' }, order: { N: '7' } },
          { customer: { S: 'c-1' }, order: { N: '1.5' } },
          { customer: { S: '0012' }, order: { N: '0' } },
        ],
      },
      { table: 'Blobs', region: undefined, ttlMs: undefined, keys: [{ id: { B: 'AQID' } }] },
    ]);
  });

  it('returns a deeply frozen config when loading succeeds', async () => {
    const config = await loadConfig(fixture('extended.yaml'), { required: true });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.parameters)).toBe(true);
    expect(Object.isFrozen(config.tables[0]?.keys[0]?.customer)).toBe(true);
  });

  it.each(['empty.yaml', 'comments-only.yaml', 'empty-map.yaml'])(
    'returns an empty config when the file is %s',
    async (name) => {
      const config = await loadConfig(fixture(name), { required: true });
      expect(config).toStrictEqual({
        file: fixture(name),
        found: true,
        parameters: [],
        paths: [],
        tables: [],
        keySchemas: [],
        sections: new Map(),
      });
    },
  );

  it('keeps the seed habits working when types are lower case and the sort key is left empty', async () => {
    const config = await loadConfig(fixture('quirks.yaml'), { required: true });
    expect(config.parameters).toStrictEqual([]);
    expect(config.tables).toStrictEqual([
      { table: 'DynamoDbTable', region: undefined, ttlMs: undefined, keys: [{ pKey: { S: '0012' } }] },
    ]);
  });

  it('reads a single parameters group when it is written as a mapping, as the first seed version did', () => {
    const config = parseConfig(
      'parameters:\n  region: us-west-2\n  names:\n    - Parameter1\n',
      'config.yaml',
    );
    expect(config.parameters).toStrictEqual([
      { name: 'Parameter1', region: 'us-west-2', decrypt: true, ttlMs: undefined },
    ]);
  });

  it('returns an empty config when the file is missing and not required', async () => {
    const config = await loadConfig(fixture('does-not-exist.yaml'), { required: false });
    expect(config).toStrictEqual({
      file: fixture('does-not-exist.yaml'),
      found: false,
      parameters: [],
      paths: [],
      tables: [],
      keySchemas: [],
      sections: new Map(),
    });
  });

  it('fails with "not found" when a required file is missing', async () => {
    const err = await failure('does-not-exist.yaml');
    expect(err.message).toBe(
      `${fixture('does-not-exist.yaml')}: not found (expected a YAML file there, or CACHE_EXTENSION_CONFIG naming one)`,
    );
    expect(err.code).toBe('ConfigInvalid');
    expect(err.line).toBeUndefined();
  });

  it('fails naming the directory when the path is a directory', async () => {
    const err = await loadConfig(fixtures, { required: false }).catch((e: unknown) => e as ConfigError);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toBe(
      `${fixtures}: is a directory, not a regular file (expected a YAML file of at most 1048576 bytes)`,
    );
  });

  it('names line, column, key path and the valid keys when a key is unknown', async () => {
    const err = await failure('unknown-key.yaml');
    expect(err.message).toBe(
      `${fixture('unknown-key.yaml')}:7:5: dynamodb[0].hashkeytyp: unknown key (expected one of table, region, ttl, ` +
        'hashkey, hashkeytype, hashkeyvalue, sortkey, sortkeytype, sortkeyvalue, keys)',
    );
    expect(err).toMatchObject({
      file: fixture('unknown-key.yaml'),
      line: 7,
      column: 5,
      keyPath: 'dynamodb[0].hashkeytyp',
    });
  });

  it('names the duration format when a ttl has no unit', async () => {
    const err = await failure('bad-ttl.yaml');
    expect(err.message).toBe(
      `${fixture('bad-ttl.yaml')}:4:14: parameters[0].names[0].ttl: "5" is not a valid duration ` +
        '(expected a duration from 0s to 24h with a unit: ms, s, m or h, e.g. 30s, 5m, 1h30m)',
    );
  });

  it('names the valid range when a ttl is longer than a day', async () => {
    const err = await failure('bad-range.yaml');
    expect(err.message).toBe(
      `${fixture('bad-range.yaml')}:6:10: dynamodb[0].ttl: "25h" is not a valid duration ` +
        '(expected a duration from 0s to 24h with a unit: ms, s, m or h, e.g. 30s, 5m, 1h30m)',
    );
  });

  it('fails when a sort key is given without its type', async () => {
    const err = await failure('sort-without-type.yaml');
    expect(err.message).toBe(
      `${fixture('sort-without-type.yaml')}:5:5: dynamodb[0].sortkey: is given without sortkeytype ` +
        '(expected sortkeytype: S, N or B (string, number, binary))',
    );
  });

  it('fails naming the table key attributes when a keys object names another attribute', async () => {
    const err = await failure('wrong-attribute.yaml');
    expect(err.message).toBe(
      `${fixture('wrong-attribute.yaml')}:11:9: dynamodb[0].keys[1].other: unknown key (expected one of pKey, sKey)`,
    );
  });

  it('fails when a number key value is not a decimal number', async () => {
    const err = await failure('bad-number.yaml');
    expect(err.message).toBe(
      `${fixture('bad-number.yaml')}:7:13: dynamodb[0].keys[1].id: "0x10" is not a number ` +
        '(expected a number, as a YAML number or a numeric string, of at most 38 significant digits)',
    );
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('parseConfig', () => {
  it.each([
    ['- a\n- b\n', '1:1: (top level): is a list (expected a mapping with parameters, dynamodb)'],
    [
      'Parameters: []\n',
      '1:1: Parameters: unknown key, did you mean parameters? (expected one of parameters, dynamodb)',
    ],
    [
      'parameters: 42\n',
      '1:13: parameters: is a number (42) (expected a list of groups with region, names, path, ttl, decrypt)',
    ],
    [
      'parameters:\n  - region: us-west-2\n',
      '2:5: parameters[0]: has neither names nor path (expected names: a list of parameter names, and/or path: /prefix/)',
    ],
    [
      'parameters:\n  - names: [a]\n    region: Oregon\n',
      '3:13: parameters[0].region: "Oregon" is not a region (expected an AWS region such as us-west-2, or no region for the function’s own)',
    ],
    [
      'parameters:\n  - names: [a]\n    decrypt: "yes"\n',
      '3:14: parameters[0].decrypt: is a string (expected true or false)',
    ],
    [
      'parameters:\n  - names: [a]\n    recursive: true\n',
      '3:5: parameters[0].recursive: applies only to a path (expected path next to it, or no recursive)',
    ],
    [
      'parameters:\n  - path: app/\n',
      '2:11: parameters[0].path: "app/" is not a parameter path (expected a parameter path starting with /, e.g. /app/prod/, of at most 2048 characters)',
    ],
    [
      'parameters:\n  - names: [a, [b]]\n',
      '2:16: parameters[0].names[1]: is a list (expected a parameter name of 1 to 2048 characters without spaces, e.g. /app/prod/db-url)',
    ],
    [
      'parameters:\n  - names:\n      - name: a\n        ttl: 1m\n      - name: a\n        ttl: 2m\n',
      '5:15: parameters[0].names[1].name: parameter a is also listed at line 3 with ttl 1m, here with ttl 2m (expected one ttl for both, or the item listed once)',
    ],
    [
      'parameters:\n  - names: ["a b"]\n',
      '2:13: parameters[0].names[0]: "a b" contains a space or control character (expected a parameter name of 1 to 2048 characters without spaces, e.g. /app/prod/db-url)',
    ],
    [
      'parameters:\n  - names:\n      - {ttl: 1m}\n',
      '3:9: parameters[0].names[0]: misses name (expected a parameter name of 1 to 2048 characters without spaces, e.g. /app/prod/db-url)',
    ],
    [
      'dynamodb:\n  - hashkey: id\n',
      '2:5: dynamodb[0]: misses table (expected a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -) or a table ARN)',
    ],
    [
      'dynamodb:\n  - table: T\n',
      '2:12: dynamodb[0].table: "T" is not a table name (expected a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -) or a table ARN)',
    ],
    [
      'dynamodb:\n  - table: Tab\n    hashkey: id\n    hashkeytype: X\n    hashkeyvalue: a\n',
      '4:18: dynamodb[0].hashkeytype: "X" is not a key type (expected S, N or B (string, number, binary))',
    ],
    [
      'dynamodb:\n  - table: Tab\n    hashkey: id\n    hashkeytype: S\n',
      '2:5: dynamodb[0]: has neither hashkeyvalue nor keys (expected hashkeyvalue (and sortkeyvalue), or keys: a list of key mappings)',
    ],
    [
      'dynamodb:\n  - table: Tab\n    hashkey: id\n    hashkeytype: S\n    hashkeyvalue: a\n    sortkeyvalue: b\n',
      '6:5: dynamodb[0].sortkeyvalue: is given without sortkey (expected sortkey and sortkeytype next to it)',
    ],
    [
      'dynamodb:\n  - table: Tab\n    hashkey: id\n    hashkeytype: S\n    sortkey: s\n    sortkeytype: S\n    hashkeyvalue: a\n',
      '7:5: dynamodb[0].hashkeyvalue: is given without sortkeyvalue, but the table has sort key s (expected sortkeyvalue too, or keys: a list of { hashkey: value, sortkey: value })',
    ],
    [
      'dynamodb:\n  - table: Tab\n    hashkey: id\n    hashkeytype: B\n    hashkeyvalue: "not base64!"\n',
      '5:19: dynamodb[0].hashkeyvalue: "not base64!" is not base64 (expected padded base64, e.g. AQID)',
    ],
    [
      'dynamodb:\n  - table: Tab\n    hashkey: id\n    hashkeytype: N\n    hashkeyvalue: true\n',
      '5:19: dynamodb[0].hashkeyvalue: is a boolean (true) (expected a number, as a YAML number or a numeric string, of at most 38 significant digits)',
    ],
    [
      'dynamodb:\n  - table: Tab\n    hashkey: id\n    hashkeytype: N\n    hashkeyvalue: 1e200\n',
      '5:19: dynamodb[0].hashkeyvalue: "1e200" is out of DynamoDB\'s number range (expected a number, as a YAML number or a numeric string, of at most 38 significant digits)',
    ],
    [
      'dynamodb:\n  - table: Tab\n    hashkey: id\n    hashkeytype: S\n    keys:\n      - {}\n',
      '6:9: dynamodb[0].keys[0]: misses the key attribute id (expected a mapping of id)',
    ],
    [
      'dynamodb:\n  - table: Tab\n    hashkey: id\n    hashkeytype: S\n    keys:\n      - id: ""\n',
      '6:13: dynamodb[0].keys[0].id: is an empty string, which DynamoDB refuses in keys (expected a non-empty string)',
    ],
    [
      'dynamodb:\n  - table: Tab\n    hashkey: id\n    hashkeytype: S\n    sortkey: id\n    sortkeytype: S\n    keys: []\n',
      '5:14: dynamodb[0].sortkey: is the same attribute as hashkey (expected two different names)',
    ],
    [
      'dynamodb:\n  - {table: Tab, hashkey: id, hashkeytype: S, keys: [id: a]}\n  - {table: Tab, hashkey: pk, hashkeytype: S, keys: [pk: a]}\n',
      '3:18: dynamodb[1].hashkey: table Tab has another key schema at line 2 (expected the same hashkey, sortkey and types as there (hashkey id S))',
    ],
    [
      'dynamodb:\n  - {table: Tab, hashkey: id, hashkeytype: S, keys: [id: a]}\n  - {table: Tab, hashkey: id, hashkeytype: S, ttl: 1m, keys: [id: a]}\n',
      '3:63: dynamodb[1].keys[0]: this key of Tab is also listed at line 2 with the default ttl, here with ttl 1m (expected one ttl for both, or the item listed once)',
    ],
    ['parameters: []\nparameters: []\n', '2:1: Map keys must be unique (expected valid YAML)'],
  ])('names the position, path and valid values when the config is %j', (text, expected) => {
    expect(parseFailure(text).message).toBe(`config.yaml:${expected}`);
  });

  it.each([
    ['parameters:\n  - names: [a, b\n    ttl: 5s\n', '2:12', ']', '['],
    ['parameters: []\nextra: [\n', '2:8', ']', '['],
    ['dynamodb:\n  - {table: Tab, hashkey: id\n', '2:5', '}', '{'],
  ])('points at the opening bracket when a flow collection is not closed in %j', (text, at, close, open) => {
    expect(parseFailure(text).message).toMatch(
      new RegExp(
        `^config\\.yaml:${at}: .+ \\(expected valid YAML: a closing \\${close} for the \\${open} opened here\\)$`,
      ),
    );
  });

  it('merges repeated keys of one table across entries when their ttl agrees', () => {
    const config = parseConfig(
      'dynamodb:\n  - {table: Tab, hashkey: id, hashkeytype: N, keys: [id: 1, id: 2]}\n' +
        '  - {table: Tab, hashkey: id, hashkeytype: N, keys: [id: "2.0", id: 3]}\n',
      'config.yaml',
    );
    expect(config.tables).toStrictEqual([
      { table: 'Tab', region: undefined, ttlMs: undefined, keys: [{ id: { N: '1' } }, { id: { N: '2' } }] },
      { table: 'Tab', region: undefined, ttlMs: undefined, keys: [{ id: { N: '3' } }] },
    ]);
  });

  it('keeps a number key exact when it has more digits than a double holds', () => {
    const config = parseConfig(
      'dynamodb:\n  - {table: Tab, hashkey: id, hashkeytype: N, hashkeyvalue: 12345678901234567890123456789}\n',
      'config.yaml',
    );
    expect(config.tables[0]?.keys).toStrictEqual([{ id: { N: '12345678901234567890123456789' } }]);
  });

  it('resolves anchors and aliases when groups share settings', () => {
    const config = parseConfig(
      'parameters:\n  - region: &r eu-west-1\n    names: &n [a]\n  - region: *r\n    decrypt: false\n    names: *n\n',
      'config.yaml',
    );
    expect(config.parameters).toStrictEqual([
      { name: 'a', region: 'eu-west-1', decrypt: true, ttlMs: undefined },
      { name: 'a', region: 'eu-west-1', decrypt: false, ttlMs: undefined },
    ]);
  });

  it('reads a file saved with a byte order mark and Windows line ends', () => {
    const config = parseConfig('\uFEFFparameters:\r\n  - names: [a]\r\n    ttl: 1m\r\n', 'config.yaml');
    expect(config.parameters).toStrictEqual([{ name: 'a', region: undefined, decrypt: true, ttlMs: 60_000 }]);
    expect(parseFailure('\uFEFFparameters:\r\n  - names: [a]\r\n    tll: 1m\r\n').message).toMatch(
      /^config\.yaml:3:5: parameters\[0\]\.tll: unknown key/,
    );
  });

  it('accepts a ttl of zero when an item must always be fetched', () => {
    const config = parseConfig('parameters:\n  - names: [a]\n    ttl: 0s\n', 'config.yaml');
    expect(config.parameters[0]?.ttlMs).toBe(0);
  });
});

describe('parseConfig on arbitrary input', () => {
  const ERROR_LINE = /^config\.yaml:[1-9]\d*:[1-9]\d*: [^\n]+ \(expected [^\n]+\)$/;

  /** Either a config, or a ConfigError with a position and the valid values; never anything else. */
  function check(text: string): void {
    try {
      parseConfig(text, 'config.yaml');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toMatch(ERROR_LINE);
      expect((err as ConfigError).line).toBeGreaterThanOrEqual(1);
    }
  }

  it('returns a config or a positioned ConfigError when the YAML is random', () => {
    const scalar = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
    );
    const keyName = fc.constantFrom(
      'table',
      'hashkey',
      'hashkeytype',
      'hashkeyvalue',
      'sortkey',
      'sortkeytype',
      'sortkeyvalue',
      'keys',
      'region',
      'ttl',
      'names',
      'path',
      'recursive',
      'decrypt',
      'name',
      'pKey',
      'x',
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('list'), tie('map')),
      list: fc.array(tie('node'), { maxLength: 3 }),
      map: fc.dictionary(keyName, tie('node'), { maxKeys: 4 }),
    })).node;
    const document = fc.oneof(
      value,
      fc.record({ parameters: value, dynamodb: value }, { requiredKeys: [] }),
      fc.record({ parameters: fc.array(fc.dictionary(keyName, value, { maxKeys: 4 }), { maxLength: 2 }) }),
      fc.record({ dynamodb: fc.array(fc.dictionary(keyName, value, { maxKeys: 6 }), { maxLength: 2 }) }),
    );
    fc.assert(
      fc.property(document, (doc) => check(YAML.stringify(doc))),
      { numRuns: 200 },
    );
  });

  it('returns a config or a positioned ConfigError when the seed file is damaged', async () => {
    const seed = await readFile(fixture('seed.yaml'), 'utf8');
    const damage = fc.constantFrom(
      '\t',
      ':',
      '[',
      ']',
      '{',
      '- ',
      '"',
      "'",
      '&a ',
      '*a',
      '!!binary ',
      '? ',
      '|',
      '#',
      '\n  ',
      '~',
    );
    fc.assert(
      fc.property(fc.nat(seed.length), damage, (at, text) =>
        check(seed.slice(0, at) + text + seed.slice(at)),
      ),
      { numRuns: 200 },
    );
  });
});

describe('describeConfig', () => {
  it('summarizes counts, regions and ttls without names when items are configured', async () => {
    const config = await loadConfig(fixture('extended.yaml'), { required: true });
    const line = describeConfig(config);
    expect(line).toBe(
      `${fixture('extended.yaml')}: 5 parameters, 2 paths, 4 items in 2 tables, ` +
        'regions eu-west-1 us-east-2 default, ttls 30s 1m 10m 1h30m default',
    );
    expect(line).not.toContain('db-password');
    expect(line).not.toContain('c-1');
  });

  it('describes the seed config in one line', async () => {
    const config = await loadConfig(fixture('seed.yaml'), { required: true });
    expect(describeConfig(config)).toBe(
      `${fixture('seed.yaml')}: 2 parameters, 0 paths, 1 item in 1 table, regions us-west-2 default, ttls default`,
    );
  });

  it('counts the sources’ own sections, and says nothing is prefetched only when they list nothing either', () => {
    const sections = [secretsSection, appconfigSection];
    const only = parseConfig('secrets:\n  - names: [prod/db, prod/api-key]\n', 'config.yaml', sections);
    expect(describeConfig(only, sections)).toBe('config.yaml: 2 secrets');
    const both = parseConfig(
      'parameters:\n  - names: [a]\nsecrets:\n  - names: [prod/db]\n',
      'config.yaml',
      sections,
    );
    expect(describeConfig(both, sections)).toBe(
      'config.yaml: 1 parameter, 0 paths, 0 items in 0 tables, regions default, ttls default, 1 secret',
    );
    expect(describeConfig(parseConfig('', 'config.yaml', sections), sections)).toBe(
      'config.yaml: nothing to prefetch; every item is read through on demand',
    );
  });

  it('says everything is read through when nothing is configured', () => {
    expect(describeConfig(parseConfig('', 'config.yaml'))).toBe(
      'config.yaml: nothing to prefetch; every item is read through on demand',
    );
  });
});

describe('loadConfig on written files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lc-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reports the position of a YAML syntax error without a raw parser exception', async () => {
    const file = join(dir, 'syntax-error.yaml');
    await writeFile(
      file,
      'parameters:\n  - region: us-west-2\n    names: [CacheExtensions_Parameter1\ndynamodb: []\n',
    );
    const err = await loadConfig(file, { required: true }).catch((e: unknown) => e as ConfigError);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(
      new RegExp(
        `^${escapeRegExp(file)}:3:12: [^\\n]+ \\(expected valid YAML: a closing \\] for the \\[ opened here\\)$`,
      ),
    );
    expect((err as ConfigError).stack).not.toContain('YAMLParseError');
  });

  it('refuses a file larger than the limit when it is read', async () => {
    const file = join(dir, 'huge.yaml');
    await writeFile(file, `# ${'x'.repeat(1024 * 1024)}\n`);
    const err = await loadConfig(file, { required: true }).catch((e: unknown) => e as ConfigError);
    expect((err as ConfigError).message).toBe(
      `${file}: is larger than 1048576 bytes (expected a YAML file of at most 1048576 bytes)`,
    );
  });
});

describe('parseConfig bounds', () => {
  /** A `&n` list of `names` names, then `groups` groups that each reuse it with `names: *n`. */
  function aliasedNames(names: number, groups: number): string {
    const lines = ['parameters:', '  - names: &n'];
    for (let i = 0; i < names; i++) lines.push(`      - /p/${i}`);
    for (let g = 0; g < groups; g++) lines.push('  - names: *n');
    return `${lines.join('\n')}\n`;
  }

  it('refuses a config whose aliases expand past the entry limit, naming the alias', () => {
    // 10 000 names reused by 20 groups: 210 000 entries once expanded, more than MAX_CONFIG_ENTRIES.
    const err = parseFailure(aliasedNames(10_000, 20));
    expect(err.message).toBe(
      `config.yaml:10011:12: parameters[9].names: makes the config list more than ${MAX_CONFIG_ENTRIES} entries once aliases are expanded ` +
        `(expected at most ${MAX_CONFIG_ENTRIES} names, keys, groups and tables in all, counting each alias as the entries it repeats)`,
    );
  });

  it('loads aliases of a list when the expanded config stays within the limit', () => {
    const config = parseConfig(aliasedNames(1_000, 50), 'config.yaml');
    expect(config.parameters).toHaveLength(1_000);
  });

  it('refuses an alias whose anchor is not defined before it', () => {
    expect(parseFailure('parameters:\n  - names: *missing\n').message).toBe(
      'config.yaml:2:12: parameters[0].names: refers to &missing, which is not defined before it ' +
        '(expected an anchor &missing earlier in the file)',
    );
  });
});

describe('dynamodb keys without a declared schema', () => {
  it('takes the attribute names and types from the key objects when hashkey and its type are left out', () => {
    const config = parseConfig(
      'dynamodb:\n  - table: Orders\n    keys:\n      - { customer: c-1, order: 7 }\n      - { order: 8, customer: c-2 }\n',
      'config.yaml',
    );
    expect(config.tables).toStrictEqual([
      {
        table: 'Orders',
        region: undefined,
        ttlMs: undefined,
        keys: [
          { customer: { S: 'c-1' }, order: { N: '7' } },
          { customer: { S: 'c-2' }, order: { N: '8' } },
        ],
      },
    ]);
    expect(config.keySchemas).toStrictEqual([
      {
        table: 'Orders',
        region: undefined,
        attributes: [
          { name: 'customer', type: 'S' },
          { name: 'order', type: 'N' },
        ],
      },
    ]);
  });

  it('infers only the missing type when hashkey is named without hashkeytype', () => {
    const config = parseConfig(
      'dynamodb:\n  - { table: Tab, hashkey: id, keys: [{ id: 12 }, { id: 13 }] }\n',
      'config.yaml',
    );
    expect(config.tables[0]?.keys).toStrictEqual([{ id: { N: '12' } }, { id: { N: '13' } }]);
    expect(config.keySchemas[0]?.attributes).toStrictEqual([{ name: 'id', type: 'N' }]);
  });

  it('keeps the explicit form and its declared types when they are given', () => {
    const config = parseConfig(
      'dynamodb:\n  - { table: Tab, hashkey: id, hashkeytype: S, keys: [{ id: 12 }] }\n',
      'config.yaml',
    );
    expect(config.tables[0]?.keys).toStrictEqual([{ id: { S: '12' } }]);
  });

  it.each([
    [
      'dynamodb:\n  - { table: Tab, keys: [{ id: 1 }, { id: b }] }\n',
      '2:43: dynamodb[0].keys[1].id: is a string, but dynamodb[0].keys[0].id at line 2 is a number (expected a number in every key, or hashkey: id with hashkeytype: S to read every id as a string)',
    ],
    [
      'dynamodb:\n  - { table: Tab, keys: [{ id: a }, { pk: b }] }\n',
      '2:39: dynamodb[0].keys[1].pk: unknown key (expected one of id)',
    ],
    [
      'dynamodb:\n  - { table: Tab, keys: [{ a: 1, b: 2, c: 3 }] }\n',
      '2:26: dynamodb[0].keys[0]: names 3 attributes (expected a key of one or two attributes: the partition key and, if the table has one, the sort key)',
    ],
    [
      'dynamodb:\n  - { table: Tab, keys: [{ id: true }] }\n',
      '2:32: dynamodb[0].keys[0].id: is a boolean (true), which says nothing of the key type (expected a string or a number, or hashkey: id and hashkeytype: S, N or B)',
    ],
    [
      'dynamodb:\n  - { table: Tab, keys: [{ "": a }] }\n',
      '2:28: dynamodb[0].keys[0][""]: "" is not an attribute name (expected an attribute name of 1 to 255 characters)',
    ],
    [
      'dynamodb:\n  - { table: Tab, keys: [] }\n',
      '2:5: dynamodb[0]: misses hashkey (expected hashkey and hashkeytype, or keys: a list of key mappings such as { id: a })',
    ],
    [
      'dynamodb:\n  - { table: Tab, hashkey: id, hashkeytype: N, keys: [{ id: abc }] }\n',
      '2:61: dynamodb[0].keys[0].id: "abc" is not a number (expected a number, as a YAML number or a numeric string, of at most 38 significant digits)',
    ],
    [
      'dynamodb:\n  - { table: Tab, keys: [{ id: a }] }\n  - { table: Tab, keys: [{ id: 1 }] }\n',
      '3:5: dynamodb[1]: table Tab has another key schema at line 2 (expected the same key attributes and types as there (id S))',
    ],
  ])('fails naming the position and what is valid when the keys are %j', (text, expected) => {
    expect(parseFailure(text).message).toBe(`config.yaml:${expected}`);
  });
});

describe('loadConfig on files that are not plain files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lc-config-special-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a FIFO without waiting for a writer', async () => {
    const fifo = join(dir, 'config.fifo');
    execFileSync('mkfifo', [fifo]);
    const err = await loadConfig(fifo, { required: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toBe(
      `${fifo}: is a FIFO, not a regular file (expected a YAML file of at most ${MAX_CONFIG_BYTES} bytes)`,
    );
  });

  it('refuses a character device without reading it', async () => {
    const err = await loadConfig('/dev/zero', { required: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toBe(
      `/dev/zero: is a character device, not a regular file (expected a YAML file of at most ${MAX_CONFIG_BYTES} bytes)`,
    );
  });

  it('loads a file of exactly the size limit', async () => {
    const file = join(dir, 'max.yaml');
    const head = 'parameters:\n  - names: [a]\n';
    await writeFile(file, `${head}#${'x'.repeat(MAX_CONFIG_BYTES - head.length - 2)}\n`);
    const config = await loadConfig(file, { required: true });
    expect(config.parameters).toHaveLength(1);
  });

  it('says the file does not exist, and that this is fine, when the default file is missing', async () => {
    const file = join(dir, 'does-not-exist.yaml');
    const config = await loadConfig(file, { required: false });
    expect(describeConfig(config)).toBe(
      `${file}: does not exist, so nothing is prefetched (fine when nothing needs to be: every item is read through on demand)`,
    );
  });
});

describe('config sections a source reads itself', () => {
  /** A section of plain names, read with the config's own reader. */
  const names: ConfigSection<readonly string[]> = {
    key: 'names',
    read(r, field) {
      return r.list(field, 'names').map((item) => {
        if (item.node === null || !('value' in item.node) || typeof item.node.value !== 'string') {
          return r.fail(item.node, item.path, 'is not a name', 'a name');
        }
        return item.node.value;
      });
    },
    describe: (value) => `${value.length} names`,
  };

  it('reads the section with the rest of the file and keeps it by its key', () => {
    const config = parseConfig('parameters:\n  - names: [a]\nnames: [x, y]\n', 'config.yaml', [names]);
    expect(sectionOf(config, names)).toStrictEqual(['x', 'y']);
    expect(config.parameters.map((p) => p.name)).toStrictEqual(['a']);
    expect(Object.isFrozen(sectionOf(config, names))).toBe(true);
  });

  it('reads an absent section as its empty value, in a file and without one', async () => {
    expect(sectionOf(parseConfig('parameters: []\n', 'config.yaml', [names]), names)).toStrictEqual([]);
    const missing = await loadConfig(fixture('does-not-exist.yaml'), { required: false, sections: [names] });
    expect(sectionOf(missing, names)).toStrictEqual([]);
    // Parsed without the section: reading it gives what it reads from nothing.
    expect(sectionOf(parseConfig('', 'config.yaml'), names)).toStrictEqual([]);
  });

  it("fails with the section's problem at its position and key path", () => {
    let err: unknown;
    try {
      parseConfig('names:\n  - x\n  - [1]\n', 'config.yaml', [names]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toBe('config.yaml:3:5: names[1]: is not a name (expected a name)');
  });

  it('refuses a section key no registered source reads, listing the ones that are', () => {
    expect(parseFailure('names: [x]\n').message).toContain('unknown key');
    let err: unknown;
    try {
      parseConfig('nams: [x]\n', 'config.yaml', [names]);
    } catch (e) {
      err = e;
    }
    expect((err as ConfigError).message).toContain('one of parameters, dynamodb, names');
  });
});

describe('the two parsers', () => {
  const SECTIONS = [secretsSection, appconfigSection];
  const read = async (name: string) => readFile(fixture(name), 'utf8');
  const valid = [
    'seed.yaml',
    'extended.yaml',
    'quirks.yaml',
    'single-group.yaml',
    'keys-without-schema.yaml',
    'empty.yaml',
    'comments-only.yaml',
    'empty-map.yaml',
  ];

  it('read the seed config and the example function’s with the fast reader alone', async () => {
    const example = fileURLToPath(new URL('../../../example-function/config.yaml', import.meta.url));
    for (const file of [fixture('seed.yaml'), example]) {
      const text = await readFile(file, 'utf8');
      const simple = readSimpleConfig(text, file, true, SECTIONS);
      expect(simple, file).toBeDefined();
      expect(simple).toStrictEqual(parseYamlConfig(text, file, true, SECTIONS));
    }
  });

  it('give the same config for every valid fixture, whichever reads it', async () => {
    for (const name of valid) {
      const text = await read(name);
      const full = parseYamlConfig(text, name, true, SECTIONS);
      const simple = readSimpleConfig(text, name, true, SECTIONS);
      // A fixture outside the fast reader's subset (flow lists, anchors) is left to the full parser.
      if (simple !== undefined) expect(simple, name).toStrictEqual(full);
      expect(parseConfig(text, name, SECTIONS), name).toStrictEqual(full);
    }
  });

  it('leave an invalid file in the subset to the full parser, whose message names its line', async () => {
    const text = 'parameters:\n  - region: us-west-2\n    nmaes:\n      - a\n';
    expect(readSimpleConfig(text, 'config.yaml', true, [])).toBeUndefined();
    expect(() => parseConfig(text, 'config.yaml')).toThrow(
      /^config\.yaml:3:5: parameters\[0\]\.nmaes: unknown key \(expected one of region, names/,
    );
  });
});
