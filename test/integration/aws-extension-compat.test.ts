/**
 * A function written for AWS's Parameters and Secrets Lambda extension, with that extension's layer swapped
 * for lambda-cache and nothing else changed: its code reads the port and the token from the environment as
 * AWS's documentation shows, and its environment carries that extension's variables.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SEED_PARAMETER, SEED_PARAMETER_VALUE, SEED_SECRET, SEED_SECRET_VALUE } from '../src/fixtures.js';
import { AWS_PORT_VAR, httpGet, type Stack, startStack, totalCalls } from '../src/harness.js';

/** The handler, as AWS documents calling its extension from Node.js: `fetch` to localhost, the token header. */
const HANDLER = `export const handler = async (event) => {
  const port = process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT ?? 2773;
  const url = \`http://localhost:\${port}/systemsmanager/parameters/get?name=\${encodeURIComponent(event.name)}&withDecryption=true\`;
  const res = await fetch(url, {
    headers: { 'X-Aws-Parameters-Secrets-Token': process.env.AWS_SESSION_TOKEN },
  });
  return {
    status: res.status,
    cacheControl: res.headers.get('cache-control'),
    xCache: res.headers.get('x-cache'),
    body: await res.json(),
  };
};
`;

/** The same function reading a secret, as AWS documents it: `secretId`, the token, `SecretString`. */
const SECRET_HANDLER = `export const handler = async (event) => {
  const port = process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT ?? 2773;
  const url = \`http://localhost:\${port}/secretsmanager/get?secretId=\${encodeURIComponent(event.secretId)}\`;
  const res = await fetch(url, {
    headers: { 'X-Aws-Parameters-Secrets-Token': process.env.AWS_SESSION_TOKEN },
  });
  return {
    status: res.status,
    cacheControl: res.headers.get('cache-control'),
    xCache: res.headers.get('x-cache'),
    body: await res.json(),
  };
};
`;

/** What AWS's users set on such a function; no config.yaml, so nothing is prefetched and reads go through. */
const AWS_ENV = {
  SSM_PARAMETER_STORE_TTL: '120',
  SECRETS_MANAGER_TTL: '90',
  PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL: 'warn',
  PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE: '500',
  SSM_PARAMETER_STORE_TIMEOUT_MILLIS: '3000',
  PARAMETERS_SECRETS_EXTENSION_MAX_CONNECTIONS: '3',
  // The harness's own defaults that such a function would not have.
  CACHE_EXTENSION_LOG_LEVEL: '',
  CACHE_EXTENSION_CONFIG: '',
};

interface HandlerResult {
  status: number;
  cacheControl: string | null;
  xCache: string | null;
  // biome-ignore lint/suspicious/noExplicitAny: the test reads the JSON the extension sent
  body: any;
}

let stack: Stack | undefined;
let functionDir: string | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
  if (functionDir) await rm(functionDir, { recursive: true, force: true });
  functionDir = undefined;
});

async function awsFunction(): Promise<string> {
  functionDir = await mkdtemp(join(tmpdir(), 'lambda-cache-aws-fn-'));
  await writeFile(join(functionDir, 'index.mjs'), HANDLER);
  await writeFile(join(functionDir, 'secret.mjs'), SECRET_HANDLER);
  return functionDir;
}

async function read(s: Stack, name: string): Promise<HandlerResult> {
  const result = await s.lambda.invoke({ name });
  expect(result.ok).toBe(true);
  return result.payload as HandlerResult;
}

async function readSecret(s: Stack, secretId: string): Promise<HandlerResult> {
  const result = await s.lambda.invoke({ secretId });
  expect(result.ok).toBe(true);
  return result.payload as HandlerResult;
}

describe("a function written for AWS's Parameters and Secrets extension", () => {
  it('reads a parameter on PARAMETERS_SECRETS_EXTENSION_HTTP_PORT, shaped as AWS answers it', async () => {
    stack = await startStack({ functionDir: await awsFunction(), env: AWS_ENV, fixedAwsPort: true });
    expect(stack.awsPort()).not.toBe(stack.port);
    const first = await read(stack, SEED_PARAMETER);
    expect(first.status).toBe(200);
    const p = first.body.Parameter;
    expect(p.Name).toBe(SEED_PARAMETER);
    expect(p.Value).toBe(SEED_PARAMETER_VALUE);
    expect(p.Type).toBe('String');
    expect(p.Version).toBeGreaterThanOrEqual(1);
    expect(typeof p.ARN).toBe('string');
    expect(typeof p.LastModifiedDate).toBe('string');
    const modified = new Date(p.LastModifiedDate);
    expect(Number.isNaN(modified.getTime())).toBe(false);
    expect(modified.getUTCFullYear()).toBeGreaterThanOrEqual(2020);
    expect(p.Selector).toBeNull();
    expect(p.SourceResult).toBeNull();
    expect(first.body.ResultMetadata).toEqual({});
    // SSM_PARAMETER_STORE_TTL is seconds: 120 of them, not lambda-cache's default 5 minutes.
    const maxAge = Number(/max-age=(\d+)/.exec(first.cacheControl ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(60);
    expect(maxAge).toBeLessThanOrEqual(120);

    const second = await read(stack, SEED_PARAMETER);
    expect(second.body.Parameter.Value).toBe(SEED_PARAMETER_VALUE);
    expect(second.xCache).toBe('hit');
    expect(totalCalls(stack.backends.ssm)).toBe(1);

    // PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL=warn: no info line (settings, registered), the notices remain.
    const ours = stack.logs().filter((l) => l.startsWith('[lambda-cache]'));
    expect(ours.some((l) => l.includes('settings'))).toBe(false);
    expect(ours.some((l) => l.includes(`routes on http://127.0.0.1:${stack?.awsPort()}`))).toBe(true);
  });

  it('reads a secret on PARAMETERS_SECRETS_EXTENSION_HTTP_PORT, shaped as GetSecretValue answers it', async () => {
    stack = await startStack({
      functionDir: await awsFunction(),
      handler: 'secret.handler',
      env: AWS_ENV,
      fixedAwsPort: true,
    });
    const first = await readSecret(stack, SEED_SECRET);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      Name: SEED_SECRET,
      SecretString: SEED_SECRET_VALUE,
      VersionStages: ['AWSCURRENT'],
    });
    expect(first.body.ARN).toMatch(/^arn:aws:secretsmanager:[a-z0-9-]+:\d{12}:secret:secret_info-\w{6}$/);
    expect(typeof first.body.VersionId).toBe('string');
    expect(first.body.CreatedDate).toMatch(/^\d{10}(\.\d{1,3})?$/);
    // SECRETS_MANAGER_TTL is seconds: 90 of them, not lambda-cache's default 5 minutes.
    const maxAge = Number(/max-age=(\d+)/.exec(first.cacheControl ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(30);
    expect(maxAge).toBeLessThanOrEqual(90);

    const second = await readSecret(stack, SEED_SECRET);
    expect(second.body.SecretString).toBe(SEED_SECRET_VALUE);
    expect(second.xCache).toBe('hit');
    expect(totalCalls(stack.backends.secretsManager)).toBe(1);

    // A secret that does not exist: the agent's error shape.
    const missing = await readSecret(stack, 'no/such/secret');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ __type: 'ResourceNotFoundException', message: expect.any(String) });
  });

  it('refuses a request without the token with 403 on the AWS port', async () => {
    stack = await startStack({ functionDir: await awsFunction(), env: AWS_ENV, fixedAwsPort: true });
    const path = `/systemsmanager/parameters/get?name=${SEED_PARAMETER}`;
    const res = await httpGet(stack.awsPort() as number, path);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('Forbidden');
    expect(res.text).not.toContain(SEED_PARAMETER_VALUE);
    expect(
      (await httpGet(stack.awsPort() as number, path, { 'x-aws-parameters-secrets-token': stack.token }))
        .status,
    ).toBe(200);
  });

  it("answers 404 NotFound for a parameter that does not exist (AWS's extension answers 400)", async () => {
    stack = await startStack({ functionDir: await awsFunction(), env: AWS_ENV, fixedAwsPort: true });
    const res = await read(stack, '/no/such/parameter');
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('NotFound');
  });

  it('asks AWS on every read when PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED is false', async () => {
    stack = await startStack({
      functionDir: await awsFunction(),
      env: { ...AWS_ENV, PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED: 'false' },
      fixedAwsPort: true,
    });
    for (let i = 0; i < 3; i++) {
      const res = await read(stack, SEED_PARAMETER);
      expect(res.status).toBe(200);
      expect(res.body.Parameter.Value).toBe(SEED_PARAMETER_VALUE);
      expect(res.xCache).toBe('miss');
      expect(res.cacheControl).toBe('max-age=0');
    }
    expect(totalCalls(stack.backends.ssm)).toBe(3);
  });

  it('skips a taken AWS port with a warning naming it, and the main port still serves', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as net.AddressInfo).port;
    try {
      stack = await startStack({ env: { ...AWS_ENV, [AWS_PORT_VAR]: String(taken) } });
      expect(stack.awsPort()).toBeUndefined();
      const warning = stack.logs().find((l) => l.includes(`cannot listen on 127.0.0.1:${taken}`));
      expect(warning).toMatch(/WARN .*\(PARAMETERS_SECRETS_EXTENSION_HTTP_PORT\).*error=EADDRINUSE/);
      const res = await stack.get(`/systemsmanager/parameters/get?name=${SEED_PARAMETER}`);
      expect(res.status).toBe(200);
      expect(res.body.Parameter.Value).toBe(SEED_PARAMETER_VALUE);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});
