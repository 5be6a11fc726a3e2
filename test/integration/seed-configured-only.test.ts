import type { Seed } from '@lambda-cache/local';
import { dynamodbPath, parameterPath } from '@lambda-cache/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_PARAMETER, SEED_PARAMETER_VALUE, seedData } from '../src/fixtures.js';
import { type Stack, startStack, totalCalls } from '../src/harness.js';

// The role can read more than the config names: another parameter, another secret, another item, and
// parameters under and beside a configured hierarchy.
const OTHER = {
  parameter: 'other-parameter-value-5e0b7c',
  secret: 'other-secret-value-93a1d4',
  deep: 'deep-parameter-value-1c77e2',
  child: 'child-parameter-value-4fa9b0',
  item: 'other item data 6b2e91',
};

function seed(): Seed {
  const base = seedData();
  return {
    parameters: [
      ...(base.parameters ?? []),
      { name: '/other/secret', value: OTHER.parameter, type: 'SecureString' },
      { name: '/app/child', value: OTHER.child },
      { name: '/app/deeper/grandchild', value: OTHER.deep },
    ],
    secrets: [...(base.secrets ?? []), { name: 'other_secret', value: OTHER.secret }],
    tables: (base.tables ?? []).map((t) => ({
      ...t,
      items: [...t.items, { pKey: 'pKey2', sKey: 'sKey2', Data: OTHER.item }],
    })),
  };
}

const config = `parameters:
  - region: us-west-2
    names:
      - CacheExtensions_Parameter1
      - /aws/reference/secretsmanager/secret_info
  - path: /app
dynamodb:
  - table: DynamoDbTable
    hashkey: pKey
    hashkeytype: S
    hashkeyvalue: pKey1
    sortkey: sKey
    sortkeytype: S
    sortkeyvalue: sKey1
`;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ config, seed: seed(), env: { CACHE_EXTENSION_LEGACY_ROUTES: 'true' } });
});
afterAll(async () => {
  await stack?.close();
});

const NO_TOKEN = { 'x-aws-parameters-secrets-token': '' };

describe('the seed routes', () => {
  it('answer 404 without calling AWS when asked for anything the config does not name', async () => {
    stack.backends.ssm.resetCalls();
    stack.backends.secretsManager.resetCalls();
    stack.backends.dynamodb.resetCalls();
    for (const path of [
      '/parameters?name=/other/secret',
      '/parameters//other/secret',
      '/parameters/%2Fother%2Fsecret',
      '/parameters?name=/aws/reference/secretsmanager/other_secret',
      '/parameters//aws/reference/secretsmanager/other_secret',
      '/parameters?name=/app/deeper/grandchild',
      '/dynamodb/DynamoDbTable-pKey2-sKey2',
      '/dynamodb?name=DynamoDbTable-pKey2-sKey2',
    ]) {
      const res = await stack.get(path, NO_TOKEN);
      expect({ path, status: res.status, code: res.body.code }).toEqual({
        path,
        status: 404,
        code: 'NotFound',
      });
      expect(res.body.message).toContain('only configured entries');
      expect(res.body.message).toMatch(/\/v1\/(parameters|dynamodb)/);
      for (const value of Object.values(OTHER)) expect(res.text).not.toContain(value);
    }
    expect(totalCalls(stack.backends.ssm)).toBe(0);
    expect(totalCalls(stack.backends.secretsManager)).toBe(0);
    expect(totalCalls(stack.backends.dynamodb)).toBe(0);
  });

  it('answer what the config names, by name or under a configured path', async () => {
    for (const [path, value] of [
      [`/parameters/${SEED_PARAMETER}`, SEED_PARAMETER_VALUE],
      [`/parameters?name=${SEED_PARAMETER}`, SEED_PARAMETER_VALUE],
      ['/parameters?name=/app/child', OTHER.child],
      ['/parameters//app/child', OTHER.child],
    ] as const) {
      const res = await stack.get(path, NO_TOKEN);
      expect({ path, status: res.status, text: res.text }).toEqual({ path, status: 200, text: value });
    }
    const item = await stack.get('/dynamodb?name=DynamoDbTable-pKey1-sKey1', NO_TOKEN);
    expect(item.status).toBe(200);
    expect(item.body).toEqual({ pKey: 'pKey1', sKey: 'sKey1', Data: 'Data goes here' });
  });

  it('leave reading anything else to the v1 routes, which need the token', async () => {
    const anonymous = await stack.get(parameterPath('/other/secret'), NO_TOKEN);
    expect(anonymous.status).toBe(403);
    const parameter = await stack.get(parameterPath('/other/secret'));
    expect(parameter.status).toBe(200);
    expect(parameter.body.value).toBe(OTHER.parameter);
    const item = await stack.get(
      dynamodbPath('DynamoDbTable', { pKey: { S: 'pKey2' }, sKey: { S: 'sKey2' } }),
    );
    expect(item.status).toBe(200);
    expect(item.body.item.Data).toEqual({ S: OTHER.item });
  });
});
