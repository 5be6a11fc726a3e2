/**
 * What the layer's and the client's code load of Node itself. On Node 22 and later an ESM import of
 * `node:http` (static or `import()`) builds the module's ESM facade, which reads every export; three of
 * them (`WebSocket`, `CloseEvent`, `MessageEvent`) are getters that load Node's bundled undici, about
 * 28 ms of CPU at a cold start. Both packages take `node:http` with `process.getBuiltinModule` instead.
 * Each check runs in a fresh process of the Node that runs the tests (CI runs this file on 22 and 24).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_PARAMETER, SEED_PARAMETER_VALUE } from '../src/fixtures.js';
import { layerDir, nodeLayerZip, repoRoot, type Stack, startStack } from '../src/harness.js';

const run = promisify(execFile);

/** Prints, as the process exits, whether Node's bundled undici was loaded. */
const PROBE = `process.on('exit', () => {
  process.stderr.write('UNDICI=' + process.moduleLoadList.some((m) => m.includes('internal/deps/undici')) + '\\n');
});
`;

async function loadsUndici(
  script: string,
  env: Record<string, string> = {},
): Promise<{ undici: boolean; stdout: string }> {
  const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', PROBE + script], {
    cwd: join(repoRoot, 'test'),
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 30_000,
  });
  const flag = /UNDICI=(true|false)/.exec(stderr)?.[1];
  if (flag === undefined) throw new Error(`the probe printed nothing: ${stderr}`);
  return { undici: flag === 'true', stdout };
}

const nodeMajor = Number(process.versions.node.split('.')[0]);

describe("Node's bundled undici", () => {
  it(`is loaded by an ESM import of node:http from Node 22 on (this is ${process.version}): the probe sees it`, async () => {
    const { undici } = await loadsUndici("await import('node:http');");
    expect(undici).toBe(nodeMajor >= 22);
  });

  it("is not loaded by the layer's modules: the whole path before register and after it", async () => {
    const dir = join(await layerDir(nodeLayerZip), 'lambda-cache');
    // backend.mjs: the sources, the AWS client and its transport; index.mjs with --help: everything it
    // imports statically (server, Extensions API client), then the usage and exit.
    const { undici, stdout } = await loadsUndici(
      [
        `await import(${JSON.stringify(join(dir, 'backend.mjs'))});`,
        `process.argv = [process.execPath, 'index.mjs', '--help'];`,
        `await import(${JSON.stringify(join(dir, 'index.mjs'))});`,
      ].join('\n'),
    );
    expect(stdout).toContain('usage: lambda-cache');
    expect(undici).toBe(false);
  });

  describe('with the client', () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await startStack();
    }, 60_000);
    afterAll(() => stack?.close());

    it('is not loaded by importing the client and reading a parameter through the extension', async () => {
      const { undici, stdout } = await loadsUndici(
        `const { createCacheClient } = await import('@lambda-cache/client');
const cache = createCacheClient();
process.stdout.write(await cache.getParameter(${JSON.stringify(SEED_PARAMETER)}));
await cache.close();`,
        { CACHE_EXTENSION_PORT: String(stack.port), AWS_SESSION_TOKEN: stack.token },
      );
      expect(stdout).toBe(SEED_PARAMETER_VALUE);
      expect(undici).toBe(false);
    });
  });
});
