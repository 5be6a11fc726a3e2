import { parseSecretQuery } from '@lambda-cache/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BadRequestError,
  type CacheClient,
  close,
  createCacheClient,
  ExtensionError,
  ForbiddenError,
  getSecret,
  InvalidOptionError,
  NotFoundError,
  ThrottledError,
  TransformError,
  UpstreamError,
} from '../../src/index.js';
import { type FakeExtension, parameterBody, secretBody, startFakeExtension } from './server.js';

let fake: FakeExtension;
let client: CacheClient;

/** Answers as the extension does: the secret named by the query, its value naming the id and version. */
function extensionLike(url: URL) {
  const q = parseSecretQuery(url.searchParams);
  const stage = q.versionStage ?? 'AWSCURRENT';
  return { body: secretBody(q.id, `value of ${q.id} at ${q.versionId ?? stage}`, [stage]) };
}

beforeEach(async () => {
  fake = await startFakeExtension(extensionLike);
  client = createCacheClient({ port: fake.port, localCache: false, token: 'tok' });
});

afterEach(async () => {
  await client.close();
  await fake.close();
});

function queryOf(index: number) {
  return parseSecretQuery(new URL(fake.requests[index]?.path ?? '', 'http://x').searchParams);
}

const VERSION_ID = 'a1b2c3d4-5678-90ab-cdef-EXAMPLE22222';

describe('getSecret', () => {
  it('returns the secret string when the extension answers', async () => {
    await expect(client.getSecret('prod/api-key')).resolves.toBe('value of prod/api-key at AWSCURRENT');
    expect(fake.requests[0]?.path).toBe('/v1/secrets?id=prod%2Fapi-key');
    expect(fake.requests[0]?.headers['x-aws-parameters-secrets-token']).toBe('tok');
  });

  it.each([
    'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf',
    'with:colon',
    'line\nbreak',
    'ünïcødé/日本語/🚀',
    'a+b&c=d%25 e',
  ])('round-trips the id %j when it holds :, newlines, spaces or unicode', async (id) => {
    await expect(client.getSecret(id)).resolves.toBe(`value of ${id} at AWSCURRENT`);
    expect(queryOf(0).id).toBe(id);
  });

  it('parses the value when transform is json', async () => {
    fake.handler = () => ({ body: secretBody('db', '{"user":"app","port":5432}') });
    await expect(client.getSecret('db', { transform: 'json' })).resolves.toEqual({ user: 'app', port: 5432 });
  });

  it('throws a TransformError without the value when transform is json and the value is not JSON', async () => {
    fake.handler = () => ({ body: secretBody('db', 'hunter2-not-json') });
    const err = await client.getSecret('db', { transform: 'json' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransformError);
    expect(err).toMatchObject({ code: 'TransformFailed', transform: 'json' });
    expect((err as Error).message).toContain('"db"');
    expect((err as Error).message).not.toContain('hunter2');
    expect((err as Error).cause).toBeUndefined();
  });

  it('returns the bytes of a binary secret when transform is binary', async () => {
    const bytes = Uint8Array.from([0, 1, 0xfe, 0xff, 10]);
    fake.handler = () => ({ body: secretBody('key', bytes) });
    const value = await client.getSecret('key', { transform: 'binary' });
    expect(value).toBeInstanceOf(Uint8Array);
    expect(value).toEqual(bytes);
  });

  it('returns the UTF-8 bytes of a string secret when transform is binary', async () => {
    fake.handler = () => ({ body: secretBody('s', 'é€🚀') });
    await expect(client.getSecret('s', { transform: 'binary' })).resolves.toEqual(
      new Uint8Array(Buffer.from('é€🚀', 'utf8')),
    );
  });

  it('throws a TransformError pointing to transform binary when a binary secret is read as a string', async () => {
    fake.handler = () => ({ body: secretBody('key', Uint8Array.from([1, 2, 3])) });
    const err = await client.getSecret('key').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransformError);
    expect((err as Error).message).toContain("transform: 'binary'");
  });

  it('parses a binary secret holding UTF-8 JSON when transform is json, and refuses one that is not UTF-8', async () => {
    fake.handler = () => ({ body: secretBody('key', new Uint8Array(Buffer.from('{"k":"ü"}'))) });
    await expect(client.getSecret('key', { transform: 'json' })).resolves.toEqual({ k: 'ü' });
    fake.handler = () => ({ body: secretBody('key', Uint8Array.from([0x7b, 0xff, 0x7d])) });
    await expect(client.getSecret('key', { transform: 'json' })).rejects.toBeInstanceOf(TransformError);
  });

  it('returns name, ARN, version and dates when metadata is true', async () => {
    fake.handler = () => ({ body: secretBody('db', '{"a":1}', ['AWSCURRENT', 'blue']) });
    await expect(client.getSecret('db', { metadata: true, transform: 'json' })).resolves.toEqual({
      name: 'db',
      arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf',
      versionId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111',
      versionStages: ['AWSCURRENT', 'blue'],
      createdDate: '2024-05-01T10:00:00.000Z',
      value: { a: 1 },
    });
    await expect(client.getSecret('db', { metadata: true })).resolves.toMatchObject({ value: '{"a":1}' });
  });

  it('asks for the stage, the version id and refresh when the options say so', async () => {
    await expect(client.getSecret('db', { versionStage: 'AWSPREVIOUS' })).resolves.toBe(
      'value of db at AWSPREVIOUS',
    );
    await expect(client.getSecret('db', { versionId: VERSION_ID, forceFetch: true })).resolves.toBe(
      `value of db at ${VERSION_ID}`,
    );
    expect(queryOf(0)).toEqual({ id: 'db', versionStage: 'AWSPREVIOUS', refresh: false });
    expect(queryOf(1)).toEqual({ id: 'db', versionId: VERSION_ID, refresh: true });
  });

  it('throws NotFoundError when the secret or its version does not exist', async () => {
    fake.handler = () => ({
      status: 404,
      body: { code: 'NotFound', message: 'secret not found', awsCode: 'ResourceNotFoundException' },
    });
    const err = await client.getSecret('missing', { versionStage: 'nope' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toMatchObject({ code: 'NotFound', status: 404, awsCode: 'ResourceNotFoundException' });
  });

  it('throws BadRequestError without a request when the id or version is not valid', async () => {
    await expect(client.getSecret('')).rejects.toBeInstanceOf(BadRequestError);
    await expect(client.getSecret('x'.repeat(2049))).rejects.toBeInstanceOf(BadRequestError);
    await expect(
      client.getSecret('db', { versionId: VERSION_ID, versionStage: 'AWSCURRENT' }),
    ).rejects.toBeInstanceOf(BadRequestError);
    await expect(client.getSecret('db', { versionId: 'short' })).rejects.toBeInstanceOf(BadRequestError);
    await expect(client.getSecret(42 as unknown as string)).rejects.toBeInstanceOf(BadRequestError);
    expect(fake.requests).toHaveLength(0);
  });

  it('throws InvalidOptionError without a request when transform is unknown', async () => {
    const options = { transform: 'list' } as unknown as { transform: 'json' };
    await expect(client.getSecret('db', options)).rejects.toBeInstanceOf(InvalidOptionError);
    expect(fake.requests).toHaveLength(0);
  });

  it('throws ExtensionError when a 200 answer holds no secret value', async () => {
    fake.handler = () => ({ body: parameterBody('db', 'v') });
    await expect(client.getSecret('db')).rejects.toBeInstanceOf(ExtensionError);
  });
});

describe('getSecret retries', () => {
  const fail = (status: number, code: string) => ({ status, body: { code, message: `${code} happened` } });

  it('retries then succeeds when the extension answers 503, 429, then resets the socket', async () => {
    fake.handler = (url, _req, i) => {
      if (i === 0) return fail(503, 'ServiceUnavailable');
      if (i === 1) return fail(429, 'Throttled');
      if (i === 2) return { reset: true };
      return extensionLike(url);
    };
    await expect(client.getSecret('db')).resolves.toBe('value of db at AWSCURRENT');
    expect(fake.requests).toHaveLength(4);
  });

  it.each([
    [400, 'BadRequest', BadRequestError],
    [403, 'Forbidden', ForbiddenError],
    [404, 'NotFound', NotFoundError],
    [500, 'InternalFailure', ExtensionError],
    [502, 'UpstreamError', UpstreamError],
  ])('does not retry when the extension answers %i', async (status, code, cls) => {
    fake.handler = () => fail(status, code);
    const err = await client.getSecret('db').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(cls);
    expect(err).toMatchObject({ status });
    expect(fake.requests).toHaveLength(1);
  });

  it('throws ThrottledError when 429 outlasts the retries', async () => {
    fake.handler = () => fail(429, 'Throttled');
    const limited = createCacheClient({
      port: fake.port,
      localCache: false,
      retry: { retries: 2, minTimeout: 1, maxTimeout: 1 },
    });
    try {
      await expect(limited.getSecret('db')).rejects.toBeInstanceOf(ThrottledError);
    } finally {
      await limited.close();
    }
    expect(fake.requests).toHaveLength(3);
  });
});

describe('getSecret in-process layer', () => {
  let cached: CacheClient;
  let now = 0;
  let maxAge = '60';
  beforeEach(() => {
    now = 0;
    maxAge = '60';
    fake.handler = (url, _req, i) => {
      const q = parseSecretQuery(url.searchParams);
      return {
        body: secretBody(q.id, `{"n":${i}}`),
        headers: { 'cache-control': `max-age=${maxAge}` },
      };
    };
    cached = createCacheClient({ port: fake.port, now: () => now });
  });
  afterEach(async () => {
    await cached.close();
  });

  it('serves a repeat read from memory until max-age has passed, then asks again', async () => {
    expect(await cached.getSecret('db')).toBe('{"n":0}');
    now = 59_999;
    expect(await cached.getSecret('db')).toBe('{"n":0}');
    expect(fake.requests).toHaveLength(1);
    now = 60_000;
    expect(await cached.getSecret('db')).toBe('{"n":1}');
  });

  it('returns the same parsed value and serves every shape from one answer', async () => {
    const json = await cached.getSecret('db', { transform: 'json' });
    expect(await cached.getSecret('db', { transform: 'json' })).toBe(json);
    expect((await cached.getSecret('db', { transform: 'json', metadata: true })).value).toBe(json);
    expect(await cached.getSecret('db', { transform: 'binary' })).toEqual(
      new Uint8Array(Buffer.from('{"n":0}')),
    );
    expect(fake.requests).toHaveLength(1);
  });

  it('keeps separate entries for the current version, a stage and a version id', async () => {
    await cached.getSecret('db');
    await cached.getSecret('db', { versionStage: 'AWSPREVIOUS' });
    await cached.getSecret('db', { versionId: VERSION_ID });
    await cached.getSecret('db', { versionStage: 'AWSPREVIOUS' });
    await cached.getSecret('db');
    expect(fake.requests).toHaveLength(3);
  });

  it('keeps a secret apart from a parameter of the same name', async () => {
    fake.handler = (url, _req, i) => ({
      body: url.pathname === '/v1/secrets' ? secretBody('same', `s${i}`) : parameterBody('same', `p${i}`),
      headers: { 'cache-control': 'max-age=60' },
    });
    expect(await cached.getSecret('same')).toBe('s0');
    expect(await cached.getParameter('same')).toBe('p1');
    expect(await cached.getSecret('same')).toBe('s0');
    expect(fake.requests).toHaveLength(2);
  });

  it('bypasses memory and keeps the new answer when forceFetch is true', async () => {
    expect(await cached.getSecret('db')).toBe('{"n":0}');
    expect(await cached.getSecret('db', { forceFetch: true })).toBe('{"n":1}');
    expect(queryOf(1).refresh).toBe(true);
    expect(await cached.getSecret('db')).toBe('{"n":1}');
    expect(fake.requests).toHaveLength(2);
  });

  it('asks every time when the extension answers max-age=0 or the secret is missing', async () => {
    maxAge = '0';
    await cached.getSecret('db');
    await cached.getSecret('db');
    fake.handler = () => ({ status: 404, body: { code: 'NotFound', message: 'gone' } });
    await expect(cached.getSecret('gone')).rejects.toBeInstanceOf(NotFoundError);
    await expect(cached.getSecret('gone')).rejects.toBeInstanceOf(NotFoundError);
    expect(fake.requests).toHaveLength(4);
  });
});

describe('getSecret module-level helper', () => {
  const saved = process.env.CACHE_EXTENSION_PORT;
  afterEach(async () => {
    await close();
    if (saved === undefined) delete process.env.CACHE_EXTENSION_PORT;
    else process.env.CACHE_EXTENSION_PORT = saved;
  });

  it('reads through a default client on CACHE_EXTENSION_PORT', async () => {
    process.env.CACHE_EXTENSION_PORT = String(fake.port);
    await expect(getSecret('db', { versionStage: 'AWSPENDING' })).resolves.toBe('value of db at AWSPENDING');
  });
});
