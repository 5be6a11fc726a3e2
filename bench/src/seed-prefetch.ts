/**
 * The seed's way of loading its cache, as a process of its own: start, create the SDK clients, then one
 * `GetParameter` per name and one `GetItem` per key, one call at a time, then print `ready <calls> <ms spent fetching>`.
 * The orchestrator times spawn → that line, as it times the extension's spawn → ready.
 *
 * Usage: node seed-prefetch.js <plan.json>   (plan: { region, ssmEndpoint, dynamodbEndpoint, names, table, keys })
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';

export interface SeedPlan {
  readonly region: string;
  readonly ssmEndpoint: string;
  readonly dynamodbEndpoint: string;
  readonly names: readonly string[];
  readonly table: string;
  /** Items' keys, string attributes only (as the seed's config.yaml allowed). */
  readonly keys: readonly Readonly<Record<string, string>>[];
}

async function main(planFile: string): Promise<void> {
  const plan = JSON.parse(readFileSync(planFile, 'utf8')) as SeedPlan;
  const credentials = {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'bench',
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'bench',
  };
  const ssm = new SSMClient({ region: plan.region, endpoint: plan.ssmEndpoint, credentials });
  const dynamodb = new DynamoDBClient({ region: plan.region, endpoint: plan.dynamodbEndpoint, credentials });
  const cache = new Map<string, unknown>();
  let calls = 0;
  const fetchStarted = performance.now();
  for (const name of plan.names) {
    const out = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    calls++;
    cache.set(name, out.Parameter?.Value);
  }
  for (const key of plan.keys) {
    const Key = Object.fromEntries(Object.entries(key).map(([k, v]) => [k, { S: v }]));
    const out = await dynamodb.send(new GetItemCommand({ TableName: plan.table, Key }));
    calls++;
    cache.set(JSON.stringify(Key), out.Item);
  }
  if (cache.size !== plan.names.length + plan.keys.length) throw new Error('some reads were lost');
  const fetchMs = performance.now() - fetchStarted;
  process.stdout.write(`ready ${calls} ${fetchMs.toFixed(2)}\n`);
  ssm.destroy();
  dynamodb.destroy();
}

const planFile = process.argv[2];
if (!planFile) {
  process.stderr.write('usage: seed-prefetch <plan.json>\n');
  process.exit(2);
}
main(planFile).catch((err: unknown) => {
  process.stderr.write(`seed-prefetch failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
