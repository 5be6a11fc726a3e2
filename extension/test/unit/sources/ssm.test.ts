import { describe, expect, it } from 'vitest';
import type { AwsCallOptions, AwsClient } from '../../../src/aws/index.js';
import { NotFoundError } from '../../../src/errors.js';
import {
  SsmSource,
  THROTTLED_BATCH_ROUNDS,
  THROTTLED_ROUNDS_BUDGET_MS,
  THROTTLED_ROUNDS_END_MS,
} from '../../../src/sources/ssm.js';
import { FakeAws, serviceError } from '../support/fake-aws.js';

type Names = { Names: string[] };

function source(aws: FakeAws, opts: { now?: () => number; waits?: number[] } = {}) {
  return new SsmSource({
    aws,
    sleep: async (ms) => {
      opts.waits?.push(ms);
    },
    ...(opts.now ? { now: opts.now } : {}),
  });
}

const allFound = (input: Record<string, unknown>) => ({
  Parameters: (input as Names).Names.map((n) => ({ Name: n, Type: 'String', Value: `v-${n}`, Version: 1 })),
  InvalidParameters: [],
});

describe('SsmSource', () => {
  it('sends 3 GetParameters calls of at most 10 names when 25 names are asked', async () => {
    const aws = new FakeAws().on('ssm', 'GetParameters', allFound);
    const names = Array.from({ length: 25 }, (_, i) => `/app/p${i}`);
    const got = await source(aws).getParameters('us-west-2', names, true);
    const sent = aws.inputs('GetParameters') as Names[];
    expect(sent.map((i) => i.Names.length)).toEqual([10, 10, 5]);
    expect(aws.inputs('GetParameters').every((i) => i.WithDecryption === true)).toBe(true);
    expect(aws.calls.every((c) => c.service === 'ssm' && c.region === 'us-west-2')).toBe(true);
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
    const aws = new FakeAws().on('ssm', 'GetParameters', async (input) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return allFound(input);
    });
    const names = Array.from({ length: 1000 }, (_, i) => `/app/p${i}`);
    const got = await source(aws).getParameters(undefined, names, false);
    expect(aws.calls).toHaveLength(100);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(16);
    expect([...got.values()].every((v) => !(v instanceof Error))).toBe(true);
    expect(got.size).toBe(1000);
  });

  it('returns NotFoundError for names listed in InvalidParameters', async () => {
    const aws = new FakeAws().on('ssm', 'GetParameters', () => ({
      // SSM's JSON protocol sends dates as epoch seconds, with a fraction.
      Parameters: [
        { Name: 'a', Type: 'SecureString', Value: 'x', Version: 4, LastModifiedDate: 1700000000.123 },
      ],
      InvalidParameters: ['b'],
    }));
    const got = await source(aws).getParameters(undefined, ['a', 'b'], true);
    expect(got.get('a')).toEqual({
      name: 'a',
      type: 'SecureString',
      value: 'x',
      version: 4,
      lastModified: '2023-11-14T22:13:20.123Z',
    });
    expect(got.get('b')).toBeInstanceOf(NotFoundError);
  });

  it('matches a versioned or labelled name to its answer when SSM returns the selector apart', async () => {
    const aws = new FakeAws().on('ssm', 'GetParameters', () => ({
      Parameters: [
        { Name: 'db', Selector: ':3', Type: 'String', Value: 'three', Version: 3 },
        { Name: 'db', Selector: ':prod', Type: 'String', Value: 'prod', Version: 5 },
      ],
    }));
    const got = await source(aws).getParameters(undefined, ['db:3', 'db:prod'], true);
    expect(got.get('db:3')).toMatchObject({ name: 'db:3', value: 'three', selector: ':3' });
    expect(got.get('db:prod')).toMatchObject({ name: 'db:prod', version: 5 });
  });

  it('matches a secret reference to an answer that names the secret without the reference prefix', async () => {
    const aws = new FakeAws().on('ssm', 'GetParameters', () => ({
      Parameters: [
        {
          Name: 'db-secret',
          ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:db-secret-AbCdEf',
          Type: 'SecureString',
          Value: 'v',
          Version: 0,
        },
      ],
      InvalidParameters: [],
    }));
    const name = '/aws/reference/secretsmanager/db-secret';
    const got = await source(aws).getParameters(
      undefined,
      [name, '/aws/reference/secretsmanager/other'],
      true,
    );
    expect(got.get(name)).toMatchObject({ name, value: 'v', type: 'SecureString' });
    expect(got.get('/aws/reference/secretsmanager/other')).toBeInstanceOf(NotFoundError);
  });

  it('gives the call error to every name of the batch when the call fails', async () => {
    const denied = serviceError('AccessDeniedException');
    const aws = new FakeAws().on('ssm', 'GetParameters', () => {
      throw denied;
    });
    const got = await source(aws).getParameters(undefined, ['a', 'b'], false);
    expect(got.get('a')).toBe(denied);
    expect(got.get('b')).toBe(denied);
  });

  it('asks for each name alone when one malformed name fails the batch', async () => {
    const invalid = serviceError('ValidationException');
    const aws = new FakeAws().on('ssm', 'GetParameters', (input) => {
      if ((input as Names).Names.includes('bad name')) throw invalid;
      return allFound(input);
    });
    const got = await source(aws).getParameters(undefined, ['good', 'bad name'], true);
    expect(got.get('good')).toMatchObject({ value: 'v-good' });
    expect(got.get('bad name')).toBe(invalid);
    expect(aws.calls).toHaveLength(3);
  });

  it('follows NextToken when a path has several pages', async () => {
    const aws = new FakeAws().on('ssm', 'GetParametersByPath', (input) =>
      input.NextToken === undefined
        ? { Parameters: [{ Name: '/app/a', Type: 'String', Value: '1', Version: 1 }], NextToken: 't1' }
        : { Parameters: [{ Name: '/app/b/c', Type: 'String', Value: '2', Version: 1 }] },
    );
    const got = await source(aws).getParametersByPath(undefined, '/app', true, true);
    expect(got.truncated).toBe(false);
    expect(got.parameters.map((p) => p.name)).toEqual(['/app/a', '/app/b/c']);
    const inputs = aws.inputs('GetParametersByPath');
    expect(inputs[0]).toMatchObject({ Path: '/app', Recursive: true, WithDecryption: true, MaxResults: 10 });
    expect(inputs[1]).toMatchObject({ NextToken: 't1' });
    expect(inputs).toHaveLength(2);
  });

  describe('throttled rounds', () => {
    it('retries a batch throttled through every attempt in later rounds, with growing waits', async () => {
      let throttledCalls = 2;
      const aws = new FakeAws().on('ssm', 'GetParameters', (input) => {
        if (throttledCalls-- > 0) throw serviceError('ThrottlingException', { throttling: true });
        return allFound(input);
      });
      const waits: number[] = [];
      const got = await source(aws, { waits }).getParameters(undefined, ['a', 'b'], true);
      expect(got.get('a')).toMatchObject({ value: 'v-a' });
      expect(aws.calls).toHaveLength(3);
      expect(waits).toHaveLength(2);
      // Full jitter under a cap that doubles: round 1 waits < 200 ms, round 2 < 400 ms.
      expect(waits[0]).toBeLessThan(200);
      expect(waits[1]).toBeLessThan(400);
    });

    it(`gives up after ${THROTTLED_BATCH_ROUNDS} extra rounds and hands every name the throttling error`, async () => {
      const throttled = serviceError('ThrottlingException', { throttling: true });
      const aws = new FakeAws().on('ssm', 'GetParameters', () => {
        throw throttled;
      });
      const got = await source(aws).getParameters(undefined, ['a', 'b'], true);
      expect(aws.calls).toHaveLength(1 + THROTTLED_BATCH_ROUNDS);
      expect(got.get('a')).toBe(throttled);
      expect(got.get('b')).toBe(throttled);
    });

    it('starts no round once the budget has passed, so a waiting request gets the 429 in time', async () => {
      let now = 0;
      const aws = new FakeAws().on('ssm', 'GetParameters', () => {
        now += THROTTLED_ROUNDS_BUDGET_MS; // the client's own attempts used the whole budget
        throw serviceError('ThrottlingException', { throttling: true });
      });
      const got = await source(aws, { now: () => now }).getParameters(undefined, ['a'], true);
      expect(aws.calls).toHaveLength(1);
      expect((got.get('a') as { awsCode?: string }).awsCode).toBe('ThrottlingException');
    });

    it('cuts a round off at the end of the rounds and answers its throttling, so a waiting request gets the 429 in time', async () => {
      const throttled = serviceError('ThrottlingException', { throttling: true });
      const signals: Array<AbortSignal | undefined> = [];
      // The first call is throttled; the round after it would hang until it is cut off.
      const aws: AwsClient = {
        json: (_service, _region, _operation, _input, opts?: AwsCallOptions) => {
          signals.push(opts?.signal);
          if (signals.length === 1) return Promise.reject(throttled);
          return new Promise((_, reject) => {
            opts?.signal?.addEventListener('abort', () => reject(opts.signal?.reason));
          });
        },
        rest: () => Promise.reject(new Error('not used')),
        destroy: () => undefined,
      };
      // The clock as the source reads it: the batch starts, the throttled call ends just inside the
      // rounds' budget (so a round starts), and the round begins 20 ms before the end of the rounds.
      const clock = [0, THROTTLED_ROUNDS_BUDGET_MS - 1, THROTTLED_ROUNDS_END_MS - 20];
      const got = await new SsmSource({
        aws,
        sleep: async () => undefined,
        now: () => clock.shift() ?? THROTTLED_ROUNDS_END_MS,
      }).getParameters(undefined, ['a'], true);
      expect(signals).toHaveLength(2);
      expect(signals[0]).toBeUndefined();
      expect(signals[1]?.aborted).toBe(true);
      expect(got.get('a')).toBe(throttled);
    });

    it('does not retry an error that is not throttling', async () => {
      const aws = new FakeAws().on('ssm', 'GetParameters', () => {
        throw serviceError('AccessDeniedException');
      });
      await source(aws).getParameters(undefined, ['a'], true);
      expect(aws.calls).toHaveLength(1);
    });
  });
});
