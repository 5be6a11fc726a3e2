/**
 * 7. Init Duration and Max Memory Used of the example function (`example-function/`) under the emulator:
 * with the layer, with the minimal extension (the floor of any Node extension) and without either, in
 * interleaved rounds at full CPU; then, with the 128 MB CPU share applied during init, with the layer
 * against the minimal extension.
 *
 * Without the layer, the function's reads go to an extension running outside its environment, so the
 * function does the same work in both and none of that extension's memory or CPU is counted.
 */
import { rm } from 'node:fs/promises';
import { type ColdStart, coldStart } from '../cold-start.js';
import type { Context } from '../context.js';
import { EXAMPLE_CONFIG, EXAMPLE_DIR, EXAMPLE_ENV, EXAMPLE_HANDLER, REGION, SEED_CONFIG } from '../data.js';
import { emptyLayer, minimalLayer } from '../floor.js';
import { freePort } from '../processes.js';
import { describeSandbox, type SandboxOptions } from '../sandbox.js';
import { startExtension } from '../stack.js';

export const INIT_FIGURES = {
  withLayer: 'init.example.with_layer',
  withoutLayer: 'init.example.without_layer',
  ratio: 'init.example.with_over_without',
  floor: 'init.example.minimal_extension',
  floorRatio: 'init.example.minimal_over_without',
  shareWithLayer: 'init.cpu_share.with_layer',
  shareFloor: 'init.cpu_share.minimal_extension',
  shareRatio: 'init.cpu_share.with_over_minimal',
  memoryWithLayer: 'memory.max_used.with_layer',
  memoryWithoutLayer: 'memory.max_used.without_layer',
  memoryOver: 'memory.max_used.with_minus_without',
  memoryFloor: 'memory.max_used.minimal_extension',
  memoryFloorOver: 'memory.max_used.minimal_minus_without',
} as const;

/** Notes (in the results' `notes`) on how the emulator measured: its memory method, the CPU share. */
export const INIT_NOTES = {
  fullCpu: 'init.full_cpu.sandbox',
  cpuShare: 'init.cpu_share.sandbox',
  memoryMethod: 'memory.max_used.method',
} as const;

const FULL_CPU: SandboxOptions = { sandbox: 'auto' };
const CPU_SHARE: SandboxOptions = { sandbox: 'auto', cpuShareDuringInit: true };

interface Pair {
  readonly with: number;
  readonly without: number;
}

/** What runs beside the example function: the layer, the minimal extension (the floor), or nothing. */
type Variant = 'with' | 'floor' | 'without';
const VARIANTS: readonly Variant[] = ['with', 'floor', 'without'];

export async function init(ctx: Context): Promise<void> {
  const { options, recorder } = ctx;
  const F = INIT_FIGURES;
  const noLayer = await emptyLayer();
  const floorLayer = await minimalLayer();
  // Serves the reads of the function without the layer, from outside its environment.
  const outside = await startExtension({
    layerDir: ctx.layerDir,
    backends: ctx.backends,
    config: SEED_CONFIG,
    token: ctx.token,
  });
  const envFor = (port: number): Record<string, string> => ({
    ...ctx.backends.env,
    AWS_REGION: REGION,
    AWS_SESSION_TOKEN: ctx.token,
    CACHE_EXTENSION_PORT: String(port),
    PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: '0',
    AWS_APPCONFIG_EXTENSION_HTTP_PORT: '0',
    CACHE_EXTENSION_CONFIG: EXAMPLE_CONFIG,
    // As npm start runs the example: its feature flags prefetched during init.
    ...EXAMPLE_ENV,
    ...ctx.extensionEnv,
  });
  /**
   * One cold start. `free`: a port found free just before; another process on the machine can take it
   * before the extension binds it, so that case (`EADDRINUSE`) is tried again on another port.
   */
  const start = async (
    layerDir: string,
    port: number | 'free',
    sandbox: SandboxOptions,
  ): Promise<ColdStart> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await coldStart({
          layerDir,
          functionDir: EXAMPLE_DIR,
          handler: EXAMPLE_HANDLER,
          env: envFor(port === 'free' ? await freePort() : port),
          sandbox,
          observe: false,
        });
      } catch (err) {
        if (port !== 'free' || attempt === 3 || !String(err).includes('EADDRINUSE')) throw err;
      }
    }
  };
  const methods = new Set<string>();
  const layerOf: Record<Variant, string> = { with: ctx.layerDir, floor: floorLayer, without: noLayer };
  /** One environment: its Init Duration and, after one invoke, its Max Memory Used. */
  const initAndInvoke = async (variant: Variant): Promise<{ initMs: number; memoryMb: number }> => {
    const run = await start(layerOf[variant], variant === 'with' ? 'free' : outside.port, FULL_CPU);
    try {
      const invoke = await run.lambda.invoke({});
      if (!invoke.ok) {
        throw new Error(`the example function failed (${variant}): ${JSON.stringify(invoke.payload)}`);
      }
      methods.add(invoke.memoryMethod);
      recorder.notes[INIT_NOTES.fullCpu] = describeSandbox(run.init.memoryMethod, false);
      return { initMs: run.init.initDurationMs, memoryMb: invoke.maxMemoryUsedMb };
    } finally {
      await run.close();
    }
  };
  const initOnly = async (layerDir: string): Promise<number> => {
    const run = await start(layerDir, layerDir === ctx.layerDir ? 'free' : outside.port, CPU_SHARE);
    try {
      recorder.notes[INIT_NOTES.cpuShare] = describeSandbox(run.init.memoryMethod, true);
      return run.init.initDurationMs;
    } finally {
      await run.close();
    }
  };
  const rounds: Record<Variant, { initMs: number; memoryMb: number }>[] = [];
  const sharePairs: Pair[] = [];
  try {
    // Unmeasured: warms the file cache for the function, the layers and the runtime alike.
    for (const variant of VARIANTS) await initAndInvoke(variant);
    for (let round = 0; round < options.initPairs; round++) {
      // Each variant first, second and third in turn.
      const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length] as Variant);
      const got: Partial<Record<Variant, { initMs: number; memoryMb: number }>> = {};
      for (const variant of order) got[variant] = await initAndInvoke(variant);
      rounds.push(got as Record<Variant, { initMs: number; memoryMb: number }>);
    }
    for (let round = 0; round < options.initPairs; round++) {
      if (round % 2 === 0) {
        const floor = await initOnly(floorLayer);
        sharePairs.push({ with: await initOnly(ctx.layerDir), without: floor });
      } else {
        const product = await initOnly(ctx.layerDir);
        sharePairs.push({ with: product, without: await initOnly(floorLayer) });
      }
    }
  } finally {
    await outside.close();
    await rm(noLayer, { recursive: true, force: true });
    await rm(floorLayer, { recursive: true, force: true });
  }
  recorder.notes[INIT_NOTES.memoryMethod] = [...methods].join(', ');
  const fn = 'the example function';
  const initOf = (v: Variant) => rounds.map((r) => r[v].initMs);
  const memoryOf = (v: Variant) => rounds.map((r) => r[v].memoryMb);
  recorder.figure(F.withLayer, 'ms', `Init Duration of ${fn} with the layer, full CPU`, initOf('with'));
  recorder.figure(
    F.withoutLayer,
    'ms',
    `Init Duration of ${fn} without the layer, full CPU`,
    initOf('without'),
  );
  recorder.figure(
    F.ratio,
    '×',
    'Init Duration with the layer ÷ without, each round',
    rounds.map((r) => r.with.initMs / r.without.initMs),
  );
  recorder.figure(
    F.floor,
    'ms',
    `Init Duration of ${fn} with the minimal extension as its layer, full CPU`,
    initOf('floor'),
  );
  recorder.figure(
    F.floorRatio,
    '×',
    'Init Duration with the minimal extension ÷ without, each round: what any Node extension costs',
    rounds.map((r) => r.floor.initMs / r.without.initMs),
  );
  recorder.figure(
    F.shareWithLayer,
    'ms',
    `Init Duration of ${fn} with the layer, the 128 MB CPU share during init`,
    sharePairs.map((p) => p.with),
  );
  recorder.figure(
    F.shareFloor,
    'ms',
    `Init Duration of ${fn} with the minimal extension as its layer, the 128 MB CPU share during init`,
    sharePairs.map((p) => p.without),
  );
  recorder.figure(
    F.shareRatio,
    '×',
    'Init Duration with the layer ÷ with the minimal extension, each pair, CPU share during init',
    sharePairs.map((p) => p.with / p.without),
  );
  recorder.figure(
    F.memoryWithLayer,
    'MB',
    `Max Memory Used of ${fn} with the layer, one invoke (the emulator's REPORT)`,
    memoryOf('with'),
  );
  recorder.figure(
    F.memoryWithoutLayer,
    'MB',
    `Max Memory Used of ${fn} without the layer, one invoke (the emulator's REPORT)`,
    memoryOf('without'),
  );
  recorder.figure(
    F.memoryOver,
    'MB',
    'Max Memory Used with the layer minus without, each round',
    rounds.map((r) => r.with.memoryMb - r.without.memoryMb),
  );
  recorder.figure(
    F.memoryFloor,
    'MB',
    `Max Memory Used of ${fn} with the minimal extension as its layer, one invoke`,
    memoryOf('floor'),
  );
  recorder.figure(
    F.memoryFloorOver,
    'MB',
    'Max Memory Used with the minimal extension minus without, each round: what any Node extension costs',
    rounds.map((r) => r.floor.memoryMb - r.without.memoryMb),
  );
  ctx.log(
    `init: ${recorder.median(F.withLayer)} ms with the layer, ${recorder.median(F.withoutLayer)} ms without; the minimal extension ${recorder.median(F.floor)} ms; CPU share ${recorder.median(F.shareWithLayer)} ms vs floor ${recorder.median(F.shareFloor)} ms; Max Memory Used +${recorder.median(F.memoryOver)} MB, the minimal extension +${recorder.median(F.memoryFloorOver)} MB (${recorder.notes[INIT_NOTES.memoryMethod]})`,
  );
}
