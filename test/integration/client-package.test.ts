/**
 * The packed client tarball, installed as a function author would install it, used from a CommonJS and
 * an ESM handler under the Lambda emulator against the packaged extension.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  EXAMPLE_FLAGS,
  EXAMPLE_ROTATED_SECRET,
  exampleSeed,
  SEED_ITEM,
  SEED_PARAMETER,
  SEED_PARAMETER_VALUE,
  SEED_SECRET,
  seedConfig,
} from '../src/fixtures.js';
import { repoRoot, type Stack, startStack } from '../src/harness.js';

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The example seed's names, as the handlers' source spells them. */
const NAMES = JSON.stringify({ secret: SEED_SECRET, rotated: EXAMPLE_ROTATED_SECRET, ...EXAMPLE_FLAGS });

const CJS_HANDLER = `'use strict';
const { createCacheClient, NotFoundError, CacheClientError } = require('@lambda-cache/client');
const cache = createCacheClient();
const names = ${NAMES};
exports.handler = async () => {
  const value = await cache.getParameter(${JSON.stringify(SEED_PARAMETER)});
  const item = await cache.getItem('DynamoDbTable', { pKey: 'pKey1', sKey: 'sKey1' });
  const missing = await cache.getParameter('/no/such/parameter').catch((e) => e);
  const secretText = await cache.getSecret(names.secret);
  const missingSecret = await cache.getSecret('no/such/secret').catch((e) => e);
  return {
    format: typeof module === 'object' ? 'cjs' : 'esm',
    parameterMatches: value === ${JSON.stringify(SEED_PARAMETER_VALUE)},
    item,
    notFound: missing instanceof NotFoundError && missing instanceof CacheClientError ? missing.code : String(missing),
    secretText: typeof secretText === 'string' ? JSON.parse(secretText) : secretText,
    secretJson: await cache.getSecret(names.secret, { transform: 'json' }),
    secretMetadata: await cache.getSecret(names.rotated, { metadata: true }),
    previousSecret: await cache.getSecret(names.rotated, { versionStage: 'AWSPREVIOUS' }),
    secretNotFound: missingSecret instanceof NotFoundError ? missingSecret.code : String(missingSecret),
    configuration: await cache.getAppConfig(names.application, names.environment, names.profile, { transform: 'json' }),
    flags: {
      [names.flags[0]]: await cache.getFeatureFlag(names.application, names.environment, names.profile, names.flags[0]),
      [names.flags[1]]: await cache.getFeatureFlag(names.application, names.environment, names.profile, names.flags[1]),
    },
  };
};
`;

const ESM_HANDLER = `import { createRequire } from 'node:module';
import {
  getAppConfig,
  getFeatureFlag,
  getItem,
  getParameter,
  getSecret,
  NotFoundError,
} from '@lambda-cache/client';
// The CommonJS build of the same package: a second copy whose errors must still be recognised.
const cjs = createRequire(import.meta.url)('@lambda-cache/client');
const names = ${NAMES};
export const handler = async () => {
  const value = await getParameter(${JSON.stringify(SEED_PARAMETER)});
  const item = await getItem('DynamoDbTable', { pKey: 'pKey1', sKey: 'sKey1' });
  const missing = await getParameter('/no/such/parameter').catch((e) => e);
  const secretText = await getSecret(names.secret);
  const missingSecret = await getSecret('no/such/secret').catch((e) => e);
  return {
    format: typeof require === 'undefined' ? 'esm' : 'cjs',
    parameterMatches: value === ${JSON.stringify(SEED_PARAMETER_VALUE)},
    item,
    notFound: missing instanceof NotFoundError ? missing.code : String(missing),
    twoCopies: cjs.NotFoundError !== NotFoundError && missing instanceof cjs.NotFoundError,
    secretText: typeof secretText === 'string' ? JSON.parse(secretText) : secretText,
    secretJson: await getSecret(names.secret, { transform: 'json' }),
    secretMetadata: await getSecret(names.rotated, { metadata: true }),
    previousSecret: await getSecret(names.rotated, { versionStage: 'AWSPREVIOUS' }),
    secretNotFound: missingSecret instanceof NotFoundError ? missingSecret.code : String(missingSecret),
    configuration: await getAppConfig(names.application, names.environment, names.profile, { transform: 'json' }),
    flags: {
      [names.flags[0]]: await getFeatureFlag(names.application, names.environment, names.profile, names.flags[0]),
      [names.flags[1]]: await getFeatureFlag(names.application, names.environment, names.profile, names.flags[1]),
    },
  };
};
`;

const TYPES_CHECK = `import { createCacheClient } from '@lambda-cache/client';
import type { Schema } from './cache-schema.js';
const cache = createCacheClient<Schema>();
export const row: Promise<Record<string, unknown> | undefined> = cache.getItem('DynamoDbTable', { pKey: 'a', sKey: 'b' });
export const value: Promise<string> = cache.getParameter('CacheExtensions_Parameter1');
// @ts-expect-error a table the config does not name
export const wrongTable = cache.getItem('Nope', { pKey: 'a', sKey: 'b' });
// @ts-expect-error the sort key is missing
export const wrongKey = cache.getItem('DynamoDbTable', { pKey: 'a' });
`;

let work: string;
let functionDir: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'lambda-cache-client-pkg-'));
  functionDir = join(work, 'function');
  await mkdir(functionDir);
  await run(npm, ['pack', '--pack-destination', work, '--silent'], { cwd: join(repoRoot, 'client') });
  const tarball = (await readdir(work)).find((f) => f.endsWith('.tgz'));
  if (tarball === undefined) throw new Error('npm pack wrote no tarball');
  await writeFile(join(functionDir, 'package.json'), '{ "name": "function", "private": true }\n');
  // The tarball has no runtime dependency; offline first, the registry only if npm insists.
  const install = ['install', '--no-audit', '--no-fund', join(work, tarball)];
  await run(npm, [...install, '--offline'], { cwd: functionDir }).catch(() =>
    run(npm, [...install, '--prefer-offline'], { cwd: functionDir }),
  );
  await writeFile(join(functionDir, 'cjs-handler.cjs'), CJS_HANDLER);
  await writeFile(join(functionDir, 'esm-handler.mjs'), ESM_HANDLER);
  await writeFile(join(functionDir, 'config.yaml'), seedConfig);
}, 120_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the packed client', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it.each([
    ['cjs-handler.handler', 'cjs'],
    ['esm-handler.handler', 'esm'],
  ])(
    'reads a parameter, an item, secrets, a configuration and its flags when %s uses the installed tarball',
    async (handler, format) => {
      // The function reads CACHE_EXTENSION_PORT, so extension and function share one known port.
      const seed = await exampleSeed();
      stack = await startStack({ functionDir, handler, fixedPort: true, seed });
      const result = await stack.lambda.invoke({});
      expect(result.ok).toBe(true);
      expect(result.payload).toMatchObject({
        format,
        parameterMatches: true,
        item: SEED_ITEM,
        notFound: 'NotFound',
      });
      if (format === 'esm') expect(result.payload).toMatchObject({ twoCopies: true });

      // What the example seed holds, as the seed file spells it.
      const secretOf = (name: string) => seed.secrets?.find((s) => s.name === name);
      const credentials = JSON.parse(secretOf(SEED_SECRET)?.value ?? 'null');
      const [previousKey, currentKey] = (secretOf(EXAMPLE_ROTATED_SECRET)?.versions ?? []).map(
        (v) => v.value,
      );
      const profile = seed.appconfig?.find((c) => c.profile === EXAMPLE_FLAGS.profile);
      expect(credentials).toBeTypeOf('object');
      expect(currentKey).toBeTypeOf('string');
      expect(Object.keys(profile?.flags ?? {})).toEqual([...EXAMPLE_FLAGS.flags]);

      const payload = result.payload as Record<string, unknown>;
      // The string as stored, the same string parsed by transform: 'json'.
      expect(payload.secretText).toEqual(credentials);
      expect(payload.secretJson).toEqual(credentials);
      expect(payload.secretMetadata).toEqual({
        name: EXAMPLE_ROTATED_SECRET,
        arn: expect.stringMatching(
          /^arn:aws:secretsmanager:[a-z0-9-]+:\d{12}:secret:example\/api-key-\w{6}$/,
        ),
        versionId: expect.any(String),
        versionStages: ['AWSCURRENT'],
        createdDate: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        value: currentKey,
      });
      expect(payload.previousSecret).toBe(previousKey);
      expect(payload.secretNotFound).toBe('NotFound');
      expect(payload.configuration).toEqual(profile?.flags);
      expect(payload.flags).toEqual(profile?.flags);
    },
  );

  it('generates a schema that type-checks correct use and rejects misuse when run from the installed bin', {
    timeout: 120_000,
  }, async () => {
    const bin = join(functionDir, 'node_modules', '.bin', 'lambda-cache-types');
    const { stdout } = await run(bin, ['config.yaml'], { cwd: functionDir });
    await writeFile(join(functionDir, 'cache-schema.ts'), stdout);
    await writeFile(join(functionDir, 'check.ts'), TYPES_CHECK);
    await writeFile(
      join(functionDir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          typeRoots: [join(repoRoot, 'node_modules', '@types')],
          types: ['node'],
        },
        files: ['check.ts'],
      }),
    );
    const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: functionDir }).catch(
      (e: { stdout: string; code: number }) => e,
    );
    expect(result.stdout).toBe('');
  });
});
