import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backends, startBackends } from '../../src/backends.js';
import { secretsClient } from '../fixtures/aws-clients.js';

describe('secrets manager emulator', () => {
  let backends: Backends;
  let client: SecretsManagerClient;

  beforeAll(async () => {
    backends = await startBackends({
      seed: {
        secrets: [
          { name: 'secret_info', value: '{"user":"app"}' },
          ...Array.from({ length: 25 }, (_, i) => ({
            name: `many/${String(i).padStart(2, '0')}`,
            value: `v${i}`,
          })),
        ],
      },
    });
    client = secretsClient(backends.secretsManager);
  });

  afterAll(async () => {
    client.destroy();
    await backends.close();
  });

  it('returns the current version when asked by name', async () => {
    const result = await client.send(new GetSecretValueCommand({ SecretId: 'secret_info' }));
    expect(result).toMatchObject({
      Name: 'secret_info',
      SecretString: '{"user":"app"}',
      VersionStages: ['AWSCURRENT'],
    });
    expect(result.CreatedDate).toBeInstanceOf(Date);
    expect(result.VersionId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('returns the same secret when asked by full or partial ARN', async () => {
    const { ARN } = await client.send(new GetSecretValueCommand({ SecretId: 'secret_info' }));
    expect(ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:123456789012:secret:secret_info-[A-Za-z0-9]{6}$/);
    const byArn = await client.send(new GetSecretValueCommand({ SecretId: ARN }));
    const byPartial = await client.send(new GetSecretValueCommand({ SecretId: ARN?.slice(0, -7) }));
    expect(byArn.Name).toBe('secret_info');
    expect(byPartial.Name).toBe('secret_info');
  });

  it('throws ResourceNotFoundException when the secret does not exist', async () => {
    const error = await client.send(new GetSecretValueCommand({ SecretId: 'nope' })).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } });
  });

  it('answers found secrets in SecretValues and missing ones in Errors when batching', async () => {
    const result = await client.send(
      new BatchGetSecretValueCommand({ SecretIdList: ['secret_info', 'nope'] }),
    );
    expect(result.SecretValues?.map((s) => s.Name)).toEqual(['secret_info']);
    expect(result.Errors).toEqual([
      { SecretId: 'nope', ErrorCode: 'ResourceNotFoundException', Message: expect.any(String) },
    ]);
  });

  it('refuses BatchGetSecretValue with ValidationException when given 21 ids', async () => {
    const ids = Array.from({ length: 21 }, (_, i) => `many/${i}`);
    const error = await client
      .send(new BatchGetSecretValueCommand({ SecretIdList: ids }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ValidationException' });
  });

  it('pages a name filter completely when following NextToken', async () => {
    const names: string[] = [];
    let token: string | undefined;
    for (let page = 0; page < 10; page++) {
      const result = await client.send(
        new BatchGetSecretValueCommand({
          Filters: [{ Key: 'name', Values: ['many/'] }],
          MaxResults: 10,
          NextToken: token,
        }),
      );
      names.push(...(result.SecretValues ?? []).map((s) => s.Name ?? ''));
      token = result.NextToken;
      if (token === undefined) break;
    }
    expect(names).toHaveLength(25);
    expect(new Set(names).size).toBe(25);
  });

  it('moves AWSCURRENT to the new version and AWSPREVIOUS to the old when a value is put', async () => {
    const created = await client.send(new CreateSecretCommand({ Name: 'rotating', SecretString: 'one' }));
    const put = await client.send(new PutSecretValueCommand({ SecretId: 'rotating', SecretString: 'two' }));
    expect(put.VersionStages).toEqual(['AWSCURRENT']);
    expect((await client.send(new GetSecretValueCommand({ SecretId: 'rotating' }))).SecretString).toBe('two');
    const previous = await client.send(
      new GetSecretValueCommand({ SecretId: 'rotating', VersionStage: 'AWSPREVIOUS' }),
    );
    expect(previous).toMatchObject({ SecretString: 'one', VersionId: created.VersionId });
    const described = await client.send(new DescribeSecretCommand({ SecretId: 'rotating' }));
    expect(described.VersionIdsToStages).toEqual({
      [created.VersionId ?? '']: ['AWSPREVIOUS'],
      [put.VersionId ?? '']: ['AWSCURRENT'],
    });
  });

  it('throws ResourceExistsException when creating a secret twice', async () => {
    await client.send(new CreateSecretCommand({ Name: 'twice', SecretString: 'x' }));
    const error = await client
      .send(new CreateSecretCommand({ Name: 'twice', SecretString: 'y' }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ResourceExistsException' });
  });

  it('counts its calls apart from SSM when the SDK sends them', async () => {
    backends.secretsManager.resetCalls();
    backends.ssm.resetCalls();
    await client.send(new GetSecretValueCommand({ SecretId: 'secret_info' }));
    await client.send(new BatchGetSecretValueCommand({ SecretIdList: ['secret_info'] }));
    expect(backends.secretsManager.calls).toEqual({ GetSecretValue: 1, BatchGetSecretValue: 1 });
    expect(backends.ssm.calls).toEqual({});
  });

  it('keeps secret values out of the call log when a secret is written', async () => {
    backends.secretsManager.resetCalls();
    await client.send(new CreateSecretCommand({ Name: 'hidden', SecretString: 'do-not-log' }));
    expect(JSON.stringify(backends.secretsManager.callLog)).not.toContain('do-not-log');
  });
});
