/**
 * The same reads through the real AWS SDK and through the lean client, against the project's local
 * backends: the outputs must be the same once the SDK's deserialisation (dates, bytes) is turned back
 * into wire JSON.
 */
import { BatchGetItemCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  GetParameterCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { type Backends, startBackends } from '@lambda-cache/local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsClient, createAwsClient } from '../../../src/aws/index.js';

/** The wire form of an SDK output: dates as epoch seconds, bytes as base64, no `$metadata`. */
function toWire(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(toWire);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (k !== '$metadata' && v !== undefined) out[k] = toWire(v);
    return out;
  }
  return value;
}

let backends: Backends;
let aws: AwsClient;
let ssm: SSMClient;
let dynamodb: DynamoDBClient;
let secrets: SecretsManagerClient;

beforeAll(async () => {
  backends = await startBackends({
    seed: {
      parameters: [
        { name: '/app/db-url', value: 'postgres://db', type: 'SecureString' },
        { name: '/app/flags', value: 'a,b,c', type: 'StringList', history: ['a'] },
        { name: '/app/nested/deep', value: 'x' },
        { name: 'plain', value: 'p' },
      ],
      secrets: [{ name: 'secret_info', value: '{"user":"app"}' }],
      tables: [
        {
          name: 'Orders',
          hashKey: { name: 'pk', type: 'S' },
          sortKey: { name: 'sk', type: 'N' },
          items: [
            { pk: 'a', sk: 1, total: 12.5, tags: ['x', 'y'], nested: { on: true, none: null } },
            { pk: 'a', sk: 2, total: 0 },
          ],
        },
      ],
    },
  });
  const sdk = { region: backends.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  ssm = new SSMClient({ ...sdk, endpoint: backends.ssm.endpoint });
  dynamodb = new DynamoDBClient({ ...sdk, endpoint: backends.dynamodb.endpoint });
  secrets = new SecretsManagerClient({ ...sdk, endpoint: backends.secretsManager.endpoint });
  aws = createAwsClient({ env: { ...backends.env, AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001' } });
});

afterAll(async () => {
  aws?.destroy();
  for (const c of [ssm, dynamodb, secrets]) c?.destroy();
  await backends?.close();
});

describe('the lean client and the SDK', () => {
  it('read the same SSM GetParameters output, found and invalid names alike', async () => {
    const input = { Names: ['/app/db-url', '/app/flags', 'missing'], WithDecryption: true };
    const sdk = await ssm.send(new GetParametersCommand(input));
    expect(await aws.json('ssm', undefined, 'GetParameters', input)).toEqual(toWire(sdk));
    expect(sdk.InvalidParameters).toEqual(['missing']);
  });

  it('read the same SSM GetParametersByPath pages', async () => {
    const input = { Path: '/app', Recursive: true, MaxResults: 1 };
    const sdkPages: unknown[] = [];
    const ourPages: unknown[] = [];
    let token: string | undefined;
    do {
      const page = await ssm.send(
        new GetParametersByPathCommand({ ...input, ...(token ? { NextToken: token } : {}) }),
      );
      sdkPages.push(toWire(page));
      token = page.NextToken;
    } while (token);
    do {
      const page: { NextToken?: string } = await aws.json('ssm', undefined, 'GetParametersByPath', {
        ...input,
        ...(token ? { NextToken: token } : {}),
      });
      ourPages.push(page);
      token = page.NextToken;
    } while (token);
    expect(ourPages).toEqual(sdkPages);
    expect(ourPages.length).toBeGreaterThan(1);
  });

  it('read the same SSM GetParameter with a version selector, and fail alike for a missing one', async () => {
    const input = { Name: '/app/flags:1' };
    expect(await aws.json('ssm', undefined, 'GetParameter', input)).toEqual(
      toWire(await ssm.send(new GetParameterCommand(input))),
    );
    const sdkError = (await ssm
      .send(new GetParameterCommand({ Name: '/nope' }))
      .catch((e: Error) => e)) as Error;
    const ourError = await aws
      .json('ssm', undefined, 'GetParameter', { Name: '/nope' })
      .catch((e: Error) => e);
    expect(ourError).toMatchObject({ code: 'AwsServiceError', awsCode: sdkError.name, status: 400 });
  });

  it('read the same DynamoDB GetItem and BatchGetItem, numbers kept as strings', async () => {
    // More digits than a double holds: a JSON number would lose them.
    const big = '12345678901234567890.123456789';
    await aws.json('dynamodb', undefined, 'PutItem', {
      TableName: 'Orders',
      Item: {
        pk: { S: 'b' },
        sk: { N: '1' },
        big: { N: big },
        bin: { B: Buffer.from([0, 255]).toString('base64') },
      },
    });
    const get = { TableName: 'Orders', Key: { pk: { S: 'b' }, sk: { N: '1' } } };
    const ours = await aws.json<{ Item: { big: { N: string } } }>('dynamodb', undefined, 'GetItem', get);
    expect(ours).toEqual(toWire(await dynamodb.send(new GetItemCommand(get))));
    expect(ours.Item.big.N).toBe(big);
    const first = { TableName: 'Orders', Key: { pk: { S: 'a' }, sk: { N: '1' } } };
    expect(await aws.json('dynamodb', undefined, 'GetItem', first)).toEqual(
      toWire(await dynamodb.send(new GetItemCommand(first))),
    );
    const batch = {
      RequestItems: {
        Orders: {
          Keys: [first.Key, { pk: { S: 'a' }, sk: { N: '2' } }, { pk: { S: 'zz' }, sk: { N: '9' } }],
        },
      },
    };
    type Batch = { Responses: { Orders: Array<{ sk: { N: string } }> } };
    const sort = (b: Batch) => b.Responses.Orders.sort((x, y) => Number(x.sk.N) - Number(y.sk.N));
    const sdkBatch = toWire(await dynamodb.send(new BatchGetItemCommand(batch))) as Batch;
    const ourBatch = await aws.json<Batch>('dynamodb', undefined, 'BatchGetItem', batch);
    sort(sdkBatch);
    sort(ourBatch);
    expect(ourBatch).toEqual(sdkBatch);
    expect(ourBatch.Responses.Orders).toHaveLength(2);
  });

  it('fail alike for a DynamoDB table that does not exist', async () => {
    const get = { TableName: 'Missing', Key: { pk: { S: 'a' } } };
    const sdkError = (await dynamodb.send(new GetItemCommand(get)).catch((e: Error) => e)) as Error;
    const ourError = await aws.json('dynamodb', undefined, 'GetItem', get).catch((e: Error) => e);
    expect(ourError).toMatchObject({ awsCode: sdkError.name, status: 400 });
  });

  it('read the same Secrets Manager GetSecretValue', async () => {
    const input = { SecretId: 'secret_info' };
    expect(await aws.json('secretsmanager', undefined, 'GetSecretValue', input)).toEqual(
      toWire(await secrets.send(new GetSecretValueCommand(input))),
    );
  });
});
