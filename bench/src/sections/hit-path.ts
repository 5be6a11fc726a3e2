/**
 * 1. Hit path: requests/s and p50/p99 of every kind of read on the running extension — a parameter, an
 * item, a secret (the v1 route and the AWS-compatible one), a configuration (whole, and one feature flag)
 * — at 1 and 32 connections, against a bare `node:http` server answering the same bytes. All are
 * prefetched by the seed stack's config, so every request is a hit. Rounds alternate product and baseline
 * (and which goes first) so that drift hits both alike.
 */
import {
  appConfigPath,
  dynamodbPath,
  HEADERS,
  parameterPath,
  ROUTES,
  secretPath,
} from '@lambda-cache/shared';
import type { Context } from '../context.js';
import {
  SEED_APPCONFIG,
  SEED_FLAG,
  SEED_ITEM_KEY,
  SEED_PARAMETER,
  SEED_SECRET,
  SEED_TABLE,
} from '../data.js';
import { startBareServer } from '../processes.js';
import type { LoadArgs, LoadResult } from '../protocol.js';

export const HIT_ROUTES = [
  'parameters',
  'dynamodb',
  'secrets',
  'secrets_aws',
  'appconfig',
  'appconfig_flag',
] as const;
export type HitRoute = (typeof HIT_ROUTES)[number];

/** What each route of the figures' names reads, for the figures' descriptions and the report. */
export const HIT_ROUTE_LABELS: Readonly<Record<HitRoute, string>> = {
  parameters: 'GET /v1/parameters',
  dynamodb: 'GET /v1/dynamodb',
  secrets: 'GET /v1/secrets',
  secrets_aws: 'GET /secretsmanager/get',
  appconfig: 'GET /v1/appconfig',
  appconfig_flag: 'GET /v1/appconfig (one flag)',
};

export const hitFigure = (
  route: HitRoute,
  connections: number,
  subject: 'extension' | 'bare',
  metric: string,
) => `hit.${route}.c${connections}.${subject}.${metric}`;

export function hitPaths(): Record<HitRoute, string> {
  const { application, environment, profile } = SEED_APPCONFIG;
  return {
    parameters: parameterPath(SEED_PARAMETER),
    dynamodb: dynamodbPath(SEED_TABLE, { pKey: { S: SEED_ITEM_KEY.pKey }, sKey: { S: SEED_ITEM_KEY.sKey } }),
    secrets: secretPath(SEED_SECRET),
    // shared/ builds no URL for this route (clients use /v1/secrets); the query is AWS's extension's.
    secrets_aws: `${ROUTES.awsSecret}?${new URLSearchParams({ secretId: SEED_SECRET })}`,
    appconfig: appConfigPath(application, environment, profile),
    appconfig_flag: appConfigPath(application, environment, profile, { flags: [SEED_FLAG] }),
  };
}

function checked(what: string, result: LoadResult): LoadResult {
  if (result.errors > 0) throw new Error(`${what}: ${result.errors} of ${result.requests} requests failed`);
  if (result.requests === 0) throw new Error(`${what}: no request completed`);
  return result;
}

export async function hitPath(ctx: Context): Promise<void> {
  const { options, recorder, worker } = ctx;
  const ext = await ctx.seedStack();
  for (const [route, path] of Object.entries(hitPaths()) as [HitRoute, string][]) {
    const first = await ext.get(path);
    if (first.status !== 200)
      throw new Error(`GET ${path} answered ${first.status}: ${first.body.slice(0, 200)}`);
    // Prefetched, so the very first read is a hit too: a miss here means the seed stack's config did not
    // load it, and the rounds would measure something else than the hit path at their start.
    if (first.headers[HEADERS.cache] !== 'hit')
      throw new Error(`GET ${path} was not prefetched (X-Cache: ${first.headers[HEADERS.cache]})`);
    const bare = await startBareServer(first.body);
    try {
      for (const connections of options.connections) {
        const base = {
          connections,
          paths: { kind: 'list', paths: [path] },
          maxRequests: options.hitMaxRequests,
        } as const;
        const extArgs: LoadArgs = {
          ...base,
          origin: ext.origin,
          headers: { [HEADERS.token]: ctx.token },
          durationMs: options.hitDurationMs,
        };
        const bareArgs: LoadArgs = {
          ...base,
          origin: `http://127.0.0.1:${bare.port}`,
          headers: { [HEADERS.token]: ctx.token },
          durationMs: options.hitDurationMs,
        };
        await worker.load({ ...extArgs, durationMs: options.hitWarmupMs });
        await worker.load({ ...bareArgs, durationMs: options.hitWarmupMs });
        const extRuns: LoadResult[] = [];
        const bareRuns: LoadResult[] = [];
        for (let round = 0; round < options.rounds; round++) {
          const what = `${route} c${connections} round ${round + 1}`;
          if (round % 2 === 0) {
            extRuns.push(checked(`extension ${what}`, await worker.load(extArgs)));
            bareRuns.push(checked(`bare ${what}`, await worker.load(bareArgs)));
          } else {
            bareRuns.push(checked(`bare ${what}`, await worker.load(bareArgs)));
            extRuns.push(checked(`extension ${what}`, await worker.load(extArgs)));
          }
        }
        for (const [subject, runs] of [
          ['extension', extRuns],
          ['bare', bareRuns],
        ] as const) {
          const who =
            subject === 'extension'
              ? `the extension's ${HIT_ROUTE_LABELS[route]}`
              : `a bare node:http server (same ${first.body.length}-byte body)`;
          recorder.figure(
            hitFigure(route, connections, subject, 'rps'),
            'req/s',
            `${who}, ${connections} connection(s)`,
            runs.map((r) => r.rps),
          );
          recorder.figure(
            hitFigure(route, connections, subject, 'p50'),
            'ms',
            `${who}, ${connections} connection(s), median latency`,
            runs.map((r) => r.p50Ms),
          );
          recorder.figure(
            hitFigure(route, connections, subject, 'p99'),
            'ms',
            `${who}, ${connections} connection(s), 99th percentile latency`,
            runs.map((r) => r.p99Ms),
          );
        }
        const rps = (s: 'extension' | 'bare') => recorder.median(hitFigure(route, connections, s, 'rps'));
        const p99 = (s: 'extension' | 'bare') => recorder.median(hitFigure(route, connections, s, 'p99'));
        recorder.ratio(`hit.${route}.c${connections}.rps_vs_bare`, rps('extension') / rps('bare'));
        recorder.ratio(`hit.${route}.c${connections}.p99_vs_bare`, p99('extension') / p99('bare'));
        ctx.log(
          `hit ${route} c${connections}: ${Math.round(rps('extension'))} vs ${Math.round(rps('bare'))} req/s`,
        );
      }
    } finally {
      await bare.close();
    }
  }
}
