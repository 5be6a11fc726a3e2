/**
 * `npm run bench`: runs every section against its baselines in one run, prints a table, and writes
 * `results/latest.json`, `results/latest.svg` and `results/latest.md`.
 *
 * Flags: `--smoke` (tiny sizes, seconds; also when `CI` is set), `--out <dir>` (where results go),
 * `--only <section,…>` (hit-path, client, client-init, no-cache, prefetch, startup, init, config-load, memory,
 * standalone),
 * `--profile <dir>` (extensions run with `--cpu-prof`, profiles written there).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { extractLayer, startBackends } from '@lambda-cache/local';
import { renderChart } from './chart.js';
import type { Context } from './context.js';
import { benchSeed, REGION, SEED_STACK_CONFIG } from './data.js';
import { type BenchOptions, FULL, SMOKE } from './options.js';
import { cpuProfileEnv, QUIET_SDK, Worker } from './processes.js';
import { renderMarkdown, renderTable } from './report.js';
import { machine, Recorder, type Results } from './results.js';
import { client } from './sections/client.js';
import { clientInit } from './sections/client-init.js';
import { configLoad } from './sections/config-load.js';
import { hitPath } from './sections/hit-path.js';
import { init } from './sections/init.js';
import { memory } from './sections/memory.js';
import { noCache } from './sections/no-cache.js';
import { prefetch } from './sections/prefetch.js';
import { standalone } from './sections/standalone.js';
import { startup } from './sections/startup.js';
import { type ExtensionRun, startExtension } from './stack.js';
import { evaluateTargets } from './targets.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const layerZip = join(repoRoot, 'dist', 'lambda-cache-layer.zip');
export const defaultOutDir = join(repoRoot, 'bench', 'results');

/** Sections in the order they run: the seed stack's three first, the ones that start their own after. */
export const SECTIONS: Readonly<Record<string, (ctx: Context) => Promise<void>>> = {
  'hit-path': hitPath,
  client,
  'client-init': clientInit,
  'no-cache': noCache,
  prefetch,
  startup,
  init,
  'config-load': configLoad,
  memory,
  standalone,
};

export interface RunOptions {
  readonly options: BenchOptions;
  readonly outDir: string;
  readonly only?: readonly string[];
  readonly profileDir?: string;
  readonly log?: (message: string) => void;
}

export async function runBench(run: RunOptions): Promise<Results> {
  const { options } = run;
  const log = run.log ?? ((m: string) => console.log(`[bench] ${m}`));
  if (!existsSync(layerZip)) throw new Error(`${layerZip} is missing: run npm run package first`);
  const started = performance.now();
  const recorder = new Recorder();
  const layerDir = await extractLayer(layerZip, await mkdtemp(join(tmpdir(), 'lambda-cache-bench-layer-')));
  const seed = benchSeed({
    prefetch: Math.max(...options.prefetchSizes),
    kilobyte: Math.max(...options.memoryEntries),
    valueBytes: options.valueBytes,
    readThrough: options.readThroughKeys,
  });
  const backends = await startBackends({ seed, region: REGION });
  const token = `IQoJ${randomBytes(24).toString('base64url')}`;
  let worker: Worker | undefined;
  let seedStack: Promise<ExtensionRun> | undefined;
  if (run.profileDir) await mkdir(run.profileDir, { recursive: true });
  const extensionEnv: Record<string, string> = run.profileDir ? cpuProfileEnv(resolve(run.profileDir)) : {};
  try {
    worker = await Worker.start({ ...backends.env, AWS_REGION: REGION, AWS_SESSION_TOKEN: token });
    const ctx: Context = {
      options,
      recorder,
      backends,
      layerZip,
      layerDir,
      worker,
      token,
      extensionEnv,
      seedStack: () => {
        seedStack ??= startExtension({
          layerDir,
          backends,
          config: SEED_STACK_CONFIG,
          token,
          env: extensionEnv,
        });
        return seedStack;
      },
      log,
    };
    for (const [name, section] of Object.entries(SECTIONS)) {
      if (run.only && !run.only.includes(name)) continue;
      log(`${name}…`);
      const t0 = performance.now();
      try {
        await section(ctx);
      } catch (err) {
        recorder.errors[name] = err instanceof Error ? (err.stack ?? err.message) : String(err);
        log(`${name} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      log(`${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      // The seed stack serves the first three sections only; later sections start their own extensions.
      if (name === 'no-cache' && seedStack) {
        await (await seedStack.catch(() => undefined))?.close();
        seedStack = undefined;
      }
    }
  } finally {
    if (seedStack) await (await seedStack.catch(() => undefined))?.close();
    await worker?.close();
    await backends.close();
    await rm(layerDir, { recursive: true, force: true });
  }
  const results: Results = {
    machine: machine(),
    node: process.versions.node,
    date: new Date().toISOString(),
    mode: options.mode,
    durationS: Math.round((performance.now() - started) / 1000),
    figures: recorder.figures,
    ratios: recorder.ratios,
    targets: evaluateTargets(recorder, options),
    notes: recorder.notes,
    errors: recorder.errors,
  };
  await mkdir(run.outDir, { recursive: true });
  // NaN (a figure that could not be measured) is written as null, as JSON has no NaN.
  await writeFile(join(run.outDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(join(run.outDir, 'latest.svg'), renderChart(results));
  await writeFile(join(run.outDir, 'latest.md'), renderMarkdown(results));
  return results;
}

async function main(): Promise<void> {
  Object.assign(process.env, QUIET_SDK);
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      out: { type: 'string' },
      only: { type: 'string' },
      profile: { type: 'string' },
    },
  });
  const smoke =
    values.smoke || (process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false');
  const results = await runBench({
    options: smoke ? SMOKE : FULL,
    outDir: values.out ?? defaultOutDir,
    ...(values.only ? { only: values.only.split(',').map((s) => s.trim()) } : {}),
    ...(values.profile ? { profileDir: values.profile } : {}),
  });
  console.log(renderTable(results));
  if (Object.keys(results.errors).length > 0) process.exitCode = 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  });
}
