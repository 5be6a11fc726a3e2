/**
 * 4. Prefetch: for P parameters and I items, the extension's backend calls and its spawn → ready time,
 * against the seed's way (one GetParameter per name, one GetItem per key, one call at a time) run as a
 * process of its own and timed the same way, spawn → ready, with 0 ms and with injected latency.
 */
import { spawn } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Context } from '../context.js';
import { BENCH_TABLE, configFor, prefetchKey, prefetchName, REGION, range } from '../data.js';
import { QUIET_SDK } from '../processes.js';
import type { SeedPlan } from '../seed-prefetch.js';
import { startExtension, sumCalls, waitForEntries } from '../stack.js';

export const prefetchFigure = (n: number, latencyMs: number, metric: string) =>
  `prefetch.n${n}.${latencyMs}ms.${metric}`;

/** The batched call count the design promises: GetParameters takes 10 names, BatchGetItem 100 keys. */
export const expectedCalls = (parameters: number, items: number) =>
  Math.ceil(parameters / 10) + Math.ceil(items / 100);

/** Spawns the seed-way loader and times spawn → its `ready` line. */
function runSeedWay(
  planFile: string,
  env: Record<string, string>,
): Promise<{ ms: number; calls: number; fetchMs: number }> {
  return new Promise((resolve, reject) => {
    const script = fileURLToPath(new URL('../seed-prefetch.js', import.meta.url));
    const t0 = performance.now();
    const child = spawn(process.execPath, [script, planFile], {
      env: { ...process.env, ...QUIET_SDK, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let settled = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      if (!settled) reject(new Error('the seed-way loader took over 5 minutes'));
      settled = true;
    }, 300_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /ready (\d+) (\d+(?:\.\d+)?)\n/.exec(out);
      if (m && !settled) {
        settled = true;
        resolve({ ms: performance.now() - t0, calls: Number(m[1]), fetchMs: Number(m[2]) });
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!settled) {
        settled = true;
        reject(new Error(`the seed-way loader exited with ${code}: ${err.slice(0, 500)}`));
      }
    });
  });
}

export async function prefetch(ctx: Context): Promise<void> {
  const { options, recorder, backends } = ctx;
  const planFile = join(tmpdir(), `lambda-cache-bench-plan-${process.pid}.json`);
  try {
    for (const n of options.prefetchSizes) {
      const names = range(n).map(prefetchName);
      const config = configFor(names, n);
      const plan: SeedPlan = {
        region: REGION,
        ssmEndpoint: backends.ssm.endpoint,
        dynamodbEndpoint: backends.dynamodb.endpoint,
        names,
        table: BENCH_TABLE,
        keys: range(n).map(prefetchKey),
      };
      await writeFile(planFile, JSON.stringify(plan));
      for (const latencyMs of [0, options.injectedLatencyMs]) {
        backends.ssm.setFaults({ latencyMs });
        backends.dynamodb.setFaults({ latencyMs });
        const ready: number[] = [];
        const calls: number[] = [];
        const loaded: number[] = [];
        const fetch: number[] = [];
        const seedFetch: number[] = [];
        const seedReady: number[] = [];
        const seedCalls: number[] = [];
        try {
          for (let round = 0; round < options.prefetchRounds; round++) {
            const ext = await startExtension({
              layerDir: ctx.layerDir,
              backends,
              config,
              token: ctx.token,
              env: ctx.extensionEnv,
            });
            try {
              // Ready is the `prefetch done` line; what it had loaded by then is reported beside it (a
              // prefetch that passes its deadline goes on in the background, failed entries load on demand).
              ready.push(ext.readyMs);
              fetch.push(ext.prefetchMs);
              loaded.push(((await ext.stats()).entries / (2 * n)) * 100);
              await waitForEntries(ext, 2 * n, 10_000).catch(() => undefined);
              calls.push(sumCalls(await ext.stats()));
            } finally {
              await ext.close();
            }
            const seedWay = await runSeedWay(planFile, backends.env);
            seedReady.push(seedWay.ms);
            seedCalls.push(seedWay.calls);
            seedFetch.push(seedWay.fetchMs);
          }
        } finally {
          backends.ssm.setFaults({});
          backends.dynamodb.setFaults({});
        }
        const label = `${n} parameters + ${n} items, ${latencyMs} ms backend latency`;
        recorder.figure(
          prefetchFigure(n, latencyMs, 'extension_ready'),
          'ms',
          `extension spawn → ready, ${label}`,
          ready,
        );
        recorder.figure(
          prefetchFigure(n, latencyMs, 'extension_fetch'),
          'ms',
          `the extension's prefetch alone (its own "prefetch done ms="), ${label}`,
          fetch,
        );
        recorder.figure(
          prefetchFigure(n, latencyMs, 'seed_fetch'),
          'ms',
          `one call at a time, the fetching alone (first call to last answer), ${label}`,
          seedFetch,
        );
        recorder.figure(
          prefetchFigure(n, latencyMs, 'extension_loaded'),
          '%',
          `share of the ${2 * n} entries loaded when the extension said prefetch done, ${label}`,
          loaded,
        );
        recorder.figure(
          prefetchFigure(n, latencyMs, 'extension_calls'),
          'calls',
          `extension backend calls, ${label} (expected ${expectedCalls(n, n)})`,
          calls,
        );
        recorder.figure(
          prefetchFigure(n, latencyMs, 'seed_ready'),
          'ms',
          `one call at a time (the seed's way), spawn → ready, ${label}`,
          seedReady,
        );
        recorder.figure(
          prefetchFigure(n, latencyMs, 'seed_calls'),
          'calls',
          `one call at a time (the seed's way), backend calls, ${label}`,
          seedCalls,
        );
        const ratio = recorder.ratio(
          `prefetch.n${n}.${latencyMs}ms.extension_vs_seed`,
          recorder.median(prefetchFigure(n, latencyMs, 'extension_ready')) /
            recorder.median(prefetchFigure(n, latencyMs, 'seed_ready')),
        );
        const fetchRatio = recorder.ratio(
          `prefetch.n${n}.${latencyMs}ms.extension_fetch_vs_seed_fetch`,
          recorder.median(prefetchFigure(n, latencyMs, 'extension_fetch')) /
            recorder.median(prefetchFigure(n, latencyMs, 'seed_fetch')),
        );
        ctx.log(
          `prefetch ${label}: ${recorder.median(prefetchFigure(n, latencyMs, 'extension_calls'))} calls, ${ratio.toFixed(3)}× the seed's spawn → ready, ${fetchRatio.toFixed(3)}× its fetching`,
        );
      }
    }
  } finally {
    await rm(planFile, { force: true });
  }
}
