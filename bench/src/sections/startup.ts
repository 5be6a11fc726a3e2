/**
 * 5. Start-up and size: spawn → `register` and spawn → ready with the seed's config, against
 * `node -e 0` (spawn → exit) on the same machine; the bundle's and the layer zip's sizes.
 */
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { LambdaEmulator } from '@lambda-cache/local';
import type { Context } from '../context.js';
import { SEED_CONFIG } from '../data.js';
import { nodeE0Ms } from '../processes.js';
import { startExtension } from '../stack.js';

export const STARTUP_FIGURES = {
  register: 'startup.spawn_to_register',
  ready: 'startup.spawn_to_ready_seed_config',
  initDone: 'startup.spawn_to_init_done_seed_config',
  nodeE0: 'startup.node_e0',
  minimal: 'startup.minimal_extension_register',
  bundle: 'size.bundle',
  entry: 'size.bundle_entry',
  zip: 'size.layer_zip',
} as const;

/**
 * A layer holding only the minimal extension (Node, `node:http`, register), launched the way the product
 * is: a shell launcher that `exec`s node.
 */
async function minimalLayer(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lambda-cache-bench-minimal-'));
  await mkdir(join(dir, 'extensions'));
  const script = fileURLToPath(new URL('../minimal-extension.js', import.meta.url));
  const launcher = join(dir, 'extensions', 'minimal');
  await writeFile(
    launcher,
    `#!/bin/sh\nMINIMAL_EXTENSION_NAME=minimal exec '${process.execPath}' '${script}'\n`,
  );
  await chmod(launcher, 0o755);
  return dir;
}

/** Spawn → register of the minimal extension under the emulator. */
async function minimalRegisterMs(layerDir: string, functionDir: string): Promise<number> {
  let registeredAt = Number.NaN;
  const lambda = await LambdaEmulator.create({
    layerDir,
    functionDir,
    handler: 'index.handler',
    beforeRegisterResponse: async () => {
      registeredAt = performance.now();
    },
  });
  try {
    const t0 = performance.now();
    const init = await lambda.init();
    if (!init.ok) throw new Error(`the minimal extension failed to init: ${init.error?.message}`);
    return registeredAt - t0;
  } finally {
    await lambda.shutdown('spindown');
  }
}

export async function startup(ctx: Context): Promise<void> {
  const { options, recorder } = ctx;
  const register: number[] = [];
  const ready: number[] = [];
  const initDone: number[] = [];
  const nodeE0: number[] = [];
  const minimal: number[] = [];
  const layer = await minimalLayer();
  const functionDir = join(layer, 'function');
  await mkdir(functionDir);
  await writeFile(join(functionDir, 'index.mjs'), 'export const handler = async () => ({ ok: true });\n');
  // One unmeasured start first, so the file cache is warm for the product and for node -e 0 alike.
  await (
    await startExtension({
      layerDir: ctx.layerDir,
      backends: ctx.backends,
      config: SEED_CONFIG,
      token: ctx.token,
      env: ctx.extensionEnv,
    })
  ).close();
  await nodeE0Ms();
  await minimalRegisterMs(layer, functionDir);
  for (let round = 0; round < options.startupRounds; round++) {
    nodeE0.push(await nodeE0Ms());
    minimal.push(await minimalRegisterMs(layer, functionDir));
    const ext = await startExtension({
      layerDir: ctx.layerDir,
      backends: ctx.backends,
      config: SEED_CONFIG,
      token: ctx.token,
      env: ctx.extensionEnv,
    });
    register.push(ext.registerMs);
    ready.push(ext.readyMs);
    initDone.push(ext.initMs);
    await ext.close();
  }
  const F = STARTUP_FIGURES;
  recorder.figure(F.register, 'ms', 'extension spawn → register request', register);
  recorder.figure(F.ready, 'ms', "extension spawn → ready (init done), the seed's config", ready);
  recorder.figure(
    F.initDone,
    'ms',
    "the emulator's init, spawn → done (the extension ready and the function's runtime started): Lambda's Init Duration",
    initDone,
  );
  recorder.figure(F.nodeE0, 'ms', 'node -e 0, spawn → exit', nodeE0);
  recorder.figure(
    F.minimal,
    'ms',
    'a minimal Node extension (node:http only, registers at once), spawn → register: the floor for any Node extension',
    minimal,
  );
  await rm(layer, { recursive: true, force: true });
  const code = join(ctx.layerDir, 'lambda-cache');
  let bundle = 0;
  for (const file of await readdir(code)) bundle += (await stat(join(code, file))).size;
  const entry = (await stat(join(code, 'index.mjs'))).size;
  const zip = (await stat(ctx.layerZip)).size;
  recorder.figure(F.bundle, 'KiB', 'every file of lambda-cache/, the bundled extension', [bundle / 1024]);
  recorder.figure(F.entry, 'KiB', 'lambda-cache/index.mjs, what Node reads and runs before register', [
    entry / 1024,
  ]);
  recorder.figure(F.zip, 'KiB', 'dist/lambda-cache-layer.zip', [zip / 1024]);
  recorder.ratio(
    'startup.register_minus_node_e0_ms',
    recorder.median(F.register) - recorder.median(F.nodeE0),
  );
  recorder.ratio(
    'startup.register_minus_minimal_extension_ms',
    recorder.median(F.register) - recorder.median(F.minimal),
  );
  recorder.ratio('startup.ready_minus_node_e0_ms', recorder.median(F.ready) - recorder.median(F.nodeE0));
  ctx.log(`startup: register ${recorder.median(F.register)} ms, node -e 0 ${recorder.median(F.nodeE0)} ms`);
}
