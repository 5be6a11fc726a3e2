import http from 'node:http';
import net from 'node:net';
import type { KeyAttributes, StatsPayload } from '@lambda-cache/shared';
import { dynamodbPath, parameterPath } from '@lambda-cache/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config-yaml.js';
import { HttpError, NotFoundError } from '../../src/errors.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { type CacheServer, createServer, isLoopbackHost } from '../../src/server.js';
import type { DynamoDbSource } from '../../src/sources/dynamodb.js';
import { ItemSource } from '../../src/sources/items.js';
import { ParameterSource } from '../../src/sources/parameters.js';
import type { Read, SourceRoute } from '../../src/sources/source.js';
import type { SsmSource } from '../../src/sources/ssm.js';
import { PendingStore, type Reply, type SourceRoutes, type Store } from '../../src/store.js';
import { serviceError } from './support/fake-aws.js';

const TOKEN = 'session-token-123';

/** The sources' own routes, over a config that names what the seed routes below read. */
const CONFIG = parseConfig('parameters:\n  - names: [Parameter1, /app/x]\n', 'config.yaml');
const PARAMETER_ROUTES = new ParameterSource({
  config: CONFIG,
  region: undefined,
  logger: silentLogger,
  ssm: {} as SsmSource,
}).routes;
const ITEM_ROUTES = new ItemSource({
  config: CONFIG,
  region: undefined,
  logger: silentLogger,
  dynamodb: {} as DynamoDbSource,
}).routes;
/** The seed's item routes by id alone, so any id reaches the store (the real ones serve configured ids). */
const SEED_ITEM_ROUTES: ReadonlyArray<SourceRoute<string>> = [
  {
    path: '/dynamodb',
    token: false,
    legacy: true,
    parse: (query) => ({
      target: new URLSearchParams(query).get('name') ?? '',
      form: 'legacy',
      refresh: false,
    }),
  },
  {
    path: '/dynamodb/',
    prefix: true,
    token: false,
    legacy: true,
    parse: (_query, path) => ({ target: decodeURIComponent(path.slice(10)), form: 'legacy', refresh: false }),
  },
];

/** An in-memory store: one parameter and one item, recording what the server asked. */
class FakeStore implements Store {
  calls: string[] = [];
  routes(): readonly SourceRoutes[] {
    return [
      { source: 'p', routes: PARAMETER_ROUTES },
      { source: 'i', routes: ITEM_ROUTES.filter((r) => !r.legacy) },
      { source: 'seed-items', routes: SEED_ITEM_ROUTES },
    ];
  }
  async read(source: string, read: Read<unknown>): Promise<Reply> {
    if (source === 'p') {
      const t = read.target as { name: string; decrypt: boolean };
      return this.parameter(t.name, t.decrypt, read.refresh, read.form === 'main' ? 'v1' : read.form);
    }
    if (source === 'i')
      return this.item(
        (read.target as { table: string; key: KeyAttributes }).table,
        (read.target as { key: KeyAttributes }).key,
      );
    return this.legacyItem(read.target as string);
  }
  async parameter(name: string, decrypt: boolean, refresh: boolean, form: string): Promise<Reply> {
    this.calls.push(`parameter ${name} ${decrypt} ${refresh} ${form}`);
    if (name === 'missing') throw new NotFoundError('parameter missing was not found');
    if (name === 'denied') throw serviceError('AccessDeniedException');
    if (name === 'boom') throw new TypeError('internal detail');
    const body = form === 'legacy' ? Buffer.from('raw-value') : Buffer.from(JSON.stringify({ name, form }));
    return {
      body,
      contentType: form === 'legacy' ? 'text/plain' : 'application/json',
      cache: 'hit',
      ageMs: 12_500,
      ttlLeftMs: 47_900,
    };
  }
  async item(table: string, key: KeyAttributes): Promise<Reply> {
    this.calls.push(`item ${table} ${JSON.stringify(key)} v1`);
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

/** Sends raw bytes on a new connection and resolves with everything the server sent until it closed. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}

function statusOf(answer: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
}

function envelopeOf(answer: string): unknown {
  return JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
}

/** A kept-alive raw connection that sends one request at a time and reads its answer by content-length. */
class KeptConnection {
  private buffer = '';
  private wake: (() => void) | undefined;
  closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (c: Buffer) => {
      this.buffer += c.toString('latin1');
      this.wake?.();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }

  static open(port: number): Promise<KeptConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(new KeptConnection(socket)));
      socket.once('error', reject);
    });
  }

  /** Resolves with the status, or 0 when the connection closed first. */
  async get(path: string): Promise<number> {
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end >= 0) {
        const length = Number(/content-length: (\d+)/i.exec(this.buffer.slice(0, end))?.[1] ?? 0);
        if (this.buffer.length >= end + 4 + length) {
          const status = statusOf(this.buffer);
          this.buffer = this.buffer.slice(end + 4 + length);
          return status;
        }
      }
      if (this.closed) return 0;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe('isLoopbackHost', () => {
  it('accepts the loopback names with or without a port, in any letter case', () => {
    for (const host of [
      '127.0.0.1',
      '127.0.0.1:3000',
      'localhost',
      'LOCALHOST:2773',
      'LocalHost:',
      '[::1]',
      '[::1]:65535',
    ]) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
  });

  it('refuses every other name, look-alikes included', () => {
    for (const host of [
      '',
      ':3000',
      'attacker.example',
      'localhost.attacker.example',
      '127.0.0.1.attacker.example',
      'localhostx',
      'xlocalhost',
      '127.0.0.2',
      '127.0.0.1:3000:3000',
      '127.0.0.1:123456',
      '127.0.0.1:30a0',
      '::1',
      '[::1',
      '[::2]',
      '[::1]x:3000',
      '0.0.0.0',
      'localhost\u0000',
      'LOCALHOſT',
    ]) {
      expect(isLoopbackHost(host), JSON.stringify(host)).toBe(false);
    }
  });
});

describe('server', () => {
  let store: FakeStore;
  let server: CacheServer;
  let port: number;
  const auth = { 'x-aws-parameters-secrets-token': TOKEN };

  async function start(
    opts: {
      legacyRoutes?: boolean;
      sessionToken?: string | undefined;
      maxConnections?: number;
      headersTimeoutMs?: number;
      now?: () => number;
      lines?: string[];
    } = {},
  ) {
    store = new FakeStore();
    const lines = opts.lines;
    server = createServer({
      store,
      sessionToken: 'sessionToken' in opts ? opts.sessionToken : TOKEN,
      legacyRoutes: opts.legacyRoutes ?? false,
      logger: lines
        ? createLogger({ level: 'info', format: 'text', write: (l) => lines.push(l) })
        : silentLogger,
      ...(opts.maxConnections !== undefined ? { maxConnections: opts.maxConnections } : {}),
      ...(opts.headersTimeoutMs !== undefined ? { headersTimeoutMs: opts.headersTimeoutMs } : {}),
      ...(opts.now ? { now: opts.now } : {}),
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

  it('returns 400 BadRequest with the envelope when Host is not a loopback name, with or without a token', async () => {
    for (const sessionToken of [TOKEN, undefined]) {
      await server.close(50);
      await start({ sessionToken });
      for (const path of [parameterPath('x'), '/ping']) {
        const res = await request(port, path, { ...auth, host: 'attacker.example' });
        expect(res.status).toBe(400);
        expect(res.json).toEqual({ code: 'BadRequest', message: expect.stringContaining('Host') });
      }
      expect((await request(port, '/ping', { host: `LOCALHOST:${port}` })).status).toBe(200);
      expect((await request(port, '/ping', { host: '[::1]' })).status).toBe(200);
    }
    expect(store.calls).toEqual([]);
  });

  it('returns 400 with the envelope when an HTTP/1.1 request has no Host, and serves HTTP/1.0 without one', async () => {
    const missing = await raw(port, 'GET /ping HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect(statusOf(missing)).toBe(400);
    expect(envelopeOf(missing)).toEqual({ code: 'BadRequest', message: expect.stringContaining('Host') });
    expect(statusOf(await raw(port, 'GET /ping HTTP/1.0\r\n\r\n'))).toBe(200);
  });

  it('returns 400 when the request carries Forwarded or X-Real-IP', async () => {
    for (const header of ['forwarded', 'x-real-ip']) {
      const res = await request(port, parameterPath('x'), { ...auth, [header]: '10.0.0.1' });
      expect(res.status).toBe(400);
      expect(res.json.code).toBe('BadRequest');
    }
    expect(store.calls).toEqual([]);
  });

  it('answers CONNECT with 405 and the envelope', async () => {
    const answer = await raw(port, 'CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n');
    expect(statusOf(answer)).toBe(405);
    expect(answer).toMatch(/\r\nallow: GET\r\n/i);
    expect(envelopeOf(answer)).toEqual({ code: 'MethodNotAllowed', message: expect.any(String) });
  });

  it('destroys a connection whose headers time out even when its peer never reads', async () => {
    await server.close(50);
    await start({ maxConnections: 1, headersTimeoutMs: 200 });
    // Half a request, then nothing: never reading, never closing its side.
    const deaf = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    deaf.on('error', () => undefined);
    deaf.pause();
    try {
      deaf.write('GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      const open = () =>
        new Promise<number>((resolve) => server.server.getConnections((_e, n) => resolve(n)));
      await until('the server to accept the connection', async () => (await open()) === 1);
      await until('the server to drop the connection', async () => (await open()) === 0);
      expect(
        statusOf(await raw(port, 'GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')),
      ).toBe(200);
    } finally {
      deaf.destroy();
    }
  });

  it('destroys a kept-alive connection at its keep-alive timeout even when its peer never reads', async () => {
    await server.close(50);
    store = new FakeStore();
    server = createServer({
      store,
      sessionToken: undefined,
      legacyRoutes: false,
      logger: silentLogger,
      keepAliveTimeoutMs: 200,
    });
    port = await server.listen(0);
    const deaf = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    deaf.on('error', () => undefined);
    deaf.pause();
    try {
      deaf.write('GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      const open = () =>
        new Promise<number>((resolve) => server.server.getConnections((_e, n) => resolve(n)));
      await until('the server to accept the connection', async () => (await open()) === 1);
      await until('the server to drop the connection', async () => (await open()) === 0);
    } finally {
      deaf.destroy();
    }
  });

  it('gives a newcomer at the cap the slot of the longest-idle connection, never one with a request in flight', async () => {
    let t = 0;
    await server.close(50);
    await start({ maxConnections: 3, sessionToken: undefined, now: () => t });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const parameter = store.parameter.bind(store);
    let slowArrived = false;
    store.parameter = async (name, decrypt, refresh, form) => {
      if (name === 'slow') {
        slowArrived = true;
        await held;
      }
      return parameter(name, decrypt, refresh, form);
    };
    const busy = await KeptConnection.open(port);
    const older = await KeptConnection.open(port);
    const newer = await KeptConnection.open(port);
    const all = [busy, older, newer];
    try {
      expect(await busy.get('/ping')).toBe(200);
      t = 100;
      expect(await older.get('/ping')).toBe(200);
      t = 200;
      expect(await newer.get('/ping')).toBe(200);
      const pending = busy.get(parameterPath('slow'));
      await until('the slow request to reach the store', () => slowArrived);
      // Idle for less than a second: nobody is displaced, the newcomer is refused.
      t = 900;
      const early = await KeptConnection.open(port);
      all.push(early);
      expect(await early.get('/ping')).toBe(503);
      // Idle long enough: the one idle the longest (older, not busy whose request is in flight) makes room.
      t = 5000;
      const late = await KeptConnection.open(port);
      all.push(late);
      expect(await late.get('/ping')).toBe(200);
      await until('the longest-idle connection to close', () => older.closed);
      expect(newer.closed).toBe(false);
      release();
      expect(await pending).toBe(200);
      expect(await newer.get('/ping')).toBe(200);
    } finally {
      release();
      for (const c of all) c.close();
    }
  });

  it('logs a rejected token at info without the token, at most 10 lines a second', async () => {
    let t = 10_000;
    const lines: string[] = [];
    await server.close(50);
    await start({ now: () => t, lines });
    const sent = 'sent-token-that-is-wrong';
    expect((await request(port, parameterPath('x'), { 'x-aws-parameters-secrets-token': sent })).status).toBe(
      403,
    );
    expect((await request(port, '/v1/stats')).status).toBe(403);
    expect(lines).toEqual([
      expect.stringMatching(
        /request refused: wrong x-aws-parameters-secrets-token path=\/v1\/parameters reason=mismatch/,
      ),
      expect.stringMatching(
        /request refused: no x-aws-parameters-secrets-token path=\/v1\/stats reason=missing/,
      ),
    ]);
    for (let i = 0; i < 13; i++) await request(port, '/v1/stats');
    expect(lines).toHaveLength(10);
    t += 1000;
    await request(port, '/v1/stats');
    expect(lines).toHaveLength(11);
    expect(lines[10]).toContain('unlogged=5');
    expect(lines.join('')).not.toContain(sent);
    expect(lines.join('')).not.toContain(TOKEN);
  });
});

describe("server (the port of AWS's Parameters and Secrets extension)", () => {
  let store: FakeStore;
  let server: CacheServer;
  let port: number;
  const auth = { 'x-aws-parameters-secrets-token': TOKEN };
  const awsPath = '/systemsmanager/parameters/get?name=%2Fapp%2Furl&withDecryption=true';

  async function start(opts: { maxConnections?: number; now?: () => number } = {}): Promise<void> {
    store = new FakeStore();
    server = createServer({ store, sessionToken: TOKEN, legacyRoutes: true, logger: silentLogger, ...opts });
    port = await server.listen(0);
  }

  beforeEach(async () => start());
  afterEach(async () => server.close(50));

  it('serves the AWS-compatible route and /ping on an aws listener, and no other route', async () => {
    const awsPort = await server.listen(0, { routes: 'aws' });
    expect(awsPort).not.toBe(port);
    const res = await request(awsPort, awsPath, auth);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ name: '/app/url', form: 'aws' });
    expect(store.calls).toEqual(['parameter /app/url true false aws']);
    expect((await request(awsPort, '/ping')).text).toBe('pong');
    for (const path of [
      parameterPath('x'),
      '/v1/stats',
      '/v1/health',
      '/parameters/x',
      '/parameters?name=x',
    ]) {
      const other = await request(awsPort, path, auth);
      expect(other.status).toBe(404);
      expect(other.json.code).toBe('NotFound');
    }
    // The main port still serves everything, the AWS route included.
    expect((await request(port, parameterPath('x'), auth)).status).toBe(200);
    expect((await request(port, awsPath, auth)).status).toBe(200);
  });

  it('applies the same checks on an aws listener: token, host, forwarded headers, method', async () => {
    const awsPort = await server.listen(0, { routes: 'aws' });
    expect((await request(awsPort, awsPath)).status).toBe(403);
    expect((await request(awsPort, awsPath, { 'x-aws-parameters-secrets-token': 'wrong' })).status).toBe(403);
    // An unknown path needs the token too, as on the main port.
    expect((await request(awsPort, '/v1/stats')).status).toBe(403);
    expect((await request(awsPort, awsPath, { ...auth, host: 'attacker.example' })).status).toBe(400);
    expect((await request(awsPort, awsPath, { ...auth, 'x-forwarded-for': '10.0.0.1' })).status).toBe(400);
    expect((await request(awsPort, awsPath, auth, 'POST')).status).toBe(405);
    expect(store.calls).toEqual([]);
  });

  it('is one listener when the aws port is the main port', async () => {
    expect(await server.listen(port, { routes: 'aws' })).toBe(port);
    expect((await request(port, parameterPath('x'), auth)).status).toBe(200);
    expect((await request(port, awsPath, auth)).status).toBe(200);
  });

  it('rejects with EADDRINUSE when the aws port is taken, and the main port keeps serving', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as net.AddressInfo).port;
    try {
      await expect(server.listen(taken, { routes: 'aws' })).rejects.toMatchObject({ code: 'EADDRINUSE' });
      expect((await request(port, awsPath, auth)).status).toBe(200);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('counts the connections of both ports against one cap', async () => {
    await server.close(50);
    // A clock that stands still: the kept connection is never idle long enough to be displaced.
    await start({ maxConnections: 1, now: () => 5000 });
    const awsPort = await server.listen(0, { routes: 'aws' });
    const main = await KeptConnection.open(port);
    const aws = await KeptConnection.open(awsPort);
    try {
      expect(await main.get('/ping')).toBe(200);
      expect(await aws.get('/ping')).toBe(503);
    } finally {
      main.close();
      aws.close();
    }
  });

  it('closes every listener when it is closed', async () => {
    const awsPort = await server.listen(0, { routes: 'aws' });
    const kept = await KeptConnection.open(awsPort);
    expect(await kept.get('/ping')).toBe(200);
    await server.close(50);
    await until('the kept aws connection to close', () => kept.closed);
    await expect(request(awsPort, '/ping')).rejects.toThrow();
    await expect(request(port, '/ping')).rejects.toThrow();
  });
});

describe('server (routes from the sources)', () => {
  let server: CacheServer | undefined;
  afterEach(async () => {
    await server?.close(0);
    server = undefined;
  });

  /** A store of one source with an AWS-shaped route, an AppConfig-port route and answer headers. */
  function storeOf(reads: string[]): Store {
    const routes: ReadonlyArray<SourceRoute<string>> = [
      {
        path: '/agent/get',
        token: true,
        listeners: ['main', 'aws'],
        errors: 'aws',
        parse: (query) => ({
          target: new URLSearchParams(query).get('id') ?? '',
          form: 'main',
          refresh: false,
        }),
      },
      {
        path: '/applications/',
        prefix: true,
        token: false,
        listeners: ['main', 'appconfig'],
        parse: (query, path) => ({ target: `${path}?${query}`, form: 'main', refresh: false }),
      },
    ];
    return {
      routes: () => [{ source: 'x', routes }],
      read: (_source, read) => {
        const id = read.target as string;
        reads.push(id);
        if (id === 'missing') return Promise.reject(new NotFoundError('no such thing'));
        if (id === 'denied') return Promise.reject(serviceError('AccessDeniedException'));
        return {
          body: Buffer.from('ok'),
          contentType: 'text/plain',
          headers: ['configuration-version', '7'],
          cache: 'hit',
          ageMs: 0,
          ttlLeftMs: 1000,
        };
      },
      health: () => ({ status: 'ready', entries: 0, failed: 0, uptimeMs: 0 }),
      stats: () => new FakeStore().stats(),
    };
  }

  it("answers an errors: 'aws' route's errors as {__type, message} with the envelope's status", async () => {
    server = createServer({
      store: storeOf([]),
      sessionToken: TOKEN,
      legacyRoutes: false,
      logger: silentLogger,
    });
    const port = await server.listen(0);
    const auth = { 'x-aws-parameters-secrets-token': TOKEN };
    const missing = await request(port, '/agent/get?id=missing', auth);
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ __type: 'ResourceNotFoundException', message: 'no such thing' });
    const denied = await request(port, '/agent/get?id=denied', auth);
    expect(denied.status).toBe(502);
    expect(denied.json.__type).toBe('AccessDeniedException');
    const noToken = await request(port, '/agent/get?id=a');
    expect(noToken.status).toBe(403);
    expect(Object.keys(noToken.json)).toEqual(['__type', 'message']);
    // Other routes keep the envelope.
    expect((await request(port, '/nothing', auth)).json).toMatchObject({ code: 'NotFound' });
  });

  it('writes the headers a reply carries, and serves an appconfig listener only its routes, without a token', async () => {
    const reads: string[] = [];
    server = createServer({
      store: storeOf(reads),
      sessionToken: TOKEN,
      legacyRoutes: false,
      logger: silentLogger,
    });
    const port = await server.listen(0);
    const appPort = await server.listen(0, { routes: 'appconfig' });
    const res = await request(appPort, '/applications/a/environments/e/configurations/p?flag=f');
    expect(res.status).toBe(200);
    expect(res.headers['configuration-version']).toBe('7');
    expect(reads).toEqual(['/applications/a/environments/e/configurations/p?flag=f']);
    expect((await request(appPort, '/ping')).status).toBe(200);
    const auth = { 'x-aws-parameters-secrets-token': TOKEN };
    expect((await request(appPort, '/agent/get?id=a', auth)).status).toBe(404);
    expect((await request(appPort, '/v1/health', auth)).status).toBe(404);
    expect((await request(port, '/agent/get?id=a', auth)).status).toBe(200);
  });

  it('waits for the routes of a store still being built, then serves them', async () => {
    const pending = new PendingStore(() => Date.now());
    server = createServer({
      store: pending,
      sessionToken: undefined,
      legacyRoutes: false,
      logger: silentLogger,
    });
    const port = await server.listen(0);
    const early = request(port, '/agent/get?id=a');
    const unknown = request(port, '/nothing');
    await new Promise((resolve) => setTimeout(resolve, 50));
    pending.resolve(storeOf([]));
    expect((await early).status).toBe(200);
    expect((await unknown).status).toBe(404);
  });
});
