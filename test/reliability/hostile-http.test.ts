import { parameterPath, ROUTES } from '@lambda-cache/shared';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_PARAMETER, SEED_PARAMETER_VALUE } from '../src/fixtures.js';
import { type Stack, startStack } from '../src/harness.js';
import { type RawAnswer, rawRequest } from '../src/raw.js';

/** Every status DESIGN.md documents, plus what the HTTP layer itself may say about a malformed request. */
const DOCUMENTED = new Set([200, 400, 403, 404, 405, 408, 413, 414, 429, 431, 502, 503, 504]);
const BATCH = 20;
const RUNS = 500;
/** 10k requests: ~11 s alone on two cores, longer when they are busy. */
const BUDGET_MS = 150_000;

let stack: Stack;
beforeAll(async () => {
  // The seed's routes too: they skip the token check, so they see hostile input first-hand.
  stack = await startStack({ env: { CACHE_EXTENSION_LEGACY_ROUTES: 'true' } });
});
afterAll(async () => {
  await stack?.close();
});

// Weighted so that about half the requests get past the HTTP parser and reach the router and the cache.
const method = fc.oneof(
  { arbitrary: fc.constant('GET'), weight: 6 },
  {
    arbitrary: fc.constantFrom(
      'POST',
      'PUT',
      'DELETE',
      'HEAD',
      'OPTIONS',
      'PATCH',
      'TRACE',
      'get',
      'PROPFIND',
    ),
    weight: 2,
  },
  { arbitrary: fc.stringMatching(/^[A-Z]{1,12}$/), weight: 1 },
);

const route = fc.constantFrom(
  ROUTES.parameters,
  ROUTES.dynamodb,
  ROUTES.ping,
  ROUTES.health,
  ROUTES.stats,
  ROUTES.awsParameter,
  '/parameters/CacheExtensions_Parameter1',
  '/parameters/',
  '/parameters',
  '/dynamodb/DynamoDbTable-pKey1-sKey1',
  '/dynamodb/DynamoDbTable',
  '/dynamodb/-',
  '/dynamodb/DynamoDbTable-%ff-%00',
  '/dynamodb',
  '/',
  '/v1',
  '/v1/',
  '//v1/parameters',
  '/v1/parameters/',
  '/v1/../v1/parameters',
  '/%2e%2e/etc/passwd',
  '*',
  'http://example.com/v1/parameters',
);

/** Text that is hard on a URL parser: invalid percent-escapes, invalid UTF-8, controls, long runs. */
const nasty = fc.oneof(
  { arbitrary: fc.string({ maxLength: 40 }).map(encodeURIComponent), weight: 4 },
  // Any code point, lone surrogates included, percent-encoded byte by byte (encodeURIComponent would throw).
  {
    arbitrary: fc
      .string({ unit: 'binary', maxLength: 20 })
      .map((t) => [...Buffer.from(t, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')),
    weight: 2,
  },
  fc.string({ maxLength: 20 }),
  fc.constantFrom(
    '%',
    '%z',
    '%zz',
    '%c3%28',
    '%ff%fe',
    '%00',
    '%0d%0a',
    '%e2%82',
    '\u00ff\u00fe',
    '\u0080',
    '+',
    '%2B',
  ),
  fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b).toString('latin1')),
  fc.integer({ min: 1000, max: 20_000 }).map((n) => 'a'.repeat(n)),
  fc.constantFrom(
    CacheKeyJson('{"pKey":{"S":"pKey1"},"sKey":{"S":"sKey1"}}'),
    CacheKeyJson('{"pKey":{"N":"1e999"}}'),
    CacheKeyJson('{"a":{"S":""}}'),
    CacheKeyJson('[]'),
    'DynamoDbTable',
    SEED_PARAMETER,
    'true',
    'false',
  ),
);

function CacheKeyJson(text: string): string {
  return encodeURIComponent(text);
}

const query = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom('name', 'table', 'key', 'decrypt', 'refresh', 'version', 'label', 'withDecryption'),
        nasty,
      ),
      nasty,
    ),
    { maxLength: 5 },
  )
  .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`));

/** Header lines (without CRLF); some of them try to inject more lines or are far too big. */
const header = fc.oneof(
  { arbitrary: fc.constantFrom('Accept: */*', 'User-Agent: fuzz', 'Accept-Encoding: gzip'), weight: 4 },
  fc.constantFrom(
    'X-Forwarded-For: 10.0.0.1',
    'Connection: keep-alive',
    'Transfer-Encoding: chunked',
    'Content-Length: 5',
    'Content-Length: abc',
    'Host: evil.example.com',
    'Expect: 100-continue',
    'Upgrade: websocket',
  ),
  fc.string({ maxLength: 30 }).map((v) => `X-Random: ${v}`),
  fc
    .constantFrom('\r\nX-Injected: yes', '\nX-Injected: yes', '\rX-Injected: yes', ' folded\r\n continuation')
    .map((v) => `X-Inject: a${v}`),
  fc.integer({ min: 1000, max: 40_000 }).map((n) => `X-Pad: ${'p'.repeat(n)}`),
  fc.uint8Array({ minLength: 1, maxLength: 16 }).map((b) => `X-Bytes: ${Buffer.from(b).toString('latin1')}`),
);

type TokenChoice = 'right' | 'wrong' | 'none' | 'twice';
const request = fc.record({
  method,
  route,
  query,
  token: fc.constantFrom<TokenChoice>('right', 'right', 'wrong', 'none', 'twice'),
  headers: fc.array(header, { maxLength: 3 }),
});
type HostileRequest = typeof request extends fc.Arbitrary<infer T> ? T : never;

function bytes(r: HostileRequest): Buffer {
  const lines = [`${r.method} ${r.route}${r.query} HTTP/1.1`, 'Host: 127.0.0.1'];
  if (r.token === 'right' || r.token === 'twice')
    lines.push(`X-Aws-Parameters-Secrets-Token: ${stack.token}`);
  if (r.token === 'wrong' || r.token === 'twice') lines.push('X-Aws-Parameters-Secrets-Token: nope');
  lines.push(...r.headers, 'Connection: close');
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

function problem(r: HostileRequest, a: RawAnswer): string | undefined {
  if (a.status === null) return `no answer (${a.error ?? 'closed'})`;
  if (!DOCUMENTED.has(a.status)) return `undocumented status ${a.status}`;
  if (r.method === 'HEAD') return undefined;
  if (a.status !== 200) {
    let body: { code?: unknown; message?: unknown };
    try {
      body = JSON.parse(a.body);
    } catch {
      return `status ${a.status} with a non-JSON body ${JSON.stringify(a.body.slice(0, 80))}`;
    }
    if (typeof body.code !== 'string' || typeof body.message !== 'string') {
      return `status ${a.status} without an error envelope`;
    }
  }
  if ('x-injected' in a.headers) return 'an injected header came back';
  return undefined;
}

describe('hostile HTTP', () => {
  it(
    'answers a documented status with a JSON error and keeps serving when requests are hostile',
    async () => {
      let sent = 0;
      const seen: Record<string, number> = {};
      await fc.assert(
        fc.asyncProperty(fc.array(request, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
          const answers = await Promise.all(batch.map((r) => rawRequest(stack.port, bytes(r))));
          sent += batch.length;
          batch.forEach((r, i) => {
            const status = String(answers[i]?.status);
            seen[status] = (seen[status] ?? 0) + 1;
            const p = problem(r, answers[i] as RawAnswer);
            if (p) throw new Error(`${p} for ${JSON.stringify(bytes(r).toString('latin1').slice(0, 300))}`);
          });
          // A valid request in between still succeeds.
          const ok = await stack.get(parameterPath(SEED_PARAMETER));
          expect(ok.status).toBe(200);
          expect(ok.body.value).toBe(SEED_PARAMETER_VALUE);
        }),
        { numRuns: RUNS, endOnFailure: true },
      );
      expect(sent).toBe(BATCH * RUNS);
      console.log(`[hostile] ${sent} requests, statuses ${JSON.stringify(seen)}`);
      expect(stack.lambda.extensions[0]?.exitCode ?? null).toBeNull();
      const stats = await stack.get(ROUTES.stats);
      expect(stats.status).toBe(200);
    },
    BUDGET_MS,
  );

  it('answers 400 with a JSON error when the path holds invalid percent-encoding or invalid UTF-8', async () => {
    for (const target of [
      '/v1/parameters?name=%zz',
      '/v1/parameters?name=%c3%28',
      '/parameters/%ff',
      '/v1/%',
    ]) {
      const a = await rawRequest(
        stack.port,
        `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Aws-Parameters-Secrets-Token: ${stack.token}\r\nConnection: close\r\n\r\n`,
      );
      expect([400, 404]).toContain(a.status);
      expect(JSON.parse(a.body).code).toMatch(/^(BadRequest|NotFound)$/);
    }
  });

  it('answers 405 MethodNotAllowed when the method is not GET', async () => {
    for (const m of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const a = await rawRequest(
        stack.port,
        `${m} ${ROUTES.parameters}?name=x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Aws-Parameters-Secrets-Token: ${stack.token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
      );
      expect(a.status).toBe(405);
      expect(JSON.parse(a.body).code).toBe('MethodNotAllowed');
    }
  });

  it('refuses a request that injects a header line', async () => {
    const a = await rawRequest(
      stack.port,
      `GET ${ROUTES.ping} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\rX-Forwarded-For: 1.2.3.4\r\nConnection: close\r\n\r\n`,
    );
    expect(a.status).toBe(400);
    expect(JSON.parse(a.body).code).toBe('BadRequest');
  });
});
