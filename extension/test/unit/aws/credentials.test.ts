import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { containerUrl, createCredentialProvider, REFRESH_BEFORE_MS } from '../../../src/aws/credentials.js';
import { AwsCredentialsError } from '../../../src/aws/errors.js';

const T0 = Date.parse('2026-06-01T12:00:00Z');

interface Endpoint {
  url: string;
  requests: IncomingMessage[];
  /** What the next answers are: status, and the credentials' expiry. */
  answers: Array<{ status: number; expiresAt?: number }>;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function credentialsEndpoint(expectedAuthorization?: string): Promise<Endpoint> {
  const endpoint: Endpoint = { url: '', requests: [], answers: [] };
  let issued = 0;
  const server = createServer((req, res) => {
    endpoint.requests.push(req);
    if (expectedAuthorization !== undefined && req.headers.authorization !== expectedAuthorization) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"bad token"}');
      return;
    }
    const answer = endpoint.answers.shift() ?? { status: 200 };
    if (answer.status !== 200) {
      res.writeHead(answer.status).end();
      return;
    }
    issued++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        AccessKeyId: `AKID${issued}`,
        SecretAccessKey: `secret${issued}`,
        Token: `token${issued}`,
        Expiration: new Date(answer.expiresAt ?? T0 + 60 * 60 * 1000).toISOString(),
      }),
    );
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/credentials`;
  return endpoint;
}

function provider(env: Record<string, string>, clock: { now: number }, warnings: string[] = []) {
  return createCredentialProvider({
    env: { AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001', ...env },
    now: () => clock.now,
    sleep: async () => {},
    warn: (msg) => warnings.push(msg),
  });
}

describe('createCredentialProvider', () => {
  it('returns the environment credentials before any endpoint', async () => {
    const get = provider(
      {
        AWS_ACCESS_KEY_ID: 'AKIDENV',
        AWS_SECRET_ACCESS_KEY: 'secretenv',
        AWS_SESSION_TOKEN: 'tokenenv',
        AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://127.0.0.1:1/never',
      },
      { now: T0 },
    );
    expect(await get()).toMatchObject({
      accessKeyId: 'AKIDENV',
      secretAccessKey: 'secretenv',
      sessionToken: 'tokenenv',
    });
  });

  it('fetches from the container endpoint with the token of AWS_CONTAINER_AUTHORIZATION_TOKEN and caches them', async () => {
    const endpoint = await credentialsEndpoint('Bearer env-token');
    const get = provider(
      {
        AWS_CONTAINER_CREDENTIALS_FULL_URI: endpoint.url,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: 'Bearer env-token',
      },
      { now: T0 },
    );
    const first = await get();
    expect(first).toMatchObject({ accessKeyId: 'AKID1', secretAccessKey: 'secret1', sessionToken: 'token1' });
    expect(await get()).toBe(first);
    expect(endpoint.requests).toHaveLength(1);
    expect(endpoint.requests[0]?.url).toBe('/v1/credentials');
  });

  it('reads the token file at each fetch, so a rotated token is used', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aws-creds-'));
    try {
      const file = join(dir, 'token');
      await writeFile(file, 'file-token-1\n');
      const endpoint = await credentialsEndpoint();
      const clock = { now: T0 };
      endpoint.answers.push({ status: 200, expiresAt: T0 + 10 * 60 * 1000 }, { status: 200 });
      const get = provider(
        {
          AWS_CONTAINER_CREDENTIALS_FULL_URI: endpoint.url,
          AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: file,
          AWS_CONTAINER_AUTHORIZATION_TOKEN: 'ignored-when-a-file-is-set',
        },
        clock,
      );
      await get();
      await writeFile(file, 'file-token-2');
      clock.now = T0 + 6 * 60 * 1000; // inside the refresh window
      await get();
      expect(endpoint.requests.map((r) => r.headers.authorization)).toEqual(['file-token-1', 'file-token-2']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refreshes once, before expiry, when concurrent calls enter the refresh window', async () => {
    const endpoint = await credentialsEndpoint();
    const clock = { now: T0 };
    const expiresAt = T0 + 20 * 60 * 1000;
    endpoint.answers.push({ status: 200, expiresAt });
    const get = provider({ AWS_CONTAINER_CREDENTIALS_FULL_URI: endpoint.url }, clock);
    expect((await get()).accessKeyId).toBe('AKID1');
    clock.now = expiresAt - REFRESH_BEFORE_MS - 1000; // still outside the window
    expect((await get()).accessKeyId).toBe('AKID1');
    clock.now = expiresAt - REFRESH_BEFORE_MS + 1000; // inside: refresh although still valid
    const all = await Promise.all([get(), get(), get()]);
    expect(all.map((c) => c.accessKeyId)).toEqual(['AKID2', 'AKID2', 'AKID2']);
    expect(endpoint.requests).toHaveLength(2);
  });

  it('keeps the still-valid credentials when a refresh fails, and says so at warn', async () => {
    const endpoint = await credentialsEndpoint();
    const clock = { now: T0 };
    const expiresAt = T0 + 10 * 60 * 1000;
    endpoint.answers.push({ status: 200, expiresAt }, { status: 403 });
    const warnings: string[] = [];
    const get = provider({ AWS_CONTAINER_CREDENTIALS_FULL_URI: endpoint.url }, clock, warnings);
    await get();
    clock.now = expiresAt - 60 * 1000;
    expect((await get()).accessKeyId).toBe('AKID1');
    expect(warnings).toEqual(['aws credentials refresh failed; using the current ones until they expire']);
  });

  it('retries a 5xx of the endpoint and then succeeds', async () => {
    const endpoint = await credentialsEndpoint();
    endpoint.answers.push({ status: 500 }, { status: 200 });
    const full = provider({ AWS_CONTAINER_CREDENTIALS_FULL_URI: endpoint.url }, { now: T0 });
    expect((await full()).accessKeyId).toBe('AKID1');
    expect(endpoint.requests).toHaveLength(2);
  });

  it('throws AwsCredentialsError naming the status when the endpoint refuses the token', async () => {
    const endpoint = await credentialsEndpoint('Bearer right');
    const get = provider(
      { AWS_CONTAINER_CREDENTIALS_FULL_URI: endpoint.url, AWS_CONTAINER_AUTHORIZATION_TOKEN: 'Bearer wrong' },
      { now: T0 },
    );
    const error = await get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsCredentialsError);
    expect((error as AwsCredentialsError).message).toBe(
      'the container credentials endpoint answered HTTP 401',
    );
    expect((error as AwsCredentialsError).message).not.toContain('wrong');
  });

  it('throws AwsCredentialsError when the endpoint is down, after its retries', async () => {
    const endpoint = await credentialsEndpoint();
    await new Promise((resolve) => servers.pop()?.close(resolve));
    const error = await provider({ AWS_CONTAINER_CREDENTIALS_FULL_URI: endpoint.url }, { now: T0 })().catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AwsCredentialsError);
    expect((error as Error).message).toBe('the container credentials endpoint did not answer (network)');
  });

  it("loads the SDK's chain outside Lambda when neither the environment nor a container endpoint is given", async () => {
    // The chain reads process.env itself; its first link (the environment) answers without any network.
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDFROMSDKCHAIN');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret-from-chain');
    vi.stubEnv('AWS_SESSION_TOKEN', '');
    try {
      const get = createCredentialProvider({ env: {}, now: () => T0, sleep: async () => {}, warn: () => {} });
      expect(await get()).toMatchObject({
        accessKeyId: 'AKIDFROMSDKCHAIN',
        secretAccessKey: 'secret-from-chain',
      });
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('throws AwsCredentialsError in Lambda when no source is set', async () => {
    await expect(provider({}, { now: T0 })()).rejects.toThrow(AwsCredentialsError);
  });
});

describe('containerUrl', () => {
  it('puts a relative URI on 169.254.170.2 and prefers it to a full URI', () => {
    const env = {
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/creds?id=1',
      AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://127.0.0.1:1/x',
    };
    expect(containerUrl(env).href).toBe('http://169.254.170.2/v2/creds?id=1');
  });

  it('accepts https anywhere and http only on loopback and the container hosts, as the SDK', () => {
    const ok = [
      'https://creds.example.com/x',
      'http://127.0.0.1:8080/x',
      'http://127.3.2.1/x',
      'http://localhost/x',
      'http://[::1]:1/x',
      'http://169.254.170.2/x',
      'http://169.254.170.23/v1/credentials',
      'http://[fd00:ec2::23]/v1/credentials',
    ];
    for (const url of ok)
      expect(containerUrl({ AWS_CONTAINER_CREDENTIALS_FULL_URI: url }).href).toBe(new URL(url).href);
    for (const url of ['http://10.0.0.1/x', 'http://creds.example.com/x', 'file:///etc/passwd', 'nope']) {
      expect(() => containerUrl({ AWS_CONTAINER_CREDENTIALS_FULL_URI: url })).toThrow(AwsCredentialsError);
    }
  });
});
