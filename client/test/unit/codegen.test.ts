// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the expected output holds template literal types

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { CodegenError, generateSchema } from '../../src/codegen.js';

const SEED = readFileSync(new URL('../../../extension/test/fixtures/seed.yaml', import.meta.url), 'utf8');

describe('generateSchema', () => {
  it('types every name and the key when given the seed config', () => {
    const out = generateSchema(SEED);
    expect(out).toContain("import type { CacheSchema } from '@lambda-cache/client';");
    expect(out).toContain('export interface Schema extends CacheSchema {');
    expect(out).toContain('readonly "CacheExtensions_Parameter1": string;');
    expect(out).toContain('readonly "/aws/reference/secretsmanager/secret_info": string;');
    expect(out).toContain('readonly "DynamoDbTable": {');
    expect(out).toContain('readonly key: { readonly "pKey": string; readonly "sKey": string };');
  });

  it('types numbers, binary, paths and keys lists when the config uses them', () => {
    const out = generateSchema(
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
  - table: Guessed
    hashkey: n
    keys:
      - { n: 7 }
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
  });

  it('escapes template characters when a path holds them', () => {
    expect(generateSchema('parameters:\n  - path: /a`b${c}/\n')).toContain(
      'readonly [name: `/a\\`b\\${c}/${string}`]: string;',
    );
  });

  it.each([
    ['parameters: {}', 'parameters must be a list'],
    ['dynamodb:\n  - hashkey: a', 'dynamodb[0].table'],
    [
      'dynamodb:\n  - table: T\n    hashkey: a\n    hashkeytype: X',
      'dynamodb[0].hashkeytype must be S, N or B',
    ],
    ['parameters: [\n', 'at line 2, column 1'],
  ])('throws CodegenError when the config is %j', (yaml, message) => {
    expect(() => generateSchema(yaml)).toThrow(CodegenError);
    expect(() => generateSchema(yaml)).toThrow(message);
  });

  it('produces an empty schema when the config is empty', () => {
    const out = generateSchema('');
    expect(out).toContain('readonly parameters: {\n  };');
  });
});

describe('lambda-cache-types', () => {
  const bin = join(dirname(fileURLToPath(import.meta.url)), '../../src/bin/lambda-cache-types.ts');
  const run = promisify(execFile);

  // Bundles the bin and starts three node processes: seconds on a busy machine.
  it('prints the schema when given a config file, and exits 1 naming the file when it is invalid', {
    timeout: 60_000,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'client-codegen-'));
    try {
      await writeFile(join(dir, 'config.yaml'), SEED);
      await writeFile(join(dir, 'bad.yaml'), 'dynamodb: 3\n');
      // Node 20 cannot run TypeScript: bundle the bin as the build does, then run it as a process.
      const out = join(dir, 'bin.mjs');
      await build({
        entryPoints: [bin],
        bundle: true,
        platform: 'node',
        format: 'esm',
        outfile: out,
        logLevel: 'silent',
        banner: {
          js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
        },
      });
      const good = await run(process.execPath, [out, join(dir, 'config.yaml')]);
      expect(good.stdout).toContain('readonly "DynamoDbTable": {');
      const bad = await run(process.execPath, [out, join(dir, 'bad.yaml')]).catch((e: unknown) => e);
      expect(bad).toMatchObject({ code: 1 });
      expect((bad as { stderr: string }).stderr).toContain('bad.yaml: dynamodb must be a list');
      const usage = await run(process.execPath, [out]).catch((e: unknown) => e);
      expect(usage).toMatchObject({ code: 2 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
