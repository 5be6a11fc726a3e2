import { GetParametersByPathCommand, GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../../src/errors.js';
import { SsmSource } from '../../../src/sources/ssm.js';

const ssmMock = mockClient(SSMClient);

function source(calls: string[] = []) {
  const client = new SSMClient({ region: 'us-west-2' });
  return new SsmSource({ clientFor: () => client, count: (op) => calls.push(op) });
}

describe('SsmSource', () => {
  afterEach(() => ssmMock.reset());

  it('sends 3 GetParameters calls of at most 10 names when 25 names are asked', async () => {
    ssmMock.on(GetParametersCommand).callsFake((input: { Names: string[] }) => ({
      Parameters: input.Names.map((n) => ({ Name: n, Type: 'String', Value: `v-${n}`, Version: 1 })),
      InvalidParameters: [],
    }));
    const names = Array.from({ length: 25 }, (_, i) => `/app/p${i}`);
    const calls: string[] = [];
    const got = await source(calls).getParameters('us-west-2', names, true);
    const sent = ssmMock.commandCalls(GetParametersCommand).map((c) => c.args[0].input);
    expect(sent.map((i) => i.Names?.length)).toEqual([10, 10, 5]);
    expect(sent.every((i) => i.WithDecryption === true)).toBe(true);
    expect(calls).toEqual(['ssm:GetParameters', 'ssm:GetParameters', 'ssm:GetParameters']);
    expect(got.size).toBe(25);
    expect(got.get('/app/p7')).toMatchObject({
      name: '/app/p7',
      type: 'String',
      value: 'v-/app/p7',
      version: 1,
    });
  });

  it('keeps at most 16 calls in flight and sends ceil(P/10) calls when 1000 names are asked', async () => {
    let inFlight = 0;
    let most = 0;
    ssmMock.on(GetParametersCommand).callsFake(async (input: { Names: string[] }) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return {
        Parameters: input.Names.map((n) => ({ Name: n, Type: 'String', Value: 'v', Version: 1 })),
        InvalidParameters: [],
      };
    });
    const names = Array.from({ length: 1000 }, (_, i) => `/app/p${i}`);
    const calls: string[] = [];
    const got = await source(calls).getParameters(undefined, names, false);
    expect(calls).toHaveLength(100);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(16);
    expect([...got.values()].every((v) => !(v instanceof Error))).toBe(true);
    expect(got.size).toBe(1000);
  });

  it('returns NotFoundError for names listed in InvalidParameters', async () => {
    ssmMock.on(GetParametersCommand).resolves({
      Parameters: [
        { Name: 'a', Type: 'SecureString', Value: 'x', Version: 4, LastModifiedDate: new Date(0) },
      ],
      InvalidParameters: ['b'],
    });
    const got = await source().getParameters(undefined, ['a', 'b'], true);
    expect(got.get('a')).toEqual({
      name: 'a',
      type: 'SecureString',
      value: 'x',
      version: 4,
      lastModified: '1970-01-01T00:00:00.000Z',
    });
    expect(got.get('b')).toBeInstanceOf(NotFoundError);
  });

  it('matches a versioned or labelled name to its answer when SSM returns the selector apart', async () => {
    ssmMock.on(GetParametersCommand).resolves({
      Parameters: [
        { Name: 'db', Selector: ':3', Type: 'String', Value: 'three', Version: 3 },
        { Name: 'db', Selector: ':prod', Type: 'String', Value: 'prod', Version: 5 },
      ],
    });
    const got = await source().getParameters(undefined, ['db:3', 'db:prod'], true);
    expect(got.get('db:3')).toMatchObject({ name: 'db:3', value: 'three', selector: ':3' });
    expect(got.get('db:prod')).toMatchObject({ name: 'db:prod', version: 5 });
  });

  it('gives the call error to every name of the batch when the call fails', async () => {
    const denied = Object.assign(new Error('denied'), { name: 'AccessDeniedException', $metadata: {} });
    ssmMock.on(GetParametersCommand).rejects(denied);
    const got = await source().getParameters(undefined, ['a', 'b'], false);
    expect((got.get('a') as Error).name).toBe('AccessDeniedException');
    expect((got.get('b') as Error).name).toBe('AccessDeniedException');
  });

  it('asks for each name alone when one malformed name fails the batch', async () => {
    const invalid = Object.assign(new Error('bad name'), { name: 'ValidationException', $metadata: {} });
    ssmMock.on(GetParametersCommand).callsFake((input: { Names: string[] }) => {
      if (input.Names.includes('bad name')) throw invalid;
      return { Parameters: input.Names.map((n) => ({ Name: n, Type: 'String', Value: 'v', Version: 1 })) };
    });
    const got = await source().getParameters(undefined, ['good', 'bad name'], true);
    expect(got.get('good')).toMatchObject({ value: 'v' });
    expect((got.get('bad name') as Error).name).toBe('ValidationException');
    expect(ssmMock.commandCalls(GetParametersCommand)).toHaveLength(3);
  });

  it('follows NextToken when a path has several pages', async () => {
    ssmMock
      .on(GetParametersByPathCommand, { Path: '/app', NextToken: undefined })
      .resolves({ Parameters: [{ Name: '/app/a', Type: 'String', Value: '1', Version: 1 }], NextToken: 't1' })
      .on(GetParametersByPathCommand, { Path: '/app', NextToken: 't1' })
      .resolves({ Parameters: [{ Name: '/app/b/c', Type: 'String', Value: '2', Version: 1 }] });
    const calls: string[] = [];
    const got = await source(calls).getParametersByPath(undefined, '/app', true, true);
    expect(got.truncated).toBe(false);
    expect(got.parameters.map((p) => p.name)).toEqual(['/app/a', '/app/b/c']);
    const inputs = ssmMock.commandCalls(GetParametersByPathCommand).map((c) => c.args[0].input);
    expect(inputs[0]).toMatchObject({ Recursive: true, WithDecryption: true, MaxResults: 10 });
    expect(calls).toEqual(['ssm:GetParametersByPath', 'ssm:GetParametersByPath']);
  });
});
