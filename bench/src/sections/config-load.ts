/**
 * 8. Config load: spawn → ready, CPU and peak RSS to ready with a generated config of about 1 MiB (about
 * 37 000 parameter names), prefetch off (what reading and checking the config costs) and on (every name
 * prefetched; none exists in the local SSM, so each batch answers not-found at once).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ENV } from '@lambda-cache/shared';
import { coldStart } from '../cold-start.js';
import type { Context } from '../context.js';
import { configOfBytes, REGION } from '../data.js';
import { trivialFunction } from '../floor.js';

export const CONFIG_LOAD_FIGURES = {
  names: 'config.names',
  bytes: 'config.bytes',
  ready: 'config.ready_no_prefetch',
  cpu: 'config.cpu_to_ready_no_prefetch',
  peakRss: 'config.peak_rss_to_ready_no_prefetch',
  readyPrefetch: 'config.ready_with_prefetch',
  peakRssPrefetch: 'config.peak_rss_to_ready_with_prefetch',
} as const;

/** Memory Size for the 1 MiB config runs (see `once`). */
const CONFIG_LOAD_MEMORY_MB = 1024;

export async function configLoad(ctx: Context): Promise<void> {
  const { options, recorder } = ctx;
  const F = CONFIG_LOAD_FIGURES;
  const config = configOfBytes(options.configBytes);
  const functionDir = await trivialFunction(config.text);
  const env = (prefetch: boolean) => ({
    ...ctx.backends.env,
    AWS_REGION: REGION,
    AWS_SESSION_TOKEN: ctx.token,
    CACHE_EXTENSION_PORT: '0',
    CACHE_EXTENSION_CONFIG: join(functionDir, 'config.yaml'),
    [ENV.initStartup]: String(prefetch),
    ...ctx.extensionEnv,
  });
  const once = async (prefetch: boolean) => {
    // At the default 128 MB the sandbox's cgroup ends this init with Runtime.OutOfMemory: parsing a 1 MiB
    // config peaks at about 100 MiB on top of Node's own (see the README's config section). The figure is
    // taken at 1024 MB, where it fits, so it measures time, not the limit.
    const run = await coldStart({
      layerDir: ctx.layerDir,
      functionDir,
      env: env(prefetch),
      sandbox: { memoryMb: CONFIG_LOAD_MEMORY_MB },
    });
    try {
      if (!run.extension) throw new Error('no extension started');
      return run.extension;
    } finally {
      await run.close();
    }
  };
  const off: Awaited<ReturnType<typeof once>>[] = [];
  const on: Awaited<ReturnType<typeof once>>[] = [];
  try {
    for (let round = 0; round < options.configRounds; round++) {
      off.push(await once(false));
      on.push(await once(true));
    }
  } finally {
    await rm(functionDir, { recursive: true, force: true });
  }
  const label = `a ${(Buffer.byteLength(config.text) / 2 ** 20).toFixed(2)} MiB config of ${config.names} names`;
  recorder.figure(F.names, 'names', 'parameter names in the generated config', [config.names]);
  recorder.figure(F.bytes, 'KiB', 'size of the generated config', [Buffer.byteLength(config.text) / 1024]);
  recorder.figure(
    F.ready,
    'ms',
    `extension spawn → first event/next, ${label}, prefetch off`,
    off.map((e) => e.readyMs),
  );
  recorder.figure(
    F.cpu,
    'ms',
    `extension CPU time at its first event/next, ${label}, prefetch off`,
    off.map((e) => e.cpuToReadyMs),
  );
  recorder.figure(
    F.peakRss,
    'MiB',
    `extension peak RSS (VmHWM) at its first event/next, ${label}, prefetch off`,
    off.map((e) => e.peakRssToReadyMiB),
  );
  recorder.figure(
    F.readyPrefetch,
    'ms',
    `extension spawn → first event/next, ${label}, prefetch on (every name not found)`,
    on.map((e) => e.readyMs),
  );
  recorder.figure(
    F.peakRssPrefetch,
    'MiB',
    `extension peak RSS at its first event/next, ${label}, prefetch on (every name not found)`,
    on.map((e) => e.peakRssToReadyMiB),
  );
  ctx.log(
    `config load: ${label}: ready ${recorder.median(F.ready)} ms, peak RSS ${recorder.median(F.peakRss)} MiB; with prefetch ${recorder.median(F.readyPrefetch)} ms`,
  );
}
