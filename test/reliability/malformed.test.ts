import { dynamodbPath, parameterPath, ROUTES } from '@lambda-cache/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedData } from '../src/fixtures.js';
import { type Stack, startStack } from '../src/harness.js';

const MODES = ['truncated', 'garbage', 'extra-fields', 'huge'] as const;
/** A clear answer for each corruption: what a conforming SDK makes of it. */
const EXPECTED: Record<(typeof MODES)[number], number[]> = {
  truncated: [502],
  garbage: [502],
  'extra-fields': [200],
  huge: [200, 502],
};

const seed = seedData();
seed.parameters = [
  ...(seed.parameters ?? []),
  ...MODES.flatMap((m) =>
    [0, 1].map((i) => ({ name: `/malformed/${m}/${i}`, value: `malformed-value-${m}-${i}` })),
  ),
];
seed.tables = [
  ...(seed.tables ?? []),
  {
    name: 'Malformed',
    hashKey: { name: 'id', type: 'S' },
    items: MODES.map((m) => ({ id: m, payload: `malformed-item-${m}` })),
  },
];

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ seed });
});
afterAll(async () => {
  await stack?.close();
});

describe('malformed backend answers', () => {
  for (const mode of MODES) {
    it(`answers ${EXPECTED[mode].join(' or ')} and stays up when SSM answers ${mode}`, async () => {
      stack.backends.ssm.setFaults({ malformed: mode });
      const res = await stack.get(parameterPath(`/malformed/${mode}/0`));
      stack.backends.ssm.setFaults({});
      console.log(`[malformed] SSM ${mode}: ${res.status} ${res.body.code ?? ''} ${res.body.awsCode ?? ''}`);
      expect(EXPECTED[mode]).toContain(res.status);
      if (res.status === 200) expect(res.body.value).toBe(`malformed-value-${mode}-0`);
      else expect(res.body.code).toBe('UpstreamError');
      expect((await stack.get(ROUTES.ping)).status).toBe(200);
      const next = await stack.get(parameterPath(`/malformed/${mode}/1`));
      expect(next.status).toBe(200);
      expect(next.body.value).toBe(`malformed-value-${mode}-1`);
    });

    it(`answers ${EXPECTED[mode].join(' or ')} and stays up when DynamoDB answers ${mode}`, async () => {
      stack.backends.dynamodb.setFaults({ malformed: mode });
      const res = await stack.get(dynamodbPath('Malformed', { id: { S: mode } }));
      stack.backends.dynamodb.setFaults({});
      console.log(
        `[malformed] DynamoDB ${mode}: ${res.status} ${res.body.code ?? ''} ${res.body.awsCode ?? ''}`,
      );
      expect(EXPECTED[mode]).toContain(res.status);
      if (res.status === 200) expect(res.body.item.payload).toEqual({ S: `malformed-item-${mode}` });
      else expect(res.body.code).toBe('UpstreamError');
      expect((await stack.get(ROUTES.ping)).status).toBe(200);
    });
  }

  it('is still the same process when every corruption has been seen', async () => {
    expect(stack.lambda.extensions[0]?.exitCode ?? null).toBeNull();
    const stats = await stack.get(ROUTES.stats);
    expect(stats.status).toBe(200);
    expect(stats.body.errors).toBeGreaterThanOrEqual(2);
  });
});
