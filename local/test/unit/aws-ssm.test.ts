import {
  DeleteParameterCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  LabelParameterVersionCommand,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backends, startBackends } from '../../src/backends.js';
import { ssmClient } from '../fixtures/aws-clients.js';

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

describe('ssm emulator', () => {
  let backends: Backends;
  let ssm: SSMClient;

  beforeAll(async () => {
    backends = await startBackends({
      now: () => NOW,
      seed: {
        parameters: [
          { name: 'plain', value: 'plain value' },
          { name: '/app/secure', value: 'the secret', type: 'SecureString' },
          { name: '/app/feature', value: 'v3', history: ['v1', 'v2'], labels: ['live'] },
          { name: '/app/list', value: 'a,b,c', type: 'StringList' },
          ...Array.from({ length: 23 }, (_, i) => ({
            name: `/paged/${String(i).padStart(2, '0')}`,
            value: `value ${i}`,
          })),
          { name: '/paged/deeper/one', value: 'deep' },
        ],
        secrets: [{ name: 'secret_info', value: '{"user":"app"}' }],
      },
    });
    ssm = ssmClient(backends.ssm);
  });

  afterAll(async () => {
    ssm.destroy();
    await backends.close();
  });

  it('returns a parameter with the fields AWS sends when it exists', async () => {
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: '/app/list' }));
    expect(Parameter).toEqual({
      Name: '/app/list',
      Type: 'StringList',
      Value: 'a,b,c',
      Version: 1,
      LastModifiedDate: new Date(NOW),
      ARN: 'arn:aws:ssm:us-east-1:123456789012:parameter/app/list',
      DataType: 'text',
    });
  });

  it('names a parameter without a leading slash in its ARN after parameter/ when it is not hierarchical', async () => {
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: 'plain' }));
    expect(Parameter?.ARN).toBe('arn:aws:ssm:us-east-1:123456789012:parameter/plain');
  });

  it('trims spaces around a name and refuses spaces inside it', async () => {
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: '  plain ' }));
    expect(Parameter?.Name).toBe('plain');
    const error = await ssm.send(new GetParameterCommand({ Name: 'pl ain' })).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ValidationException' });
  });

  it('throws ParameterNotFound with status 400 when the name does not exist', async () => {
    const error = await ssm.send(new GetParameterCommand({ Name: '/missing' })).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ParameterNotFound', $metadata: { httpStatusCode: 400 } });
  });

  it('refuses GetParameters with ValidationException when given 11 names', async () => {
    const names = Array.from({ length: 11 }, (_, i) => `/n${i}`);
    const error = await ssm.send(new GetParametersCommand({ Names: names })).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ValidationException' });
    expect((error as Error).message).toMatch(
      /^1 validation error detected: Value '\[.*\]' at 'names' failed to satisfy constraint: Member must have length less than or equal to 10$/,
    );
  });

  it('lists unknown names in InvalidParameters instead of failing when some names are missing', async () => {
    const result = await ssm.send(
      new GetParametersCommand({
        Names: ['plain', '/missing/one', '/app/feature:9', '/app/feature:nolabel'],
      }),
    );
    expect(result.Parameters?.map((p) => p.Name)).toEqual(['plain']);
    expect(result.InvalidParameters).toEqual(['/missing/one', '/app/feature:9', '/app/feature:nolabel']);
  });

  it('answers the asked version with a Selector when the name carries :version', async () => {
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: '/app/feature:1' }));
    expect(Parameter).toMatchObject({ Name: '/app/feature', Value: 'v1', Version: 1, Selector: ':1' });
    const latest = await ssm.send(new GetParameterCommand({ Name: '/app/feature' }));
    expect(latest.Parameter).toMatchObject({ Value: 'v3', Version: 3 });
    expect(latest.Parameter?.Selector).toBeUndefined();
  });

  it('answers the labelled version when the name carries :label', async () => {
    const result = await ssm.send(new GetParametersCommand({ Names: ['/app/feature:live'] }));
    expect(result.Parameters?.[0]).toMatchObject({ Value: 'v3', Version: 3, Selector: ':live' });
  });

  it('throws ParameterVersionNotFound when the version does not exist', async () => {
    const error = await ssm
      .send(new GetParameterCommand({ Name: '/app/feature:7' }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ParameterVersionNotFound' });
  });

  it('hides a SecureString value when decryption is off and shows it when on', async () => {
    const hidden = await ssm.send(new GetParameterCommand({ Name: '/app/secure' }));
    expect(hidden.Parameter?.Type).toBe('SecureString');
    expect(hidden.Parameter?.Value).not.toContain('the secret');
    expect(hidden.Parameter?.Value).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const shown = await ssm.send(new GetParameterCommand({ Name: '/app/secure', WithDecryption: true }));
    expect(shown.Parameter?.Value).toBe('the secret');
  });

  it('resolves a Secrets Manager reference with SourceResult when decryption is on', async () => {
    const { Parameter } = await ssm.send(
      new GetParameterCommand({ Name: '/aws/reference/secretsmanager/secret_info', WithDecryption: true }),
    );
    expect(Parameter).toMatchObject({
      Name: '/aws/reference/secretsmanager/secret_info',
      Type: 'SecureString',
      Value: '{"user":"app"}',
    });
    expect(Parameter?.ARN).toMatch(
      /^arn:aws:secretsmanager:us-east-1:123456789012:secret:secret_info-\w{6}$/,
    );
    expect(JSON.parse(Parameter?.SourceResult ?? '{}')).toMatchObject({
      Name: 'secret_info',
      SecretString: '{"user":"app"}',
      VersionStages: ['AWSCURRENT'],
    });
  });

  it('refuses a Secrets Manager reference with ValidationException when decryption is off', async () => {
    const error = await ssm
      .send(new GetParameterCommand({ Name: '/aws/reference/secretsmanager/secret_info' }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ValidationException' });
  });

  it('refuses GetParametersByPath with ValidationException when MaxResults is over 10', async () => {
    const error = await ssm
      .send(new GetParametersByPathCommand({ Path: '/paged', MaxResults: 11 }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ValidationException' });
    expect((error as Error).message).toContain("Value '11' at 'maxResults'");
  });

  it('refuses GetParametersByPath with ValidationException when the path lacks a leading slash', async () => {
    const error = await ssm.send(new GetParametersByPathCommand({ Path: 'paged' })).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ValidationException' });
  });

  it('pages a path completely, in order and without repeats when following NextToken', async () => {
    const pages: string[][] = [];
    let token: string | undefined;
    for (let page = 0; page < 10; page++) {
      const result = await ssm.send(
        new GetParametersByPathCommand({ Path: '/paged', MaxResults: 10, NextToken: token }),
      );
      pages.push((result.Parameters ?? []).map((p) => p.Name ?? ''));
      token = result.NextToken;
      if (token === undefined) break;
    }
    expect(pages.map((p) => p.length)).toEqual([10, 10, 3]);
    expect(pages.flat()).toEqual(
      Array.from({ length: 23 }, (_, i) => `/paged/${String(i).padStart(2, '0')}`),
    );
  });

  it('answers the same page again when a NextToken is reused', async () => {
    const first = await ssm.send(new GetParametersByPathCommand({ Path: '/paged', MaxResults: 5 }));
    const again = async () =>
      (
        await ssm.send(
          new GetParametersByPathCommand({ Path: '/paged', MaxResults: 5, NextToken: first.NextToken }),
        )
      ).Parameters?.map((p) => p.Name);
    expect(await again()).toEqual(await again());
    expect(await again()).toEqual(['/paged/05', '/paged/06', '/paged/07', '/paged/08', '/paged/09']);
  });

  it('includes nested levels only when Recursive is true', async () => {
    const collect = async (recursive: boolean) => {
      const names: string[] = [];
      let token: string | undefined;
      for (let page = 0; page < 10; page++) {
        const result = await ssm.send(
          new GetParametersByPathCommand({ Path: '/paged/', Recursive: recursive, NextToken: token }),
        );
        names.push(...(result.Parameters ?? []).map((p) => p.Name ?? ''));
        token = result.NextToken;
        if (token === undefined) break;
      }
      return names;
    };
    expect(await collect(false)).not.toContain('/paged/deeper/one');
    expect(await collect(true)).toContain('/paged/deeper/one');
    expect(await collect(true)).toHaveLength(24);
  });

  it('answers an empty page, then short pages, and still every name when shortPages is set', async () => {
    backends.ssm.setFaults({ shortPages: true });
    try {
      const sizes: number[] = [];
      const names: string[] = [];
      let token: string | undefined;
      for (let page = 0; page < 30; page++) {
        const result = await ssm.send(
          new GetParametersByPathCommand({ Path: '/paged', MaxResults: 10, NextToken: token }),
        );
        sizes.push(result.Parameters?.length ?? 0);
        names.push(...(result.Parameters ?? []).map((p) => p.Name ?? ''));
        token = result.NextToken;
        if (token === undefined) break;
      }
      expect(sizes.slice(0, 2)).toEqual([0, 5]);
      expect(Math.max(...sizes)).toBe(5);
      expect(names).toEqual(Array.from({ length: 23 }, (_, i) => `/paged/${String(i).padStart(2, '0')}`));
    } finally {
      backends.ssm.setFaults({});
    }
  });

  it('refuses a NextToken with InvalidNextToken when it was not issued', async () => {
    const error = await ssm
      .send(new GetParametersByPathCommand({ Path: '/paged', NextToken: 'bm90IGEgdG9rZW4' }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'InvalidNextToken' });
  });

  it('increments the version when a parameter is overwritten', async () => {
    const created = await ssm.send(new PutParameterCommand({ Name: '/rw/one', Value: 'a', Type: 'String' }));
    expect(created.Version).toBe(1);
    const refused = await ssm
      .send(new PutParameterCommand({ Name: '/rw/one', Value: 'b', Type: 'String' }))
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ name: 'ParameterAlreadyExists' });
    const overwritten = await ssm.send(
      new PutParameterCommand({ Name: '/rw/one', Value: 'b', Overwrite: true }),
    );
    expect(overwritten.Version).toBe(2);
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: '/rw/one' }));
    expect(Parameter).toMatchObject({ Value: 'b', Version: 2, Type: 'String' });
  });

  it('moves a label to the version it is attached to', async () => {
    await ssm.send(new PutParameterCommand({ Name: '/rw/label', Value: 'a', Type: 'String' }));
    await ssm.send(new PutParameterCommand({ Name: '/rw/label', Value: 'b', Overwrite: true }));
    const first = await ssm.send(
      new LabelParameterVersionCommand({
        Name: '/rw/label',
        ParameterVersion: 1,
        Labels: ['stable', '1bad'],
      }),
    );
    expect(first).toMatchObject({ ParameterVersion: 1, InvalidLabels: ['1bad'] });
    expect((await ssm.send(new GetParameterCommand({ Name: '/rw/label:stable' }))).Parameter?.Value).toBe(
      'a',
    );
    await ssm.send(new LabelParameterVersionCommand({ Name: '/rw/label', Labels: ['stable'] }));
    expect((await ssm.send(new GetParameterCommand({ Name: '/rw/label:stable' }))).Parameter?.Value).toBe(
      'b',
    );
  });

  it('forgets a parameter when it is deleted', async () => {
    await ssm.send(new PutParameterCommand({ Name: '/rw/gone', Value: 'x', Type: 'String' }));
    await ssm.send(new DeleteParameterCommand({ Name: '/rw/gone' }));
    const error = await ssm.send(new GetParameterCommand({ Name: '/rw/gone' })).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ParameterNotFound' });
  });

  it('finds a parameter by its ARN when the name is an ARN', async () => {
    const arn = 'arn:aws:ssm:us-east-1:123456789012:parameter/app/feature';
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: `${arn}:2` }));
    expect(Parameter).toMatchObject({ Name: '/app/feature', Value: 'v2', Selector: ':2' });
  });

  it('resolves a Secrets Manager reference in GetParameters and lists a missing secret as invalid', async () => {
    const result = await ssm.send(
      new GetParametersCommand({
        Names: ['/aws/reference/secretsmanager/secret_info', '/aws/reference/secretsmanager/nope'],
        WithDecryption: true,
      }),
    );
    expect(result.Parameters?.map((p) => p.Value)).toEqual(['{"user":"app"}']);
    expect(result.InvalidParameters).toEqual(['/aws/reference/secretsmanager/nope']);
  });

  it('keeps SecureString values hidden in a path listing unless decryption is asked', async () => {
    const hidden = await ssm.send(new GetParametersByPathCommand({ Path: '/app' }));
    const secure = hidden.Parameters?.find((p) => p.Name === '/app/secure');
    expect(secure?.Value).not.toBe('the secret');
    const shown = await ssm.send(new GetParametersByPathCommand({ Path: '/app', WithDecryption: true }));
    expect(shown.Parameters?.find((p) => p.Name === '/app/secure')?.Value).toBe('the secret');
  });

  it('filters a path listing by type and by label when ParameterFilters are given', async () => {
    const byType = await ssm.send(
      new GetParametersByPathCommand({
        Path: '/app',
        ParameterFilters: [{ Key: 'Type', Option: 'Equals', Values: ['StringList'] }],
      }),
    );
    expect(byType.Parameters?.map((p) => p.Name)).toEqual(['/app/list']);
    const byLabel = await ssm.send(
      new GetParametersByPathCommand({
        Path: '/app',
        ParameterFilters: [{ Key: 'Label', Values: ['live'] }],
      }),
    );
    expect(byLabel.Parameters?.map((p) => p.Name)).toEqual(['/app/feature']);
    const byKey = await ssm.send(
      new GetParametersByPathCommand({
        Path: '/app',
        ParameterFilters: [{ Key: 'KeyId', Values: ['alias/aws/ssm'] }],
      }),
    );
    expect(byKey.Parameters?.map((p) => p.Name)).toEqual(['/app/secure']);
  });

  it('refuses a filter key GetParametersByPath does not support with InvalidFilterKey', async () => {
    const error = await ssm
      .send(
        new GetParametersByPathCommand({ Path: '/app', ParameterFilters: [{ Key: 'Name', Values: ['x'] }] }),
      )
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'InvalidFilterKey' });
  });

  it('refuses a new parameter with ValidationException when its name is reserved or malformed', async () => {
    for (const name of ['aws-thing', '/ssm/x', 'a/b', 'has space']) {
      const error = await ssm
        .send(new PutParameterCommand({ Name: name, Value: 'x', Type: 'String' }))
        .catch((e: unknown) => e);
      expect(error, name).toMatchObject({ name: 'ValidationException' });
    }
  });

  it('refuses a standard-tier value over 4096 characters and takes it on the advanced tier', async () => {
    const value = 'x'.repeat(5000);
    const refused = await ssm
      .send(new PutParameterCommand({ Name: '/rw/big', Value: value, Type: 'String' }))
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ name: 'ValidationException' });
    const taken = await ssm.send(
      new PutParameterCommand({ Name: '/rw/big', Value: value, Type: 'String', Tier: 'Advanced' }),
    );
    expect(taken).toMatchObject({ Version: 1, Tier: 'Advanced' });
  });

  it('counts calls by operation when the SDK sends them', async () => {
    backends.ssm.resetCalls();
    await ssm.send(new GetParameterCommand({ Name: 'plain' }));
    await ssm.send(new GetParametersCommand({ Names: ['plain'] }));
    await ssm.send(new GetParametersCommand({ Names: ['plain'] }));
    expect(backends.ssm.calls).toEqual({ GetParameter: 1, GetParameters: 2 });
    expect(backends.ssm.callLog.map((c) => c.operation)).toEqual([
      'GetParameter',
      'GetParameters',
      'GetParameters',
    ]);
    expect(backends.ssm.callLog[1]?.request).toEqual({ Names: ['plain'] });
    expect(backends.secretsManager.calls).toEqual({});
  });

  it('keeps written values out of the call log when a parameter is put', async () => {
    backends.ssm.resetCalls();
    await ssm.send(
      new PutParameterCommand({ Name: '/rw/redacted', Value: 'top secret', Type: 'SecureString' }),
    );
    expect(JSON.stringify(backends.ssm.callLog)).not.toContain('top secret');
  });
});
