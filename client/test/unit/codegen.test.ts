// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the expected output holds template literal types

import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConfigForTypes, generateSchema } from '../../src/codegen.js';
import { InvalidOptionError } from '../../src/errors.js';

const fixtures = fileURLToPath(new URL('../../../extension/test/fixtures/', import.meta.url));

/** The extension's config module: the parser the generator is fed by. */
interface ExtensionConfig {
  parseConfig(text: string, file: string): ConfigForTypes;
  loadConfig(file: string, opts: { required: boolean }): Promise<ConfigForTypes>;
}
let extension: ExtensionConfig;
beforeAll(async () => {
  // A computed specifier keeps the extension's sources out of this package's TypeScript program (it is
  // rooted at client/); vitest loads them as the bin's bundle does.
  const configModule = new URL('../../../extension/src/config.ts', import.meta.url).href;
  const yamlModule = new URL('../../../extension/src/config-yaml.ts', import.meta.url).href;
  extension = { ...(await import(configModule)), ...(await import(yamlModule)) } as ExtensionConfig;
});

const schemaOf = (yaml: string, options?: { typeName?: string }) =>
  generateSchema(extension.parseConfig(yaml, 'config.yaml'), options);

describe('generateSchema', () => {
  it('types every name and the key when given the seed config', async () => {
    const out = generateSchema(await extension.loadConfig(join(fixtures, 'seed.yaml'), { required: true }));
    expect(out).toContain("import type { CacheSchema } from '@lambda-cache/client';");
    expect(out).toContain('export interface Schema extends CacheSchema {');
    expect(out).toContain('readonly "CacheExtensions_Parameter1": string;');
    expect(out).toContain('readonly "/aws/reference/secretsmanager/secret_info": string;');
    expect(out).toContain('readonly "DynamoDbTable": {');
    expect(out).toContain('readonly key: { readonly "pKey": string; readonly "sKey": string };');
  });

  it('types numbers, binary, paths and keys lists when the config uses them', () => {
    const out = schemaOf(
      `parameters:
  - path: /app/prod
    recursive: true
  - names:
      - { name: /app/with-ttl, ttl: 30s }
      - 12345
dynamodb:
  - table: Orders
    hashkey: id
    hashkeytype: N
    keys:
      - { id: 1 }
  - table: Blobs
    hashkey: h
    hashkeytype: B
    keys: []
  - table: Guessed
    hashkey: n
    keys:
      - { n: 7 }
  - table: Named
    keys:
      - { customer: c-1, order: 2 }
`,
      { typeName: 'AppSchema' },
    );
    expect(out).toContain('export interface AppSchema extends CacheSchema {');
    expect(out).toContain('readonly [name: `/app/prod/${string}`]: string;');
    expect(out).toContain('readonly "/app/with-ttl": string;');
    expect(out).toContain('readonly "12345": string;');
    expect(out).toContain('readonly key: { readonly "id": number | bigint };');
    expect(out).toContain('readonly key: { readonly "h": Uint8Array };');
    expect(out).toContain('readonly key: { readonly "n": number | bigint };');
    expect(out).toContain(
      'readonly key: { readonly "customer": string; readonly "order": number | bigint };',
    );
  });

  it('reads the seed’s single parameters group when it is written as a mapping', async () => {
    const config = await extension.loadConfig(join(fixtures, 'single-group.yaml'), { required: true });
    expect(generateSchema(config)).toContain('readonly "CacheExtensions_Parameter1": string;');
  });

  it('types a table configured in two regions with two key schemas as either key', () => {
    const out = schemaOf(
      'dynamodb:\n  - { table: Tab, region: us-east-1, keys: [{ id: a }] }\n' +
        '  - { table: Tab, region: eu-west-1, keys: [{ id: 1 }] }\n',
    );
    expect(out).toContain('readonly key: { readonly "id": string } | { readonly "id": number | bigint };');
  });

  it('escapes template characters when a path holds them', () => {
    expect(schemaOf('parameters:\n  - path: /a`b${c}/\n')).toContain(
      'readonly [name: `/a\\`b\\${c}/${string}`]: string;',
    );
  });

  it('produces an empty schema when the config is empty', () => {
    expect(schemaOf('')).toContain('readonly parameters: {\n  };');
  });

  it('throws InvalidOptionError when the type name is not an identifier', () => {
    expect(() => schemaOf('', { typeName: 'my-schema' })).toThrow(InvalidOptionError);
  });

  it('types secrets and configurations when the config lists them', () => {
    const config: ConfigForTypes = {
      parameters: [],
      paths: [],
      keySchemas: [],
      secrets: [
        { id: 'prod/db', json: true },
        { id: 'prod/api-key', json: false },
        { id: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf', json: false },
        { id: 'prod/api-key', json: true },
      ],
      appconfig: [
        { application: 'shop', environment: 'prod', profile: 'flags' },
        { application: 'shop', environment: 'prod', profile: 'flags' },
        { application: 'shop', environment: 'dev', profile: 'settings' },
      ],
    };
    const out = generateSchema(config);
    expect(out).toContain(
      '  readonly secrets: {\n' +
        '    readonly "prod/db": Record<string, unknown>; // json: true: replace with the secret\'s JSON type\n' +
        '    readonly "prod/api-key": Record<string, unknown>; // json: true: replace with the secret\'s JSON type\n' +
        '    readonly "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf": string;\n' +
        '  };',
    );
    expect(out).toContain(
      '  readonly appconfig: {\n    readonly "shop/prod/flags": unknown;\n    readonly "shop/dev/settings": unknown;\n  };',
    );
  });

  it('leaves secrets and configurations out when the config lists none, so any id is accepted', () => {
    const out = generateSchema({ parameters: [], paths: [], keySchemas: [], secrets: [], appconfig: [] });
    expect(out).not.toContain('secrets');
    expect(out).not.toContain('appconfig');
  });
});

describe('lambda-cache-types', () => {
  const entry = join(dirname(fileURLToPath(import.meta.url)), '../../src/bin/lambda-cache-types.entry.mjs');
  const run = promisify(execFile);
  let dir: string;
  let bin: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'client-codegen-'));
    // Node 20 cannot run TypeScript: bundle the bin as scripts/build.mjs does, then run it as a process.
    bin = join(dir, 'bin.mjs');
    await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20.19',
      outfile: bin,
      logLevel: 'silent',
      banner: {
        js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
    });
  }, 60_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  // Starts three node processes: seconds on a busy machine.
  it('prints the schema when given a config file, and exits 1 naming the file when it is invalid', {
    timeout: 60_000,
  }, async () => {
    const good = await run(process.execPath, [bin, join(fixtures, 'seed.yaml')]);
    expect(good.stdout).toContain('readonly "DynamoDbTable": {');
    await writeFile(join(dir, 'bad.yaml'), 'dynamodb: 3\n');
    const bad = await run(process.execPath, [bin, join(dir, 'bad.yaml')]).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: 1 });
    expect((bad as { stderr: string }).stderr).toMatch(
      /^lambda-cache-types: .*bad\.yaml:1:11: dynamodb: is a number \(3\) \(expected a list of tables/,
    );
    const usage = await run(process.execPath, [bin]).catch((e: unknown) => e);
    expect(usage).toMatchObject({ code: 2 });
  });

  it("types the secrets: and appconfig: sections, read as the extension's sources read them", {
    timeout: 60_000,
  }, async () => {
    await writeFile(
      join(dir, 'sections.yaml'),
      'secrets:\n  - names: [db-pass, { name: api, json: true }]\nappconfig:\n  - { application: app, environment: prod, profile: flags }\n',
    );
    const { stdout } = await run(process.execPath, [bin, join(dir, 'sections.yaml')]);
    expect(stdout).toContain('readonly "db-pass": string;');
    expect(stdout).toContain('readonly "api": Record<string, unknown>;');
    expect(stdout).toContain('readonly "app/prod/flags": unknown;');
    // A section's own checks, with the config's message form.
    await writeFile(join(dir, 'bad-section.yaml'), 'appconfig:\n  - { application: app }\n');
    const bad = await run(process.execPath, [bin, join(dir, 'bad-section.yaml')]).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: 1 });
    expect((bad as { stderr: string }).stderr).toMatch(/bad-section\.yaml:2:5: appconfig\[0\]: /);
  });

  // A node process per fixture, run side by side: seconds on a busy machine.
  it('refuses exactly the configs the extension refuses, with the same message', {
    timeout: 60_000,
  }, async () => {
    const files = readdirSync(fixtures)
      .filter((f) => f.endsWith('.yaml'))
      .sort();
    expect(files).toEqual(
      expect.arrayContaining(['keys-without-schema.yaml', 'misspelt-value.yaml', 'single-group.yaml']),
    );
    const outcomes = await Promise.all(
      files.map(async (name) => {
        const file = join(fixtures, name);
        const byExtension = await extension.loadConfig(file, { required: true }).then(
          () => 'accepted',
          (err: Error) => `lambda-cache-types: ${err.message}\n`,
        );
        const byGenerator = await run(process.execPath, [bin, file]).then(
          () => 'accepted',
          (err: { stderr: string }) => err.stderr,
        );
        return { name, byExtension, byGenerator };
      }),
    );
    // Fixture by fixture: what the generator did, next to what the extension did.
    expect(Object.fromEntries(outcomes.map((o) => [o.name, o.byGenerator]))).toEqual(
      Object.fromEntries(outcomes.map((o) => [o.name, o.byExtension])),
    );
  });
});
