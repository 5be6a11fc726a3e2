/**
 * 10. The standalone layer (the bundle run by the Bun binary inside the layer) beside the Node layer:
 * both started alternately under the emulator in the same harness with the seed's config, spawn → ready
 * (first `event/next`), CPU time (utime + stime) at ready, then private memory (USS) and RSS once idle;
 * and the standalone zips' sizes, zipped and unzipped. Figures only, no targets: they say what running
 * without Node.js in the environment costs.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractLayer } from '@lambda-cache/local';
import { coldStart } from '../cold-start.js';
import type { Context } from '../context.js';
import { REGION, SEED_CONFIG } from '../data.js';
import { trivialFunction } from '../floor.js';
import { rssMiB, sleep, ussMiB } from '../processes.js';

/** Time between ready and reading memory, so the allocation burst of init settles. */
const SETTLE_MS = 1000;

const ARCHES = ['x86_64', 'arm64'] as const;

export const STANDALONE_FIGURES = {
  ready: (layer: Layer) => `standalone.spawn_to_ready_${layer}`,
  cpu: (layer: Layer) => `standalone.cpu_to_ready_${layer}`,
  uss: (layer: Layer) => `standalone.idle_uss_${layer}`,
  rss: (layer: Layer) => `standalone.idle_rss_${layer}`,
  dirty: (layer: Layer) => `standalone.idle_private_dirty_${layer}`,
  zip: (arch: (typeof ARCHES)[number]) => `size.standalone_zip_${arch}`,
  unzipped: 'size.standalone_unzipped',
} as const;

type Layer = 'node' | 'bun';

interface Sample {
  readonly readyMs: number;
  readonly cpuMs: number;
  readonly ussMiB: number;
  readonly rssMiB: number;
  readonly dirtyMiB: number;
}

/**
 * `Private_Dirty` of `/proc/PID/smaps_rollup`, in MiB: the heap and the other memory the process wrote.
 * USS adds `Private_Clean`, which for the standalone layer is mostly the Bun binary's own pages (no other
 * process maps that file), while the Node layer's `node` pages are shared with the function's Node.
 */
function privateDirtyMiB(pid: number): number {
  const dirty = /^Private_Dirty:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  if (!dirty) throw new Error('smaps_rollup has no Private_Dirty line');
  return Number(dirty[1]) / 1024;
}

/** The standalone zip of this machine's architecture, beside the Node layer's zip. */
function standaloneZip(ctx: Context, arch: (typeof ARCHES)[number]): string {
  return join(ctx.layerZip, '..', `lambda-cache-standalone-${arch}.zip`);
}

/**
 * Writes the extracted files back to disk. Pages of a file written moments ago are dirty in the page cache,
 * and a process that maps them counts them as Private_Dirty; in Lambda the layer is a read-only image and
 * its pages are clean, so the figures read as they would there only once these are.
 */
async function syncFiles(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const handle = await open(join(entry.parentPath, entry.name), 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

export async function standalone(ctx: Context): Promise<void> {
  const { options, recorder } = ctx;
  const F = STANDALONE_FIGURES;
  const here = process.arch === 'arm64' ? 'arm64' : 'x86_64';
  const standaloneDir = await extractLayer(
    standaloneZip(ctx, here),
    await mkdtemp(join(tmpdir(), 'lambda-cache-bench-standalone-')),
  );
  await syncFiles(standaloneDir);
  const functionDir = await trivialFunction(SEED_CONFIG);
  const env = {
    ...ctx.backends.env,
    AWS_REGION: REGION,
    CACHE_EXTENSION_PORT: '0',
    CACHE_EXTENSION_CONFIG: join(functionDir, 'config.yaml'),
    AWS_SESSION_TOKEN: ctx.token,
  };
  const once = async (layer: Layer): Promise<Sample> => {
    const run = await coldStart({
      layerDir: layer === 'bun' ? standaloneDir : ctx.layerDir,
      functionDir,
      env,
    });
    try {
      const ext = run.extension;
      if (!ext) throw new Error('no extension started');
      await sleep(SETTLE_MS);
      return {
        readyMs: ext.readyMs,
        cpuMs: ext.cpuToReadyMs,
        ussMiB: ussMiB(ext.pid),
        rssMiB: rssMiB(ext.pid),
        dirtyMiB: privateDirtyMiB(ext.pid),
      };
    } finally {
      await run.close();
    }
  };
  const samples: Record<Layer, Sample[]> = { node: [], bun: [] };
  let unzipped = 0;
  try {
    // One unmeasured start of each, so both binaries are in the file cache.
    await once('node');
    await once('bun');
    // Interleaved, the order flipping every round, so drift in the machine's load lands on both.
    for (let round = 0; round < options.startupRounds; round++) {
      const order: Layer[] = round % 2 === 0 ? ['node', 'bun'] : ['bun', 'node'];
      for (const layer of order) samples[layer].push(await once(layer));
    }
    unzipped = await bytesUnder(standaloneDir);
  } finally {
    await rm(standaloneDir, { recursive: true, force: true });
    await rm(functionDir, { recursive: true, force: true });
  }
  const label: Record<Layer, string> = {
    node: 'the Node layer (Node runs the bundle)',
    bun: 'the standalone layer (the Bun binary inside it runs the bundle)',
  };
  for (const layer of ['node', 'bun'] as const) {
    const pick = (key: keyof Sample) => samples[layer].map((s) => s[key]);
    recorder.figure(
      F.ready(layer),
      'ms',
      `${label[layer]}: spawn → first event/next (ready)`,
      pick('readyMs'),
    );
    recorder.figure(F.cpu(layer), 'ms', `${label[layer]}: CPU time (utime + stime) at ready`, pick('cpuMs'));
    recorder.figure(
      F.uss(layer),
      'MiB',
      `${label[layer]}: USS (Private_Clean + Private_Dirty) idle after init, the seed's config`,
      pick('ussMiB'),
    );
    recorder.figure(
      F.dirty(layer),
      'MiB',
      `${label[layer]}: Private_Dirty idle after init (heap and other written memory, no binary pages)`,
      pick('dirtyMiB'),
    );
    recorder.figure(
      F.rss(layer),
      'MiB',
      `${label[layer]}: RSS idle after init, the seed's config`,
      pick('rssMiB'),
    );
  }
  for (const arch of ARCHES) {
    const size = (await stat(standaloneZip(ctx, arch))).size;
    recorder.figure(F.zip(arch), 'MiB', `dist/lambda-cache-standalone-${arch}.zip`, [size / 1024 / 1024]);
  }
  recorder.figure(F.unzipped, 'MiB', `the standalone ${here} layer unzipped`, [unzipped / 1024 / 1024]);
  const m = (name: string) => recorder.median(name);
  recorder.ratio('standalone.ready_bun_minus_node_ms', m(F.ready('bun')) - m(F.ready('node')));
  recorder.ratio('standalone.cpu_bun_minus_node_ms', m(F.cpu('bun')) - m(F.cpu('node')));
  recorder.ratio('standalone.uss_bun_minus_node_mib', m(F.uss('bun')) - m(F.uss('node')));
  recorder.ratio('standalone.private_dirty_bun_minus_node_mib', m(F.dirty('bun')) - m(F.dirty('node')));
  ctx.log(
    `standalone: ready ${m(F.ready('bun'))} ms (Node layer ${m(F.ready('node'))}), CPU ${m(F.cpu('bun'))} ms (${m(F.cpu('node'))}), USS ${m(F.uss('bun'))} MiB (${m(F.uss('node'))}), Private_Dirty ${m(F.dirty('bun'))} MiB (${m(F.dirty('node'))})`,
  );
}
