import { parseDynamoDbQuery, parseParameterQuery } from '@lambda-cache/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BadRequestError,
  type CacheClient,
  CacheClientError,
  close,
  createCacheClient,
  getItem,
  getParameter,
  InvalidOptionError,
  NotFoundError,
  TableNotFoundError,
  TransformError,
} from '../../src/index.js';
import { type FakeExtension, parameterBody, startFakeExtension } from './server.js';

let fake: FakeExtension;
let client: CacheClient;

beforeEach(async () => {
  fake = await startFakeExtension((url) => {
    const { name } = parseParameterQuery(url.searchParams);
    return { body: parameterBody(name, `value of ${name}`) };
  });
  client = createCacheClient({ port: fake.port, localCache: false, token: 'tok' });
});

afterEach(async () => {
  await client.close();
  await fake.close();
});

function notFound(): { status: number; body: unknown } {
  return { status: 404, body: { code: 'NotFound', message: 'no such thing' } };
}

describe('getParameter', () => {
  it('returns the value when the extension answers', async () => {
    await expect(client.getParameter('/app/prod/db-url')).resolves.toBe('value of /app/prod/db-url');
    expect(fake.requests[0]?.path).toBe('/v1/parameters?name=%2Fapp%2Fprod%2Fdb-url');
  });

  it.each([
    '/app/prod/db-url',
    'name:3',
    '/app/x:prod-label',
    'with space',
    'ünïcødé/日本語/🚀',
    'a+b&c=d%25',
    '/a/b?c#d',
  ])('round-trips the name %j when it holds /, :, spaces or unicode', async (name) => {
    await expect(client.getParameter(name)).resolves.toBe(`value of ${name}`);
    const parsed = parseParameterQuery(new URL(fake.requests[0]?.path ?? '', 'http://x').searchParams);
    expect(parsed.name).toBe(name);
  });

  it('parses the value when transform is json', async () => {
    fake.handler = () => ({ body: parameterBody('cfg', '{"a":[1,2],"b":{"c":true}}') });
    await expect(client.getParameter('cfg', { transform: 'json' })).resolves.toEqual({
      a: [1, 2],
      b: { c: true },
    });
  });

  it('throws a TransformError without the value when transform is json and the value is not JSON', async () => {
    fake.handler = () => ({ body: parameterBody('cfg', 'hunter2-not-json') });
    const err = await client.getParameter('cfg', { transform: 'json' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransformError);
    expect((err as TransformError).code).toBe('TransformFailed');
    expect((err as TransformError).message).toContain('cfg');
    expect((err as TransformError).message).not.toContain('hunter2');
    expect((err as TransformError).cause).toBeUndefined();
  });

  it('splits a StringList when transform is list', async () => {
    fake.handler = () => ({ body: parameterBody('hosts', 'a.example,b.example,c', 'StringList') });
    await expect(client.getParameter('hosts', { transform: 'list' })).resolves.toEqual([
      'a.example',
      'b.example',
      'c',
    ]);
  });

  it('returns type, version and last modified when metadata is true', async () => {
    fake.handler = () => ({ body: parameterBody('cfg', '{"a":1}', 'SecureString') });
    await expect(client.getParameter('cfg', { metadata: true, transform: 'json' })).resolves.toEqual({
      name: 'cfg',
      type: 'SecureString',
      value: { a: 1 },
      version: 3,
      lastModified: '2024-05-01T10:00:00.000Z',
    });
  });

  it('asks for decrypt=false and refresh=true when decrypt is false and forceFetch is true', async () => {
    await client.getParameter('s', { decrypt: false, forceFetch: true });
    const query = parseParameterQuery(new URL(fake.requests[0]?.path ?? '', 'http://x').searchParams);
    expect(query).toEqual({ name: 's', decrypt: false, refresh: true });
  });

  it('throws NotFoundError when the parameter does not exist', async () => {
    fake.handler = notFound;
    const err = await client.getParameter('/missing').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toMatchObject({ code: 'NotFound', status: 404, message: 'no such thing' });
  });

  it('throws BadRequestError without a request when the name is empty', async () => {
    await expect(client.getParameter('')).rejects.toBeInstanceOf(BadRequestError);
    expect(fake.requests).toHaveLength(0);
  });

  it('throws InvalidOptionError when transform is unknown', async () => {
    const options = { transform: 'yaml' } as unknown as { transform: 'json' };
    await expect(client.getParameter('x', options)).rejects.toBeInstanceOf(InvalidOptionError);
  });
});

describe('token header', () => {
  const saved = process.env.AWS_SESSION_TOKEN;
  afterEach(() => {
    if (saved === undefined) delete process.env.AWS_SESSION_TOKEN;
    else process.env.AWS_SESSION_TOKEN = saved;
  });

  it('sends the token option when one is given', async () => {
    await client.getParameter('p');
    expect(fake.requests[0]?.headers['x-aws-parameters-secrets-token']).toBe('tok');
  });

  it('sends AWS_SESSION_TOKEN as read at each request when no token option is given', async () => {
    const envClient = createCacheClient({ port: fake.port, localCache: false });
    try {
      process.env.AWS_SESSION_TOKEN = 'first';
      await envClient.getParameter('p');
      process.env.AWS_SESSION_TOKEN = 'second';
      await envClient.getParameter('p');
      delete process.env.AWS_SESSION_TOKEN;
      await envClient.getParameter('p');
    } finally {
      await envClient.close();
    }
    const sent = fake.requests.map((r) => r.headers['x-aws-parameters-secrets-token']);
    expect(sent).toEqual(['first', 'second', undefined]);
  });
});

describe('getItem', () => {
  const bytes = Uint8Array.from([0, 1, 2, 250]);
  const b64 = Buffer.from(bytes).toString('base64');

  it('sends the canonical key when the key is a plain object', async () => {
    fake.handler = (url) => {
      const q = parseDynamoDbQuery(url.searchParams);
      return { body: { table: q.table, key: q.key, item: q.key } };
    };
    await client.getItem('T', { sKey: 1.5, pKey: 'a' });
    await client.getItem('T', { id: 10n });
    await client.getItem('T', { bin: bytes });
    const sent = fake.requests.map((r) => new URL(r.path, 'http://x').searchParams.get('key'));
    expect(sent).toEqual([
      '{"pKey":{"S":"a"},"sKey":{"N":"1.5"}}',
      '{"id":{"N":"10"}}',
      `{"bin":{"B":"${b64}"}}`,
    ]);
  });

  it('unmarshalls numbers, sets, binary, nested maps and lists when the item has them', async () => {
    fake.handler = () => ({
      body: {
        table: 'T',
        key: { pKey: { S: 'a' } },
        item: {
          pKey: { S: 'a' },
          n: { N: '1.5' },
          ss: { SS: ['x', 'y'] },
          ns: { NS: ['1', '2'] },
          bin: { B: b64 },
          bs: { BS: [b64] },
          flag: { BOOL: true },
          none: { NULL: true },
          nested: { M: { list: { L: [{ S: 'q' }, { N: '2' }, { M: { deep: { B: b64 } } }] } } },
        },
      },
    });
    const item = await client.getItem('T', { pKey: 'a' });
    expect(item).toEqual({
      pKey: 'a',
      n: 1.5,
      ss: new Set(['x', 'y']),
      ns: new Set([1, 2]),
      bin: bytes,
      bs: new Set([bytes]),
      flag: true,
      none: null,
      nested: { list: ['q', 2, { deep: bytes }] },
    });
  });

  it('keeps big numbers exact when bigNumbers asks for it', async () => {
    fake.handler = () => ({
      body: {
        table: 'T',
        key: { id: { S: 'a' } },
        item: {
          id: { S: 'a' },
          big: { N: '12345678901234567890123' },
          frac: { N: '12345678901234567890.5' },
        },
      },
    });
    const strict = await client.getItem('T', { id: 'a' }).catch((e: unknown) => e);
    expect(strict).toBeInstanceOf(TransformError);
    expect((strict as Error).message).not.toContain('12345678901234567890');
    const wrapped = createCacheClient({ port: fake.port, localCache: false, bigNumbers: true });
    const converted = createCacheClient({ port: fake.port, localCache: false, bigNumbers: (t) => `n:${t}` });
    try {
      const item = await wrapped.getItem('T', { id: 'a' });
      expect(String(item?.big)).toBe('12345678901234567890123');
      expect(String(item?.frac)).toBe('12345678901234567890.5');
      await expect(converted.getItem('T', { id: 'a' })).resolves.toEqual({
        id: 'a',
        big: 'n:12345678901234567890123',
        frac: 'n:12345678901234567890.5',
      });
    } finally {
      await wrapped.close();
      await converted.close();
    }
  });

  it('returns undefined when the item does not exist', async () => {
    fake.handler = notFound;
    await expect(client.getItem('T', { id: 'missing' })).resolves.toBeUndefined();
  });

  it('throws TableNotFoundError naming the table when DynamoDB says the table does not exist', async () => {
    fake.handler = () => ({
      status: 404,
      body: {
        code: 'NotFound',
        message: 'Requested resource not found',
        awsCode: 'ResourceNotFoundException',
      },
    });
    const err = await client.getItem('DynamoDbTabel', { id: 'a' }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'TableNotFound',
      table: 'DynamoDbTabel',
      status: 404,
      awsCode: 'ResourceNotFoundException',
    });
    expect(err).toBeInstanceOf(TableNotFoundError);
    expect(err).toBeInstanceOf(CacheClientError);
    expect(err).not.toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toContain('DynamoDbTabel');
  });

  it('throws BadRequestError without a request when the key is not a valid key', async () => {
    await expect(client.getItem('T', {})).rejects.toBeInstanceOf(BadRequestError);
    await expect(client.getItem('T', { a: '1', b: '2', c: '3' })).rejects.toBeInstanceOf(BadRequestError);
    await expect(client.getItem('T', { a: '' })).rejects.toBeInstanceOf(BadRequestError);
    await expect(client.getItem('', { a: 'x' })).rejects.toBeInstanceOf(BadRequestError);
    expect(fake.requests).toHaveLength(0);
  });

  it('asks for refresh=true when forceFetch is true', async () => {
    fake.handler = (url) => {
      const q = parseDynamoDbQuery(url.searchParams);
      return { body: { table: q.table, key: q.key, item: q.key } };
    };
    await client.getItem('T', { id: 'a' }, { forceFetch: true });
    expect(new URL(fake.requests[0]?.path ?? '', 'http://x').searchParams.get('refresh')).toBe('true');
  });
});

describe('module-level helpers', () => {
  const saved = process.env.CACHE_EXTENSION_PORT;
  afterEach(async () => {
    await close();
    if (saved === undefined) delete process.env.CACHE_EXTENSION_PORT;
    else process.env.CACHE_EXTENSION_PORT = saved;
  });

  it('reads through a default client on CACHE_EXTENSION_PORT when called without a client', async () => {
    process.env.CACHE_EXTENSION_PORT = String(fake.port);
    await expect(getParameter('p')).resolves.toBe('value of p');
    fake.handler = notFound;
    await expect(getItem('T', { id: 'x' })).resolves.toBeUndefined();
    expect(fake.requests).toHaveLength(2);
  });

  it('rejects with InvalidOptionError when CACHE_EXTENSION_PORT is malformed', async () => {
    process.env.CACHE_EXTENSION_PORT = '0x10';
    await expect(getParameter('p')).rejects.toBeInstanceOf(InvalidOptionError);
  });
});
