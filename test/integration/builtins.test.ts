/**
 * What the layer's and the client's code load of Node itself. An ESM import of a built-in module (static
 * or `import()`) builds the module's ESM facade, which reads every export, and some exports are getters
 * that load more: from Node 22 on, three of `node:http`'s load Node's bundled undici (about 28 ms of CPU
 * at a cold start); `node:fs`'s `ReadStream` and `WriteStream` load its file streams (1-3 ms). Both
 * packages take those modules with `process.getBuiltinModule` instead. Before `register` the layer only
 * listens: `node:crypto` (1.4–3.8 ms to load) waits for the first token check or signature. Each check
 * runs in a fresh process of the Node that runs the tests (CI runs this file on Node 22 and 24 too).
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SEED_PARAMETER, SEED_PARAMETER_VALUE } from '../src/fixtures.js';
import { layerDir, nodeLayerZip, repoRoot, type Stack, startStack } from '../src/harness.js';

const run = promisify(execFile);

/** Prints, as the process exits, which of the modules a facade may pull in were loaded. */
const PROBE = `process.on('exit', () => {
  const loaded = (name) => process.moduleLoadList.some((m) => m.includes(name));
  process.stderr.write('LOADED=' + JSON.stringify({ undici: loaded('internal/deps/undici'), fileStreams: loaded('internal/fs/streams'), webCrypto: loaded('internal/crypto/webcrypto') }) + '\\n');
});
`;

interface Loaded {
  /** Node's bundled undici. */
  undici: boolean;
  /** `node:fs`'s streams (`internal/fs/streams`). */
  fileStreams: boolean;
  /** WebCrypto (`internal/crypto/webcrypto`), which `node:crypto`'s facade loads. */
  webCrypto: boolean;
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

  it('node:crypto: WebCrypto', async () => {
    expect((await load("await import('node:crypto');")).webCrypto).toBe(true);
  });
});

describe("the layer's modules and the client", () => {
  it('load neither undici, the file streams nor WebCrypto: the whole path before register and after it', async () => {
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
    expect(loaded).toMatchObject({ undici: false, fileStreams: false, webCrypto: false });
  });

  describe('with the client', () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await startStack();
    }, 60_000);
    afterAll(() => stack?.close());

    it('load none of them when the client is imported and reads a parameter through the extension', async () => {
      const loaded = await load(
        `const { createCacheClient } = await import('@lambda-cache/client');
const cache = createCacheClient();
process.stdout.write(await cache.getParameter(${JSON.stringify(SEED_PARAMETER)}));
await cache.close();`,
        { CACHE_EXTENSION_PORT: String(stack.port), AWS_SESSION_TOKEN: stack.token },
      );
      expect(loaded.stdout).toBe(SEED_PARAMETER_VALUE);
      expect(loaded).toMatchObject({ undici: false, fileStreams: false, webCrypto: false });
    });
  });
});

/**
 * Preloaded into the layer's process: when the first HTTP request leaves it (`register`, the first thing
 * the extension sends), prints which modules Node had loaded by then.
 */
const REGISTER_PROBE = `const http = require('node:http');
const request = http.request;
let seen = false;
http.request = function (...args) {
  if (!seen) {
    seen = true;
    const loaded = (name) => process.moduleLoadList.includes(name);
    process.stderr.write('AT_REGISTER=' + JSON.stringify({
      crypto: loaded('NativeModule crypto'),
      netFacade: loaded('NativeModule internal/blocklist') || loaded('NativeModule internal/socketaddress'),
      undici: process.moduleLoadList.some((m) => m.includes('internal/deps/undici')),
      fileStreams: loaded('NativeModule internal/fs/streams'),
    }) + '\\n');
  }
  return request.apply(this, args);
};
`;

describe('before register, the layer', () => {
  it('loads neither node:crypto, the modules of node:net’s facade, undici nor the file streams', async () => {
    const dir = join(await layerDir(nodeLayerZip), 'lambda-cache');
    const work = await mkdtemp(join(tmpdir(), 'lambda-cache-register-probe-'));
    // The Extensions API: takes the register request and never answers; the test ends the process.
    const registers: string[] = [];
    const api = createServer((req: IncomingMessage) => {
      registers.push(`${req.method} ${req.url}`);
    });
    api.listen(0, '127.0.0.1');
    await once(api, 'listening');
    try {
      await writeFile(join(work, 'probe.cjs'), REGISTER_PROBE);
      const child = spawn(process.execPath, ['--require', join(work, 'probe.cjs'), join(dir, 'index.mjs')], {
        cwd: work,
        env: {
          PATH: process.env.PATH ?? '',
          AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${(api.address() as AddressInfo).port}`,
          AWS_REGION: 'us-east-1',
          CACHE_EXTENSION_PORT: '0',
          LAMBDA_CACHE_EXTENSION_NAME: 'lambda-cache',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      try {
        let stderr = '';
        child.stderr.setEncoding('utf8');
        const line = await new Promise<string>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no register within 20 s: ${stderr}`)), 20_000);
          child.stderr.on('data', (chunk: string) => {
            stderr += chunk;
            const found = /AT_REGISTER=(.*)/.exec(stderr)?.[1];
            if (found !== undefined) {
              clearTimeout(timer);
              resolve(found);
            }
          });
          child.once('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`the layer exited (${code}) before register: ${stderr}`));
          });
        });
        expect(JSON.parse(line)).toEqual({
          crypto: false,
          netFacade: false,
          undici: false,
          fileStreams: false,
        });
        await vi.waitFor(() => expect(registers).toEqual(['POST /2020-01-01/extension/register']));
      } finally {
        child.kill('SIGKILL');
      }
    } finally {
      api.closeAllConnections();
      api.close();
      await rm(work, { recursive: true, force: true });
    }
  });
});
