/**
 * What a read answers when the backend throttles every attempt, or resets every connection: the contract's
 * `429 Throttled` and `502 UpstreamError` with the AWS or system code, within the request's 5 s wait (not a
 * `504` of our own), and `/v1/health` says which source is failing until a call succeeds again.
 */
import { dynamodbPath, parameterPath, ROUTES } from '@lambda-cache/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_TABLE, seedData } from '../src/fixtures.js';
import { type Reply, type Stack, sleep, startStack, waitFor } from '../src/harness.js';

/** Distinct cold names per phase, read a little apart so that each is a batch (a call) of its own. */
const READS = 8;
const names = (phase: string) =>
  Array.from({ length: READS }, (_, i) => `/errors/${phase}/p${String(i).padStart(2, '0')}`);
const items = (phase: string) => Array.from({ length: READS }, (_, i) => `${phase}-${i}`);
const PHASES = ['throttle', 'reset'] as const;
const value = (name: string): string => `errors-value-of-${name}`;
const itemKey = (id: string) => ({ pKey: { S: id }, sKey: { S: 'cold' } });

let stack: Stack;
beforeAll(async () => {
  const seed = seedData();
  seed.parameters = [
    ...(seed.parameters ?? []),
    ...PHASES.flatMap((p) => names(p)).map((name) => ({ name, value: value(name) })),
  ];
  const table = seed.tables?.[0];
  if (table) {
    for (const id of PHASES.flatMap((p) => items(p))) {
      table.items.push({ pKey: id, sKey: 'cold', Data: value(id) });
    }
  }
  stack = await startStack({ seed });
});
afterAll(async () => {
  await stack?.close();
});

type Timed = Reply & { ms: number };

/** Reads `paths` 150 ms apart (each its own batch), all in flight together. */
async function readApart(paths: readonly string[]): Promise<Timed[]> {
  return Promise.all(
    paths.map(async (path, i) => {
      await sleep(i * 150);
      const t = performance.now();
      const r = await stack.get(path);
      return { ...r, ms: Math.round(performance.now() - t) };
    }),
  );
}

const outcome = (r: Reply): string => `${r.status} ${r.body?.code} ${r.body?.awsCode ?? '-'}`;
const range = (rs: readonly Timed[]): string =>
  `${Math.min(...rs.map((r) => r.ms))}–${Math.max(...rs.map((r) => r.ms))} ms`;

/** Once the fault is lifted, a read succeeds (after its key's back-off) and the source is `ok` again. */
async function expectRecovered(path: string, source: 'ssm' | 'dynamodb'): Promise<void> {
  await waitFor(
    `${path} to be served once the fault is lifted`,
    async () => (await stack.get(path)).status === 200,
    { timeoutMs: 20_000, intervalMs: 250 },
  );
  const health = await stack.get(ROUTES.health);
  expect(health.body.sources?.[source]).toEqual({ status: 'ok' });
}

async function expectReady(): Promise<void> {
  expect((await stack.get(ROUTES.health)).body.status).toBe('ready');
}

async function expectFailing(source: 'ssm' | 'dynamodb', lastError: string): Promise<void> {
  const health = await stack.get(ROUTES.health);
  console.log(`[aws-errors] health: ${JSON.stringify(health.body)}`);
  expect(health.body.status).toBe('degraded');
  expect(health.body.sources?.[source]?.status).toBe('failing');
  expect(health.body.sources?.[source]?.lastError).toBe(lastError);
}

describe('a backend that throttles every attempt', () => {
  it('answers 429 Throttled with the AWS code for SSM, not a 504', async () => {
    stack.backends.ssm.setFaults({ throttleRate: 1 });
    const rs = await readApart(names('throttle').map((n) => parameterPath(n)));
    console.log(`[aws-errors] SSM throttled: ${rs.map(outcome).join(', ')}; ${range(rs)}`);
    expect(rs.map(outcome)).toEqual(rs.map(() => '429 Throttled ThrottlingException'));
    await expectFailing('ssm', 'ThrottlingException');
    stack.backends.ssm.setFaults({});
    await expectRecovered(parameterPath(names('throttle')[0] as string), 'ssm');
    await expectReady();
  }, 60_000);

  it('answers 429 Throttled with the AWS code for DynamoDB', async () => {
    stack.backends.dynamodb.setFaults({ throttleRate: 1 });
    const rs = await readApart(items('throttle').map((id) => dynamodbPath(SEED_TABLE, itemKey(id))));
    console.log(`[aws-errors] DynamoDB throttled: ${rs.map(outcome).join(', ')}; ${range(rs)}`);
    expect(rs.map(outcome)).toEqual(rs.map(() => '429 Throttled ProvisionedThroughputExceededException'));
    await expectFailing('dynamodb', 'ProvisionedThroughputExceededException');
    stack.backends.dynamodb.setFaults({});
    await expectRecovered(dynamodbPath(SEED_TABLE, itemKey(items('throttle')[0] as string)), 'dynamodb');
    await expectReady();
  }, 60_000);
});

describe('a backend that resets every connection', () => {
  it('answers 502 UpstreamError with the system code for SSM and DynamoDB', async () => {
    stack.backends.ssm.setFaults({ down: true });
    stack.backends.dynamodb.setFaults({ down: true });
    const ssm = await readApart(names('reset').map((n) => parameterPath(n)));
    const ddb = await readApart(items('reset').map((id) => dynamodbPath(SEED_TABLE, itemKey(id))));
    console.log(`[aws-errors] SSM reset: ${ssm.map(outcome).join(', ')}; ${range(ssm)}`);
    console.log(`[aws-errors] DynamoDB reset: ${ddb.map(outcome).join(', ')}; ${range(ddb)}`);
    expect(ssm.map(outcome)).toEqual(ssm.map(() => '502 UpstreamError ECONNRESET'));
    expect(ddb.map(outcome)).toEqual(ddb.map(() => '502 UpstreamError ECONNRESET'));
    await expectFailing('ssm', 'ECONNRESET');
    await expectFailing('dynamodb', 'ECONNRESET');
    stack.backends.ssm.setFaults({});
    stack.backends.dynamodb.setFaults({});
    await expectRecovered(parameterPath(names('reset')[0] as string), 'ssm');
    await expectRecovered(dynamodbPath(SEED_TABLE, itemKey(items('reset')[0] as string)), 'dynamodb');
    await expectReady();
  }, 60_000);
});
