import { dynamodbPath, parameterPath, ROUTES } from '@lambda-cache/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { SEED_PARAMETER, SEED_PARAMETER_VALUE } from '../src/fixtures.js';
import { type Stack, startStack } from '../src/harness.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const PARAMS = Array.from({ length: 25 }, (_, i) => `/bulk/param-${String(i).padStart(2, '0')}`);
const ITEMS = Array.from({ length: 150 }, (_, i) => `item-${String(i).padStart(3, '0')}`);

const bulkConfig = `parameters:
  - region: us-west-2
    names:
${PARAMS.map((n) => `      - ${n}`).join('\n')}
dynamodb:
  - table: Bulk
    hashkey: id
    hashkeytype: S
    keys:
${ITEMS.map((id) => `      - id: ${id}`).join('\n')}
`;

const bulkSeed = {
  parameters: PARAMS.map((name) => ({ name, value: `value of ${name}` })),
  tables: [
    {
      name: 'Bulk',
      hashKey: { name: 'id', type: 'S' as const },
      items: ITEMS.map((id) => ({ id, n: 1 })),
    },
  ],
};

describe('prefetch', () => {
  it('makes 3 GetParameters and 2 BatchGetItem calls when 25 parameters and 150 items are configured', async () => {
    stack = await startStack({ config: bulkConfig, seed: bulkSeed });
    expect(stack.backends.ssm.calls.GetParameters).toBe(3);
    expect(stack.backends.dynamodb.calls.BatchGetItem).toBe(2);
    expect(stack.backends.dynamodb.calls.GetItem ?? 0).toBe(0);
    stack.backends.ssm.resetCalls();
    stack.backends.dynamodb.resetCalls();
    // Every configured entry is now served from memory.
    for (const name of [PARAMS[0], PARAMS[24]] as string[]) {
      const res = await stack.get(parameterPath(name));
      expect(res.status).toBe(200);
      expect(res.body.value).toBe(`value of ${name}`);
      expect(res.headers['x-cache']).toBe('hit');
    }
    for (const id of [ITEMS[0], ITEMS[99], ITEMS[100], ITEMS[149]] as string[]) {
      const res = await stack.get(dynamodbPath('Bulk', { id: { S: id } }));
      expect(res.status).toBe(200);
      expect(res.body.item).toEqual({ id: { S: id }, n: { N: '1' } });
      expect(res.headers['x-cache']).toBe('hit');
    }
    expect(Object.values(stack.backends.ssm.calls).reduce((a, b) => a + b, 0)).toBe(0);
    expect(Object.values(stack.backends.dynamodb.calls).reduce((a, b) => a + b, 0)).toBe(0);
    const health = await stack.get(ROUTES.health);
    expect(health.body.entries).toBeGreaterThanOrEqual(175);
  });

  it('waits for the item and succeeds when a request arrives while prefetch is still running', async () => {
    stack = await startStack({
      init: false,
      beforeStart: (b) => b.ssm.setFaults({ latencyMs: 1500 }),
    });
    let initSettled = false;
    stack.initDone.then(
      () => {
        initSettled = true;
      },
      () => {
        initSettled = true;
      },
    );
    const healthBefore = await stack.get(ROUTES.health);
    const sentDuringInit = !initSettled;
    const res = await stack.get(parameterPath(SEED_PARAMETER));
    expect(sentDuringInit).toBe(true);
    expect(healthBefore.body.status).toBe('starting');
    expect(res.status).toBe(200);
    expect(res.body.value).toBe(SEED_PARAMETER_VALUE);
    await stack.initDone;
  });
});
