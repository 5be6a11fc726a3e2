/**
 * The client against the real packaged extension, under the Lambda emulator, over real sockets.
 */
import {
  AbortError,
  BadRequestError,
  type CacheClient,
  type CacheClientOptions,
  createCacheClient,
  ForbiddenError,
  NotFoundError,
  TimeoutError,
  TransformError,
} from '@lambda-cache/client';
import { Pool } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SEED_ITEM, SEED_PARAMETER, SEED_PARAMETER_VALUE, SEED_TABLE, seedData } from '../src/fixtures.js';
import { freePort, newToken, type Stack, sleep, startStack, waitFor } from '../src/harness.js';

const CONFIG = '/app/config';
const HOSTS = '/app/hosts';
const ORDERS = 'Orders';

function seed() {
  const base = seedData();
  return {
    ...base,
    parameters: [
      ...(base.parameters ?? []),
      { name: CONFIG, value: JSON.stringify({ flags: ['a', 'b'], limit: 3 }) },
      { name: HOSTS, value: 'a.example,b.example', type: 'StringList' as const },
      { name: '/app/broken-json', value: '{not json' },
      { name: '/app/versioned', value: 'third', history: ['first', 'second'], labels: ['prod'] },
    ],
    tables: [
      ...(base.tables ?? []),
      {
        name: ORDERS,
        hashKey: { name: 'id', type: 'N' as const },
        items: [{ id: 7, total: 12.5, tags: new Set(['x', 'y']), lines: [{ sku: 'k', qty: 2 }] }],
      },
    ],
  };
}

const clients: CacheClient[] = [];
function clientFor(port: number, token: string, options: CacheClientOptions = {}): CacheClient {
  const client = createCacheClient({ port, token, ...options });
  clients.push(client);
  return client;
}

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
});

describe('client against the packaged extension', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ seed: seed() });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('reads a prefetched parameter and its metadata when the name is configured', async () => {
    const cache = clientFor(stack.port, stack.token);
    await expect(cache.getParameter(SEED_PARAMETER)).resolves.toBe(SEED_PARAMETER_VALUE);
    await expect(
      cache.getParameter(SEED_PARAMETER, { metadata: true, forceFetch: true }),
    ).resolves.toMatchObject({
      name: SEED_PARAMETER,
      type: 'String',
      value: SEED_PARAMETER_VALUE,
      version: 1,
    });
  });

  it('reads a version or a label when the name carries a selector', async () => {
    const cache = clientFor(stack.port, stack.token);
    await expect(cache.getParameter('/app/versioned:1')).resolves.toBe('first');
    await expect(cache.getParameter('/app/versioned:prod')).resolves.toBe('third');
    await expect(cache.getParameter('/app/versioned', { metadata: true })).resolves.toMatchObject({
      version: 3,
    });
  });

  it('parses JSON and splits a StringList when transform asks for it', async () => {
    const cache = clientFor(stack.port, stack.token);
    await expect(cache.getParameter(CONFIG, { transform: 'json' })).resolves.toEqual({
      flags: ['a', 'b'],
      limit: 3,
    });
    await expect(cache.getParameter(HOSTS, { transform: 'list' })).resolves.toEqual([
      'a.example',
      'b.example',
    ]);
    await expect(cache.getParameter('/app/broken-json', { transform: 'json' })).rejects.toBeInstanceOf(
      TransformError,
    );
  });

  it('throws NotFoundError after a single request when the parameter does not exist', async () => {
    let requests = 0;
    const pool = new Pool(`http://127.0.0.1:${stack.port}`, { connections: 1 });
    const counting = pool.compose((dispatch) => (opts, handler) => {
      requests++;
      return dispatch(opts, handler);
    });
    const cache = clientFor(stack.port, stack.token, { dispatcher: counting });
    try {
      const err = await cache.getParameter('/app/missing').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotFoundError);
      expect((err as NotFoundError).status).toBe(404);
      expect(requests).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('reads the seed item and an item with numbers, sets and lists when given plain keys', async () => {
    const cache = clientFor(stack.port, stack.token);
    await expect(cache.getItem(SEED_TABLE, { sKey: 'sKey1', pKey: 'pKey1' })).resolves.toEqual(SEED_ITEM);
    await expect(cache.getItem(ORDERS, { id: 7 })).resolves.toEqual({
      id: 7,
      total: 12.5,
      tags: new Set(['x', 'y']),
      lines: [{ sku: 'k', qty: 2 }],
    });
  });

  it('returns undefined when the item does not exist', async () => {
    const cache = clientFor(stack.port, stack.token);
    await expect(cache.getItem(SEED_TABLE, { pKey: 'nope', sKey: 'nope' })).resolves.toBeUndefined();
  });

  it('throws BadRequestError naming the table and the key it expects when the key does not match', async () => {
    const cache = clientFor(stack.port, stack.token);
    // The seed table's keys are strings; a number for pKey does not match its key schema.
    const err = await cache.getItem(SEED_TABLE, { pKey: 1, sKey: 'sKey1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err).toMatchObject({
      status: 400,
      awsCode: 'ValidationException',
      table: SEED_TABLE,
      // The seed config declares the table's key: the answer says so.
      expectedKey: { pKey: 'S', sKey: 'S' },
    });
    expect((err as Error).message).toContain(SEED_TABLE);
    expect((err as Error).message).toContain('pKey of type S');
  });

  it('throws ForbiddenError when the token is wrong', async () => {
    const cache = clientFor(stack.port, 'not-the-token');
    await expect(cache.getParameter(SEED_PARAMETER)).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('throws TimeoutError when the backend is slower than timeoutMs, and AbortError when aborted', async () => {
    const cache = clientFor(stack.port, stack.token, { timeoutMs: 300 });
    stack.backends.ssm.setFaults({ latencyMs: 3000 });
    try {
      await expect(cache.getParameter('/app/slow-1')).rejects.toBeInstanceOf(TimeoutError);
      const controller = new AbortController();
      const call = cache.getParameter('/app/slow-2', { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      await expect(call).rejects.toBeInstanceOf(AbortError);
    } finally {
      stack.backends.ssm.setFaults({});
    }
  });
});

describe('client while the extension starts', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('succeeds when the call starts 300 ms before the extension is launched', async () => {
    // A port the OS just handed out and released: nothing listens on it until the extension does. Another
    // process may take it meanwhile; then the extension cannot listen and the attempt starts over.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const token = newToken();
      // Starting the local backends and the emulator takes seconds on a busy machine: a wider budget than
      // the default 3 s, so the test is about retrying, not about how fast the stack boots.
      const cache = clientFor(port, token, {
        retry: { retries: 100, maxTimeout: 100, maxRetryTime: 45_000 },
      });
      const call = cache.getParameter(SEED_PARAMETER);
      call.catch(() => {});
      await sleep(300);
      try {
        stack = await startStack({ env: { CACHE_EXTENSION_PORT: String(port), AWS_SESSION_TOKEN: token } });
      } catch (err) {
        if (attempt < 3 && /EADDRINUSE/.test(String((err as Error).message))) continue;
        throw err;
      }
      await expect(call).resolves.toBe(SEED_PARAMETER_VALUE);
      return;
    }
  });
});

describe('in-process layer against the extension', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('serves from memory while max-age lasts and follows the extension once it has the new value', async () => {
    stack = await startStack({ env: { CACHE_EXTENSION_TTL: '2s' } });
    const s = stack;
    let requests = 0;
    const pool = new Pool(`http://127.0.0.1:${s.port}`, { connections: 2 });
    const counting = pool.compose((dispatch) => (opts, handler) => {
      requests++;
      return dispatch(opts, handler);
    });
    const cache = clientFor(s.port, s.token, { dispatcher: counting });
    try {
      await expect(cache.getParameter(SEED_PARAMETER, { forceFetch: true })).resolves.toBe(
        SEED_PARAMETER_VALUE,
      );
      await expect(cache.getParameter(SEED_PARAMETER)).resolves.toBe(SEED_PARAMETER_VALUE);
      expect(requests).toBe(1);
      s.backends.ssm.putParameter({ name: SEED_PARAMETER, value: 'second value', overwrite: true });
      await waitFor(
        'the extension to serve the new value',
        async () => (await s.get(`/v1/parameters?name=${SEED_PARAMETER}`)).body.value === 'second value',
        { timeoutMs: 20_000, intervalMs: 200 },
      );
      await expect(cache.getParameter(SEED_PARAMETER)).resolves.toBe('second value');
      expect(requests).toBeGreaterThan(1);
    } finally {
      await pool.close();
    }
  });
});
