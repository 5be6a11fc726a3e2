/**
 * How big and how long each measurement is. The full mode is what `npm run bench` runs (well under
 * 10 minutes on 2 cores); the smoke mode (`--smoke`, or `CI` set) runs every measurement at a tiny size
 * in seconds, so the suite is exercised by `npm test` and cannot rot.
 */
export interface BenchOptions {
  readonly mode: 'full' | 'smoke';
  /** Rounds per figure; every figure is reported as min / median / max over them. */
  readonly rounds: number;
  /** Connection counts of the hit-path load. */
  readonly connections: readonly number[];
  /** Length of one hit-path round, and its cap in requests (whichever comes first). */
  readonly hitDurationMs: number;
  readonly hitMaxRequests: number;
  /** Warm-up before the hit-path rounds of each server, so both are measured hot. */
  readonly hitWarmupMs: number;
  /** Sequential calls per round when measuring per-call latency over a socket. */
  readonly callIterations: number;
  /** In-process hits are too fast to time one by one: each sample times this many calls. */
  readonly inProcessBatch: number;
  /** Sequential AWS SDK calls per round against the local backends. */
  readonly backendIterations: number;
  /** Prefetch sizes: P parameters and I items, P = I = each of these. */
  readonly prefetchSizes: readonly number[];
  readonly prefetchRounds: number;
  /** Backend latency injected for the "in-region AWS" variants. */
  readonly injectedLatencyMs: number;
  readonly startupRounds: number;
  /** Entries of {@link valueBytes} each, prefetched, for the memory figures. */
  readonly memoryEntries: readonly number[];
  readonly valueBytes: number;
  readonly memoryRounds: number;
  /** Distinct read-through keys, and the count after which RSS is first sampled (the bound has filled). */
  readonly readThroughKeys: number;
  readonly readThroughCheckpoint: number;
  /** The extension's entry bound during the read-through run; the cache's default. */
  readonly maxEntries: number;
  /**
   * Read-through keys before the per-entry figures start: the first requests grow the process once (code
   * compiled and its compiler's memory, the young generation sized to the load, backend connections).
   */
  readonly perEntryWarmKeys: number;
  /** Read-through keys (below the bound, so none is evicted) over which RSS per entry is measured. */
  readonly perEntryKeys: number;
  /** Interleaved pairs of inits for the Init Duration figures (with / without the layer, and vs the floor). */
  readonly initPairs: number;
  /** Fresh Node processes per variant for the client's import + first call cost. */
  readonly clientColdRounds: number;
  /** Size of the generated config for the config-load figures, and starts per variant. */
  readonly configBytes: number;
  readonly configRounds: number;
}

export const FULL: BenchOptions = {
  mode: 'full',
  rounds: 5,
  connections: [1, 32],
  hitDurationMs: 2000,
  hitMaxRequests: 400_000,
  hitWarmupMs: 1000,
  callIterations: 1000,
  inProcessBatch: 200,
  backendIterations: 200,
  prefetchSizes: [10, 100, 1000],
  prefetchRounds: 3,
  injectedLatencyMs: 5,
  startupRounds: 11,
  memoryEntries: [1000, 10_000],
  valueBytes: 1024,
  memoryRounds: 3,
  readThroughKeys: 100_000,
  readThroughCheckpoint: 25_000,
  maxEntries: 10_000,
  perEntryWarmKeys: 2000,
  perEntryKeys: 7000,
  initPairs: 11,
  clientColdRounds: 11,
  configBytes: 1024 * 1024,
  configRounds: 3,
};

export const SMOKE: BenchOptions = {
  mode: 'smoke',
  rounds: 2,
  connections: [1, 32],
  hitDurationMs: 1000,
  hitMaxRequests: 150,
  hitWarmupMs: 100,
  callIterations: 30,
  inProcessBatch: 10,
  backendIterations: 10,
  prefetchSizes: [10],
  prefetchRounds: 1,
  injectedLatencyMs: 5,
  startupRounds: 2,
  memoryEntries: [20, 50],
  valueBytes: 1024,
  memoryRounds: 1,
  readThroughKeys: 300,
  readThroughCheckpoint: 100,
  maxEntries: 10_000,
  perEntryWarmKeys: 20,
  perEntryKeys: 50,
  initPairs: 2,
  clientColdRounds: 2,
  configBytes: 32 * 1024,
  configRounds: 1,
};

/** The prefetch size the "100 + 100 items at 5 ms" target is judged on: 100, or the largest below it. */
export function targetPrefetchSize(options: BenchOptions): number {
  const fitting = options.prefetchSizes.filter((n) => n <= 100);
  return fitting.length > 0 ? Math.max(...fitting) : Math.min(...options.prefetchSizes);
}
