import { GetParameterCommand, GetParametersCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Backends, HUGE_PADDING_BYTES, startBackends } from '../../src/backends.js';
import { ssmClient } from '../fixtures/aws-clients.js';

/** A small seeded generator, so rates are checked against the same draws every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const get = (ssm: SSMClient) => ssm.send(new GetParameterCommand({ Name: '/app/value' }));

describe('fault injection', () => {
  let backends: Backends;
  let ssm: SSMClient;

  beforeAll(async () => {
    backends = await startBackends({
      random: seededRandom(42),
      seed: { parameters: [{ name: '/app/value', value: 'hello' }] },
    });
    ssm = ssmClient(backends.ssm);
  });

  afterEach(() => {
    backends.ssm.setFaults({});
    backends.ssm.resetCalls();
  });

  afterAll(async () => {
    ssm.destroy();
    await backends.close();
  });

  it('throttles about the asked share of calls with ThrottlingException when throttleRate is set', async () => {
    backends.ssm.setFaults({ throttleRate: 0.3 });
    let throttled = 0;
    for (let i = 0; i < 60; i++) {
      const error = await get(ssm).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (error === undefined) continue;
      expect(error).toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
      throttled++;
    }
    expect(throttled).toBeGreaterThan(8);
    expect(throttled).toBeLessThan(30);
    expect(backends.ssm.calls.GetParameter).toBe(60);
  });

  it('answers InternalServerError with status 500 when failRate is 1', async () => {
    backends.ssm.setFaults({ failRate: 1 });
    const error = await get(ssm).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'InternalServerError', $metadata: { httpStatusCode: 500 } });
  });

  it('limits faults to the listed operations when operations is set', async () => {
    backends.ssm.setFaults({ throttleRate: 1, operations: ['GetParameters'] });
    await expect(get(ssm)).resolves.toMatchObject({ Parameter: { Value: 'hello' } });
    await expect(ssm.send(new GetParametersCommand({ Names: ['/app/value'] }))).rejects.toMatchObject({
      name: 'ThrottlingException',
    });
  });

  it('fails with a network error in the SDK when the backend is down, and recovers when cleared', async () => {
    await get(ssm); // leaves a keep-alive socket that `down` must reset too
    backends.ssm.setFaults({ down: true });
    const error = await get(ssm).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBeUndefined();
    expect(['ECONNRESET', 'EPIPE', 'ECONNREFUSED']).toContain((error as NodeJS.ErrnoException).code);
    backends.ssm.setFaults({});
    await expect(get(ssm)).resolves.toMatchObject({ Parameter: { Value: 'hello' } });
  });

  it.each(['truncated', 'garbage'] as const)(
    'makes the SDK fail to deserialize when malformed is %s',
    async (mode) => {
      backends.ssm.setFaults({ malformed: mode });
      const error = await get(ssm).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(String((error as Error).message)).toMatch(/Deserialization error|JSON/);
    },
  );

  it('still parses in the SDK when malformed is extra-fields', async () => {
    backends.ssm.setFaults({ malformed: 'extra-fields' });
    await expect(get(ssm)).resolves.toMatchObject({ Parameter: { Value: 'hello', Version: 1 } });
  });

  it('sends a body larger than the padding when malformed is huge', async () => {
    backends.ssm.setFaults({ malformed: 'huge' });
    const result = await get(ssm);
    expect(result.Parameter?.Value).toBe('hello');
    const response = await fetch(backends.ssm.endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': 'AmazonSSM.GetParameter', 'content-type': 'application/x-amz-json-1.1' },
      body: JSON.stringify({ Name: '/app/value' }),
    });
    expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(HUGE_PADDING_BYTES);
  });

  it('leaves error answers intact when malformed is set', async () => {
    backends.ssm.setFaults({ malformed: 'garbage' });
    const error = await ssm.send(new GetParameterCommand({ Name: '/missing' })).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ParameterNotFound' });
  });

  it('delays the answer by at least latencyMs when latency is set', async () => {
    backends.ssm.setFaults({ latencyMs: 150 });
    const started = performance.now();
    await get(ssm);
    // A lower bound only: the answer cannot come before the injected delay.
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('refuses fault values outside their range with RangeError', () => {
    expect(() => backends.ssm.setFaults({ throttleRate: 1.5 })).toThrow(RangeError);
    expect(() => backends.ssm.setFaults({ hangMs: -1 })).toThrow(RangeError);
    expect(() => backends.ssm.setFaults({ malformed: 'weird' as 'huge' })).toThrow(RangeError);
    expect(() => backends.ssm.setFaults({ throttleRate: 1, operations: ['GetParameterz'] })).toThrow(
      /unknown operations GetParameterz/,
    );
    expect(() => backends.dynamodb.setFaults({ operations: ['GetParameters'] })).toThrow(RangeError);
  });

  it('answers SerializationException when the body is not JSON', async () => {
    const response = await fetch(backends.ssm.endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': 'AmazonSSM.GetParameter', 'content-type': 'application/x-amz-json-1.1' },
      body: '{not json',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('SerializationException');
    expect(await response.json()).toMatchObject({ __type: 'SerializationException' });
  });

  it('refuses a body over the limit with 413', async () => {
    const response = await fetch(backends.ssm.endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': 'AmazonSSM.PutParameter', 'content-type': 'application/x-amz-json-1.1' },
      body: JSON.stringify({ Name: '/big', Value: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(response.status).toBe(413);
    await response.arrayBuffer();
  });
});

describe('hangMs', () => {
  it('holds requests until close() releases them when hangMs is set', async () => {
    const backends = await startBackends({ seed: { parameters: [{ name: '/app/value', value: 'hello' }] } });
    const ssm = ssmClient(backends.ssm);
    try {
      backends.ssm.setFaults({ hangMs: 60_000 });
      let settled = false;
      const pending = get(ssm).then(
        () => 'answered',
        () => 'failed',
      );
      void pending.finally(() => {
        settled = true;
      });
      for (let i = 0; i < 200 && backends.ssm.calls.GetParameter !== 1; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(backends.ssm.calls.GetParameter).toBe(1);
      expect(settled).toBe(false);
      await backends.close();
      expect(await pending).toBe('failed');
    } finally {
      ssm.destroy();
      await backends.close();
    }
  });
});
