/**
 * Secrets Manager as a source of the packaged layer, over HTTP, against the local Secrets Manager: prefetch
 * in batches of 20, revalidation with `DescribeSecret` (no value read while the stage stays), a moved stage,
 * the rotation date as a bound, forced reads, the AWS-compatible route and its error shape, and the tokens
 * the Secrets Manager Agent accepts. Calls are counted at the emulator.
 */
import type { Seed } from '@lambda-cache/local';
import { ROUTES, secretPath } from '@lambda-cache/shared';
import { afterEach, describe, expect, it } from 'vitest';
import {
  httpGet,
  newToken,
  type Reply,
  type Stack,
  type StackOptions,
  sleep,
  startStack,
  waitFor,
} from '../src/harness.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** Starts a stack and keeps it for `afterEach` to close. */
async function start(opts: StackOptions): Promise<Stack> {
  stack = await startStack(opts);
  return stack;
}

/** Calls of one Secrets Manager operation counted at the emulator. */
function calls(s: Stack, operation: string): number {
  return s.backends.secretsManager.calls[operation] ?? 0;
}

/** Calls that read a value (not `DescribeSecret`). */
function valueReads(s: Stack): number {
  return calls(s, 'GetSecretValue') + calls(s, 'BatchGetSecretValue');
}

/** A distinctive value, long enough for the harness's log check to look for it. */
function secretValueOf(name: string, generation = 1): string {
  return `value-of-${name}-gen${generation}-7c1e9a`;
}

/** `config.yaml` with one `secrets:` group. */
function secretsConfig(names: readonly string[], ttl?: string): string {
  return [
    'secrets:',
    `  - ${ttl === undefined ? '' : `ttl: ${ttl}\n    `}names:`,
    ...names.map((n) => `      - ${n}`),
    '',
  ].join('\n');
}

function seedOf(names: readonly string[]): Seed {
  return { secrets: names.map((name) => ({ name, value: secretValueOf(name) })) };
}

async function readSecret(s: Stack, id: string, opts: { refresh?: boolean } = {}): Promise<Reply> {
  return s.get(secretPath(id, opts));
}

function awsSecretPath(query: Record<string, string>): string {
  return `${ROUTES.awsSecret}?${new URLSearchParams(query)}`;
}

describe('Secrets Manager prefetch', () => {
  it('loads 45 configured secrets in 3 BatchGetSecretValue calls and serves each as a hit', async () => {
    const present = Array.from({ length: 44 }, (_, i) => `app/secret-${String(i).padStart(2, '0')}`);
    const missing = 'app/secret-that-was-never-created';
    const names = [...present.slice(0, 30), missing, ...present.slice(30)];
    const s = await start({ config: secretsConfig(names), seed: seedOf(present) });

    // ⌈45 / 20⌉ batch calls during init, and nothing read one by one.
    expect(calls(s, 'BatchGetSecretValue')).toBe(3);
    expect(calls(s, 'GetSecretValue')).toBe(0);
    const batches = s.backends.secretsManager.callLog.filter((c) => c.operation === 'BatchGetSecretValue');
    expect(
      batches.map((c) => (c.request as { SecretIdList: string[] }).SecretIdList.length).sort((a, b) => b - a),
    ).toEqual([20, 20, 5]);

    // The missing one is logged by name, as not found; prefetch counts it and goes on.
    const notFound = s.logs().filter((l) => l.includes(missing));
    expect(notFound.some((l) => /configured item does not exist/.test(l) && /NotFound/.test(l))).toBe(true);
    expect(s.logs().find((l) => l.includes('prefetch done'))).toMatch(/secrets=44 .*notFound=1/);
    // The start line counts the section (names only, never values).
    expect(s.logs().find((l) => l.startsWith('[lambda-cache] config '))).toMatch(/: 45 secrets$/);

    const before = { ...s.backends.secretsManager.calls };
    for (const name of present) {
      const res = await readSecret(s, name);
      expect(res.status).toBe(200);
      expect(res.headers['x-cache']).toBe('hit');
      expect(res.body.name).toBe(name);
      expect(res.body.secretString).toBe(secretValueOf(name));
    }
    // The missing one was remembered as missing: answered 404 without asking again.
    const absent = await readSecret(s, missing);
    expect(absent.status).toBe(404);
    expect(absent.body.code).toBe('NotFound');
    expect(s.backends.secretsManager.calls).toEqual(before);
  });
});

describe('Secrets Manager rotation', () => {
  const TTL_MS = 1000;

  it('revalidates an expired secret with DescribeSecret alone while its stage stays on the same version', async () => {
    const name = 'rotation/steady';
    const s = await start({ config: secretsConfig([name], '1s'), seed: seedOf([name]) });
    s.backends.secretsManager.resetCalls();
    for (let round = 1; round <= 3; round++) {
      await sleep(TTL_MS + 200);
      const expired = await readSecret(s, name);
      expect(expired.status).toBe(200);
      expect(expired.headers['x-cache']).not.toBe('hit');
      expect(expired.body.secretString).toBe(secretValueOf(name));
      const fresh = await waitFor(`round ${round}'s revalidation`, async () => {
        const res = await readSecret(s, name);
        return res.headers['x-cache'] === 'hit' ? res : undefined;
      });
      expect(fresh.body.secretString).toBe(secretValueOf(name));
    }
    // One DescribeSecret per expiry, and never a value read.
    expect(calls(s, 'DescribeSecret')).toBeGreaterThanOrEqual(3);
    expect(valueReads(s)).toBe(0);
  });

  it('serves the new AWSCURRENT value once a revalidation sees the stage moved', async () => {
    const name = 'rotation/moving';
    const rotated = secretValueOf(name, 2);
    const s = await start({
      config: secretsConfig([name], '1s'),
      seed: seedOf([name]),
      neverLogged: [rotated],
    });
    const { versionId } = s.backends.secretsManager.rotateSecret(name, rotated);
    s.backends.secretsManager.resetCalls();
    await sleep(TTL_MS + 200);

    // Within stale-while-revalidate the old value may be served, marked stale; a miss waited for the load.
    const seen: Array<{ cache: string | undefined; value: string }> = [];
    for (let i = 0; i < 40; i++) {
      const res = await readSecret(s, name);
      expect(res.status).toBe(200);
      seen.push({ cache: res.headers['x-cache'], value: res.body.secretString });
      if (res.body.secretString === rotated) break;
      await sleep(25);
    }
    const last = seen.at(-1);
    expect(last?.value).toBe(rotated);
    for (const old of seen.slice(0, -1)) expect(old).toEqual({ cache: 'stale', value: secretValueOf(name) });
    if (seen.length === 1) expect(last?.cache).toBe('miss');

    // Stored: the next read does not load it again (it is a hit, or stale if this machine paused past the TTL).
    const after = await readSecret(s, name);
    expect(after.headers['x-cache']).not.toBe('miss');
    expect(after.body).toMatchObject({ secretString: rotated, versionId, versionStages: ['AWSCURRENT'] });
    // The stage moved: DescribeSecret said so, and one GetSecretValue read the new version.
    expect(calls(s, 'DescribeSecret')).toBeGreaterThanOrEqual(1);
    expect(calls(s, 'GetSecretValue')).toBe(1);
    expect(calls(s, 'BatchGetSecretValue')).toBe(0);
  });

  it('revalidates on INVOKE: DescribeSecret alone while unchanged, the new value after the INVOKE that sees a rotation', async () => {
    const name = 'rotation/on-invoke';
    const rotated = secretValueOf(name, 2);
    // A 1 s TTL is always within its refresh-ahead window (a fifth of the TTL, at least 1 s): every INVOKE
    // revalidates it, with no wait for it to expire.
    const s = await start({
      config: secretsConfig([name], '1s'),
      seed: seedOf([name]),
      neverLogged: [rotated],
    });
    const sm = s.backends.secretsManager;
    sm.resetCalls();
    expect((await s.lambda.invoke({ n: 1 })).ok).toBe(true);
    expect(calls(s, 'DescribeSecret')).toBe(1);
    expect(valueReads(s)).toBe(0);
    expect((await readSecret(s, name)).body.secretString).toBe(secretValueOf(name));

    sm.rotateSecret(name, rotated);
    sm.resetCalls();
    expect((await s.lambda.invoke({ n: 2 })).ok).toBe(true);
    expect(calls(s, 'DescribeSecret')).toBe(1);
    expect(calls(s, 'GetSecretValue')).toBe(1);
    // The INVOKE's refresh has stored it: the first read after it has the new value.
    const res = await readSecret(s, name);
    expect(res.status).toBe(200);
    expect(res.body.secretString).toBe(rotated);
  });

  it('does not serve a secret past the NextRotationDate its revalidation learned, well inside its TTL', async () => {
    const name = 'rotation/scheduled';
    const ttlMs = 4000;
    const rotated = secretValueOf(name, 2);
    const s = await start({
      config: secretsConfig([name], '4s'),
      seed: seedOf([name]),
      neverLogged: [rotated],
    });
    const loaded = Date.now();
    // Due 1.5 s after the first revalidation, which happens once the TTL has passed.
    const rotationAt = loaded + ttlMs + 1500;
    s.backends.secretsManager.setNextRotationDate(name, rotationAt);
    await sleep(ttlMs + 200);
    s.backends.secretsManager.resetCalls();
    await waitFor('the revalidation that learns the rotation date', async () => {
      const res = await readSecret(s, name);
      return res.headers['x-cache'] === 'hit' && res.body.secretString === secretValueOf(name);
    });
    expect(calls(s, 'DescribeSecret')).toBe(1);
    expect(valueReads(s)).toBe(0);

    // The rotation runs; until its date the cache has no reason to look and serves the value it holds.
    s.backends.secretsManager.rotateSecret(name, rotated);
    await sleep(Math.max(0, rotationAt - Date.now()) + 300);
    // Past the date, and still long before the revalidated value's TTL would end (about 2.5 s from here):
    // without the bound this read is a hit of the old value.
    const res = await readSecret(s, name);
    expect(res.status).toBe(200);
    expect(res.headers['x-cache']).toBe('miss');
    expect(res.body.secretString).toBe(rotated);
    expect(calls(s, 'DescribeSecret')).toBe(2);
    expect(calls(s, 'GetSecretValue')).toBe(1);
  });
});

describe('Secrets Manager forced reads', () => {
  it('fetches now on refresh=true and refreshNow=true, and keeps the cached value when a forced read fails', async () => {
    const name = 'forced/secret';
    const second = secretValueOf(name, 2);
    const third = secretValueOf(name, 3);
    const unread = secretValueOf(name, 4);
    const s = await start({
      config: secretsConfig([name]),
      seed: seedOf([name]),
      neverLogged: [second, third, unread],
      fixedAwsPort: true,
    });
    const sm = s.backends.secretsManager;
    sm.resetCalls();
    expect((await readSecret(s, name)).headers['x-cache']).toBe('hit');
    expect(valueReads(s)).toBe(0);

    // refresh=true on /v1/secrets: a call now, and the value it read.
    sm.putSecret({ name, value: second });
    const v1 = await readSecret(s, name, { refresh: true });
    expect(v1.status).toBe(200);
    expect(v1.body.secretString).toBe(second);
    expect(calls(s, 'GetSecretValue')).toBe(1);
    expect((await readSecret(s, name)).body.secretString).toBe(second);

    // refreshNow=true on /secretsmanager/get, on the AWS port: another call, and the value it read.
    sm.putSecret({ name, value: third });
    const aws = await httpGet(s.awsPort() as number, awsSecretPath({ secretId: name, refreshNow: 'true' }), {
      'x-aws-parameters-secrets-token': s.token,
    });
    expect(aws.status).toBe(200);
    expect(aws.body.SecretString).toBe(third);
    expect(calls(s, 'GetSecretValue')).toBe(2);

    // A forced read Secrets Manager fails answers with the error, not with the cached value …
    sm.putSecret({ name, value: unread });
    sm.setFaults({ failRate: 1 });
    const failedV1 = await readSecret(s, name, { refresh: true });
    expect(failedV1.status).toBe(502);
    expect(failedV1.body.code).toBe('UpstreamError');
    expect(failedV1.text).not.toContain(third);
    const failedAws = await httpGet(
      s.awsPort() as number,
      awsSecretPath({ secretId: name, refreshNow: 'true' }),
      { 'x-aws-parameters-secrets-token': s.token },
    );
    expect(failedAws.status).toBe(failedV1.status);
    expect(Object.keys(failedAws.body)).toEqual(['__type', 'message']);
    expect(failedAws.text).not.toContain(third);

    // … and leaves it as it was: a plain read is still a hit with it, with no call to the failing backend.
    const failing = calls(s, 'GetSecretValue');
    const plain = await readSecret(s, name);
    expect(plain.status).toBe(200);
    expect(plain.headers['x-cache']).toBe('hit');
    expect(plain.body.secretString).toBe(third);
    const plainAws = await s.get(awsSecretPath({ secretId: name }));
    expect(plainAws.headers['x-cache']).toBe('hit');
    expect(plainAws.body.SecretString).toBe(third);
    expect(calls(s, 'GetSecretValue')).toBe(failing);
  });
});

describe('Secrets Manager failing', () => {
  it('serves the last good value, marked stale, while revalidations fail, and says so without the value', async () => {
    const name = 'failing/secret';
    const s = await start({ config: secretsConfig([name], '1s'), seed: seedOf([name]) });
    const sm = s.backends.secretsManager;
    sm.setFaults({ failRate: 1 });
    sm.resetCalls();
    await sleep(1200);
    for (let i = 0; i < 3; i++) {
      const res = await readSecret(s, name);
      expect(res.status).toBe(200);
      expect(res.headers['x-cache']).toBe('stale');
      expect(res.headers['cache-control']).toBe('max-age=0');
      expect(res.body.secretString).toBe(secretValueOf(name));
      await sleep(300);
    }
    await waitFor('the failed revalidation to be logged', () =>
      s.logs().find((l) => l.includes('background refresh failed') && l.includes(name)),
    );
    expect(calls(s, 'DescribeSecret')).toBeGreaterThanOrEqual(1);
    expect(valueReads(s)).toBe(0);

    // Back: the next revalidation finds the stage where it was, and the value is fresh again.
    sm.setFaults({});
    const fresh = await waitFor(
      'a fresh hit once Secrets Manager answers',
      async () => {
        const res = await readSecret(s, name);
        return res.headers['x-cache'] === 'hit' ? res : undefined;
      },
      { timeoutMs: 40_000, intervalMs: 200 },
    );
    expect(fresh.body.secretString).toBe(secretValueOf(name));
    expect(valueReads(s)).toBe(0);
  });
});

/** Seed of the AWS-route tests: a JSON text secret with a previous version, and a binary one. */
const TEXT_SECRET = 'aws-route/db-credentials';
const TEXT_VALUE = '{"username":"app","password":"aws-route-password-41c2"}';
const TEXT_PREVIOUS = '{"username":"app","password":"aws-route-old-password-9d7e"}';
const PREVIOUS_ID = '0e3c9a52-5a4b-4f1f-9a8e-3b7c2d1e0f11';
const CURRENT_ID = '7f1d2c3b-4a59-4e68-8b7a-6c5d4e3f2a10';
const BINARY_SECRET = 'aws-route/signing-key';
const BINARY_BYTES = Buffer.from('binary-secret-bytes-\u0000\u00ff-aws-route', 'latin1');

function awsRouteSeed(): Seed {
  return {
    secrets: [
      {
        name: TEXT_SECRET,
        versions: [
          { value: TEXT_PREVIOUS, id: PREVIOUS_ID },
          { value: TEXT_VALUE, id: CURRENT_ID },
        ],
      },
      { name: BINARY_SECRET, binary: BINARY_BYTES.toString('base64') },
    ],
  };
}

describe('GET /secretsmanager/get on PARAMETERS_SECRETS_EXTENSION_HTTP_PORT', () => {
  /** A GET on the AWS-compatible port, with the token unless `headers` says otherwise. */
  function awsGet(s: Stack, query: Record<string, string>, headers?: Record<string, string>) {
    return httpGet(s.awsPort() as number, awsSecretPath(query), {
      'x-aws-parameters-secrets-token': s.token,
      ...headers,
    });
  }

  it("answers GetSecretValue's body as the Secrets Manager Agent sends it", async () => {
    const s = await start({ seed: awsRouteSeed(), fixedAwsPort: true });
    expect(s.awsPort()).not.toBe(s.port);
    const before = Date.now() / 1000;

    const current = await awsGet(s, { secretId: TEXT_SECRET });
    expect(current.status).toBe(200);
    expect(current.headers['content-type']).toMatch(/^application\/json/);
    // Its members, in GetSecretValue's order.
    expect(Object.keys(current.body)).toEqual([
      'ARN',
      'Name',
      'VersionId',
      'SecretString',
      'VersionStages',
      'CreatedDate',
    ]);
    expect(current.body.ARN).toMatch(
      new RegExp(`^arn:aws:secretsmanager:us-west-2:\\d{12}:secret:${TEXT_SECRET}-[A-Za-z0-9]{6}$`),
    );
    expect(current.body).toMatchObject({
      Name: TEXT_SECRET,
      VersionId: CURRENT_ID,
      SecretString: TEXT_VALUE,
      VersionStages: ['AWSCURRENT'],
    });
    // Epoch seconds as text, a fraction of at most milliseconds, when the seed made the version.
    expect(current.body.CreatedDate).toMatch(/^\d{10}(\.\d{1,3})?$/);
    const created = Number(current.body.CreatedDate);
    expect(created).toBeGreaterThan(before - 600);
    expect(created).toBeLessThanOrEqual(before + 1);

    const previous = await awsGet(s, { secretId: TEXT_SECRET, versionStage: 'AWSPREVIOUS' });
    expect(previous.status).toBe(200);
    expect(previous.body).toMatchObject({
      VersionId: PREVIOUS_ID,
      SecretString: TEXT_PREVIOUS,
      VersionStages: ['AWSPREVIOUS'],
    });
    const byId = await awsGet(s, { secretId: TEXT_SECRET, versionId: PREVIOUS_ID });
    expect(byId.status).toBe(200);
    expect(byId.body).toMatchObject({ VersionId: PREVIOUS_ID, SecretString: TEXT_PREVIOUS });
    // By its ARN: the same secret.
    const byArn = await awsGet(s, { secretId: current.body.ARN });
    expect(byArn.status).toBe(200);
    expect(byArn.body).toMatchObject({ Name: TEXT_SECRET, SecretString: TEXT_VALUE });

    const binary = await awsGet(s, { secretId: BINARY_SECRET });
    expect(binary.status).toBe(200);
    expect(Object.keys(binary.body)).toEqual([
      'ARN',
      'Name',
      'VersionId',
      'SecretBinary',
      'VersionStages',
      'CreatedDate',
    ]);
    expect(Buffer.from(binary.body.SecretBinary, 'base64')).toEqual(BINARY_BYTES);

    // The same route on the main port answers the same body.
    const main = await s.get(awsSecretPath({ secretId: TEXT_SECRET }));
    expect(main.status).toBe(200);
    expect(main.body).toEqual(current.body);
  });

  it("answers the agent's {__type, message} errors for a missing secret, a bad query and a missing token", async () => {
    const s = await start({ seed: awsRouteSeed(), fixedAwsPort: true });
    const cases: Array<{ what: string; query: Record<string, string>; headers?: Record<string, string> }> = [
      { what: 'a missing secret', query: { secretId: 'aws-route/no-such-secret' } },
      { what: 'no secretId', query: {} },
      {
        what: 'versionId and versionStage',
        query: { secretId: TEXT_SECRET, versionId: CURRENT_ID, versionStage: 'AWSCURRENT' },
      },
      { what: 'an unknown parameter', query: { secretId: TEXT_SECRET, name: TEXT_SECRET } },
      { what: 'a bad refreshNow', query: { secretId: TEXT_SECRET, refreshNow: 'yes' } },
      {
        what: 'no token',
        query: { secretId: TEXT_SECRET },
        headers: { 'x-aws-parameters-secrets-token': '' },
      },
      {
        what: 'a wrong token',
        query: { secretId: TEXT_SECRET },
        headers: { 'x-aws-parameters-secrets-token': newToken() },
      },
    ];
    const answers: Record<string, { status: number; type: string }> = {};
    for (const c of cases) {
      const res = await awsGet(s, c.query, c.headers);
      expect(Object.keys(res.body), c.what).toEqual(['__type', 'message']);
      expect(typeof res.body.message, c.what).toBe('string');
      expect(res.text, c.what).not.toContain(TEXT_VALUE);
      answers[c.what] = { status: res.status, type: res.body.__type };
    }
    expect(answers).toEqual({
      'a missing secret': { status: 404, type: 'ResourceNotFoundException' },
      'no secretId': { status: 400, type: 'InvalidRequestException' },
      'versionId and versionStage': { status: 400, type: 'InvalidRequestException' },
      'an unknown parameter': { status: 400, type: 'InvalidRequestException' },
      'a bad refreshNow': { status: 400, type: 'InvalidRequestException' },
      'no token': { status: 403, type: 'AccessDeniedException' },
      'a wrong token': { status: 403, type: 'AccessDeniedException' },
    });
  });
});

describe('the token of the Secrets Manager routes', () => {
  it('is AWS_CONTAINER_AUTHORIZATION_TOKEN where AWS_SESSION_TOKEN is empty', async () => {
    const containerToken = newToken();
    const s = await start({
      seed: awsRouteSeed(),
      env: { AWS_SESSION_TOKEN: '', AWS_CONTAINER_AUTHORIZATION_TOKEN: containerToken },
      fixedAwsPort: true,
    });
    const v1 = secretPath(TEXT_SECRET);
    const aws = awsSecretPath({ secretId: TEXT_SECRET });
    for (const [port, path] of [
      [s.port, v1],
      [s.awsPort() as number, aws],
    ] as const) {
      const ok = await httpGet(port, path, { 'x-aws-parameters-secrets-token': containerToken });
      expect(ok.status, path).toBe(200);
      // With no session token there is still a token to check: none, or another one, is refused.
      for (const token of ['', newToken()]) {
        const refused = await httpGet(port, path, { 'x-aws-parameters-secrets-token': token });
        expect(refused.status, path).toBe(403);
        expect(refused.text).not.toContain(TEXT_VALUE);
      }
    }
  });
});
