import { type KeyAttributes, normalizeKey } from '@lambda-cache/shared';
import { describe, expect, it } from 'vitest';
import {
  KeySchemaMismatchError,
  NotFoundError,
  UnprocessedKeysError,
  UnreadableAnswerError,
} from '../../../src/errors.js';
import { DynamoDbSource, itemId, toItemJson } from '../../../src/sources/dynamodb.js';
import { FakeAws, serviceError } from '../support/fake-aws.js';

type Wire = Record<string, unknown>;
type RequestItems = Record<string, { Keys: Wire[] }>;

function source(aws: FakeAws, waits: number[] = []) {
  return new DynamoDbSource({
    aws,
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
}

const key = (i: number): KeyAttributes => normalizeKey({ pk: { S: `k${i}` }, sk: { N: String(i) } });

const requested = (input: Wire): RequestItems => input.RequestItems as RequestItems;

/** Answers every requested key with an item holding it and a Data attribute. */
function echo(input: Wire) {
  const Responses: Record<string, Wire[]> = {};
  for (const [table, ka] of Object.entries(requested(input))) {
    Responses[table] = ka.Keys.map((k) => ({ ...k, Data: { S: 'd' } }));
  }
  return { Responses };
}

describe('DynamoDbSource', () => {
  it('keeps at most 16 calls in flight and sends ceil(I/100) calls when 2500 keys are asked', async () => {
    let inFlight = 0;
    let most = 0;
    const aws = new FakeAws().on('dynamodb', 'BatchGetItem', async (input) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return echo(input);
    });
    const requests = Array.from({ length: 2500 }, (_, i) => ({ table: 'T', key: key(i) }));
    const got = await source(aws).batchGet(undefined, requests);
    expect(aws.calls).toHaveLength(25);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(16);
    expect(got.size).toBe(2500);
    expect([...got.values()].every((v) => !(v instanceof Error))).toBe(true);
  });

  it('sends 2 BatchGetItem calls when 150 keys are asked', async () => {
    const aws = new FakeAws().on('dynamodb', 'BatchGetItem', echo);
    const requests = Array.from({ length: 150 }, (_, i) => ({ table: 'T', key: key(i) }));
    const got = await source(aws).batchGet('us-west-2', requests);
    const sizes = aws.inputs('BatchGetItem').map((i) => requested(i).T?.Keys.length);
    expect(sizes).toEqual([100, 50]);
    expect(aws.calls.every((c) => c.service === 'dynamodb' && c.region === 'us-west-2')).toBe(true);
    expect(got.size).toBe(150);
    expect(got.get(itemId('T', key(42)))).toEqual({ pk: { S: 'k42' }, sk: { N: '42' }, Data: { S: 'd' } });
  });

  it('retries UnprocessedKeys with backoff until every key is answered', async () => {
    let round = 0;
    const aws = new FakeAws().on('dynamodb', 'BatchGetItem', (input) => {
      round++;
      const keys = requested(input).T?.Keys ?? [];
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
    const requests = [0, 1, 2, 3].map((i) => ({ table: 'T', key: key(i) }));
    const got = await source(aws, waits).batchGet(undefined, requests);
    expect(aws.calls).toHaveLength(3);
    expect(waits).toHaveLength(2);
    expect(requested(aws.inputs('BatchGetItem')[2] ?? {}).T?.Keys).toHaveLength(2);
    for (const i of [0, 1, 2, 3]) expect(got.get(itemId('T', key(i)))).not.toBeInstanceOf(Error);
  });

  it('fails the leftover keys as throttled when keys stay unprocessed', async () => {
    const aws = new FakeAws().on('dynamodb', 'BatchGetItem', (input) => ({
      Responses: {},
      UnprocessedKeys: input.RequestItems,
    }));
    const got = await source(aws).batchGet(undefined, [{ table: 'T', key: key(1) }]);
    expect(got.get(itemId('T', key(1)))).toBeInstanceOf(UnprocessedKeysError);
    expect(aws.calls.length).toBeLessThanOrEqual(8);
  });

  it('asks per table when one missing table fails a batch of several tables', async () => {
    const missing = serviceError('ResourceNotFoundException');
    const aws = new FakeAws().on('dynamodb', 'BatchGetItem', (input) => {
      if (requested(input).Gone) throw missing;
      return echo(input);
    });
    const got = await source(aws).batchGet(undefined, [
      { table: 'T', key: key(1) },
      { table: 'Gone', key: key(2) },
    ]);
    expect(got.get(itemId('T', key(1)))).toMatchObject({ Data: { S: 'd' } });
    expect(got.get(itemId('Gone', key(2)))).toBe(missing);
    expect(aws.calls).toHaveLength(3);
  });

  it('throws KeySchemaMismatchError naming the table when DynamoDB refuses the key of a GetItem', async () => {
    const refused = serviceError('ValidationException', { service: 'dynamodb', operation: 'GetItem' });
    const aws = new FakeAws().on('dynamodb', 'GetItem', () => {
      throw refused;
    });
    const err = await source(aws)
      .getItem(undefined, 'T', normalizeKey({ pk: { N: '1' } }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeySchemaMismatchError);
    expect(err).toMatchObject({ table: 'T', awsCode: 'ValidationException', cause: refused });
  });

  it('asks per table when one table refuses its keys, so the other tables are served', async () => {
    const aws = new FakeAws().on('dynamodb', 'BatchGetItem', (input) => {
      if (requested(input).Strict) throw serviceError('ValidationException', { service: 'dynamodb' });
      return echo(input);
    });
    const got = await source(aws).batchGet(undefined, [
      { table: 'T', key: key(1) },
      { table: 'Strict', key: key(2) },
    ]);
    expect(got.get(itemId('T', key(1)))).toMatchObject({ Data: { S: 'd' } });
    expect(got.get(itemId('Strict', key(2)))).toBeInstanceOf(KeySchemaMismatchError);
    expect(got.get(itemId('Strict', key(2)))).toMatchObject({ table: 'Strict' });
    expect(aws.calls).toHaveLength(3);
  });

  it('returns NotFoundError for keys neither returned nor unprocessed', async () => {
    const aws = new FakeAws().on('dynamodb', 'BatchGetItem', () => ({
      Responses: { T: [{ pk: { S: 'k1' }, sk: { N: '1' } }] },
    }));
    const got = await source(aws).batchGet(undefined, [
      { table: 'T', key: key(1) },
      { table: 'T', key: key(2) },
    ]);
    expect(got.get(itemId('T', key(1)))).toEqual({ pk: { S: 'k1' }, sk: { N: '1' } });
    expect(got.get(itemId('T', key(2)))).toBeInstanceOf(NotFoundError);
  });

  it('matches a binary key to its item when the bytes are equal', async () => {
    const bkey = normalizeKey({ id: { B: 'AAEC' } });
    const aws = new FakeAws().on('dynamodb', 'BatchGetItem', () => ({
      Responses: { B: [{ id: { B: 'AAEC' }, v: { BS: ['/w=='] } }] },
    }));
    const got = await source(aws).batchGet(undefined, [
      { table: 'B', key: bkey },
      { table: 'B', key: normalizeKey({ id: { B: 'AQ==' } }) },
    ]);
    expect(got.get(itemId('B', bkey))).toEqual({ id: { B: 'AAEC' }, v: { BS: ['/w=='] } });
    expect(got.get(itemId('B', normalizeKey({ id: { B: 'AQ==' } })))).toBeInstanceOf(NotFoundError);
  });

  it('reads one item with GetItem and throws NotFoundError when it is absent', async () => {
    const aws = new FakeAws().on('dynamodb', 'GetItem', (input) =>
      input.TableName === 'T' ? { Item: { pk: { S: 'a' }, n: { N: '1.50' } } } : {},
    );
    const s = source(aws);
    expect(await s.getItem(undefined, 'T', normalizeKey({ pk: { S: 'a' } }))).toEqual({
      pk: { S: 'a' },
      n: { N: '1.50' },
    });
    await expect(s.getItem(undefined, 'Empty', normalizeKey({ pk: { S: 'a' } }))).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect(aws.inputs('GetItem')).toEqual([
      { TableName: 'T', Key: { pk: { S: 'a' } } },
      { TableName: 'Empty', Key: { pk: { S: 'a' } } },
    ]);
  });
});

describe('toItemJson', () => {
  it('keeps every type and the exact digits of numbers when an item is read', () => {
    const item = {
      s: { S: 'x' },
      n: { N: '12345678901234567890.123' },
      b: { B: 'aGk=' },
      t: { BOOL: true },
      z: { NULL: true },
      ss: { SS: ['a'] },
      ns: { NS: ['1', '2'] },
      bs: { BS: ['AA=='] },
      l: { L: [{ S: 'y' }, { M: { inner: { N: '0' } } }] },
    };
    expect(toItemJson(structuredClone(item))).toEqual(item);
  });

  it('keeps an attribute named __proto__ as an own attribute', () => {
    const item = toItemJson(JSON.parse('{"__proto__":{"S":"x"}}') as Wire);
    expect(Object.getPrototypeOf(item)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(item, '__proto__')?.value).toEqual({ S: 'x' });
  });

  it.each([
    ['an unknown type', { a: { X: 'y' } }],
    ['a number sent as a JSON number', { a: { N: 1 } }],
    ['a set that holds a number', { a: { SS: ['a', 1] } }],
    ['a value that is not an object', { a: 'plain' }],
  ])('throws UnreadableAnswerError for %s', (_, item) => {
    expect(() => toItemJson(item as Wire)).toThrow(UnreadableAnswerError);
  });
});
