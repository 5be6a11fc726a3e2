/**
 * 2. Client: per-call latency of `cache.getParameter` / `cache.getItem` (in-process layer off, so every
 * call is a round trip) against a raw undici `request()` to the same URL; the in-process layer on; and
 * Powertools' `getParameter` against the same local SSM, hit (its in-process cache) and miss.
 */
import type { Context } from '../context.js';
import { REGION, SEED_ITEM_KEY, SEED_PARAMETER, SEED_TABLE } from '../data.js';
import type { Subject } from '../protocol.js';
import { hitPaths } from './hit-path.js';

export const CLIENT_FIGURES = {
  parameterRaw: 'client.parameter.raw_undici',
  parameterClient: 'client.parameter.client',
  parameterLocal: 'client.parameter.local_cache',
  itemRaw: 'client.item.raw_undici',
  itemClient: 'client.item.client',
  itemLocal: 'client.item.local_cache',
  powertoolsHit: 'client.parameter.powertools_hit',
  powertoolsMiss: 'client.parameter.powertools_miss',
} as const;

export async function client(ctx: Context): Promise<void> {
  const { options, recorder } = ctx;
  const ext = await ctx.seedStack();
  const paths = hitPaths();
  const ssm = { endpoint: ctx.backends.ssm.endpoint, region: REGION };
  const F = CLIENT_FIGURES;
  const subjects: Subject[] = [
    { kind: 'raw-undici', name: F.parameterRaw, origin: ext.origin, path: paths.parameters },
    {
      kind: 'client-parameter',
      name: F.parameterClient,
      port: ext.port,
      parameter: SEED_PARAMETER,
      localCache: false,
    },
    {
      kind: 'client-parameter',
      name: F.parameterLocal,
      port: ext.port,
      parameter: SEED_PARAMETER,
      localCache: true,
    },
    { kind: 'raw-undici', name: F.itemRaw, origin: ext.origin, path: paths.dynamodb },
    {
      kind: 'client-item',
      name: F.itemClient,
      port: ext.port,
      table: SEED_TABLE,
      key: SEED_ITEM_KEY,
      localCache: false,
    },
    {
      kind: 'client-item',
      name: F.itemLocal,
      port: ext.port,
      table: SEED_TABLE,
      key: SEED_ITEM_KEY,
      localCache: true,
    },
    { kind: 'powertools', name: F.powertoolsHit, ssm, parameter: SEED_PARAMETER, forceFetch: false },
    { kind: 'powertools', name: F.powertoolsMiss, ssm, parameter: SEED_PARAMETER, forceFetch: true },
  ];
  const inProcess = options.inProcessBatch;
  const result = await ctx.worker.latency({
    subjects,
    rounds: options.rounds,
    iterations: options.callIterations,
    batch: { [F.parameterLocal]: inProcess, [F.itemLocal]: inProcess, [F.powertoolsHit]: inProcess },
    token: ctx.token,
  });
  const what: Record<string, string> = {
    [F.parameterRaw]: 'raw undici request() to GET /v1/parameters, body parsed as JSON',
    [F.parameterClient]: 'cache.getParameter, in-process layer off (a round trip)',
    [F.parameterLocal]: 'cache.getParameter, in-process layer on (a hit in memory)',
    [F.itemRaw]: 'raw undici request() to GET /v1/dynamodb, body parsed as JSON',
    [F.itemClient]: 'cache.getItem, in-process layer off (a round trip)',
    [F.itemLocal]: 'cache.getItem, in-process layer on (a hit in memory)',
    [F.powertoolsHit]: 'Powertools SSMProvider.get, hit in its in-process cache',
    [F.powertoolsMiss]: 'Powertools SSMProvider.get with forceFetch (a GetParameter to the local SSM)',
  };
  for (const s of subjects) recorder.figure(s.name, 'µs', what[s.name] ?? s.name, result[s.name] ?? []);
  const m = (name: string) => recorder.median(name);
  recorder.ratio('client.parameter.vs_raw_undici', m(F.parameterClient) / m(F.parameterRaw));
  recorder.ratio('client.item.vs_raw_undici', m(F.itemClient) / m(F.itemRaw));
  recorder.ratio('client.parameter.local_cache_speedup', m(F.parameterClient) / m(F.parameterLocal));
  recorder.ratio('client.item.local_cache_speedup', m(F.itemClient) / m(F.itemLocal));
  recorder.ratio('client.parameter.local_cache_vs_powertools_hit', m(F.parameterLocal) / m(F.powertoolsHit));
  recorder.ratio('client.parameter.powertools_miss_vs_client', m(F.powertoolsMiss) / m(F.parameterClient));
  ctx.log(
    `client: getParameter ${m(F.parameterClient)} µs vs raw ${m(F.parameterRaw)} µs; local ${m(F.parameterLocal)} µs`,
  );
}
