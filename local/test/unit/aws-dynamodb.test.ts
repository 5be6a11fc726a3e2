import {
  BatchGetItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Backends, startBackends } from '../../src/backends.js';
import { dynamoClient } from '../fixtures/aws-clients.js';

describe('dynamodb backend', () => {
  let backends: Backends;
  let dynamo: DynamoDBClient;

  beforeAll(async () => {
    backends = await startBackends({
      seed: {
        tables: [
          {
            name: 'DynamoDbTable',
            hashKey: { name: 'pKey', type: 'S' },
            sortKey: { name: 'sKey', type: 'S' },
            items: [
              { pKey: 'pKey1', sKey: 'sKey1', Data: 'Data goes here' },
              ...Array.from({ length: 30 }, (_, i) => ({ pKey: `bulk${i}`, sKey: 's', n: i })),
            ],
          },
          { name: 'Numbers', hashKey: { name: 'id', type: 'N' }, items: [{ id: 1, label: 'one' }] },
        ],
      },
    });
    dynamo = dynamoClient(backends.dynamodb);
  });

  afterEach(() => {
    backends.dynamodb.setFaults({});
    backends.dynamodb.resetCalls();
  });

  afterAll(async () => {
    dynamo.destroy();
    await backends.close();
  });

  it('serves seeded items through the proxy without counting the seeding', async () => {
    expect(backends.dynamodb.calls).toEqual({});
    const { Item } = await dynamo.send(
      new GetItemCommand({ TableName: 'DynamoDbTable', Key: { pKey: { S: 'pKey1' }, sKey: { S: 'sKey1' } } }),
    );
    expect(unmarshall(Item ?? {})).toEqual({ pKey: 'pKey1', sKey: 'sKey1', Data: 'Data goes here' });
    const numbers = await dynamo.send(new GetItemCommand({ TableName: 'Numbers', Key: { id: { N: '1' } } }));
    expect(numbers.Item).toEqual({ id: { N: '1' }, label: { S: 'one' } });
  });

  it('answers BatchGetItem and counts it by operation when the SDK sends it', async () => {
    const keys = Array.from({ length: 30 }, (_, i) => ({ pKey: { S: `bulk${i}` }, sKey: { S: 's' } }));
    const result = await dynamo.send(
      new BatchGetItemCommand({ RequestItems: { DynamoDbTable: { Keys: keys } } }),
    );
    const items = (result.Responses?.DynamoDbTable ?? []).map((item) => unmarshall(item));
    expect(items.map((item) => item.n).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 30 }, (_, i) => i),
    );
    await dynamo.send(new ListTablesCommand({}));
    expect(backends.dynamodb.calls).toEqual({ BatchGetItem: 1, ListTables: 1 });
    expect(backends.dynamodb.callLog[0]).toMatchObject({ operation: 'BatchGetItem' });
  });

  it('makes an item written with putItem readable through the endpoint', async () => {
    await backends.dynamodb.putItem('DynamoDbTable', {
      pKey: 'late',
      sKey: 'x',
      nested: { list: [1, 'two'] },
    });
    const { Item } = await dynamo.send(
      new GetItemCommand({ TableName: 'DynamoDbTable', Key: { pKey: { S: 'late' }, sKey: { S: 'x' } } }),
    );
    expect(unmarshall(Item ?? {})).toEqual({ pKey: 'late', sKey: 'x', nested: { list: [1, 'two'] } });
    expect(backends.dynamodb.calls).toEqual({ GetItem: 1 });
  });

  it('passes dynalite errors through when a request is invalid', async () => {
    const error = await dynamo
      .send(new PutItemCommand({ TableName: 'Missing', Item: { id: { S: '1' } } }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('throttles with ProvisionedThroughputExceededException in the JSON 1.0 shape when throttleRate is 1', async () => {
    backends.dynamodb.setFaults({ throttleRate: 1, operations: ['BatchGetItem'] });
    const error = await dynamo
      .send(
        new BatchGetItemCommand({
          RequestItems: { DynamoDbTable: { Keys: [{ pKey: { S: 'pKey1' }, sKey: { S: 'sKey1' } }] } },
        }),
      )
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: 'ProvisionedThroughputExceededException',
      $metadata: { httpStatusCode: 400 },
    });
    const raw = await fetch(backends.dynamodb.endpoint, {
      method: 'POST',
      headers: {
        'x-amz-target': 'DynamoDB_20120810.BatchGetItem',
        'content-type': 'application/x-amz-json-1.0',
      },
      body: '{}',
    });
    expect(await raw.json()).toMatchObject({
      __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
      message: expect.any(String),
    });
  });

  it('answers some keys in UnprocessedKeys and the rest in Responses when unprocessedRate is set', async () => {
    backends.dynamodb.setFaults({ unprocessedRate: 0.5 });
    const keys = Array.from({ length: 30 }, (_, i) => ({ pKey: { S: `bulk${i}` }, sKey: { S: 's' } }));
    const result = await dynamo.send(
      new BatchGetItemCommand({ RequestItems: { DynamoDbTable: { Keys: keys, ConsistentRead: true } } }),
    );
    const answered = (result.Responses?.DynamoDbTable ?? []).map((item) => item.pKey?.S);
    const unprocessed = result.UnprocessedKeys?.DynamoDbTable;
    const held = (unprocessed?.Keys ?? []).map((key) => key.pKey?.S);
    expect(held.length).toBeGreaterThan(0);
    expect(answered.length).toBeGreaterThan(0);
    expect(unprocessed?.ConsistentRead).toBe(true);
    expect([...answered, ...held].sort()).toEqual(keys.map((key) => key.pKey.S).sort());
    backends.dynamodb.setFaults({});
    const retry = await dynamo.send(
      new BatchGetItemCommand({ RequestItems: { DynamoDbTable: unprocessed! } }),
    );
    expect(retry.Responses?.DynamoDbTable).toHaveLength(held.length);
    expect(retry.UnprocessedKeys ?? {}).toEqual({});
  });

  it('makes the SDK fail to deserialize when malformed is truncated', async () => {
    backends.dynamodb.setFaults({ malformed: 'truncated' });
    const error = await dynamo.send(new ListTablesCommand({})).catch((e: unknown) => e);
    expect(String((error as Error).message)).toMatch(/Deserialization error|JSON/);
  });

  it('answers InternalServerError with status 500 when failRate is 1', async () => {
    backends.dynamodb.setFaults({ failRate: 1 });
    const error = await dynamo.send(new ListTablesCommand({})).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'InternalServerError', $metadata: { httpStatusCode: 500 } });
  });
});

describe('dynamodb backend closing', () => {
  it('lets dynalite answer the calls it is reading before it closes its database', async () => {
    // Closing dynalite's database under a call it is still answering made dynalite throw where nothing can
    // catch it: an uncaught exception that failed a whole test run. A few moments into the calls.
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      for (const delayMs of [2, 5, 10]) {
        const backends = await startBackends({
          seed: {
            tables: [
              {
                name: 'Closing',
                hashKey: { name: 'id', type: 'S' },
                items: Array.from({ length: 100 }, (_, i) => ({ id: `k${i}`, body: 'x'.repeat(1000) })),
              },
            ],
          },
        });
        const dynamo = dynamoClient(backends.dynamodb);
        const keys = Array.from({ length: 100 }, (_, i) => ({ id: { S: `k${i}` } }));
        const reads = Array.from({ length: 8 }, () =>
          dynamo
            .send(new BatchGetItemCommand({ RequestItems: { Closing: { Keys: keys } } }))
            .catch(() => undefined),
        );
        while ((backends.dynamodb.calls.BatchGetItem ?? 0) === 0) await new Promise((r) => setImmediate(r));
        await new Promise((r) => setTimeout(r, delayMs));
        await backends.close();
        dynamo.destroy();
        await Promise.all(reads);
        // Time for anything dynalite left running to throw.
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(uncaught.map((err) => (err as Error).message)).toEqual([]);
  });
});
