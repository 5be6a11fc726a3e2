import http from 'node:http';
import type { DynamoDbQuery, ParameterQuery, StatsPayload } from '@lambda-cache/shared';
import { dynamodbPath, parameterPath } from '@lambda-cache/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpError, NotFoundError } from '../../src/errors.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { type CacheServer, createServer } from '../../src/server.js';
import type { ItemForm, ParameterForm, Reply, Store } from '../../src/store.js';

const TOKEN = 'session-token-123';

/** An in-memory store: one parameter and one item, recording what the server asked. */
class FakeStore implements Store {
  calls: string[] = [];
  async parameter(q: ParameterQuery, form: ParameterForm): Promise<Reply> {
    this.calls.push(`parameter ${q.name} ${q.decrypt} ${q.refresh} ${form}`);
    if (q.name === 'missing') throw new NotFoundError('parameter missing was not found');
    if (q.name === 'denied')
      throw Object.assign(new Error('no'), {
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: {},
      });
    if (q.name === 'boom') throw new TypeError('internal detail');
    const body =
      form === 'legacy' ? Buffer.from('raw-value') : Buffer.from(JSON.stringify({ name: q.name, form }));
    return {
      body,
      contentType: form === 'legacy' ? 'text/plain' : 'application/json',
      cache: 'hit',
      ageMs: 12_500,
      ttlLeftMs: 47_900,
    };
  }
  async item(q: DynamoDbQuery, form: ItemForm): Promise<Reply> {
    this.calls.push(`item ${q.table} ${JSON.stringify(q.key)} ${form}`);
    return {
      body: Buffer.from('{"item":1}'),
      contentType: 'application/json',
      cache: 'miss',
      ageMs: 0,
      ttlLeftMs: 300_000,
    };
  }
  async legacyItem(id: string): Promise<Reply> {
    this.calls.push(`legacyItem ${id}`);
    return {
      body: Buffer.from('{"Data":"x"}'),
      contentType: 'application/json',
      cache: 'stale',
      ageMs: 400_000,
      ttlLeftMs: 0,
    };
  }
  health() {
    return { status: 'ready' as const, entries: 2, failed: 0, uptimeMs: 5 };
  }
  stats(): StatsPayload {
    return {
      entries: 2,
      bytes: 10,
      maxEntries: 100,
      maxBytes: 1000,
      hits: 1,
      misses: 1,
      staleServes: 0,
      negativeHits: 0,
      evictions: 0,
      refreshes: 0,
      backendCalls: { 'ssm:GetParameters': 1 },
      errors: 0,
    };
  }
}

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test reads JSON
  json: any;
}

function request(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('server', () => {
  let store: FakeStore;
  let server: CacheServer;
  let port: number;
  const auth = { 'x-aws-parameters-secrets-token': TOKEN };

  async function start(
    opts: { legacyRoutes?: boolean; sessionToken?: string | undefined; maxConnections?: number } = {},
  ) {
    store = new FakeStore();
    server = createServer({
      store,
      sessionToken: 'sessionToken' in opts ? opts.sessionToken : TOKEN,
      legacyRoutes: opts.legacyRoutes ?? false,
      logger: silentLogger,
      ...(opts.maxConnections !== undefined ? { maxConnections: opts.maxConnections } : {}),
    });
    port = await server.listen(0);
  }

  beforeEach(async () => start());
  afterEach(async () => server.close(50));

  it('answers a parameter with the stored body and freshness headers when the token is right', async () => {
    const res = await request(port, parameterPath('/app/db-url', { decrypt: false }), auth);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ name: '/app/db-url', form: 'v1' });
    expect(res.headers['cache-control']).toBe('max-age=47');
    expect(res.headers.age).toBe('12');
    expect(res.headers['x-cache']).toBe('hit');
    expect(res.headers['content-type']).toBe('application/json');
    expect(store.calls).toEqual(['parameter /app/db-url false false v1']);
  });

  it('answers an item with the canonical key when two spellings are sent', async () => {
    const res = await request(
      port,
      `/v1/dynamodb?table=T&key=${encodeURIComponent('{"s":{"N":"1.50"},"p":{"S":"a"}}')}`,
      auth,
    );
    expect(res.status).toBe(200);
    expect(res.headers['x-cache']).toBe('miss');
    await request(port, dynamodbPath('T', { p: { S: 'a' }, s: { N: '1.5' } }), auth);
    expect(store.calls).toEqual([
      'item T {"p":{"S":"a"},"s":{"N":"1.5"}} v1',
      'item T {"p":{"S":"a"},"s":{"N":"1.5"}} v1',
    ]);
  });

  it('returns 403 Forbidden when the token is missing or wrong', async () => {
    const missing = await request(port, parameterPath('x'));
    expect(missing.status).toBe(403);
    expect(missing.json.code).toBe('Forbidden');
    const wrong = await request(port, parameterPath('x'), { 'x-aws-parameters-secrets-token': `${TOKEN}x` });
    expect(wrong.status).toBe(403);
    // Same length, last character different: the constant-time comparison itself must say no.
    const sameLength = `${TOKEN.slice(0, -1)}4`;
    expect(
      (await request(port, parameterPath('x'), { 'x-aws-parameters-secrets-token': sameLength })).status,
    ).toBe(403);
    expect((await request(port, '/v1/stats')).status).toBe(403);
    expect(store.calls).toEqual([]);
  });

  it('answers without a token when no session token exists', async () => {
    await server.close(50);
    await start({ sessionToken: undefined });
    expect((await request(port, parameterPath('x'))).status).toBe(200);
  });

  it('answers /ping without a token', async () => {
    const res = await request(port, '/ping');
    expect(res.status).toBe(200);
    expect(res.text).toBe('pong');
  });

  it('returns 400 when the request carries X-Forwarded-For', async () => {
    const res = await request(port, '/ping', { 'x-forwarded-for': '10.0.0.1' });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ code: 'BadRequest', message: expect.stringContaining('X-Forwarded-For') });
  });

  it('returns 405 with Allow when the method is not GET', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'HEAD']) {
      const res = await request(port, parameterPath('x'), auth, method);
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('GET');
    }
  });

  it('returns 400 BadRequest when the query is malformed', async () => {
    const res = await request(port, '/v1/parameters?name=', auth);
    expect(res.status).toBe(400);
    expect(res.json.code).toBe('BadRequest');
    expect((await request(port, '/v1/dynamodb?table=T&key=%7Bnot-json', auth)).json.code).toBe('BadRequest');
    expect((await request(port, '/v1/parameters?name=a&color=red', auth)).status).toBe(400);
  });

  it('maps store errors to the envelope when a load fails', async () => {
    const missing = await request(port, parameterPath('missing'), auth);
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ code: 'NotFound', message: 'parameter missing was not found' });
    const denied = await request(port, parameterPath('denied'), auth);
    expect(denied.status).toBe(502);
    expect(denied.json).toMatchObject({ code: 'UpstreamError', awsCode: 'AccessDeniedException' });
    const boom = await request(port, parameterPath('boom'), auth);
    expect(boom.status).toBe(500);
    expect(boom.text).not.toContain('internal detail');
  });

  it('returns 404 NotFound when no route matches', async () => {
    const res = await request(port, '/v2/anything', auth);
    expect(res.status).toBe(404);
    expect(res.json.code).toBe('NotFound');
  });

  it('answers health and stats as JSON when the token is right', async () => {
    expect((await request(port, '/v1/health', auth)).json).toMatchObject({ status: 'ready', entries: 2 });
    expect((await request(port, '/v1/stats', auth)).json.backendCalls).toEqual({ 'ssm:GetParameters': 1 });
  });

  it('serves the AWS-compatible route with version and decryption when asked', async () => {
    const res = await request(
      port,
      '/systemsmanager/parameters/get?name=%2Fapp%2Fx&version=3&withDecryption=true',
      auth,
    );
    expect(res.status).toBe(200);
    expect(store.calls).toEqual(['parameter /app/x:3 true false aws']);
    await request(port, '/systemsmanager/parameters/get?name=p&label=prod', auth);
    expect(store.calls[1]).toBe('parameter p:prod false false aws');
    expect(
      (await request(port, '/systemsmanager/parameters/get?name=p&version=1&label=x', auth)).status,
    ).toBe(400);
  });

  it('does not serve the seed routes when they are off', async () => {
    const res = await request(port, '/parameters/Parameter1');
    expect(res.status).toBe(403);
    expect(store.calls).toEqual([]);
  });

  it('serves the seed routes without a token when they are on', async () => {
    await server.close(50);
    await start({ legacyRoutes: true });
    const raw = await request(port, '/parameters/Parameter1');
    expect(raw.status).toBe(200);
    expect(raw.text).toBe('raw-value');
    expect((await request(port, '/parameters?name=%2Fapp%2Fx')).status).toBe(200);
    const item = await request(port, '/dynamodb/DynamoDbTable-pKey1-sKey1');
    expect(item.json).toEqual({ Data: 'x' });
    expect(item.headers['x-cache']).toBe('stale');
    expect(item.headers['cache-control']).toBe('max-age=0');
    await request(port, '/dynamodb?name=DynamoDbTable-pKey1');
    expect(store.calls).toEqual([
      'parameter Parameter1 true false legacy',
      'parameter /app/x true false legacy',
      'legacyItem DynamoDbTable-pKey1-sKey1',
      'legacyItem DynamoDbTable-pKey1',
    ]);
  });

  it('returns 503 and closes the connection when too many connections are open', async () => {
    await server.close(50);
    await start({ maxConnections: 1 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    try {
      const first = new Promise<number>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: '/ping', agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          })
          .on('error', reject);
      });
      const second = new Promise<number>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: '/ping', agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          })
          .on('error', reject);
      });
      expect((await Promise.all([first, second])).sort()).toEqual([200, 503]);
    } finally {
      agent.destroy();
    }
  });

  it('refuses new requests when it has been closed', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<number>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: '/ping', agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          })
          .on('error', reject);
      });
    try {
      expect(await get()).toBe(200);
      const closing = server.close(50);
      await closing;
      await expect(get()).rejects.toThrow();
    } finally {
      agent.destroy();
    }
  });

  it('refuses oversized headers with 431', async () => {
    const res = await request(port, '/ping', { 'x-big': 'a'.repeat(20_000) });
    expect(res.status).toBe(431);
  });

  it('logs the path and status but not the body when debug logging is on', async () => {
    await server.close(50);
    const lines: string[] = [];
    store = new FakeStore();
    server = createServer({
      store,
      sessionToken: undefined,
      legacyRoutes: true,
      logger: createLogger({ level: 'debug', format: 'text', write: (l) => lines.push(l) }),
    });
    port = await server.listen(0);
    await request(port, '/parameters/Parameter1');
    for (let i = 0; i < 50 && lines.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(lines.join('')).toContain('path=/parameters/Parameter1 status=200');
    expect(lines.join('')).not.toContain('raw-value');
  });

  it('passes HttpErrors from the store through', async () => {
    store.parameter = async () => {
      throw HttpError.of('ServiceUnavailable', 'not ready');
    };
    const res = await request(port, parameterPath('x'), auth);
    expect(res.status).toBe(503);
  });
});
