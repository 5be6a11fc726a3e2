/**
 * The built package inside a function's own ESM bundle, the way most Lambda functions ship: esbuild
 * `--bundle --format=esm --platform=node --minify`, then run by a plain `node` against a stand-in
 * extension. Reads `dist/`: build the client first (`npm run build -w client`).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import {
  parseAppConfigQuery,
  parseDynamoDbQuery,
  parseParameterQuery,
  parseSecretQuery,
} from '@lambda-cache/shared';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeExtension, parameterBody, secretBody, startFakeExtension } from './server.js';

const clientDir = join(dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

/** The most a function bundle may grow by for the client, minified. */
const MAX_BUNDLE_BYTES = 100_000;

const HANDLER = `import { createCacheClient } from '@lambda-cache/client';
const cache = createCacheClient();
export const handler = async () => {
  const value = await cache.getParameter('/app/prod/db-url');
  const item = await cache.getItem('Orders', { id: 7 });
  const missing = await cache.getItem('Orders', { id: 8 });
  const table = await cache.getItem('Ordres', { id: 7 }).catch((e) => e);
  const secret = await cache.getSecret('prod/db', { transform: 'json' });
  const config = await cache.getAppConfig('shop', 'prod', 'settings', { transform: 'json' });
  const flag = await cache.getFeatureFlag('shop', 'prod', 'flags', 'beta');
  await cache.close();
  return { value, item, missing: missing === undefined, table: table?.code, secret, config, flag };
};
`;

let work: string;
let bundle: string;
let fake: FakeExtension;

beforeAll(async () => {
  if (!existsSync(join(clientDir, 'dist/index.js'))) {
    throw new Error('dist/index.js is missing: build the client first (npm run build -w client)');
  }
  work = await mkdtemp(join(tmpdir(), 'client-esm-bundle-'));
  await writeFile(join(work, 'handler.mjs'), HANDLER);
  bundle = join(work, 'bundle.mjs');
  await build({
    entryPoints: [join(work, 'handler.mjs')],
    outfile: bundle,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minify: true,
    logLevel: 'silent',
    // The package as a function's bundler finds it: by name, through its package.json `exports`.
    nodePaths: [join(clientDir, '..', 'node_modules')],
  });
  fake = await startFakeExtension((url) => {
    if (url.pathname === '/v1/parameters') {
      const { name } = parseParameterQuery(url.searchParams);
      return { body: parameterBody(name, `value of ${name}`) };
    }
    if (url.pathname === '/v1/secrets') {
      const { id } = parseSecretQuery(url.searchParams);
      return { body: secretBody(id, '{"user":"app"}') };
    }
    if (url.pathname === '/v1/appconfig') {
      const q = parseAppConfigQuery(url.searchParams);
      if (q.flags !== undefined) return { body: { beta: { enabled: true } } };
      return { body: '{"timeoutMs":250}', headers: { 'content-type': 'application/json' } };
    }
    const { table, key } = parseDynamoDbQuery(url.searchParams);
    if (table !== 'Orders') {
      return {
        status: 404,
        body: { code: 'NotFound', message: 'no table', awsCode: 'ResourceNotFoundException' },
      };
    }
    if ((key as { id?: { N?: string } }).id?.N !== '7') {
      return { status: 404, body: { code: 'NotFound', message: 'no item' } };
    }
    return { body: { table, key, item: { id: { N: '7' }, total: { N: '12.5' } } } };
  });
}, 60_000);

afterAll(async () => {
  await fake?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the client in a function ESM bundle', () => {
  it('reads a parameter and items when the bundle runs under plain node', async () => {
    const script = `const m = await import(${JSON.stringify(pathToFileURL(bundle).href)}); console.log(JSON.stringify(await m.handler()));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, CACHE_EXTENSION_PORT: String(fake.port), AWS_SESSION_TOKEN: 'tok' },
      timeout: 30_000,
    }).catch((e: { stderr?: string }) => {
      // Node quotes the failing source line, here the whole minified bundle: report the error alone.
      const line = (e.stderr ?? '').split('\n').find((l) => /^\w*Error\b/.test(l));
      throw new Error(`the bundled handler failed: ${line ?? 'no error line on stderr'}`);
    });
    expect(JSON.parse(stdout)).toEqual({
      value: 'value of /app/prod/db-url',
      item: { id: 7, total: 12.5 },
      missing: true,
      table: 'TableNotFound',
      secret: { user: 'app' },
      config: { timeoutMs: 250 },
      flag: { enabled: true },
    });
    expect(fake.requests[0]?.headers['x-aws-parameters-secrets-token']).toBe('tok');
  });

  it(`adds at most ${MAX_BUNDLE_BYTES} bytes when minified`, async () => {
    expect((await stat(bundle)).size).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
  });
});
