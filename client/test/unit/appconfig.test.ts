import { type AppConfigQuery, parseAppConfigQuery } from '@lambda-cache/shared';
import { Pool } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BadRequestError,
  type CacheClient,
  close,
  createCacheClient,
  ExtensionError,
  getAppConfig,
  getFeatureFlag,
  InvalidOptionError,
  NotFoundError,
  TransformError,
  UpstreamTimeoutError,
} from '../../src/index.js';
import { type Answer, type FakeExtension, startFakeExtension } from './server.js';

/** A feature-flag profile as AppConfig holds it, after the extension read it. */
const FLAGS: Record<string, Record<string, unknown>> = {
  'new-checkout': { enabled: true, limit: 5, colour: 'blue' },
  beta: { enabled: false },
};

/** What the extension holds, by `application/environment/profile`. */
let stored: Record<string, { bytes: Buffer; contentType: string }>;
let maxAge: string | undefined;

function notFound(message: string): Answer {
  return { status: 404, body: { code: 'NotFound', message } };
}

/** Answers as the extension does: the configuration's bytes in its own type, or the flags asked for. */
function extensionLike(url: URL, _req: unknown, i: number): Answer {
  const q: AppConfigQuery = parseAppConfigQuery(url.searchParams);
  const cache: Record<string, string> = maxAge === undefined ? {} : { 'cache-control': `max-age=${maxAge}` };
  const id = `${q.application}/${q.environment}/${q.profile}`;
  if (q.flags !== undefined) {
    if (id !== 'shop/prod/flags') return notFound(`no configuration ${id}`);
    const out: Record<string, unknown> = {};
    for (const f of q.flags) {
      const flag = FLAGS[f];
      if (flag === undefined) return notFound(`flag ${f} is not in the configuration`);
      out[f] = { ...flag, answer: i };
    }
    return { body: out, headers: { ...cache, 'configuration-version': '3' } };
  }
  const config = stored[id];
  if (config === undefined) return notFound(`no configuration ${id}`);
  return {
    body: config.bytes,
    headers: { ...cache, 'content-type': config.contentType, 'configuration-version': String(i) },
  };
}

let fake: FakeExtension;
let client: CacheClient;

beforeEach(async () => {
  maxAge = undefined;
  stored = {
    'shop/prod/settings': {
      bytes: Buffer.from('{"timeoutMs":250,"name":"Ünïcødé 🚀"}'),
      contentType: 'application/json',
    },
    'shop/prod/motd': { bytes: Buffer.from('Grüße, 世界\n'), contentType: 'text/plain' },
    'shop/prod/yaml': { bytes: Buffer.from('a: 1\nb: [x, y]\n'), contentType: 'application/x-yaml' },
    'shop/prod/blob': {
      bytes: Buffer.from([0xff, 0x00, 0xfe, 0xc3, 0x28]),
      contentType: 'application/octet-stream',
    },
  };
  fake = await startFakeExtension(extensionLike);
  client = createCacheClient({ port: fake.port, localCache: false, token: 'tok' });
});

afterEach(async () => {
  await client.close();
  await fake.close();
});

function queryOf(index: number): AppConfigQuery {
  return parseAppConfigQuery(new URL(fake.requests[index]?.path ?? '', 'http://x').searchParams);
}

describe('getAppConfig', () => {
  it('returns the configuration as text when no transform is asked for', async () => {
    await expect(client.getAppConfig('shop', 'prod', 'motd')).resolves.toBe('Grüße, 世界\n');
    await expect(client.getAppConfig('shop', 'prod', 'yaml')).resolves.toBe('a: 1\nb: [x, y]\n');
    expect(queryOf(0)).toEqual({ application: 'shop', environment: 'prod', profile: 'motd', refresh: false });
    expect(fake.requests[0]?.headers['x-aws-parameters-secrets-token']).toBe('tok');
  });

  it('parses the configuration when transform is json', async () => {
    await expect(client.getAppConfig('shop', 'prod', 'settings', { transform: 'json' })).resolves.toEqual({
      timeoutMs: 250,
      name: 'Ünïcødé 🚀',
    });
  });

  it('parses JSON that starts with a byte-order mark when transform is json', async () => {
    stored['shop/prod/bom'] = { bytes: Buffer.from('\uFEFF{"a":1}'), contentType: 'application/json' };
    await expect(client.getAppConfig('shop', 'prod', 'bom', { transform: 'json' })).resolves.toEqual({
      a: 1,
    });
  });

  it('throws a TransformError naming the configuration without its content when it is not JSON', async () => {
    const err = await client
      .getAppConfig('shop', 'prod', 'yaml', { transform: 'json' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransformError);
    expect((err as Error).message).toContain('shop/prod/yaml');
    expect((err as Error).message).not.toContain('a: 1');
  });

  it('returns the bytes exactly as sent when transform is binary, even when they are not UTF-8', async () => {
    const bytes = await client.getAppConfig('shop', 'prod', 'blob', { transform: 'binary' });
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect([...bytes]).toEqual([0xff, 0x00, 0xfe, 0xc3, 0x28]);
  });

  it('returns the bytes exactly as sent through a caller-supplied undici dispatcher', async () => {
    const pool = new Pool(`http://127.0.0.1:${fake.port}`, { connections: 1 });
    const viaPool = createCacheClient({ port: fake.port, localCache: false, dispatcher: pool });
    try {
      const bytes = await viaPool.getAppConfig('shop', 'prod', 'blob', { transform: 'binary' });
      expect([...bytes]).toEqual([0xff, 0x00, 0xfe, 0xc3, 0x28]);
    } finally {
      await viaPool.close();
      await pool.close();
    }
  });

  it('decodes characters split across pieces of the answer when it trickles in', async () => {
    const text = 'ü€🚀'.repeat(40);
    fake.handler = () => ({
      body: Buffer.from(text),
      headers: { 'content-type': 'text/plain' },
      trickle: { pieces: 7, intervalMs: 5 },
    });
    await expect(client.getAppConfig('shop', 'prod', 'motd')).resolves.toBe(text);
  });

  it.each([
    ['my app', 'prod/eu', 'profile:1'],
    ['ünïcødé', '日本語', '🚀'],
    ['a&b=c', 'd+e', 'f%20g'],
  ])('round-trips the names %j, %j, %j when they hold spaces, / or unicode', async (a, e, p) => {
    stored[`${a}/${e}/${p}`] = { bytes: Buffer.from('ok'), contentType: 'text/plain' };
    await expect(client.getAppConfig(a, e, p)).resolves.toBe('ok');
    expect(queryOf(0)).toMatchObject({ application: a, environment: e, profile: p });
  });

  it('asks for refresh=true when forceFetch is true', async () => {
    await client.getAppConfig('shop', 'prod', 'motd', { forceFetch: true });
    expect(queryOf(0).refresh).toBe(true);
  });

  it('throws NotFoundError when the application, environment or profile does not exist', async () => {
    const err = await client.getAppConfig('shop', 'prod', 'nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toMatchObject({ code: 'NotFound', status: 404 });
  });

  it('throws BadRequestError or InvalidOptionError without a request when the read cannot be sent', async () => {
    await expect(client.getAppConfig('', 'prod', 'motd')).rejects.toBeInstanceOf(BadRequestError);
    await expect(client.getAppConfig('shop', 'x'.repeat(129), 'motd')).rejects.toBeInstanceOf(
      BadRequestError,
    );
    await expect(client.getAppConfig('shop', 'prod', 7 as unknown as string)).rejects.toBeInstanceOf(
      BadRequestError,
    );
    const options = { transform: 'yaml' } as unknown as { transform: 'json' };
    await expect(client.getAppConfig('shop', 'prod', 'yaml', options)).rejects.toBeInstanceOf(
      InvalidOptionError,
    );
    expect(fake.requests).toHaveLength(0);
  });

  it('retries after 503 and a reset socket, and not after a 504', async () => {
    fake.handler = (url, req, i) => {
      if (i === 0) return { status: 503, body: { code: 'ServiceUnavailable', message: 'starting' } };
      if (i === 1) return { reset: true };
      return extensionLike(url, req, i);
    };
    await expect(client.getAppConfig('shop', 'prod', 'motd')).resolves.toBe('Grüße, 世界\n');
    expect(fake.requests).toHaveLength(3);
    fake.handler = () => ({ status: 504, body: { code: 'UpstreamTimeout', message: 'slow' } });
    await expect(client.getAppConfig('shop', 'prod', 'motd')).rejects.toBeInstanceOf(UpstreamTimeoutError);
    expect(fake.requests).toHaveLength(4);
  });
});

describe('getFeatureFlag', () => {
  it('returns the flag with its attributes from one request that asks for that flag alone', async () => {
    await expect(client.getFeatureFlag('shop', 'prod', 'flags', 'new-checkout')).resolves.toEqual({
      enabled: true,
      limit: 5,
      colour: 'blue',
      answer: 0,
    });
    expect(fake.requests).toHaveLength(1);
    expect(queryOf(0)).toEqual({
      application: 'shop',
      environment: 'prod',
      profile: 'flags',
      flags: ['new-checkout'],
      refresh: false,
    });
  });

  it('throws NotFoundError when the flag is not in the configuration', async () => {
    const err = await client.getFeatureFlag('shop', 'prod', 'flags', 'missing').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toContain('missing');
  });

  it('throws ExtensionError when the answer does not hold the flag as { enabled }', async () => {
    fake.handler = () => ({ body: { other: { enabled: true } } });
    await expect(client.getFeatureFlag('shop', 'prod', 'flags', 'beta')).rejects.toBeInstanceOf(
      ExtensionError,
    );
    fake.handler = () => ({ body: { beta: { enabled: 'yes' } } });
    await expect(client.getFeatureFlag('shop', 'prod', 'flags', 'beta')).rejects.toBeInstanceOf(
      ExtensionError,
    );
  });

  it('throws BadRequestError without a request when the flag key is not one', async () => {
    await expect(client.getFeatureFlag('shop', 'prod', 'flags', '1bad')).rejects.toBeInstanceOf(
      BadRequestError,
    );
    await expect(client.getFeatureFlag('shop', 'prod', 'flags', '')).rejects.toBeInstanceOf(BadRequestError);
    expect(fake.requests).toHaveLength(0);
  });

  it('asks for refresh=true when forceFetch is true', async () => {
    await client.getFeatureFlag('shop', 'prod', 'flags', 'beta', { forceFetch: true });
    expect(queryOf(0).refresh).toBe(true);
  });
});

describe('AppConfig in-process layer', () => {
  let cached: CacheClient;
  let now = 0;
  beforeEach(() => {
    now = 0;
    maxAge = '30';
    cached = createCacheClient({ port: fake.port, now: () => now });
  });
  afterEach(async () => {
    await cached.close();
  });

  it('serves a repeat read of every shape from memory until max-age has passed', async () => {
    const json = await cached.getAppConfig('shop', 'prod', 'settings', { transform: 'json' });
    expect(await cached.getAppConfig('shop', 'prod', 'settings', { transform: 'json' })).toBe(json);
    expect(await cached.getAppConfig('shop', 'prod', 'settings')).toContain('timeoutMs');
    expect(await cached.getAppConfig('shop', 'prod', 'settings', { transform: 'binary' })).toBeInstanceOf(
      Uint8Array,
    );
    expect(fake.requests).toHaveLength(1);
    now = 30_000;
    await cached.getAppConfig('shop', 'prod', 'settings');
    expect(fake.requests).toHaveLength(2);
  });

  it('serves a flag from memory, apart from the configuration and from other flags', async () => {
    const flag = await cached.getFeatureFlag('shop', 'prod', 'flags', 'beta');
    expect(await cached.getFeatureFlag('shop', 'prod', 'flags', 'beta')).toBe(flag);
    await cached.getFeatureFlag('shop', 'prod', 'flags', 'new-checkout');
    stored['shop/prod/flags'] = {
      bytes: Buffer.from(JSON.stringify(FLAGS)),
      contentType: 'application/json',
    };
    await cached.getAppConfig('shop', 'prod', 'flags', { transform: 'json' });
    expect(fake.requests).toHaveLength(3);
  });

  it('keeps configurations apart when their names differ only in where one ends', async () => {
    stored['ab/c/d'] = { bytes: Buffer.from('1'), contentType: 'text/plain' };
    stored['a/bc/d'] = { bytes: Buffer.from('2'), contentType: 'text/plain' };
    stored['a/b/cd'] = { bytes: Buffer.from('3'), contentType: 'text/plain' };
    expect(await cached.getAppConfig('ab', 'c', 'd')).toBe('1');
    expect(await cached.getAppConfig('a', 'bc', 'd')).toBe('2');
    expect(await cached.getAppConfig('a', 'b', 'cd')).toBe('3');
    expect(fake.requests).toHaveLength(3);
  });

  it('bypasses memory and keeps the new answer when forceFetch is true', async () => {
    const first = await cached.getFeatureFlag('shop', 'prod', 'flags', 'beta');
    const second = await cached.getFeatureFlag('shop', 'prod', 'flags', 'beta', { forceFetch: true });
    expect(second).not.toEqual(first);
    expect(await cached.getFeatureFlag('shop', 'prod', 'flags', 'beta')).toBe(second);
    expect(fake.requests).toHaveLength(2);
  });

  it('asks every time when the answer carries no Cache-Control', async () => {
    maxAge = undefined;
    await cached.getAppConfig('shop', 'prod', 'motd');
    await cached.getAppConfig('shop', 'prod', 'motd');
    expect(fake.requests).toHaveLength(2);
  });
});

describe('AppConfig module-level helpers', () => {
  const saved = process.env.CACHE_EXTENSION_PORT;
  afterEach(async () => {
    await close();
    if (saved === undefined) delete process.env.CACHE_EXTENSION_PORT;
    else process.env.CACHE_EXTENSION_PORT = saved;
  });

  it('read through a default client on CACHE_EXTENSION_PORT', async () => {
    process.env.CACHE_EXTENSION_PORT = String(fake.port);
    await expect(getAppConfig('shop', 'prod', 'motd')).resolves.toBe('Grüße, 世界\n');
    await expect(getFeatureFlag('shop', 'prod', 'flags', 'beta')).resolves.toMatchObject({ enabled: false });
    expect(fake.requests).toHaveLength(2);
  });
});
