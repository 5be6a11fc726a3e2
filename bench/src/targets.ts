/**
 * The targets of the benchmark issue, each judged on the medians of this run, and the list of every
 * figure a complete run records (the smoke test checks the results file against it).
 */
import { type BenchOptions, targetPrefetchSize } from './options.js';
import { type Recorder, type TargetResult, target } from './results.js';
import { CLIENT_FIGURES } from './sections/client.js';
import { HIT_ROUTES, hitFigure } from './sections/hit-path.js';
import { MEMORY_FIGURES } from './sections/memory.js';
import { noCacheFigure } from './sections/no-cache.js';
import { expectedCalls, prefetchFigure } from './sections/prefetch.js';
import { STARTUP_FIGURES } from './sections/startup.js';

export const TARGET_NAMES = [
  'hit-path throughput vs bare node:http',
  'hit-path p99 at 1 connection vs bare node:http',
  'client call vs raw undici request',
  'in-process layer speed-up over a round trip',
  'in-process layer vs Powertools in-process hit',
  'prefetch backend calls = ceil(P/10) + ceil(I/100)',
  'prefetch 100+100 at 5 ms vs one call at a time',
  'spawn → register minus node -e 0',
  "RSS with the seed's config minus bare node",
  'RSS with 10k × 1 KB entries minus bare node',
  'RSS growth after 100k read-through keys',
] as const;

export function expectedFigures(options: BenchOptions): string[] {
  const names: string[] = [];
  for (const route of HIT_ROUTES)
    for (const c of options.connections)
      for (const s of ['extension', 'bare'] as const)
        for (const metric of ['rps', 'p50', 'p99']) names.push(hitFigure(route, c, s, metric));
  names.push(...Object.values(CLIENT_FIGURES));
  for (const latency of [0, options.injectedLatencyMs])
    names.push(noCacheFigure('parameter', latency), noCacheFigure('item', latency));
  for (const n of options.prefetchSizes)
    for (const latency of [0, options.injectedLatencyMs])
      for (const metric of [
        'extension_ready',
        'extension_loaded',
        'extension_calls',
        'seed_ready',
        'seed_calls',
      ])
        names.push(prefetchFigure(n, latency, metric));
  names.push(...Object.values(STARTUP_FIGURES));
  names.push(MEMORY_FIGURES.bare, MEMORY_FIGURES.withSdk, MEMORY_FIGURES.idle);
  for (const n of options.memoryEntries) names.push(MEMORY_FIGURES.entries(n));
  names.push(
    MEMORY_FIGURES.readThrough(options.readThroughCheckpoint),
    MEMORY_FIGURES.readThrough(options.readThroughKeys),
    MEMORY_FIGURES.readThroughEntries,
  );
  return names;
}

/** Runs `judge`; a target whose figures are missing (its section failed) is reported as not met. */
function safely(name: (typeof TARGET_NAMES)[number], judge: () => TargetResult): TargetResult {
  try {
    return judge();
  } catch (err) {
    return {
      name,
      target: 'n/a',
      measured: Number.NaN,
      met: false,
      op: '<=',
      threshold: Number.NaN,
      unit: '',
      detail: `not measured: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}

export function evaluateTargets(r: Recorder, options: BenchOptions): TargetResult[] {
  const [
    tThroughput,
    tP99,
    tClient,
    tSpeedup,
    tPowertools,
    tCalls,
    tPrefetch,
    tRegister,
    tIdle,
    tEntries,
    tFlat,
  ] = TARGET_NAMES;
  const m = (name: string) => r.median(name);
  const n = targetPrefetchSize(options);
  const biggest = Math.max(...options.memoryEntries);
  const dataMiB = (biggest * options.valueBytes) / 2 ** 20;
  return [
    safely(tThroughput, () => {
      const ratios = HIT_ROUTES.flatMap((route) =>
        options.connections.map((c) => ({
          at: `${route} c${c}`,
          v: m(hitFigure(route, c, 'extension', 'rps')) / m(hitFigure(route, c, 'bare', 'rps')),
        })),
      );
      const worst = ratios.reduce((a, b) => (b.v < a.v ? b : a));
      return target(
        tThroughput,
        '>=',
        0.85,
        worst.v,
        '× bare',
        `worst of ${ratios.map((x) => `${x.at} ${x.v.toFixed(2)}`).join(', ')}`,
      );
    }),
    safely(tP99, () => {
      const ratios = HIT_ROUTES.map((route) => ({
        at: route,
        v: m(hitFigure(route, 1, 'extension', 'p99')) / m(hitFigure(route, 1, 'bare', 'p99')),
      }));
      const worst = ratios.reduce((a, b) => (b.v > a.v ? b : a));
      return target(
        tP99,
        '<=',
        1.25,
        worst.v,
        '× bare',
        `worst of ${ratios.map((x) => `${x.at} ${x.v.toFixed(2)}`).join(', ')}`,
      );
    }),
    safely(tClient, () => {
      const p = m(CLIENT_FIGURES.parameterClient) / m(CLIENT_FIGURES.parameterRaw);
      const i = m(CLIENT_FIGURES.itemClient) / m(CLIENT_FIGURES.itemRaw);
      return target(
        tClient,
        '<=',
        1.3,
        Math.max(p, i),
        '× raw',
        `getParameter ${p.toFixed(2)}, getItem ${i.toFixed(2)}`,
      );
    }),
    safely(tSpeedup, () => {
      const p = m(CLIENT_FIGURES.parameterClient) / m(CLIENT_FIGURES.parameterLocal);
      const i = m(CLIENT_FIGURES.itemClient) / m(CLIENT_FIGURES.itemLocal);
      return target(
        tSpeedup,
        '>=',
        50,
        Math.min(p, i),
        '×',
        `getParameter ${p.toFixed(0)}×, getItem ${i.toFixed(0)}×`,
      );
    }),
    safely(tPowertools, () => {
      const v = m(CLIENT_FIGURES.parameterLocal) / m(CLIENT_FIGURES.powertoolsHit);
      return target(
        tPowertools,
        '<=',
        2,
        v,
        '× Powertools',
        `${m(CLIENT_FIGURES.parameterLocal)} µs vs ${m(CLIENT_FIGURES.powertoolsHit)} µs`,
      );
    }),
    safely(tCalls, () => {
      const runs = options.prefetchSizes.flatMap((size) =>
        [0, options.injectedLatencyMs].map((lat) => ({
          at: `${size}+${size} @${lat}ms`,
          calls: m(prefetchFigure(size, lat, 'extension_calls')),
          max: r.figures[prefetchFigure(size, lat, 'extension_calls')]?.max ?? Number.NaN,
          expected: expectedCalls(size, size),
        })),
      );
      const exact = runs.filter((x) => x.calls === x.expected && x.max === x.expected).length;
      const largest = runs[runs.length - 1]!;
      const result = target(
        tCalls,
        '=',
        largest.expected,
        exact === runs.length ? largest.expected : largest.max,
        'calls',
        runs.map((x) => `${x.at}: ${x.calls} (expected ${x.expected})`).join('; '),
      );
      return { ...result, met: exact === runs.length };
    }),
    safely(tPrefetch, () => {
      const v =
        m(prefetchFigure(n, options.injectedLatencyMs, 'extension_ready')) /
        m(prefetchFigure(n, options.injectedLatencyMs, 'seed_ready'));
      return target(
        tPrefetch,
        '<=',
        0.1,
        v,
        '× one at a time',
        `${n}+${n} at ${options.injectedLatencyMs} ms, both spawn → ready: ${m(prefetchFigure(n, options.injectedLatencyMs, 'extension_ready'))} ms vs ${m(prefetchFigure(n, options.injectedLatencyMs, 'seed_ready'))} ms; the fetching alone: ${m(prefetchFigure(n, options.injectedLatencyMs, 'extension_fetch'))} ms vs ${m(prefetchFigure(n, options.injectedLatencyMs, 'seed_fetch'))} ms (${(m(prefetchFigure(n, options.injectedLatencyMs, 'extension_fetch')) / m(prefetchFigure(n, options.injectedLatencyMs, 'seed_fetch'))).toFixed(3)}×)`,
      );
    }),
    safely(tRegister, () => {
      const v = m(STARTUP_FIGURES.register) - m(STARTUP_FIGURES.nodeE0);
      return target(
        tRegister,
        '<=',
        25,
        v,
        'ms',
        `spawn → register ${m(STARTUP_FIGURES.register)} ms, node -e 0 ${m(STARTUP_FIGURES.nodeE0)} ms`,
      );
    }),
    safely(tIdle, () => {
      const v = m(MEMORY_FIGURES.idle) - m(MEMORY_FIGURES.bare);
      return target(
        tIdle,
        '<=',
        15,
        v,
        'MiB',
        `idle ${m(MEMORY_FIGURES.idle)} MiB, bare node ${m(MEMORY_FIGURES.bare)} MiB`,
      );
    }),
    safely(tEntries, () => {
      const v = m(MEMORY_FIGURES.entries(biggest)) - m(MEMORY_FIGURES.bare);
      return target(
        tEntries,
        '<=',
        15 + 2 * dataMiB,
        v,
        'MiB',
        `${biggest} × ${options.valueBytes} B = ${dataMiB.toFixed(1)} MiB of data; RSS ${m(MEMORY_FIGURES.entries(biggest))} MiB, bare node ${m(MEMORY_FIGURES.bare)} MiB`,
      );
    }),
    safely(tFlat, () => {
      const at = m(MEMORY_FIGURES.readThrough(options.readThroughCheckpoint));
      const end = m(MEMORY_FIGURES.readThrough(options.readThroughKeys));
      const entries = m(MEMORY_FIGURES.readThroughEntries);
      const result = target(
        tFlat,
        '<=',
        1.1,
        end / at,
        '× RSS at checkpoint',
        `${at} MiB after ${options.readThroughCheckpoint} keys, ${end} MiB after ${options.readThroughKeys}; ${entries} entries held (bound ${options.maxEntries})`,
      );
      return { ...result, met: result.met && entries <= options.maxEntries };
    }),
  ];
}
