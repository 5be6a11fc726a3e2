import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Backends, startBackends } from '../../src/backends.js';
import { secretsClient, ssmClient } from '../fixtures/aws-clients.js';

const START = Date.parse('2026-03-01T12:34:56.789Z');
const DAY_MS = 86_400_000;
const ROTATION_LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:rotate';

/** The raw JSON 1.1 exchange, to check what is on the wire rather than what the SDK makes of it. */
async function wire(
  backends: Backends,
  operation: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(backends.secretsManager.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `secretsmanager.${operation}`,
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function failure(promise: Promise<unknown>): Promise<{ name?: string; message?: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the call should have failed').toBeDefined();
  return error as { name?: string; message?: string };
}

describe('secrets manager emulator', () => {
  let backends: Backends;
  let client: SecretsManagerClient;
  let ssm: SSMClient;
  let clock = START;

  beforeAll(async () => {
    backends = await startBackends({
      now: () => clock,
      seed: {
        secrets: [
          { name: 'secret_info', value: '{"user":"app"}', description: 'Database login' },
          { name: 'other_info', value: 'other', description: 'Cache token' },
          ...Array.from({ length: 25 }, (_, i) => ({
            name: `many/${String(i).padStart(2, '0')}`,
            value: `v${i}`,
          })),
        ],
      },
    });
    client = secretsClient(backends.secretsManager);
    ssm = ssmClient(backends.ssm);
  });

  beforeEach(() => {
    clock = START;
  });

  afterAll(async () => {
    client.destroy();
    ssm.destroy();
    await backends.close();
  });

  describe('GetSecretValue', () => {
    it('returns the current version when asked by name', async () => {
      const result = await client.send(new GetSecretValueCommand({ SecretId: 'secret_info' }));
      expect(result).toMatchObject({
        Name: 'secret_info',
        SecretString: '{"user":"app"}',
        VersionStages: ['AWSCURRENT'],
      });
      expect(result.CreatedDate).toEqual(new Date(START));
      expect(result.VersionId).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
    });

    it('carries CreatedDate as epoch seconds on the wire', async () => {
      const { status, json } = await wire(backends, 'GetSecretValue', { SecretId: 'secret_info' });
      expect(status).toBe(200);
      expect(json.CreatedDate).toBe(START / 1000);
    });

    it('returns the same secret when asked by full or partial ARN', async () => {
      const { ARN } = await client.send(new GetSecretValueCommand({ SecretId: 'secret_info' }));
      expect(ARN).toMatch(
        /^arn:aws:secretsmanager:us-east-1:123456789012:secret:secret_info-[A-Za-z0-9]{6}$/,
      );
      const byArn = await client.send(new GetSecretValueCommand({ SecretId: ARN }));
      const byPartial = await client.send(new GetSecretValueCommand({ SecretId: ARN?.slice(0, -7) }));
      expect(byArn.Name).toBe('secret_info');
      expect(byPartial.Name).toBe('secret_info');
    });

    it('throws ResourceNotFoundException when the secret does not exist', async () => {
      const error = await failure(client.send(new GetSecretValueCommand({ SecretId: 'nope' })));
      expect(error).toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } });
    });

    it('answers errors with __type and Message when read off the wire', async () => {
      const { status, json } = await wire(backends, 'GetSecretValue', { SecretId: 'nope' });
      expect(status).toBe(400);
      expect(json).toEqual({
        __type: 'ResourceNotFoundException',
        Message: "Secrets Manager can't find the specified secret.",
      });
    });

    it('returns the version asked for by VersionId, VersionStage or both when they agree', async () => {
      const first = await client.send(new CreateSecretCommand({ Name: 'by-version', SecretString: 'one' }));
      const second = await client.send(
        new PutSecretValueCommand({ SecretId: 'by-version', SecretString: 'two', VersionStages: ['blue'] }),
      );
      const get = (input: { VersionId?: string; VersionStage?: string }) =>
        client.send(new GetSecretValueCommand({ SecretId: 'by-version', ...input }));
      expect((await get({ VersionId: first.VersionId })).SecretString).toBe('one');
      expect((await get({ VersionStage: 'blue' })).SecretString).toBe('two');
      expect((await get({ VersionId: second.VersionId, VersionStage: 'blue' })).VersionStages).toEqual([
        'blue',
      ]);
      expect((await get({})).SecretString).toBe('one');
    });

    it('throws InvalidParameterException when VersionId and VersionStage name different versions', async () => {
      const first = await client.send(new CreateSecretCommand({ Name: 'mismatch', SecretString: 'one' }));
      await client.send(new PutSecretValueCommand({ SecretId: 'mismatch', SecretString: 'two' }));
      const error = await failure(
        client.send(
          new GetSecretValueCommand({
            SecretId: 'mismatch',
            VersionId: first.VersionId,
            VersionStage: 'AWSCURRENT',
          }),
        ),
      );
      expect(error.name).toBe('InvalidParameterException');
    });

    it('throws ResourceNotFoundException when the version or the stage does not exist', async () => {
      const byId = await failure(
        client.send(new GetSecretValueCommand({ SecretId: 'secret_info', VersionId: 'f'.repeat(32) })),
      );
      expect(byId).toMatchObject({
        name: 'ResourceNotFoundException',
        message: expect.stringContaining('VersionId'),
      });
      const byStage = await failure(
        client.send(new GetSecretValueCommand({ SecretId: 'secret_info', VersionStage: 'AWSPENDING' })),
      );
      expect(byStage).toMatchObject({
        name: 'ResourceNotFoundException',
        message: expect.stringContaining('AWSPENDING'),
      });
    });

    it('refuses a VersionId shorter than 32 characters with ValidationException', async () => {
      const error = await failure(
        client.send(new GetSecretValueCommand({ SecretId: 'secret_info', VersionId: 'short' })),
      );
      expect(error.name).toBe('ValidationException');
    });
  });

  describe('binary secrets', () => {
    it('returns the bytes of a binary secret, base64 on the wire', async () => {
      const bytes = Uint8Array.from([0, 1, 2, 250, 255]);
      await client.send(new CreateSecretCommand({ Name: 'binary', SecretBinary: bytes }));
      const result = await client.send(new GetSecretValueCommand({ SecretId: 'binary' }));
      expect(result.SecretString).toBeUndefined();
      expect(Array.from(result.SecretBinary ?? [])).toEqual([0, 1, 2, 250, 255]);
      const { json } = await wire(backends, 'GetSecretValue', { SecretId: 'binary' });
      expect(json.SecretBinary).toBe(Buffer.from(bytes).toString('base64'));
      expect(json).not.toHaveProperty('SecretString');
    });

    it('throws InvalidParameterException when given both SecretString and SecretBinary', async () => {
      const error = await failure(
        client.send(
          new CreateSecretCommand({ Name: 'both', SecretString: 'x', SecretBinary: Uint8Array.from([1]) }),
        ),
      );
      expect(error.name).toBe('InvalidParameterException');
    });

    it('refuses a value over 64 KiB with ValidationException', async () => {
      const error = await failure(
        client.send(new CreateSecretCommand({ Name: 'huge', SecretBinary: new Uint8Array(65_537) })),
      );
      expect(error.name).toBe('ValidationException');
    });
  });

  describe('versions and staging labels', () => {
    it('moves AWSCURRENT to the new version and AWSPREVIOUS to the old when a value is put', async () => {
      const created = await client.send(new CreateSecretCommand({ Name: 'rotating', SecretString: 'one' }));
      const put = await client.send(new PutSecretValueCommand({ SecretId: 'rotating', SecretString: 'two' }));
      expect(put.VersionStages).toEqual(['AWSCURRENT']);
      expect((await client.send(new GetSecretValueCommand({ SecretId: 'rotating' }))).SecretString).toBe(
        'two',
      );
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

    it('leaves the oldest version without labels when a third value is put', async () => {
      const one = await client.send(new CreateSecretCommand({ Name: 'three', SecretString: '1' }));
      const two = await client.send(new PutSecretValueCommand({ SecretId: 'three', SecretString: '2' }));
      const three = await client.send(new PutSecretValueCommand({ SecretId: 'three', SecretString: '3' }));
      const { VersionIdsToStages } = await client.send(new DescribeSecretCommand({ SecretId: 'three' }));
      expect(VersionIdsToStages).toEqual({
        [two.VersionId ?? '']: ['AWSPREVIOUS'],
        [three.VersionId ?? '']: ['AWSCURRENT'],
      });
      // A version without labels is deprecated, not gone: it is still readable by id.
      const old = await client.send(
        new GetSecretValueCommand({ SecretId: 'three', VersionId: one.VersionId }),
      );
      expect(old).toMatchObject({ SecretString: '1', VersionStages: [] });
    });

    it('keeps AWSCURRENT where it is when a value is put as AWSPENDING', async () => {
      await client.send(new CreateSecretCommand({ Name: 'pending', SecretString: 'live' }));
      const pending = await client.send(
        new PutSecretValueCommand({
          SecretId: 'pending',
          SecretString: 'next',
          VersionStages: ['AWSPENDING'],
        }),
      );
      expect(pending.VersionStages).toEqual(['AWSPENDING']);
      expect((await client.send(new GetSecretValueCommand({ SecretId: 'pending' }))).SecretString).toBe(
        'live',
      );
      const next = await client.send(
        new GetSecretValueCommand({ SecretId: 'pending', VersionStage: 'AWSPENDING' }),
      );
      expect(next.SecretString).toBe('next');
    });

    it('attaches AWSCURRENT to the first version even when it is put with other labels', async () => {
      await client.send(new CreateSecretCommand({ Name: 'empty-first' }));
      const put = await client.send(
        new PutSecretValueCommand({ SecretId: 'empty-first', SecretString: 'x', VersionStages: ['custom'] }),
      );
      expect(put.VersionStages?.sort()).toEqual(['AWSCURRENT', 'custom']);
    });

    it('treats a repeated ClientRequestToken as a retry, and a changed value under it as ResourceExistsException', async () => {
      const token = '0123456789abcdef0123456789abcdef';
      await client.send(new CreateSecretCommand({ Name: 'idempotent', SecretString: 'a' }));
      const first = await client.send(
        new PutSecretValueCommand({ SecretId: 'idempotent', SecretString: 'b', ClientRequestToken: token }),
      );
      const again = await client.send(
        new PutSecretValueCommand({ SecretId: 'idempotent', SecretString: 'b', ClientRequestToken: token }),
      );
      expect(first.VersionId).toBe(token);
      expect(again.VersionId).toBe(token);
      const error = await failure(
        client.send(
          new PutSecretValueCommand({ SecretId: 'idempotent', SecretString: 'c', ClientRequestToken: token }),
        ),
      );
      expect(error.name).toBe('ResourceExistsException');
    });

    it('moves AWSCURRENT with UpdateSecretVersionStage and AWSPREVIOUS follows', async () => {
      const one = await client.send(new CreateSecretCommand({ Name: 'staged', SecretString: 'one' }));
      const two = await client.send(
        new PutSecretValueCommand({ SecretId: 'staged', SecretString: 'two', VersionStages: ['AWSPENDING'] }),
      );
      const result = await client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: 'staged',
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: two.VersionId,
          RemoveFromVersionId: one.VersionId,
        }),
      );
      expect(result.Name).toBe('staged');
      const { VersionIdsToStages } = await client.send(new DescribeSecretCommand({ SecretId: 'staged' }));
      expect(VersionIdsToStages).toEqual({
        [one.VersionId ?? '']: ['AWSPREVIOUS'],
        [two.VersionId ?? '']: ['AWSPENDING', 'AWSCURRENT'],
      });
    });

    it('throws InvalidParameterException when moving a label without naming the version that holds it', async () => {
      await client.send(new CreateSecretCommand({ Name: 'unnamed-holder', SecretString: 'one' }));
      const two = await client.send(
        new PutSecretValueCommand({ SecretId: 'unnamed-holder', SecretString: 'two', VersionStages: ['x'] }),
      );
      const error = await failure(
        client.send(
          new UpdateSecretVersionStageCommand({
            SecretId: 'unnamed-holder',
            VersionStage: 'AWSCURRENT',
            MoveToVersionId: two.VersionId,
          }),
        ),
      );
      expect(error.name).toBe('InvalidParameterException');
    });

    it('adds and removes a custom label, and refuses to remove AWSCURRENT without moving it', async () => {
      const one = await client.send(new CreateSecretCommand({ Name: 'labels', SecretString: 'one' }));
      await client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: 'labels',
          VersionStage: 'green',
          MoveToVersionId: one.VersionId,
        }),
      );
      expect(
        (await client.send(new GetSecretValueCommand({ SecretId: 'labels', VersionStage: 'green' })))
          .VersionId,
      ).toBe(one.VersionId);
      await client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: 'labels',
          VersionStage: 'green',
          RemoveFromVersionId: one.VersionId,
        }),
      );
      const gone = await failure(
        client.send(new GetSecretValueCommand({ SecretId: 'labels', VersionStage: 'green' })),
      );
      expect(gone.name).toBe('ResourceNotFoundException');
      const refused = await failure(
        client.send(
          new UpdateSecretVersionStageCommand({
            SecretId: 'labels',
            VersionStage: 'AWSCURRENT',
            RemoveFromVersionId: one.VersionId,
          }),
        ),
      );
      expect(refused.name).toBe('InvalidParameterException');
    });
  });

  describe('DescribeSecret and rotation', () => {
    it('reports rotation off, the change date and the day of last access when never rotated', async () => {
      clock = START + 5000;
      await client.send(new PutSecretValueCommand({ SecretId: 'other_info', SecretString: 'other2' }));
      clock = START + 2 * DAY_MS;
      await client.send(new GetSecretValueCommand({ SecretId: 'other_info' }));
      const described = await client.send(new DescribeSecretCommand({ SecretId: 'other_info' }));
      expect(described).toMatchObject({
        Name: 'other_info',
        Description: 'Cache token',
        RotationEnabled: false,
        CreatedDate: new Date(START),
        LastChangedDate: new Date(START + 5000),
        LastAccessedDate: new Date(Date.parse('2026-03-03T00:00:00Z')),
      });
      expect(described.NextRotationDate).toBeUndefined();
      expect(described.LastRotatedDate).toBeUndefined();
    });

    it('throws InvalidRequestException when rotating a secret with no rotation function', async () => {
      await client.send(new CreateSecretCommand({ Name: 'no-lambda', SecretString: 'x' }));
      const error = await failure(client.send(new RotateSecretCommand({ SecretId: 'no-lambda' })));
      expect(error.name).toBe('InvalidRequestException');
    });

    it('makes the AWSPENDING version current and sets the rotation dates when RotateSecret runs', async () => {
      const old = await client.send(new CreateSecretCommand({ Name: 'rotated', SecretString: 'old' }));
      const pending = await client.send(
        new PutSecretValueCommand({
          SecretId: 'rotated',
          SecretString: 'new',
          VersionStages: ['AWSPENDING'],
        }),
      );
      clock = START + 1000;
      const result = await client.send(
        new RotateSecretCommand({
          SecretId: 'rotated',
          RotationLambdaARN: ROTATION_LAMBDA,
          RotationRules: { AutomaticallyAfterDays: 30 },
        }),
      );
      expect(result.VersionId).toBe(pending.VersionId);
      expect((await client.send(new GetSecretValueCommand({ SecretId: 'rotated' }))).SecretString).toBe(
        'new',
      );
      const described = await client.send(new DescribeSecretCommand({ SecretId: 'rotated' }));
      expect(described).toMatchObject({
        RotationEnabled: true,
        RotationLambdaARN: ROTATION_LAMBDA,
        RotationRules: { AutomaticallyAfterDays: 30 },
        LastRotatedDate: new Date(START + 1000),
        NextRotationDate: new Date(START + 1000 + 30 * DAY_MS),
        VersionIdsToStages: {
          [old.VersionId ?? '']: ['AWSPREVIOUS'],
          [pending.VersionId ?? '']: ['AWSCURRENT'],
        },
      });
    });

    it('only schedules rotation when RotateImmediately is false', async () => {
      await client.send(new CreateSecretCommand({ Name: 'scheduled', SecretString: 'x' }));
      await client.send(
        new RotateSecretCommand({
          SecretId: 'scheduled',
          RotationLambdaARN: ROTATION_LAMBDA,
          RotationRules: { ScheduleExpression: 'rate(4 hours)' },
          RotateImmediately: false,
        }),
      );
      const described = await client.send(new DescribeSecretCommand({ SecretId: 'scheduled' }));
      expect(described.RotationEnabled).toBe(true);
      expect(described.NextRotationDate).toEqual(new Date(START + 4 * 3_600_000));
      expect(described.LastRotatedDate).toBeUndefined();
    });
  });

  describe('deleted secrets', () => {
    it('throws InvalidRequestException when reading a secret scheduled for deletion, and serves it again once restored', async () => {
      await client.send(new CreateSecretCommand({ Name: 'doomed', SecretString: 'x' }));
      const deleted = await client.send(
        new DeleteSecretCommand({ SecretId: 'doomed', RecoveryWindowInDays: 7 }),
      );
      expect(deleted.DeletionDate).toEqual(new Date(START + 7 * DAY_MS));
      const error = await failure(client.send(new GetSecretValueCommand({ SecretId: 'doomed' })));
      expect(error.name).toBe('InvalidRequestException');
      const described = await client.send(new DescribeSecretCommand({ SecretId: 'doomed' }));
      expect(described.DeletedDate).toEqual(new Date(START + 7 * DAY_MS));
      const recreated = await failure(
        client.send(new CreateSecretCommand({ Name: 'doomed', SecretString: 'y' })),
      );
      expect(recreated.name).toBe('InvalidRequestException');
      await client.send(new RestoreSecretCommand({ SecretId: 'doomed' }));
      expect((await client.send(new GetSecretValueCommand({ SecretId: 'doomed' }))).SecretString).toBe('x');
    });

    it('forgets the secret when the recovery window has passed or deletion is forced', async () => {
      await client.send(new CreateSecretCommand({ Name: 'windowed', SecretString: 'x' }));
      await client.send(new DeleteSecretCommand({ SecretId: 'windowed', RecoveryWindowInDays: 7 }));
      clock = START + 7 * DAY_MS;
      const afterWindow = await failure(client.send(new DescribeSecretCommand({ SecretId: 'windowed' })));
      expect(afterWindow.name).toBe('ResourceNotFoundException');
      await client.send(new CreateSecretCommand({ Name: 'forced', SecretString: 'x' }));
      await client.send(new DeleteSecretCommand({ SecretId: 'forced', ForceDeleteWithoutRecovery: true }));
      const afterForce = await failure(client.send(new GetSecretValueCommand({ SecretId: 'forced' })));
      expect(afterForce.name).toBe('ResourceNotFoundException');
    });

    it('throws InvalidParameterException when the recovery window is out of 7..30 days', async () => {
      await client.send(new CreateSecretCommand({ Name: 'short-window', SecretString: 'x' }));
      const error = await failure(
        client.send(new DeleteSecretCommand({ SecretId: 'short-window', RecoveryWindowInDays: 6 })),
      );
      expect(error.name).toBe('InvalidParameterException');
    });
  });

  describe('BatchGetSecretValue', () => {
    it('answers found secrets in SecretValues and the others in Errors when batching ids', async () => {
      await client.send(new CreateSecretCommand({ Name: 'batch-deleted', SecretString: 'x' }));
      await client.send(new DeleteSecretCommand({ SecretId: 'batch-deleted' }));
      const result = await client.send(
        new BatchGetSecretValueCommand({ SecretIdList: ['secret_info', 'nope', 'batch-deleted'] }),
      );
      expect(result.SecretValues?.map((s) => [s.Name, s.SecretString])).toEqual([
        ['secret_info', '{"user":"app"}'],
      ]);
      expect(result.SecretValues?.[0]?.CreatedDate).toEqual(new Date(START));
      expect(result.Errors).toEqual([
        { SecretId: 'nope', ErrorCode: 'ResourceNotFoundException', Message: expect.any(String) },
        { SecretId: 'batch-deleted', ErrorCode: 'InvalidRequestException', Message: expect.any(String) },
      ]);
    });

    it('refuses BatchGetSecretValue with ValidationException when given 21 ids', async () => {
      const ids = Array.from({ length: 21 }, (_, i) => `many/${i}`);
      const error = await failure(client.send(new BatchGetSecretValueCommand({ SecretIdList: ids })));
      expect(error.name).toBe('ValidationException');
    });

    it('throws InvalidParameterException when given both ids and filters, or MaxResults without filters', async () => {
      const both = await failure(
        client.send(
          new BatchGetSecretValueCommand({
            SecretIdList: ['secret_info'],
            Filters: [{ Key: 'name', Values: ['s'] }],
          }),
        ),
      );
      expect(both.name).toBe('InvalidParameterException');
      const max = await failure(
        client.send(new BatchGetSecretValueCommand({ SecretIdList: ['secret_info'], MaxResults: 5 })),
      );
      expect(max.name).toBe('InvalidParameterException');
    });

    it('refuses MaxResults over 20 with ValidationException', async () => {
      const error = await failure(
        client.send(
          new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: ['many/'] }], MaxResults: 21 }),
        ),
      );
      expect(error.name).toBe('ValidationException');
    });

    it('pages a name filter completely when following NextToken', async () => {
      const names: string[] = [];
      let token: string | undefined;
      let pages = 0;
      for (; pages < 10; pages++) {
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
      expect(pages).toBe(2);
      expect(names).toHaveLength(25);
      expect(new Set(names).size).toBe(25);
    });

    it('excludes names with a ! filter value and matches descriptions without regard to case', async () => {
      const negated = await client.send(
        new BatchGetSecretValueCommand({
          Filters: [
            { Key: 'name', Values: ['many/0'] },
            { Key: 'name', Values: ['!many/00'] },
          ],
        }),
      );
      expect(negated.SecretValues?.map((s) => s.Name)).toEqual(
        Array.from({ length: 9 }, (_, i) => `many/0${i + 1}`),
      );
      const described = await client.send(
        new BatchGetSecretValueCommand({ Filters: [{ Key: 'description', Values: ['database'] }] }),
      );
      expect(described.SecretValues?.map((s) => s.Name)).toEqual(['secret_info']);
    });

    it('throws InvalidNextTokenException when the token was not one it gave', async () => {
      const error = await failure(
        client.send(
          new BatchGetSecretValueCommand({
            Filters: [{ Key: 'name', Values: ['many/'] }],
            NextToken: 'bogus',
          }),
        ),
      );
      expect(error.name).toBe('InvalidNextTokenException');
    });
  });

  describe('control methods', () => {
    it('rotates to a new AWSCURRENT value and moves the rotation dates without counting a call', async () => {
      await client.send(new CreateSecretCommand({ Name: 'controlled', SecretString: 'first' }));
      await client.send(
        new RotateSecretCommand({
          SecretId: 'controlled',
          RotationLambdaARN: ROTATION_LAMBDA,
          RotationRules: { AutomaticallyAfterDays: 7 },
          RotateImmediately: false,
        }),
      );
      backends.secretsManager.resetCalls();
      clock = START + DAY_MS;
      const { versionId } = backends.secretsManager.rotateSecret('controlled', 'second');
      expect(backends.secretsManager.calls).toEqual({});
      const current = await client.send(new GetSecretValueCommand({ SecretId: 'controlled' }));
      expect(current).toMatchObject({ SecretString: 'second', VersionId: versionId });
      const previous = await client.send(
        new GetSecretValueCommand({ SecretId: 'controlled', VersionStage: 'AWSPREVIOUS' }),
      );
      expect(previous.SecretString).toBe('first');
      const described = await client.send(new DescribeSecretCommand({ SecretId: 'controlled' }));
      expect(described.LastRotatedDate).toEqual(new Date(START + DAY_MS));
      expect(described.NextRotationDate).toEqual(new Date(START + 8 * DAY_MS));
    });

    it('shows the NextRotationDate that setNextRotationDate sets', async () => {
      await client.send(
        new RotateSecretCommand({
          SecretId: 'secret_info',
          RotationLambdaARN: ROTATION_LAMBDA,
          RotateImmediately: false,
        }),
      );
      const soon = new Date(START + 60_000);
      backends.secretsManager.setNextRotationDate('secret_info', soon);
      const described = await client.send(new DescribeSecretCommand({ SecretId: 'secret_info' }));
      expect(described.NextRotationDate).toEqual(soon);
    });

    it('turns rotation on when setNextRotationDate schedules one for a secret that never rotated', async () => {
      backends.secretsManager.putSecret({ name: 'rotation-scheduled-by-control', value: 'v1' });
      const before = await client.send(
        new DescribeSecretCommand({ SecretId: 'rotation-scheduled-by-control' }),
      );
      expect(before.RotationEnabled).toBe(false);
      expect(before.NextRotationDate).toBeUndefined();
      backends.secretsManager.setNextRotationDate('rotation-scheduled-by-control', START + 3_600_000);
      const after = await wire(backends, 'DescribeSecret', { SecretId: 'rotation-scheduled-by-control' });
      expect(after.json.RotationEnabled).toBe(true);
      expect(after.json.NextRotationDate).toBe((START + 3_600_000) / 1000);
      backends.secretsManager.setNextRotationDate('rotation-scheduled-by-control', undefined);
      const cleared = await client.send(
        new DescribeSecretCommand({ SecretId: 'rotation-scheduled-by-control' }),
      );
      expect(cleared.NextRotationDate).toBeUndefined();
    });

    it('puts a version with the stages asked for and a binary value', async () => {
      backends.secretsManager.putSecret({ name: 'control-binary', value: Uint8Array.from([7, 8]) });
      const { versionId } = backends.secretsManager.putSecret({
        name: 'control-binary',
        value: Uint8Array.from([9]),
        stages: ['AWSPENDING'],
      });
      const pending = await client.send(
        new GetSecretValueCommand({ SecretId: 'control-binary', VersionStage: 'AWSPENDING' }),
      );
      expect(pending.VersionId).toBe(versionId);
      expect(Array.from(pending.SecretBinary ?? [])).toEqual([9]);
      const current = await client.send(new GetSecretValueCommand({ SecretId: 'control-binary' }));
      expect(Array.from(current.SecretBinary ?? [])).toEqual([7, 8]);
    });

    it('counts its calls by operation and apart from SSM when the SDK sends them', async () => {
      backends.secretsManager.resetCalls();
      backends.ssm.resetCalls();
      await client.send(new GetSecretValueCommand({ SecretId: 'secret_info' }));
      await client.send(new GetSecretValueCommand({ SecretId: 'other_info' }));
      await client.send(new BatchGetSecretValueCommand({ SecretIdList: ['secret_info'] }));
      await client.send(new DescribeSecretCommand({ SecretId: 'secret_info' }));
      expect(backends.secretsManager.calls).toEqual({
        GetSecretValue: 2,
        BatchGetSecretValue: 1,
        DescribeSecret: 1,
      });
      expect(backends.ssm.calls).toEqual({});
    });

    it('keeps secret values out of the call log when a secret is written', async () => {
      backends.secretsManager.resetCalls();
      await client.send(new CreateSecretCommand({ Name: 'hidden', SecretString: 'do-not-log' }));
      await client.send(
        new PutSecretValueCommand({ SecretId: 'hidden', SecretBinary: Buffer.from('do-not-log-either') }),
      );
      const log = JSON.stringify(backends.secretsManager.callLog);
      expect(log).not.toContain('do-not-log');
      expect(log).not.toContain(Buffer.from('do-not-log-either').toString('base64'));
    });
  });

  describe('through SSM', () => {
    it('serves the current version under /aws/reference/secretsmanager/ and follows a rotation', async () => {
      backends.secretsManager.putSecret({ name: 'via-ssm', value: 'before' });
      const read = async () =>
        (
          await ssm.send(
            new GetParameterCommand({ Name: '/aws/reference/secretsmanager/via-ssm', WithDecryption: true }),
          )
        ).Parameter;
      expect(await read()).toMatchObject({ Type: 'SecureString', Value: 'before' });
      backends.secretsManager.rotateSecret('via-ssm', 'after');
      expect((await read())?.Value).toBe('after');
    });

    it('answers ParameterNotFound for a reference to a deleted secret', async () => {
      backends.secretsManager.putSecret({ name: 'via-ssm-deleted', value: 'x' });
      await client.send(new DeleteSecretCommand({ SecretId: 'via-ssm-deleted' }));
      const error = await failure(
        ssm.send(
          new GetParameterCommand({
            Name: '/aws/reference/secretsmanager/via-ssm-deleted',
            WithDecryption: true,
          }),
        ),
      );
      expect(error.name).toBe('ParameterNotFound');
    });
  });
});
