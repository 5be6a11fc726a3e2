/**
 * 6. Memory: RSS of the extension idle with the seed's config, with N prefetched entries of 1 KB, and
 * after many distinct read-through keys (the entry bound must hold RSS flat), against a bare Node process.
 */
import { fileURLToPath } from 'node:url';
import { ENV, HEADERS, parameterPath } from '@lambda-cache/shared';
import type { Context } from '../context.js';
import { configFor, kilobyteName, READ_THROUGH_PREFIX, range, SEED_CONFIG } from '../data.js';
import { idleNodeRssMiB, rssMiB, sleep } from '../processes.js';
import { startExtension, waitForEntries } from '../stack.js';

const benchDir = fileURLToPath(new URL('../../', import.meta.url));
const SDK_SETUP = [
  "const { SSMClient } = await import('@aws-sdk/client-ssm');",
  "const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');",
  "globalThis.clients = [new SSMClient({ region: 'us-west-2' }), new DynamoDBClient({ region: 'us-west-2' })];",
].join('\n');

/** Time between the last request or init and reading RSS, so allocation bursts settle. */
const SETTLE_MS = 1000;

export const MEMORY_FIGURES = {
  bare: 'memory.bare_node',
  withSdk: 'memory.node_with_aws_sdk',
  idle: 'memory.idle_seed_config',
  entries: (n: number) => `memory.entries_${n}x1KB`,
  readThrough: (n: number) => `memory.read_through_${n}`,
  readThroughEntries: 'memory.read_through_entries',
} as const;

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
    });

  const bare: number[] = [];
  const idle: number[] = [];
  const withSdk: number[] = [];
  for (let round = 0; round < options.memoryRounds; round++) {
    bare.push(await idleNodeRssMiB(SETTLE_MS));
    withSdk.push(await idleNodeRssMiB(SETTLE_MS, SDK_SETUP, benchDir));
    const ext = await start(SEED_CONFIG);
    try {
      await sleep(SETTLE_MS);
      idle.push(rssMiB(ext.pid));
    } finally {
      await ext.close();
    }
  }
  recorder.figure(F.bare, 'MiB', 'RSS of a bare, idle node process', bare);
  recorder.figure(
    F.withSdk,
    'MiB',
    'RSS of an idle node process that imported and created the SSM and DynamoDB SDK clients (what the SDK alone costs)',
    withSdk,
  );
  recorder.figure(F.idle, 'MiB', "RSS of the extension, idle after init with the seed's config", idle);
  recorder.ratio('memory.idle_minus_bare_mib', recorder.median(F.idle) - recorder.median(F.bare));

  for (const n of options.memoryEntries) {
    const config = configFor(range(n).map(kilobyteName), 0);
    const rss: number[] = [];
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
    recorder.ratio(
      `memory.entries_${n}x1KB_minus_bare_mib`,
      recorder.median(F.entries(n)) - recorder.median(F.bare),
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
    await load(0, checkpoint);
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
