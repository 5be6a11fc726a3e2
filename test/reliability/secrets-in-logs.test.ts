import { randomBytes } from 'node:crypto';
import type { Seed } from '@lambda-cache/local';
import { dynamodbPath, parameterPath, ROUTES } from '@lambda-cache/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { assertNoValuesLogged, type Stack, sleep, startStack } from '../src/harness.js';

/** Distinctive values: any log line holding even a part of one is a leak. */
function canary(label: string): string {
  return `${label}-${randomBytes(18).toString('hex')}`;
}

const V = {
  plain: canary('plain'),
  secure: canary('secure'),
  list: `${canary('list')},${canary('list')}`,
  secret: canary('secret'),
  data: canary('data'),
  readThrough: canary('rt'),
  broken: canary('broken'),
};

const seed: Seed = {
  parameters: [
    { name: '/leak/plain', value: V.plain },
    { name: '/leak/secure', value: V.secure, type: 'SecureString' },
    { name: '/leak/list', value: V.list, type: 'StringList' },
    { name: '/leak/read-through', value: V.readThrough, type: 'SecureString' },
    { name: '/leak/broken', value: V.broken, type: 'SecureString' },
  ],
  secrets: [{ name: 'leak_secret', value: V.secret }],
  tables: [
    {
      name: 'LeakTable',
      hashKey: { name: 'id', type: 'S' },
      items: [{ id: 'row1', data: V.data, nested: { deep: V.data } }],
    },
  ],
};

const config = `parameters:
  - region: us-west-2
    names:
      - /leak/plain
      - /leak/secure
      - /leak/list
      - /aws/reference/secretsmanager/leak_secret
dynamodb:
  - table: LeakTable
    hashkey: id
    hashkeytype: S
    hashkeyvalue: row1
`;

/** Every value, and a long enough piece of each, since a truncated answer may cut a value in half. */
function needles(): string[] {
  const all = Object.values(V).flatMap((v) => v.split(','));
  return [...all, ...all.map((v) => v.slice(v.indexOf('-') + 1, v.indexOf('-') + 13))];
}

let stack: Stack;
afterEach(async () => {
  await stack?.close();
});

// Text lines, and JSON lines as with Lambda's advanced logging controls (AWS_LAMBDA_LOG_FORMAT=JSON).
describe.each(['Text', 'JSON'])('values in %s logs', (format) => {
  it('logs no value at debug level through prefetch, reads, refreshes, errors and invokes', async () => {
    stack = await startStack({
      config,
      seed,
      env: {
        CACHE_EXTENSION_LOG_LEVEL: 'debug',
        CACHE_EXTENSION_LEGACY_ROUTES: 'true',
        CACHE_EXTENSION_TTL: '1s',
        AWS_LAMBDA_LOG_FORMAT: format,
      },
    });
    const reads = [
      parameterPath('/leak/plain'),
      parameterPath('/leak/secure'),
      parameterPath('/leak/secure', { decrypt: false }),
      parameterPath('/leak/list'),
      parameterPath('/aws/reference/secretsmanager/leak_secret'),
      parameterPath('/leak/read-through'),
      parameterPath('/leak/plain', { refresh: true }),
      parameterPath('/leak/missing'),
      `${ROUTES.awsParameter}?name=/leak/secure&withDecryption=true`,
      dynamodbPath('LeakTable', { id: { S: 'row1' } }),
      dynamodbPath('LeakTable', { id: { S: 'row1' } }, { refresh: true }),
      '/parameters//leak/plain',
      '/dynamodb/LeakTable-row1',
      ROUTES.stats,
      ROUTES.health,
    ];
    for (const path of reads) await stack.get(path);
    const plain = await stack.get(parameterPath('/leak/plain'));
    expect(plain.body.value).toBe(V.plain);
    // Wrong token and a forwarded request: refused, and their logs hold nothing either.
    await stack.get(parameterPath('/leak/secure'), { 'x-aws-parameters-secrets-token': 'wrong' });
    await stack.get(parameterPath('/leak/secure'), { 'x-forwarded-for': '10.0.0.1' });
    // A corrupted answer: SDK parse errors may quote the body they could not parse.
    for (const mode of ['truncated', 'garbage'] as const) {
      stack.backends.ssm.setFaults({ malformed: mode, operations: ['GetParameters', 'GetParameter'] });
      stack.backends.dynamodb.setFaults({ malformed: mode });
      await stack.get(parameterPath('/leak/broken', { refresh: true }));
      await stack.get(dynamodbPath('LeakTable', { id: { S: 'row1' } }, { refresh: true }));
    }
    stack.backends.ssm.setFaults({});
    stack.backends.dynamodb.setFaults({});
    // Expired entries refresh in the background and on INVOKE.
    await sleep(1200);
    for (const path of reads.slice(0, 6)) await stack.get(path);
    await stack.lambda.invoke({ hello: 'world' });
    await stack.lambda.invoke({ hello: 'again' });
    await stack.lambda.shutdown('spindown');
    const lines = stack.logs();
    const own = lines.filter((l) => (format === 'JSON' ? l.startsWith('{') : l.includes('[lambda-cache]')));
    expect(own.length).toBeGreaterThan(10);
    expect(lines.length).toBeGreaterThan(10);
    assertNoValuesLogged(lines, needles());
  });
});
