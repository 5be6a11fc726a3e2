import { afterEach, describe, expect, it } from 'vitest';
import {
  AbortError,
  type CacheClient,
  createCacheClient,
  ExtensionError,
  ExtensionUnavailableError,
  ForbiddenError,
  InvalidOptionError,
  ThrottledError,
  TimeoutError,
  UpstreamError,
  UpstreamTimeoutError,
} from '../../src/index.js';
import { type Answer, type FakeExtension, freePort, parameterBody, startFakeExtension } from './server.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
});

async function fakeWith(answers: (index: number) => Answer): Promise<FakeExtension> {
  const fake = await startFakeExtension((_url, _req, i) => answers(i));
  open.push(fake);
  return fake;
}

function clientOn(port: number, extra: Parameters<typeof createCacheClient>[0] = {}): CacheClient {
  const client = createCacheClient({ port, localCache: false, ...extra });
  open.push(client);
  return client;
}

const ok: Answer = { body: parameterBody('p', 'v') };
const error = (status: number, code: string, extra: object = {}): Answer => ({
  status,
  body: { code, message: `${code} happened`, ...extra },
});

describe('retry policy', () => {
  it('succeeds when the extension starts listening 300 ms after the call began', async () => {
    const port = await freePort();
    const client = clientOn(port);
    const call = client.getParameter('p');
    await new Promise((r) => setTimeout(r, 300));
    const fake = await startFakeExtension(() => ok, port);
    open.push(fake);
    await expect(call).resolves.toBe('v');
    expect(fake.requests).toHaveLength(1);
  });

  it('throws ExtensionUnavailableError naming the layer and the port when nothing ever listens', async () => {
    const port = await freePort();
    const client = clientOn(port, { retry: { retries: 3, minTimeout: 5, maxTimeout: 10 } });
    const err = await client.getParameter('p').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExtensionUnavailableError);
    expect((err as ExtensionUnavailableError).code).toBe('ExtensionUnavailable');
    expect((err as Error).message).toContain('layer');
    expect((err as Error).message).toContain('CACHE_EXTENSION_PORT');
    expect((err as Error).message).toContain(String(port));
    expect(((err as Error).cause as { code?: string }).code).toBe('ECONNREFUSED');
  });

  it('retries then succeeds when the extension answers 503 twice', async () => {
    const fake = await fakeWith((i) => (i < 2 ? error(503, 'ServiceUnavailable') : ok));
    await expect(clientOn(fake.port).getParameter('p')).resolves.toBe('v');
    expect(fake.requests).toHaveLength(3);
  });

  it('retries then succeeds when the extension answers 429 once', async () => {
    const fake = await fakeWith((i) => (i < 1 ? error(429, 'Throttled') : ok));
    await expect(clientOn(fake.port).getParameter('p')).resolves.toBe('v');
    expect(fake.requests).toHaveLength(2);
  });

  it('retries then succeeds when the socket is reset without an answer', async () => {
    const fake = await fakeWith((i) => (i < 1 ? { reset: true } : ok));
    await expect(clientOn(fake.port).getParameter('p')).resolves.toBe('v');
    expect(fake.requests).toHaveLength(2);
  });

  it('throws ThrottledError when 429 outlasts the retries', async () => {
    const fake = await fakeWith(() => error(429, 'Throttled'));
    const client = clientOn(fake.port, { retry: { retries: 2, minTimeout: 1, maxTimeout: 1 } });
    await expect(client.getParameter('p')).rejects.toBeInstanceOf(ThrottledError);
    expect(fake.requests).toHaveLength(3);
  });

  it.each([
    [400, 'BadRequest'],
    [403, 'Forbidden'],
    [404, 'NotFound'],
    [405, 'MethodNotAllowed'],
    [500, 'InternalFailure'],
    [502, 'UpstreamError'],
    [504, 'UpstreamTimeout'],
  ])('does not retry when the extension answers %i', async (status, code) => {
    const fake = await fakeWith(() => error(status, code));
    await expect(clientOn(fake.port).getParameter('p')).rejects.toMatchObject({ status });
    expect(fake.requests).toHaveLength(1);
  });
});

describe('error mapping', () => {
  it('maps each error status to its class when the extension answers with an envelope', async () => {
    const cases: [Answer, unknown, string][] = [
      [error(403, 'Forbidden'), ForbiddenError, 'Forbidden'],
      [error(502, 'UpstreamError', { awsCode: 'AccessDeniedException' }), UpstreamError, 'UpstreamError'],
      [error(504, 'UpstreamTimeout'), UpstreamTimeoutError, 'UpstreamTimeout'],
      [error(500, 'InternalFailure'), ExtensionError, 'ExtensionError'],
      [{ status: 200, body: 'not json' }, ExtensionError, 'ExtensionError'],
    ];
    for (const [answer, cls, code] of cases) {
      const fake = await fakeWith(() => answer);
      const err = await clientOn(fake.port)
        .getParameter('p')
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(cls as typeof Error);
      expect((err as { code: string }).code).toBe(code);
    }
  });

  it('carries the AWS error code when the extension reports an upstream failure', async () => {
    const fake = await fakeWith(() => error(502, 'UpstreamError', { awsCode: 'AccessDeniedException' }));
    const err = await clientOn(fake.port)
      .getParameter('p')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ awsCode: 'AccessDeniedException', status: 502 });
  });
});

describe('timeout and abort', () => {
  it('throws TimeoutError without retrying when no answer comes within timeoutMs', async () => {
    const fake = await fakeWith(() => ({ hang: true }));
    const err = await clientOn(fake.port, { timeoutMs: 150 })
      .getParameter('p')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).code).toBe('Timeout');
    expect(fake.requests).toHaveLength(1);
  });

  it('throws AbortError with the reason when the signal fires while waiting for an answer', async () => {
    const fake = await fakeWith(() => ({ hang: true }));
    const controller = new AbortController();
    const call = clientOn(fake.port).getParameter('p', { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('invocation ending')), 50);
    const err = await call.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect(((err as AbortError).cause as Error).message).toBe('invocation ending');
  });

  it('stops retrying at once when the signal fires between attempts', async () => {
    const port = await freePort();
    const controller = new AbortController();
    const client = clientOn(port, { retry: { retries: 100, minTimeout: 10_000, maxTimeout: 10_000 } });
    const call = client.getParameter('p', { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(call).rejects.toBeInstanceOf(AbortError);
  });

  it('throws AbortError without a request when the signal has already fired', async () => {
    const fake = await fakeWith(() => ok);
    const err = await clientOn(fake.port)
      .getParameter('p', { signal: AbortSignal.abort() })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('invalid token', () => {
  it('throws InvalidOptionError without a request when the token cannot be a header value', async () => {
    const fake = await fakeWith(() => ok);
    const err = await clientOn(fake.port, { token: 'abc\r\nx-injected: 1' })
      .getParameter('p')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('close', () => {
  it('rejects later calls when the client was closed', async () => {
    const fake = await fakeWith(() => ok);
    const client = createCacheClient({ port: fake.port });
    await client.close();
    await expect(client.getParameter('p')).rejects.toBeInstanceOf(ExtensionUnavailableError);
  });
});
