import { NumberValueImpl } from '@aws-sdk/util-dynamodb';
import { dynamodbPath } from '@lambda-cache/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedConfig, seedData } from '../src/fixtures.js';
import { type Stack, startStack, totalCalls } from '../src/harness.js';

const BIG = '12345678901234567890.123456789';

const seed = seedData();
seed.tables = [
  ...(seed.tables ?? []),
  {
    name: 'Numbers',
    hashKey: { name: 'id', type: 'N' },
    items: [{ id: 1.5, label: 'one and a half' }],
  },
  {
    name: 'Strings',
    hashKey: { name: 'id', type: 'S' },
    items: [{ id: '1', label: 'the string one' }],
  },
];

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ config: seedConfig, seed });
  // A number DynamoDB keeps exactly but JavaScript cannot, and bytes.
  await stack.backends.dynamodb.putItem('Strings', {
    id: 'big',
    amount: NumberValueImpl.from(BIG),
    bytes: new Uint8Array([0, 1, 2, 255]),
  });
});
afterAll(async () => {
  await stack?.close();
});

describe('DynamoDB keys and values', () => {
  it('hits one entry when a number key is spelled two ways', async () => {
    const first = await stack.get(dynamodbPath('Numbers', { id: { N: '1.5' } }));
    expect(first.status).toBe(200);
    expect(first.body.key).toEqual({ id: { N: '1.5' } });
    stack.backends.dynamodb.resetCalls();
    const second = await stack.get(dynamodbPath('Numbers', { id: { N: '1.50' } }));
    expect(second.status).toBe(200);
    expect(second.headers['x-cache']).toBe('hit');
    expect(second.body.item.label).toEqual({ S: 'one and a half' });
    expect(totalCalls(stack.backends.dynamodb)).toBe(0);
  });

  it('never confuses the string "1" with the number 1', async () => {
    const asString = await stack.get(dynamodbPath('Strings', { id: { S: '1' } }));
    expect(asString.status).toBe(200);
    expect(asString.body.item.label).toEqual({ S: 'the string one' });
    const asNumber = await stack.get(dynamodbPath('Strings', { id: { N: '1' } }));
    // DynamoDB refuses a key of the wrong type: the caller's mistake, never the string item.
    expect([400, 404]).toContain(asNumber.status);
    expect(asNumber.text).not.toContain('the string one');
  });

  it('returns numbers and binary exactly as stored', async () => {
    const res = await stack.get(dynamodbPath('Strings', { id: { S: 'big' } }));
    expect(res.status).toBe(200);
    expect(res.body.item.amount).toEqual({ N: BIG });
    expect(res.body.item.bytes).toEqual({ B: 'AAEC/w==' });
  });
});
