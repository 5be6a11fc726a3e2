// The built package, as a CDK app loads it (`npm run build` first; `npm test` builds before it runs tests):
// both entries carry the extension's config parser, so they refuse what the extension refuses.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/extension-config.mjs';
import type * as api from '../../src/index.js';
import { emptyZip, messageOf, nodeFunction, stackIn } from './helpers.js';

const dist = (p: string) => fileURLToPath(new URL(`../../dist/${p}`, import.meta.url));
const UNKNOWN_KEY = fileURLToPath(new URL('../fixtures/unknown-key.yaml', import.meta.url));

const entries: Array<[string, () => Promise<typeof api>]> = [
  ['import', () => import(dist('index.js'))],
  ['require', async () => createRequire(import.meta.url)(dist('cjs/index.js'))],
];

describe.each(entries)('the built package, by %s', (_how, load) => {
  it('refuses a config the extension refuses, with the extension’s message', async () => {
    const { attachLambdaCache, LambdaCacheLayer } = await load();
    const stack = stackIn();
    const layer = new LambdaCacheLayer(stack, 'Cache', { zipFile: emptyZip() });
    const expected = messageOf(() => parseConfig(readFileSync(UNKNOWN_KEY, 'utf8'), UNKNOWN_KEY));
    expect(messageOf(() => attachLambdaCache(nodeFunction(stack), { layer, config: UNKNOWN_KEY }))).toBe(
      expected,
    );
  });
});
