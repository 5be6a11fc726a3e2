import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandInput,
  DynamoDBClient,
  GetItemCommand,
} from '@aws-sdk/client-dynamodb';
import { type KeyAttributes, normalizeKey } from '@lambda-cache/shared';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../../src/errors.js';
import { DynamoDbSource, itemId, toItemJson } from '../../../src/sources/dynamodb.js';

const ddbMock = mockClient(DynamoDBClient);

function source(calls: string[] = [], waits: number[] = []) {
  const client = new DynamoDBClient({ region: 'us-west-2' });
  return new DynamoDbSource({
    clientFor: () => client,
    count: (op) => calls.push(op),
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
}

const key = (i: number): KeyAttributes => normalizeKey({ pk: { S: `k${i}` }, sk: { N: String(i) } });

/** Answers every requested key with an item holding it and a Data attribute. */
function echo(input: BatchGetItemCommandInput) {
  const Responses: Record<string, Record<string, AttributeValue>[]> = {};
  for (const [table, ka] of Object.entries(input.RequestItems ?? {})) {
    Responses[table] = (ka.Keys ?? []).map((k) => ({ ...k, Data: { S: 'd' } }));
  }
  return { Responses };
}

describe('DynamoDbSource', () => {
  afterEach(() => ddbMock.reset());

  it('keeps at most 16 calls in flight and sends ceil(I/100) calls when 2500 keys are asked', async () => {
    let inFlight = 0;
    let most = 0;
    ddbMock.on(BatchGetItemCommand).callsFake(async (input: BatchGetItemCommandInput) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return echo(input);
    });
    const calls: string[] = [];
    const requests = Array.from({ length: 2500 }, (_, i) => ({ table: 'T', key: key(i) }));
    const got = await source(calls).batchGet(undefined, requests);
    expect(calls).toHaveLength(25);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(16);
    expect(got.size).toBe(2500);
    expect([...got.values()].every((v) => !(v instanceof Error))).toBe(true);
  });

  it('sends 2 BatchGetItem calls when 150 keys are asked', async () => {
    ddbMock.on(BatchGetItemCommand).callsFake(echo);
    const calls: string[] = [];
    const requests = Array.from({ length: 150 }, (_, i) => ({ table: 'T', key: key(i) }));
    const got = await source(calls).batchGet('us-west-2', requests);
    const sizes = ddbMock
      .commandCalls(BatchGetItemCommand)
      .map((c) => c.args[0].input.RequestItems?.T?.Keys?.length);
    expect(sizes).toEqual([100, 50]);
    expect(calls).toEqual(['dynamodb:BatchGetItem', 'dynamodb:BatchGetItem']);
    expect(got.size).toBe(150);
    expect(got.get(itemId('T', key(42)))).toEqual({ pk: { S: 'k42' }, sk: { N: '42' }, Data: { S: 'd' } });
  });

  it('retries UnprocessedKeys with backoff until every key is answered', async () => {
    let round = 0;
    ddbMock.on(BatchGetItemCommand).callsFake((input: BatchGetItemCommandInput) => {
      round++;
      const keys = input.RequestItems?.T?.Keys ?? [];
      if (round < 3) {
        // Answer the first key, leave the rest unprocessed.
        return {
          Responses: { T: [{ ...keys[0], Data: { S: 'd' } }] },
          UnprocessedKeys: { T: { Keys: keys.slice(1) } },
        };
      }
      return echo(input);
    });
    const waits: number[] = [];
    const calls: string[] = [];
    const requests = [0, 1, 2, 3].map((i) => ({ table: 'T', key: key(i) }));
    const got = await source(calls, waits).batchGet(undefined, requests);
    expect(calls).toHaveLength(3);
    expect(waits).toHaveLength(2);
    expect(ddbMock.commandCalls(BatchGetItemCommand)[2]?.args[0].input.RequestItems?.T?.Keys).toHaveLength(2);
    for (const i of [0, 1, 2, 3]) expect(got.get(itemId('T', key(i)))).not.toBeInstanceOf(Error);
  });

  it('fails the leftover keys as throttled when keys stay unprocessed', async () => {
    ddbMock.on(BatchGetItemCommand).callsFake((input: BatchGetItemCommandInput) => ({
      Responses: {},
      UnprocessedKeys: input.RequestItems,
    }));
    const calls: string[] = [];
    const got = await source(calls).batchGet(undefined, [{ table: 'T', key: key(1) }]);
    const err = got.get(itemId('T', key(1))) as Error;
    expect(err.name).toBe('ProvisionedThroughputExceededException');
    expect(calls.length).toBeLessThanOrEqual(8);
  });

  it('asks per table when one missing table fails a batch of several tables', async () => {
    const missing = Object.assign(new Error('no table'), {
      name: 'ResourceNotFoundException',
      $metadata: {},
    });
    ddbMock.on(BatchGetItemCommand).callsFake((input: BatchGetItemCommandInput) => {
      if (input.RequestItems?.Gone) throw missing;
      return echo(input);
    });
    const got = await source().batchGet(undefined, [
      { table: 'T', key: key(1) },
      { table: 'Gone', key: key(2) },
    ]);
    expect(got.get(itemId('T', key(1)))).toMatchObject({ Data: { S: 'd' } });
    expect((got.get(itemId('Gone', key(2))) as Error).name).toBe('ResourceNotFoundException');
    expect(ddbMock.commandCalls(BatchGetItemCommand)).toHaveLength(3);
  });

  it('returns NotFoundError for keys neither returned nor unprocessed', async () => {
    ddbMock
      .on(BatchGetItemCommand)
      .resolves({ Responses: { T: [{ ...{ pk: { S: 'k1' }, sk: { N: '1' } } }] } });
    const got = await source().batchGet(undefined, [
      { table: 'T', key: key(1) },
      { table: 'T', key: key(2) },
    ]);
    expect(got.get(itemId('T', key(1)))).toEqual({ pk: { S: 'k1' }, sk: { N: '1' } });
    expect(got.get(itemId('T', key(2)))).toBeInstanceOf(NotFoundError);
  });

  it('matches a binary key to its item when the bytes are equal', async () => {
    const bkey = normalizeKey({ id: { B: 'AAEC' } });
    ddbMock.on(BatchGetItemCommand).resolves({
      Responses: { B: [{ id: { B: new Uint8Array([0, 1, 2]) }, v: { BS: [new Uint8Array([255])] } }] },
    });
    const got = await source().batchGet(undefined, [
      { table: 'B', key: bkey },
      { table: 'B', key: normalizeKey({ id: { B: 'AQ==' } }) },
    ]);
    expect(got.get(itemId('B', bkey))).toEqual({ id: { B: 'AAEC' }, v: { BS: ['/w=='] } });
  });

  it('reads one item with GetItem and throws NotFoundError when it is absent', async () => {
    ddbMock.on(GetItemCommand, { TableName: 'T' }).resolves({ Item: { pk: { S: 'a' }, n: { N: '1.50' } } });
    ddbMock.on(GetItemCommand, { TableName: 'Empty' }).resolves({});
    const calls: string[] = [];
    const s = source(calls);
    expect(await s.getItem(undefined, 'T', normalizeKey({ pk: { S: 'a' } }))).toEqual({
      pk: { S: 'a' },
      n: { N: '1.50' },
    });
    await expect(s.getItem(undefined, 'Empty', normalizeKey({ pk: { S: 'a' } }))).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect(calls).toEqual(['dynamodb:GetItem', 'dynamodb:GetItem']);
  });
});

describe('toItemJson', () => {
  it('keeps every type lossless when an item is converted', () => {
    expect(
      toItemJson({
        s: { S: 'x' },
        n: { N: '12345678901234567890.123' },
        b: { B: new Uint8Array([104, 105]) },
        t: { BOOL: true },
        z: { NULL: true },
        ss: { SS: ['a'] },
        ns: { NS: ['1', '2'] },
        l: { L: [{ S: 'y' }, { M: { inner: { N: '0' } } }] },
      }),
    ).toEqual({
      s: { S: 'x' },
      n: { N: '12345678901234567890.123' },
      b: { B: 'aGk=' },
      t: { BOOL: true },
      z: { NULL: true },
      ss: { SS: ['a'] },
      ns: { NS: ['1', '2'] },
      l: { L: [{ S: 'y' }, { M: { inner: { N: '0' } } }] },
    });
  });
});
