/**
 * The standalone layers: the same extension with a JavaScript runtime of its own, for functions whose
 * runtime brings no Node.js. The whole suite runs against the x86_64 one with
 * `LAMBDA_CACHE_TEST_LAYER=standalone`; this file checks what is particular to them, whichever layer the
 * rest of the suite runs.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Backends, startBackends } from '@lambda-cache/local';
import { parameterPath } from '@lambda-cache/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_PARAMETER, SEED_PARAMETER_VALUE, SEED_REGION, seedConfig, seedData } from '../src/fixtures.js';
import {
  httpGet,
  layerDir,
  nodeLayerZip,
  pathWithoutNode,
  type Stack,
  standaloneZip,
  startStack,
  waitFor,
} from '../src/harness.js';

const ARCHES = { x86_64: 0x3e, arm64: 0xb7 } as const;
/** Lambda's limit for a zip uploaded directly. */
const MAX_ZIP_BYTES = 50 * 1024 * 1024;

/** All files under `dir`, relative, sorted. */
async function tree(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await tree(dir, rel)));
    else out.push(rel);
  }
  return out.sort();
}

async function elfMachine(file: string): Promise<number> {
  const handle = await open(file, 'r');
  try {
    const { buffer } = await handle.read(Buffer.alloc(20), 0, 20, 0);
    expect(buffer.readUInt32BE(0)).toBe(0x7f454c46);
    return buffer.readUInt16LE(18);
  } finally {
    await handle.close();
  }
}

describe('the standalone x86_64 layer', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ layer: standaloneZip('x86_64') });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('serves the seeded parameter from the runtime inside the layer, with no node on PATH', async () => {
    const pid = stack.lambda.extensions[0]?.pid as number;
    // The launcher execs: the extension's process is the layer's own runtime binary.
    const exe = await readlink(`/proc/${pid}/exe`);
    expect(exe).toBe(join(await layerDir(standaloneZip('x86_64')), 'lambda-cache', 'runtime', 'bun'));
    const environ = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');
    const path = environ.find((e) => e.startsWith('PATH='))?.slice('PATH='.length) ?? '';
    expect(path).toBe(await pathWithoutNode());
    expect(existsSync(join(path, 'node'))).toBe(false);
    const res = await stack.get(parameterPath(SEED_PARAMETER));
    expect(res.status).toBe(200);
    expect(res.body.value).toBe(SEED_PARAMETER_VALUE);
  });
});

describe('the Node layer where there is no node', () => {
  it('exits 127 saying so, which is what the standalone layer is for', async () => {
    const stack = await startStack({
      layer: nodeLayerZip,
      env: { PATH: await pathWithoutNode() },
      init: false,
      requireListening: false,
    });
    try {
      const init = await stack.initDone;
      expect(init.ok).toBe(false);
      expect(stack.lambda.extensions[0]?.exitCode).toBe(127);
      expect(stack.logs().some((l) => l.includes('no node executable found'))).toBe(true);
    } finally {
      await stack.close();
    }
  });
});

describe('the standalone layer of the other architecture', () => {
  it('exits 126 naming both architectures instead of failing to exec', async () => {
    const other = process.arch === 'arm64' ? 'x86_64' : 'arm64';
    const stack = await startStack({ layer: standaloneZip(other), init: false, requireListening: false });
    try {
      const init = await stack.initDone;
      expect(init.ok).toBe(false);
      expect(stack.lambda.extensions[0]?.exitCode).toBe(126);
      const line = stack.logs().find((l) => l.includes('standalone layer and the function runs on'));
      expect(line).toMatch(
        /this is the (x86_64|aarch64) standalone layer and the function runs on (x86_64|aarch64)/,
      );
    } finally {
      await stack.close();
    }
  });
});

describe('the standalone zips', () => {
  it('hold the same files for both architectures, each with a binary of its own CPU, under 50 MiB', async () => {
    const layouts: string[][] = [];
    for (const [arch, machine] of Object.entries(ARCHES) as [keyof typeof ARCHES, number][]) {
      expect((await stat(standaloneZip(arch))).size).toBeLessThanOrEqual(MAX_ZIP_BYTES);
      const dir = await layerDir(standaloneZip(arch));
      layouts.push(await tree(dir));
      expect(await elfMachine(join(dir, 'lambda-cache', 'runtime', 'bun'))).toBe(machine);
      expect((await stat(join(dir, 'extensions', 'lambda-cache'))).mode & 0o777).toBe(0o755);
      expect((await stat(join(dir, 'lambda-cache', 'runtime', 'bun'))).mode & 0o777).toBe(0o755);
    }
    expect(layouts[0]).toEqual(layouts[1]);
    // The bundle is the Node layer's, byte for byte.
    const node = await layerDir(nodeLayerZip);
    const standalone = await layerDir(standaloneZip('x86_64'));
    for (const file of await readdir(join(node, 'lambda-cache'))) {
      expect(await readFile(join(standalone, 'lambda-cache', file))).toEqual(
        await readFile(join(node, 'lambda-cache', file)),
      );
    }
  });
});

/**
 * How to run an aarch64 binary here: directly on an arm64 machine, else under qemu's user-mode emulator
 * with Debian's aarch64 C library as its sysroot (`.ci/run` installs both).
 */
function arm64Runner(): { command: string; args: string[] } | undefined {
  if (process.arch === 'arm64') return { command: '', args: [] };
  const sysroot = '/usr/aarch64-linux-gnu';
  const qemu = ['/usr/bin/qemu-aarch64-static', '/usr/bin/qemu-aarch64'].find((f) => existsSync(f));
  if (qemu === undefined || !existsSync(join(sysroot, 'lib', 'ld-linux-aarch64.so.1'))) return undefined;
  return { command: qemu, args: ['-L', sysroot] };
}

describe('the standalone arm64 layer', () => {
  let backends: Backends;
  let scratch: string;
  beforeAll(async () => {
    backends = await startBackends({ seed: seedData(), region: SEED_REGION });
    scratch = await mkdtemp(join(tmpdir(), 'lambda-cache-arm64-'));
  });
  afterAll(async () => {
    await backends?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('starts and answers a read of the seeded parameter', { timeout: 120_000 }, async (ctx) => {
    const runner = arm64Runner();
    if (runner === undefined) {
      // Only CI is required to have an emulator; elsewhere the zips' test above checks the binary's CPU.
      expect(process.env.CI, 'CI must install qemu-user-static and libc6-arm64-cross').toBeUndefined();
      ctx.annotate('no aarch64 emulator here: arm64 layer checked by its layout and ELF header only');
      return;
    }
    const dir = join(await layerDir(standaloneZip('arm64')), 'lambda-cache');
    const config = join(scratch, 'config.yaml');
    await writeFile(config, seedConfig);
    const bun = join(dir, 'runtime', 'bun');
    // What the launcher runs, in serve mode (no Lambda APIs): the runtime, its flags, the bundle.
    const bunArgs = [`--config=${join(dir, 'bunfig.toml')}`, '--no-install', join(dir, 'index.mjs'), 'serve'];
    const child = spawn(runner.command || bun, runner.command ? [...runner.args, bun, ...bunArgs] : bunArgs, {
      env: {
        ...backends.env,
        PATH: await pathWithoutNode(),
        CACHE_EXTENSION_PORT: '0',
        CACHE_EXTENSION_CONFIG: config,
        BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    const collect = (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n'));
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    try {
      const port = await waitFor(
        'the arm64 extension to listen',
        () => /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(lines.join('\n'))?.[1],
        { timeoutMs: 90_000, intervalMs: 100 },
      );
      const res = await waitFor(
        'the prefetched parameter',
        async () => {
          const r = await httpGet(Number(port), parameterPath(SEED_PARAMETER));
          return r.status === 200 ? r : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      expect(res.body.value).toBe(SEED_PARAMETER_VALUE);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});
