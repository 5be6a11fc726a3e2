import { NumberValueImpl as NumberValue } from '@aws-sdk/util-dynamodb';
import type { Seed } from '@lambda-cache/local';
import { dynamodbPath } from '@lambda-cache/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack, totalCalls } from '../src/harness.js';

// The seed's config lists each item as its own `dynamodb:` entry; 100 of them, of one table.
const COUNT = 100;

function entry(table: string, hash: string, sort: string, names = ['pKey', 'sKey']): string {
  return `  - table: ${table}
    hashkey: ${names[0]}
    hashkeytype: S
    hashkeyvalue: ${JSON.stringify(hash)}
    sortkey: ${names[1]}
    sortkeytype: S
    sortkeyvalue: ${JSON.stringify(sort)}
`;
}

const numbers = Array.from({ length: COUNT }, (_, i) => i + 1);

// `Dashes` holds values with `-`: one item whose id is unambiguous, and two whose ids coincide.
const config = `dynamodb:
${numbers.map((n) => entry('DynamoDbTable', `pKey${n}`, `sKey${n}`)).join('')}${entry('Dashes', 'a-b', 'c-d', ['id', 'part'])}${entry('Dashes', 'x-y', 'z', ['id', 'part'])}${entry('Dashes', 'x', 'y-z', ['id', 'part'])}`;

const seed: Seed = {
  tables: [
    {
      name: 'DynamoDbTable',
      hashKey: { name: 'pKey', type: 'S' },
      sortKey: { name: 'sKey', type: 'S' },
      items: numbers.map((n) => ({ pKey: `pKey${n}`, sKey: `sKey${n}`, Data: `Data of item number ${n}` })),
    },
    {
      name: 'Dashes',
      hashKey: { name: 'id', type: 'S' },
      sortKey: { name: 'part', type: 'S' },
      items: [
        { id: 'a-b', part: 'c-d', Data: 'Data of the dashed item' },
        { id: 'x-y', part: 'z', Data: 'Data of the first twin' },
        { id: 'x', part: 'y-z', Data: 'Data of the second twin' },
      ],
    },
  ],
};

// Numbers DynamoDB keeps exactly and a float64 does not: the seed route must write their digits.
const BIG = '12345678901234567890';
const PRECISE = '0.1000000000000000055511151231257827';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    config: `${config}${entry('DynamoDbTable', 'big', 'numbers')}`,
    seed,
    env: { CACHE_EXTENSION_LEGACY_ROUTES: 'true' },
    beforeStart: async (backends) => {
      // BigInt and exact decimal text reach DynamoDB as the number's own digits.
      await backends.dynamodb.putItem('DynamoDbTable', {
        pKey: 'big',
        sKey: 'numbers',
        count: BigInt(BIG),
        ratio: NumberValue.from(PRECISE),
        many: new Set([BigInt(BIG) + 1n]),
      });
    },
  });
});
afterAll(async () => {
  await stack?.close();
});

const NO_TOKEN = { 'x-aws-parameters-secrets-token': '' };

describe('the seed routes with many items of one table', () => {
  it('answers every configured item from memory when each is its own dynamodb entry', async () => {
    stack.backends.dynamodb.resetCalls();
    const failures: string[] = [];
    for (const n of numbers) {
      for (const path of [
        `/dynamodb/DynamoDbTable-pKey${n}-sKey${n}`,
        `/dynamodb?name=DynamoDbTable-pKey${n}-sKey${n}`,
      ]) {
        const res = await stack.get(path, NO_TOKEN);
        const expected = `{"Data":"Data of item number ${n}","pKey":"pKey${n}","sKey":"sKey${n}"}`;
        if (res.status !== 200 || res.text !== expected) failures.push(`${path}: ${res.status} ${res.text}`);
      }
    }
    expect(failures.slice(0, 3)).toEqual([]);
    expect(failures).toHaveLength(0);
    // All of them were prefetched: no read went to DynamoDB.
    expect(totalCalls(stack.backends.dynamodb)).toBe(0);
  });

  it('answers an item whose key values hold "-" when its id names no other item', async () => {
    const res = await stack.get('/dynamodb/Dashes-a-b-c-d', NO_TOKEN);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: 'a-b', part: 'c-d', Data: 'Data of the dashed item' });
  });

  it('refuses an id that names two configured items, and the v1 route still reads each', async () => {
    stack.backends.dynamodb.resetCalls();
    const res = await stack.get('/dynamodb?name=Dashes-x-y-z', NO_TOKEN);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('BadRequest');
    expect(res.body.message).toMatch(/2 configured items/);
    expect(res.body.message).toContain('/v1/dynamodb');
    expect(res.text).not.toContain('twin');
    for (const [id, part, data] of [
      ['x-y', 'z', 'Data of the first twin'],
      ['x', 'y-z', 'Data of the second twin'],
    ] as const) {
      const v1 = await stack.get(dynamodbPath('Dashes', { id: { S: id }, part: { S: part } }));
      expect(v1.status).toBe(200);
      expect(v1.body.item.Data).toEqual({ S: data });
    }
    expect(totalCalls(stack.backends.dynamodb)).toBe(0);
  });

  it('says at start which table has ids the seed routes refuse', () => {
    const line = stack.logs().find((l) => l.includes('share a seed id'));
    expect(line).toBeDefined();
    expect(line).toContain('Dashes');
  });
});

describe('numbers on the seed route', () => {
  it('writes a DynamoDB number with its exact digits, however large or precise', async () => {
    const res = await stack.get('/dynamodb/DynamoDbTable-big-numbers', NO_TOKEN);
    expect(res.status).toBe(200);
    // As text: JSON.parse in the test would round them as the function's own parser might.
    expect(res.text).toContain(`"count":${BIG}`);
    expect(res.text).toContain(`"ratio":${PRECISE}`);
    expect(res.text).toContain(`"many":[${BigInt(BIG) + 1n}]`);
  });
});
