/**
 * 6. Memory: private memory (USS) and RSS of the extension idle with the seed's config and with N
 * prefetched entries of 1 KB, against the minimal extension idle under the same emulator (the floor);
 * RSS and USS growth per read-through entry next to the bytes the cache's budget counts for it; and after
 * many distinct read-through keys (the entry bound must hold RSS flat). A bare Node process and one with
 * the AWS SDK loaded are measured beside them for scale.
 *
 * The floor and the extension run in the same sandbox, of 128 MB as on Lambda (see {@link SANDBOX}).
 */
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ENV, HEADERS, parameterPath } from '@lambda-cache/shared';
import { coldStart } from '../cold-start.js';
import type { Context } from '../context.js';
import { configFor, kilobyteName, READ_THROUGH_PREFIX, REGION, range, SEED_CONFIG } from '../data.js';
import { minimalLayer, trivialFunction } from '../floor.js';
import { idleNodeRssMiB, rssMiB, sleep, ussMiB } from '../processes.js';
import type { SandboxOptions } from '../sandbox.js';
import { startExtension, waitForEntries } from '../stack.js';

const benchDir = fileURLToPath(new URL('../../', import.meta.url));
const SDK_SETUP = [
  "const { SSMClient } = await import('@aws-sdk/client-ssm');",
  "const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');",
  "globalThis.clients = [new SSMClient({ region: 'us-west-2' }), new DynamoDBClient({ region: 'us-west-2' })];",
].join('\n');

/**
 * The sandbox of every extension this section measures, the floor's too. Node sizes its heap by the
 * memory limit it runs under: from 128 to 512 MB a young generation of 2 MiB (Node 20, 22 and 24), with
 * no limit on a machine this size 32 MiB, which a burst of allocation fills and keeps resident. Measured
 * without a limit, the extension's figures would hold up to 30 MiB that Lambda's 128 MB never shows, and
 * compare it with a floor measured in the limit. Without the CPU share, which would make the read-through
 * load take minutes; where no cgroup can be made, both run without one.
 */
const SANDBOX: SandboxOptions = { sandbox: 'auto', memoryMb: 128, cpuShare: false };

export const MEMORY_NOTES = { sandbox: 'memory.sandbox' } as const;

/** Time between the last request or init and reading RSS, so allocation bursts settle. */
const SETTLE_MS = 1000;

export const MEMORY_FIGURES = {
  bare: 'memory.bare_node',
  withSdk: 'memory.node_with_aws_sdk',
  floorRss: 'memory.floor_rss',
  floorUss: 'memory.floor_uss',
  idle: 'memory.idle_seed_config',
  idleUss: 'memory.idle_uss_seed_config',
  entries: (n: number) => `memory.entries_${n}x1KB`,
  entriesUss: (n: number) => `memory.entries_uss_${n}x1KB`,
  perEntryRss: 'memory.per_entry.rss_bytes',
  perEntryUss: 'memory.per_entry.uss_bytes',
  perEntryCounted: 'memory.per_entry.counted_bytes',
  perEntryEntries: 'memory.per_entry.entries',
  perEntryWarmUss: 'memory.per_entry.warm_up_uss_mib',
  readThrough: (n: number) => `memory.read_through_${n}`,
  readThroughEntries: 'memory.read_through_entries',
} as const;

/** The minimal extension idle under the emulator: its USS and RSS, in MiB, and how its sandbox measured. */
async function floorMemory(): Promise<{ uss: number; rss: number; method: 'cgroup' | 'pss' }> {
  const layer = await minimalLayer();
  const functionDir = await trivialFunction();
  try {
    const run = await coldStart({
      layerDir: layer,
      functionDir,
      env: { AWS_REGION: REGION },
      sandbox: SANDBOX,
    });
    try {
      if (!run.extension) throw new Error('the minimal extension did not start');
      await sleep(SETTLE_MS);
      return {
        uss: ussMiB(run.extension.pid),
        rss: rssMiB(run.extension.pid),
        method: run.init.memoryMethod,
      };
    } finally {
      await run.close();
    }
  } finally {
    await rm(layer, { recursive: true, force: true });
    await rm(functionDir, { recursive: true, force: true });
  }
}

export async function memory(ctx: Context): Promise<void> {
  const { options, recorder } = ctx;
  const F = MEMORY_FIGURES;
  const start = (config: string, env: Record<string, string> = {}) =>
    startExtension({
      layerDir: ctx.layerDir,
      backends: ctx.backends,
      config,
      token: ctx.token,
      env: { ...ctx.extensionEnv, ...env },
      sandbox: SANDBOX,
    });

  const bare: number[] = [];
  const idle: number[] = [];
  const idleUss: number[] = [];
  const floorRss: number[] = [];
  const floorUss: number[] = [];
  const withSdk: number[] = [];
  let method: 'cgroup' | 'pss' = 'pss';
  for (let round = 0; round < options.memoryRounds; round++) {
    bare.push(await idleNodeRssMiB(SETTLE_MS));
    withSdk.push(await idleNodeRssMiB(SETTLE_MS, SDK_SETUP, benchDir));
    const floor = await floorMemory();
    floorRss.push(floor.rss);
    floorUss.push(floor.uss);
    method = floor.method;
    const ext = await start(SEED_CONFIG);
    try {
      await sleep(SETTLE_MS);
      idle.push(rssMiB(ext.pid));
      idleUss.push(ussMiB(ext.pid));
    } finally {
      await ext.close();
    }
  }
  recorder.notes[MEMORY_NOTES.sandbox] =
    method === 'cgroup'
      ? `the floor and the extension in a cgroup of ${SANDBOX.memoryMb} MB each, CPU not limited`
      : 'the floor and the extension without a cgroup (none can be made here): no memory limit';
  recorder.figure(
    F.floorUss,
    'MiB',
    'USS (Private_Clean + Private_Dirty, /proc/PID/smaps_rollup) of the minimal extension, idle under the emulator: the floor',
    floorUss,
  );
  recorder.figure(F.floorRss, 'MiB', 'RSS of the minimal extension, idle under the emulator', floorRss);
  recorder.figure(F.idleUss, 'MiB', "USS of the extension, idle after init with the seed's config", idleUss);
  recorder.figure(F.bare, 'MiB', 'RSS of a bare, idle node process', bare);
  recorder.figure(
    F.withSdk,
    'MiB',
    'RSS of an idle node process that imported and created the SSM and DynamoDB SDK clients (what the SDK alone costs)',
    withSdk,
  );
  recorder.figure(F.idle, 'MiB', "RSS of the extension, idle after init with the seed's config", idle);
  recorder.ratio('memory.idle_minus_bare_mib', recorder.median(F.idle) - recorder.median(F.bare));
  recorder.ratio('memory.idle_uss_minus_floor_mib', recorder.median(F.idleUss) - recorder.median(F.floorUss));

  for (const n of options.memoryEntries) {
    const config = configFor(range(n).map(kilobyteName), 0);
    const rss: number[] = [];
    const uss: number[] = [];
    for (let round = 0; round < options.memoryRounds; round++) {
      const ext = await start(config);
      try {
        // Entries whose prefetch failed (the machine too busy for the SDK's timeouts) load on demand:
        // read them once, so the figure is always about n entries.
        const complete = await waitForEntries(ext, n, 10_000).then(
          () => true,
          () => false,
        );
        if (!complete) {
          await ctx.worker.load({
            origin: ext.origin,
            headers: { [HEADERS.token]: ctx.token },
            connections: 8,
            durationMs: 120_000,
            maxRequests: n,
            paths: { kind: 'list', paths: range(n).map((i) => parameterPath(kilobyteName(i))) },
          });
          await waitForEntries(ext, n, 10_000);
        }
        await sleep(SETTLE_MS);
        rss.push(rssMiB(ext.pid));
        uss.push(ussMiB(ext.pid));
      } finally {
        await ext.close();
      }
    }
    recorder.figure(
      F.entries(n),
      'MiB',
      `RSS of the extension with ${n} prefetched parameters of ${options.valueBytes} bytes`,
      rss,
    );
    recorder.figure(
      F.entriesUss(n),
      'MiB',
      `USS of the extension with ${n} prefetched parameters of ${options.valueBytes} bytes`,
      uss,
    );
    recorder.ratio(
      `memory.entries_${n}x1KB_minus_bare_mib`,
      recorder.median(F.entries(n)) - recorder.median(F.bare),
    );
    recorder.ratio(
      `memory.entries_uss_${n}x1KB_minus_floor_mib`,
      recorder.median(F.entriesUss(n)) - recorder.median(F.floorUss),
    );
  }

  // Read-through: distinct keys, none in the config, far more than the entry bound.
  const total = options.readThroughKeys;
  const checkpoint = options.readThroughCheckpoint;
  const ext = await start(SEED_CONFIG, { [ENV.maxEntries]: String(options.maxEntries) });
  try {
    const load = async (startAt: number, count: number) => {
      const result = await ctx.worker.load({
        origin: ext.origin,
        headers: { [HEADERS.token]: ctx.token },
        connections: 16,
        durationMs: 300_000,
        maxRequests: count,
        paths: { kind: 'parameters', prefix: READ_THROUGH_PREFIX, start: startAt, count },
      });
      if (result.requests !== count || result.errors > 0) {
        throw new Error(`read-through of ${count} keys: ${result.requests} done, ${result.errors} failed`);
      }
    };
    // Growth per entry, below the bound so nothing is evicted: RSS and USS deltas next to the bytes the
    // cache counts against its budget (/v1/stats `bytes`). The read-throughs before it grow the process
    // once, whatever the entries (measured: 5000 reads of one key alone add 7 MiB of USS on Node 20 and
    // 12 MiB on Node 24; the first 1400 distinct keys 10 and 16 MiB, the next 1400 2 and 4), so the
    // figures start after them, and their growth is reported apart.
    const warm = options.perEntryWarmKeys;
    const perEntry = Math.min(options.perEntryKeys, checkpoint - warm, options.maxEntries - warm - 100);
    const idleUss = ussMiB(ext.pid);
    await load(0, warm);
    await sleep(SETTLE_MS);
    const before = { stats: await ext.stats(), rss: rssMiB(ext.pid), uss: ussMiB(ext.pid) };
    await load(warm, perEntry);
    await sleep(SETTLE_MS);
    const after = { stats: await ext.stats(), rss: rssMiB(ext.pid), uss: ussMiB(ext.pid) };
    const added = after.stats.entries - before.stats.entries;
    const perAdded = (mib: number) => (mib * 2 ** 20) / added;
    recorder.figure(
      F.perEntryWarmUss,
      'MiB',
      `USS growth over the first ${warm} read-through keys, before the per-entry figures`,
      [before.uss - idleUss],
    );
    recorder.figure(F.perEntryEntries, 'entries', `read-through entries added for the per-entry figures`, [
      added,
    ]);
    recorder.figure(
      F.perEntryRss,
      'bytes',
      `RSS growth per read-through entry, over ${perEntry} distinct keys`,
      [perAdded(after.rss - before.rss)],
    );
    recorder.figure(
      F.perEntryUss,
      'bytes',
      `USS growth per read-through entry, over ${perEntry} distinct keys`,
      [perAdded(after.uss - before.uss)],
    );
    recorder.figure(
      F.perEntryCounted,
      'bytes',
      'bytes the cache counts per read-through entry (/v1/stats bytes growth ÷ entries added)',
      [(after.stats.bytes - before.stats.bytes) / added],
    );
    await load(warm + perEntry, checkpoint - warm - perEntry);
    await sleep(SETTLE_MS);
    const atCheckpoint = rssMiB(ext.pid);
    await load(checkpoint, total - checkpoint);
    await sleep(SETTLE_MS);
    const atTotal = rssMiB(ext.pid);
    const stats = await ext.stats();
    recorder.figure(F.readThrough(checkpoint), 'MiB', `RSS after ${checkpoint} distinct read-through keys`, [
      atCheckpoint,
    ]);
    recorder.figure(F.readThrough(total), 'MiB', `RSS after ${total} distinct read-through keys`, [atTotal]);
    recorder.figure(
      F.readThroughEntries,
      'entries',
      `entries held after ${total} read-through keys (bound ${options.maxEntries})`,
      [stats.entries],
    );
    recorder.ratio('memory.read_through_growth', atTotal / atCheckpoint);
    ctx.log(
      `memory: bare ${recorder.median(F.bare)} MiB, idle ${recorder.median(F.idle)} MiB, read-through ${atCheckpoint.toFixed(1)} → ${atTotal.toFixed(1)} MiB`,
    );
  } finally {
    await ext.close();
  }
}
