import { Pool } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AbortError,
  BadRequestError,
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
  it('sends no retry when the client is closed between attempts', async () => {
    const fake = await fakeWith(() => error(503, 'ServiceUnavailable'));
    const client = createCacheClient({
      port: fake.port,
      localCache: false,
      retry: { retries: 5, minTimeout: 200, maxTimeout: 200 },
    });
    const call = client.getParameter('p').catch((e: unknown) => e);
    for (let i = 0; i < 400 && fake.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    await client.close();
    const err = await call;
    expect(err).toBeInstanceOf(ExtensionUnavailableError);
    expect((err as Error).message).toContain('closed');
    expect(fake.requests).toHaveLength(1);
  });

  it('rejects later calls when the client was closed', async () => {
    const fake = await fakeWith(() => ok);
    const client = createCacheClient({ port: fake.port });
    await client.close();
    await expect(client.getParameter('p')).rejects.toBeInstanceOf(ExtensionUnavailableError);
  });
});

describe('attempt and call bounds', () => {
  // 30 pieces, one every 100 ms: each piece arrives well within timeoutMs, the whole body does not.
  const trickling: Answer = { body: parameterBody('p', 'v'), trickle: { pieces: 30, intervalMs: 100 } };

  it('throws TimeoutError when the body trickles in for longer than timeoutMs', async () => {
    const fake = await fakeWith(() => trickling);
    const err = await clientOn(fake.port, { timeoutMs: 500 })
      .getParameter('p')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toContain('timeoutMs');
    expect(fake.requests).toHaveLength(1);
  });

  it('returns the value when a body in pieces is complete within timeoutMs', async () => {
    const fake = await fakeWith(() => ({
      body: parameterBody('p', 'v'),
      trickle: { pieces: 4, intervalMs: 10 },
    }));
    await expect(clientOn(fake.port, { timeoutMs: 3000 }).getParameter('p')).resolves.toBe('v');
  });

  it('throws TimeoutError when the body trickles through a caller-supplied undici dispatcher', async () => {
    const fake = await fakeWith(() => trickling);
    const pool = new Pool(`http://127.0.0.1:${fake.port}`, { connections: 1 });
    open.push(pool);
    const err = await clientOn(fake.port, { timeoutMs: 500, dispatcher: pool })
      .getParameter('p')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
  });

  it('throws TimeoutError when retries and a trickling answer together outlast the call bound', async () => {
    // 503 for the first second, then a body that takes 1.5 s: each attempt fits in timeoutMs, but the
    // call, which may take no longer than max(timeoutMs, maxRetryTime) = 1.6 s, cannot wait for it.
    let firstAt: number | undefined;
    const fake = await fakeWith(() => {
      firstAt ??= performance.now();
      return performance.now() - firstAt < 1000
        ? error(503, 'ServiceUnavailable')
        : { body: parameterBody('p', 'v'), trickle: { pieces: 15, intervalMs: 100 } };
    });
    const client = clientOn(fake.port, {
      timeoutMs: 1600,
      retry: { retries: 100, minTimeout: 50, maxTimeout: 50, maxRetryTime: 1600 },
    });
    const err = await client.getParameter('p').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toContain('retries included');
    expect(fake.requests.length).toBeGreaterThan(1);
  });

  it('lets a call in flight finish when the client is closed', async () => {
    const fake = await fakeWith(() => ({
      body: parameterBody('p', 'v'),
      trickle: { pieces: 3, intervalMs: 50 },
    }));
    const client = createCacheClient({ port: fake.port, localCache: false });
    const call = client.getParameter('p');
    await new Promise((r) => setTimeout(r, 20));
    await client.close();
    await expect(call).resolves.toBe('v');
  });
});

describe('envelope detail', () => {
  it('carries awsCode and the envelope code when the extension refuses a key as malformed', async () => {
    const fake = await fakeWith(() => error(400, 'BadRequest', { awsCode: 'ValidationException' }));
    const err = await clientOn(fake.port)
      .getItem('T', { id: 'x' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err).toMatchObject({ awsCode: 'ValidationException', extensionCode: 'BadRequest', status: 400 });
  });
});
