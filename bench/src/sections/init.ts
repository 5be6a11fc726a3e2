/**
 * 7. Init Duration and Max Memory Used of the example function (`example-function/`) under the emulator:
 * with the layer against the same function without it, in interleaved pairs at full CPU; then, with the
 * 128 MB CPU share applied during init, with the layer against the minimal extension (the floor).
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
  shareWithLayer: 'init.cpu_share.with_layer',
  shareFloor: 'init.cpu_share.minimal_extension',
  shareRatio: 'init.cpu_share.with_over_minimal',
  memoryWithLayer: 'memory.max_used.with_layer',
  memoryWithoutLayer: 'memory.max_used.without_layer',
  memoryOver: 'memory.max_used.with_minus_without',
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
  /** One environment: its Init Duration and, after one invoke, its Max Memory Used. */
  const initAndInvoke = async (withLayer: boolean): Promise<{ initMs: number; memoryMb: number }> => {
    const run = await start(withLayer ? ctx.layerDir : noLayer, withLayer ? 'free' : outside.port, FULL_CPU);
    try {
      const invoke = await run.lambda.invoke({});
      if (!invoke.ok) {
        throw new Error(
          `the example function failed (${withLayer ? 'with' : 'without'} the layer): ${JSON.stringify(invoke.payload)}`,
        );
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
  const initPairs: Pair[] = [];
  const memoryPairs: Pair[] = [];
  const sharePairs: Pair[] = [];
  try {
    // Unmeasured: warms the file cache for the function, the layer and the runtime alike.
    await initAndInvoke(true);
    await initAndInvoke(false);
    for (let round = 0; round < options.initPairs; round++) {
      const order = round % 2 === 0 ? [true, false] : [false, true];
      const got: Record<string, { initMs: number; memoryMb: number }> = {};
      for (const withLayer of order) got[String(withLayer)] = await initAndInvoke(withLayer);
      initPairs.push({ with: got.true?.initMs ?? Number.NaN, without: got.false?.initMs ?? Number.NaN });
      memoryPairs.push({
        with: got.true?.memoryMb ?? Number.NaN,
        without: got.false?.memoryMb ?? Number.NaN,
      });
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
  recorder.figure(
    F.withLayer,
    'ms',
    `Init Duration of ${fn} with the layer, full CPU`,
    initPairs.map((p) => p.with),
  );
  recorder.figure(
    F.withoutLayer,
    'ms',
    `Init Duration of ${fn} without the layer, full CPU`,
    initPairs.map((p) => p.without),
  );
  recorder.figure(
    F.ratio,
    '×',
    'Init Duration with the layer ÷ without, each pair',
    initPairs.map((p) => p.with / p.without),
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
    memoryPairs.map((p) => p.with),
  );
  recorder.figure(
    F.memoryWithoutLayer,
    'MB',
    `Max Memory Used of ${fn} without the layer, one invoke (the emulator's REPORT)`,
    memoryPairs.map((p) => p.without),
  );
  recorder.figure(
    F.memoryOver,
    'MB',
    'Max Memory Used with the layer minus without, each pair',
    memoryPairs.map((p) => p.with - p.without),
  );
  ctx.log(
    `init: ${recorder.median(F.withLayer)} ms with the layer, ${recorder.median(F.withoutLayer)} ms without; CPU share ${recorder.median(F.shareWithLayer)} ms vs floor ${recorder.median(F.shareFloor)} ms; Max Memory Used +${recorder.median(F.memoryOver)} MB (${recorder.notes[INIT_NOTES.memoryMethod]})`,
  );
}
