/**
 * 3. Versus no cache: the same reads with the AWS SDK straight to the local backends, with 0 ms and with
 * an injected backend latency (a stand-in for in-region AWS), against the client's round trip.
 */
import type { Context } from '../context.js';
import { REGION, SEED_ITEM_KEY, SEED_PARAMETER, SEED_TABLE } from '../data.js';
import type { Subject } from '../protocol.js';
import { CLIENT_FIGURES } from './client.js';

export const noCacheFigure = (what: 'parameter' | 'item', latencyMs: number) =>
  `nocache.${what}.sdk_${latencyMs}ms`;

export async function noCache(ctx: Context): Promise<void> {
  const { options, recorder, backends } = ctx;
  for (const latencyMs of [0, options.injectedLatencyMs]) {
    const subjects: Subject[] = [
      {
        kind: 'sdk-parameter',
        name: noCacheFigure('parameter', latencyMs),
        ssm: { endpoint: backends.ssm.endpoint, region: REGION },
        parameter: SEED_PARAMETER,
      },
      {
        kind: 'sdk-item',
        name: noCacheFigure('item', latencyMs),
        dynamodb: { endpoint: backends.dynamodb.endpoint, region: REGION },
        table: SEED_TABLE,
        key: SEED_ITEM_KEY,
      },
    ];
    backends.ssm.setFaults({ latencyMs });
    backends.dynamodb.setFaults({ latencyMs });
    try {
      const result = await ctx.worker.latency({
        subjects,
        rounds: options.rounds,
        iterations: options.backendIterations,
        batch: {},
        token: ctx.token,
      });
      recorder.figure(
        subjects[0]!.name,
        'µs',
        `SSM GetParameter with the AWS SDK, ${latencyMs} ms backend latency`,
        result[subjects[0]!.name] ?? [],
      );
      recorder.figure(
        subjects[1]!.name,
        'µs',
        `DynamoDB GetItem with the AWS SDK, ${latencyMs} ms backend latency`,
        result[subjects[1]!.name] ?? [],
      );
    } finally {
      backends.ssm.setFaults({});
      backends.dynamodb.setFaults({});
    }
    const m = (name: string) => recorder.median(name);
    recorder.ratio(
      `nocache.parameter.sdk_${latencyMs}ms_vs_client`,
      m(noCacheFigure('parameter', latencyMs)) / m(CLIENT_FIGURES.parameterClient),
    );
    recorder.ratio(
      `nocache.item.sdk_${latencyMs}ms_vs_client`,
      m(noCacheFigure('item', latencyMs)) / m(CLIENT_FIGURES.itemClient),
    );
    ctx.log(
      `no cache ${latencyMs} ms: GetParameter ${m(noCacheFigure('parameter', latencyMs))} µs, GetItem ${m(noCacheFigure('item', latencyMs))} µs`,
    );
  }
}
