/**
 * The published builds, as a handler loads them: `dist/index.js` by `import` and `dist/cjs/index.js` by
 * `require`, each in a fresh `node` against a stand-in extension. Both must export every call and make
 * it work. Reads `dist/`: build the client first (`npm run build -w client`).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { parseAppConfigQuery, parseParameterQuery, parseSecretQuery } from '@lambda-cache/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeExtension, parameterBody, secretBody, startFakeExtension } from './server.js';

const dist = join(dirname(fileURLToPath(import.meta.url)), '../../dist');
const run = promisify(execFile);

const CALLS = [
  'createCacheClient',
  'getParameter',
  'getItem',
  'getSecret',
  'getAppConfig',
  'getFeatureFlag',
  'close',
];

/** The body of a handler, given the module as `m`: every new call once, through both entry styles. */
const BODY = `
  const cache = m.createCacheClient();
  const out = {
    exported: ${JSON.stringify(CALLS)}.filter((name) => typeof m[name] === 'function'),
    secret: await cache.getSecret('prod/db', { transform: 'json' }),
    binary: Array.from(await m.getSecret('prod/key', { transform: 'binary' })),
    config: await cache.getAppConfig('shop', 'prod', 'motd'),
    flag: await m.getFeatureFlag('shop', 'prod', 'flags', 'beta'),
    missing: await cache.getSecret('nope').catch((e) => e instanceof m.NotFoundError && e.code),
  };
  await cache.close();
  await m.close();
  console.log(JSON.stringify(out));
`;

let fake: FakeExtension;

beforeAll(async () => {
  if (!existsSync(join(dist, 'index.js')) || !existsSync(join(dist, 'cjs/index.js'))) {
    throw new Error('dist/ is missing: build the client first (npm run build -w client)');
  }
  fake = await startFakeExtension((url) => {
    if (url.pathname === '/v1/parameters') {
      const { name } = parseParameterQuery(url.searchParams);
      return { body: parameterBody(name, 'v') };
    }
    if (url.pathname === '/v1/secrets') {
      const { id } = parseSecretQuery(url.searchParams);
      if (id === 'nope') return { status: 404, body: { code: 'NotFound', message: 'no such secret' } };
      return { body: secretBody(id, id === 'prod/key' ? Uint8Array.from([0, 255]) : '{"user":"app"}') };
    }
    const q = parseAppConfigQuery(url.searchParams);
    if (q.flags !== undefined) return { body: { beta: { enabled: false, note: 'x' } } };
    return { body: 'hello\n', headers: { 'content-type': 'text/plain' } };
  });
});

afterAll(async () => {
  await fake?.close();
});

async function runHandler(args: string[]): Promise<unknown> {
  const { stdout } = await run(process.execPath, args, {
    env: { ...process.env, CACHE_EXTENSION_PORT: String(fake.port) },
    timeout: 30_000,
  });
  return JSON.parse(stdout);
}

const EXPECTED = {
  exported: CALLS,
  secret: { user: 'app' },
  binary: [0, 255],
  config: 'hello\n',
  flag: { enabled: false, note: 'x' },
  missing: 'NotFound',
};

describe('the published builds', () => {
  it('export and run every call when the ESM build is imported', async () => {
    const script = `const m = await import(${JSON.stringify(pathToFileURL(join(dist, 'index.js')).href)});${BODY}`;
    await expect(runHandler(['--input-type=module', '-e', script])).resolves.toEqual(EXPECTED);
  });

  it('export and run every call when the CommonJS build is required', async () => {
    const script = `(async () => { const m = require(${JSON.stringify(join(dist, 'cjs/index.js'))});${BODY} })().catch((e) => { console.error(e); process.exit(1); });`;
    await expect(runHandler(['--input-type=commonjs', '-e', script])).resolves.toEqual(EXPECTED);
  });
});
