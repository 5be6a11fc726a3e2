/**
 * What the layer's and the client's code load of Node itself. An ESM import of a built-in module (static
 * or `import()`) builds the module's ESM facade, which reads every export, and some exports are getters
 * that load more: from Node 22 on, three of `node:http`'s load Node's bundled undici (about 28 ms of CPU
 * at a cold start); `node:fs`'s `ReadStream` and `WriteStream` load its file streams (1-3 ms). Both
 * packages take those modules with `process.getBuiltinModule` instead. Each check runs in a fresh process
 * of the Node that runs the tests (CI runs this file on Node 22 and 24 too).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_PARAMETER, SEED_PARAMETER_VALUE } from '../src/fixtures.js';
import { layerDir, nodeLayerZip, repoRoot, type Stack, startStack } from '../src/harness.js';

const run = promisify(execFile);

/** Prints, as the process exits, which of the modules a facade may pull in were loaded. */
const PROBE = `process.on('exit', () => {
  const loaded = (name) => process.moduleLoadList.some((m) => m.includes(name));
  process.stderr.write('LOADED=' + JSON.stringify({ undici: loaded('internal/deps/undici'), fileStreams: loaded('internal/fs/streams') }) + '\\n');
});
`;

interface Loaded {
  /** Node's bundled undici. */
  undici: boolean;
  /** `node:fs`'s streams (`internal/fs/streams`). */
  fileStreams: boolean;
  stdout: string;
}

async function load(script: string, env: Record<string, string> = {}): Promise<Loaded> {
  const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', PROBE + script], {
    cwd: join(repoRoot, 'test'),
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 30_000,
  });
  const line = /LOADED=(.*)/.exec(stderr)?.[1];
  if (line === undefined) throw new Error(`the probe printed nothing: ${stderr}`);
  return { ...(JSON.parse(line) as Omit<Loaded, 'stdout'>), stdout };
}

const nodeMajor = Number(process.versions.node.split('.')[0]);

describe('what an ESM import of a built-in module loads (the probe sees it)', () => {
  it(`node:http: Node's bundled undici, from Node 22 on (this is ${process.version})`, async () => {
    expect((await load("await import('node:http');")).undici).toBe(nodeMajor >= 22);
  });

  it("node:fs: Node's file streams", async () => {
    expect((await load("await import('node:fs');")).fileStreams).toBe(true);
  });
});

describe("the layer's modules and the client", () => {
  it('load neither undici nor the file streams: the whole path before register and after it', async () => {
    const dir = join(await layerDir(nodeLayerZip), 'lambda-cache');
    // backend.mjs: the config reader, the sources, the AWS client and its transport; index.mjs with
    // --help: everything it imports statically (server, Extensions API client), then the usage and exit.
    const loaded = await load(
      [
        `await import(${JSON.stringify(join(dir, 'backend.mjs'))});`,
        `process.argv = [process.execPath, 'index.mjs', '--help'];`,
        `await import(${JSON.stringify(join(dir, 'index.mjs'))});`,
      ].join('\n'),
    );
    expect(loaded.stdout).toContain('usage: lambda-cache');
    expect(loaded).toMatchObject({ undici: false, fileStreams: false });
  });

  describe('with the client', () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await startStack();
    }, 60_000);
    afterAll(() => stack?.close());

    it('load neither when the client is imported and reads a parameter through the extension', async () => {
      const loaded = await load(
        `const { createCacheClient } = await import('@lambda-cache/client');
const cache = createCacheClient();
process.stdout.write(await cache.getParameter(${JSON.stringify(SEED_PARAMETER)}));
await cache.close();`,
        { CACHE_EXTENSION_PORT: String(stack.port), AWS_SESSION_TOKEN: stack.token },
      );
      expect(loaded.stdout).toBe(SEED_PARAMETER_VALUE);
      expect(loaded).toMatchObject({ undici: false, fileStreams: false });
    });
  });
});
