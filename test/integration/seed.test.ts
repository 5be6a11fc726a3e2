import { dynamodbPath, parameterPath, ROUTES } from '@lambda-cache/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SEED_ITEM,
  SEED_ITEM_KEY,
  SEED_PARAMETER,
  SEED_PARAMETER_VALUE,
  SEED_SECRET_VALUE,
  SEED_TABLE,
} from '../src/fixtures.js';
import { type Stack, startStack } from '../src/harness.js';

let stack: Stack;
beforeAll(async () => {
  // The seed's config.yaml and data, with the seed's routes turned on.
  stack = await startStack({ env: { CACHE_EXTENSION_LEGACY_ROUTES: 'true' } });
});
afterAll(async () => {
  await stack?.close();
});

describe('the seed example', () => {
  it('serves the prefetched parameter from memory when the seed config is loaded', async () => {
    const res = await stack.get(parameterPath(SEED_PARAMETER));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: SEED_PARAMETER, type: 'String', value: SEED_PARAMETER_VALUE });
    expect(res.headers['x-cache']).toBe('hit');
    expect(res.headers['cache-control']).toMatch(/^max-age=\d+$/);
    expect(res.headers.age).toMatch(/^\d+$/);
  });

  it('serves the secret when it is read through the SSM secretsmanager reference', async () => {
    const res = await stack.get(parameterPath(`/aws/reference/secretsmanager/secret_info`));
    expect(res.status).toBe(200);
    expect(res.body.value).toBe(SEED_SECRET_VALUE);
  });

  it('serves the seed item as DynamoDB JSON when asked by its key', async () => {
    const res = await stack.get(dynamodbPath(SEED_TABLE, SEED_ITEM_KEY));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      table: SEED_TABLE,
      key: SEED_ITEM_KEY,
      item: { pKey: { S: 'pKey1' }, sKey: { S: 'sKey1' }, Data: { S: 'Data goes here' } },
    });
    expect(res.headers['x-cache']).toBe('hit');
  });

  it('made no backend call for a configured item when it is read after init', async () => {
    stack.backends.ssm.resetCalls();
    stack.backends.dynamodb.resetCalls();
    await stack.get(parameterPath(SEED_PARAMETER));
    await stack.get(dynamodbPath(SEED_TABLE, { sKey: { S: 'sKey1' }, pKey: { S: 'pKey1' } }));
    expect(total(stack.backends.ssm.calls)).toBe(0);
    expect(total(stack.backends.dynamodb.calls)).toBe(0);
  });

  it('answers the seed item as the seed did when the legacy dynamodb route is used', async () => {
    const res = await stack.get('/dynamodb/DynamoDbTable-pKey1-sKey1', {});
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...SEED_ITEM });
    expect(res.text).toBe('{"Data":"Data goes here","pKey":"pKey1","sKey":"sKey1"}');
  });

  it('answers the raw value when the legacy parameter routes are used without a token', async () => {
    for (const path of [`/parameters/${SEED_PARAMETER}`, `/parameters?name=${SEED_PARAMETER}`]) {
      const res = await stack.get(path, { 'x-aws-parameters-secrets-token': '' });
      expect(res.status).toBe(200);
      expect(res.text).toBe(SEED_PARAMETER_VALUE);
    }
  });

  it('answers the item when the legacy dynamodb query route is used', async () => {
    const res = await stack.get('/dynamodb?name=DynamoDbTable-pKey1-sKey1', {
      'x-aws-parameters-secrets-token': '',
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...SEED_ITEM });
  });

  it('answers the GetParameter shape when the AWS extension route is used', async () => {
    const res = await stack.get(`${ROUTES.awsParameter}?name=${SEED_PARAMETER}`);
    expect(res.status).toBe(200);
    expect(res.body.Parameter).toMatchObject({
      Name: SEED_PARAMETER,
      Value: SEED_PARAMETER_VALUE,
      Type: 'String',
    });
  });

  it('returns 404 NotFound when the parameter does not exist', async () => {
    const res = await stack.get(parameterPath('/does/not/exist'));
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('NotFound');
    expect(typeof res.body.message).toBe('string');
  });

  it('returns 404 NotFound when the item does not exist', async () => {
    const res = await stack.get(dynamodbPath(SEED_TABLE, { pKey: { S: 'nope' }, sKey: { S: 'nope' } }));
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('NotFound');
  });

  it('returns 403 Forbidden when the token is wrong or missing', async () => {
    for (const token of ['wrong', '']) {
      const res = await stack.get(parameterPath(SEED_PARAMETER), { 'x-aws-parameters-secrets-token': token });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('Forbidden');
      expect(res.text).not.toContain(SEED_PARAMETER_VALUE);
    }
  });

  it('answers /ping without a token', async () => {
    const res = await stack.get(ROUTES.ping, { 'x-aws-parameters-secrets-token': '' });
    expect(res.status).toBe(200);
  });

  it('reports the entries when /v1/health and /v1/stats are asked', async () => {
    const health = await stack.get(ROUTES.health);
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ready', failed: 0 });
    const stats = await stack.get(ROUTES.stats);
    expect(stats.status).toBe(200);
    expect(stats.body.entries).toBeGreaterThanOrEqual(3);
  });
});

function total(calls: Record<string, number>): number {
  return Object.values(calls).reduce((a, b) => a + b, 0);
}
