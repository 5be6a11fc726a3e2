/**
 * 5. Start-up against its floor: the packaged layer with the seed's config and the minimal extension
 * (`minimal-extension.ts`, the floor for any Node extension), started alternately under the emulator in
 * the same harness: spawn → `register`, spawn → ready (first `event/next`), and CPU time (utime + stime)
 * at ready; `node -e 0` beside them; the bundle's and the layer zip's sizes.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { coldStart } from '../cold-start.js';
import type { Context } from '../context.js';
import { REGION, SEED_CONFIG } from '../data.js';
import { minimalLayer, trivialFunction } from '../floor.js';
import { nodeE0Ms } from '../processes.js';

export const STARTUP_FIGURES = {
  register: 'startup.spawn_to_register',
  ready: 'startup.spawn_to_ready_seed_config',
  cpu: 'startup.cpu_to_ready_seed_config',
  initDone: 'startup.spawn_to_init_done_seed_config',
  nodeE0: 'startup.node_e0',
  minimal: 'startup.minimal_extension_register',
  minimalReady: 'startup.minimal_extension_ready',
  minimalCpu: 'startup.minimal_extension_cpu_to_ready',
  registerOverFloor: 'startup.register_minus_floor',
  readyOverFloor: 'startup.ready_minus_floor',
  cpuOverFloor: 'startup.cpu_to_ready_minus_floor',
  bundle: 'size.bundle',
  entry: 'size.bundle_entry',
  zip: 'size.layer_zip',
} as const;

interface Sample {
  readonly registerMs: number;
  readonly readyMs: number;
  readonly cpuMs: number;
  readonly initMs: number;
}

export async function startup(ctx: Context): Promise<void> {
  const { options, recorder } = ctx;
  const floorLayer = await minimalLayer();
  const functionDir = await trivialFunction(SEED_CONFIG);
  const productEnv = {
    ...ctx.backends.env,
    AWS_REGION: REGION,
    CACHE_EXTENSION_PORT: '0',
    CACHE_EXTENSION_CONFIG: join(functionDir, 'config.yaml'),
    AWS_SESSION_TOKEN: ctx.token,
    ...ctx.extensionEnv,
  };
  const once = async (product: boolean): Promise<Sample> => {
    const run = await coldStart({
      layerDir: product ? ctx.layerDir : floorLayer,
      functionDir,
      env: product ? productEnv : { AWS_REGION: REGION },
    });
    try {
      const ext = run.extension;
      if (!ext) throw new Error('no extension started');
      return {
        registerMs: ext.registerMs,
        readyMs: ext.readyMs,
        cpuMs: ext.cpuToReadyMs,
        initMs: run.init.initDurationMs,
      };
    } finally {
      await run.close();
    }
  };
  const product: Sample[] = [];
  const floor: Sample[] = [];
  const nodeE0: number[] = [];
  try {
    // One unmeasured start of each first, so the file cache is warm for both and for node -e 0 alike.
    await once(true);
    await once(false);
    await nodeE0Ms();
    // Interleaved, and the order flips every round, so drift in the machine's load lands on both.
    for (let round = 0; round < options.startupRounds; round++) {
      nodeE0.push(await nodeE0Ms());
      if (round % 2 === 0) {
        floor.push(await once(false));
        product.push(await once(true));
      } else {
        product.push(await once(true));
        floor.push(await once(false));
      }
    }
  } finally {
    await rm(floorLayer, { recursive: true, force: true });
    await rm(functionDir, { recursive: true, force: true });
  }
  const F = STARTUP_FIGURES;
  const pick = (samples: readonly Sample[], key: keyof Sample) => samples.map((s) => s[key]);
  const paired = (key: keyof Sample) => product.map((p, i) => p[key] - (floor[i]?.[key] ?? Number.NaN));
  recorder.figure(F.register, 'ms', 'extension spawn → register request', pick(product, 'registerMs'));
  recorder.figure(
    F.ready,
    'ms',
    "extension spawn → its first event/next (ready), the seed's config",
    pick(product, 'readyMs'),
  );
  recorder.figure(
    F.cpu,
    'ms',
    "extension CPU time (utime + stime of every thread, from schedstat) at its first event/next, the seed's config",
    pick(product, 'cpuMs'),
  );
  recorder.figure(
    F.initDone,
    'ms',
    "the emulator's init, spawn → done (the extension ready and the function's runtime started): Lambda's Init Duration",
    pick(product, 'initMs'),
  );
  recorder.figure(F.nodeE0, 'ms', 'node -e 0, spawn → exit', nodeE0);
  recorder.figure(
    F.minimal,
    'ms',
    'a minimal Node extension (node:http only, registers at once), spawn → register: the floor for any Node extension',
    pick(floor, 'registerMs'),
  );
  recorder.figure(
    F.minimalReady,
    'ms',
    'the minimal extension, spawn → its first event/next',
    pick(floor, 'readyMs'),
  );
  recorder.figure(
    F.minimalCpu,
    'ms',
    'the minimal extension, CPU time (utime + stime) at its first event/next',
    pick(floor, 'cpuMs'),
  );
  recorder.figure(
    F.registerOverFloor,
    'ms',
    'spawn → register, the extension minus the minimal extension of the same round',
    paired('registerMs'),
  );
  recorder.figure(
    F.readyOverFloor,
    'ms',
    'spawn → ready, the extension minus the minimal extension of the same round',
    paired('readyMs'),
  );
  recorder.figure(
    F.cpuOverFloor,
    'ms',
    'CPU time to ready, the extension minus the minimal extension of the same round',
    paired('cpuMs'),
  );
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
  const m = (name: string) => recorder.median(name);
  recorder.ratio('startup.register_minus_node_e0_ms', m(F.register) - m(F.nodeE0));
  recorder.ratio('startup.register_minus_minimal_extension_ms', m(F.register) - m(F.minimal));
  recorder.ratio('startup.ready_minus_node_e0_ms', m(F.ready) - m(F.nodeE0));
  ctx.log(
    `startup: register ${m(F.register)} ms (floor ${m(F.minimal)}), ready ${m(F.ready)} ms (floor ${m(F.minimalReady)}), CPU ${m(F.cpu)} ms (floor ${m(F.minimalCpu)})`,
  );
}
