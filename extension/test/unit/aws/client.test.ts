import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Socket } from 'node:net';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type AwsClientOptions, createAwsClient } from '../../../src/aws/client.js';
import { AwsConfigError, AwsServiceError, AwsTransportError } from '../../../src/aws/errors.js';
import { Transport } from '../../../src/aws/transport.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

interface Backend {
  url: string;
  seen: Seen[];
  /** Sockets the server accepted, and how many of them have closed. */
  sockets: Socket[];
  closed: () => number;
}

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function backend(handler: Handler, path = ''): Promise<Backend> {
  const seen: Seen[] = [];
  const sockets: Socket[] = [];
  let closed = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      handler(req, res, seen.length);
    });
  });
  server.on('connection', (socket) => {
    sockets.push(socket);
    socket.on('close', () => closed++);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    seen,
    sockets,
    closed: () => closed,
  };
}

interface Harness {
  client: ReturnType<typeof createAwsClient>;
  counted: string[];
  sleeps: number[];
  warnings: Array<{ msg: string; fields?: Record<string, unknown> }>;
}

function client(
  endpoint: string,
  options: Partial<AwsClientOptions> = {},
  env: Record<string, string> = {},
): Harness {
  const counted: string[] = [];
  const sleeps: number[] = [];
  const warnings: Harness['warnings'] = [];
  const c = createAwsClient({
    env: {
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'session',
      AWS_REGION: 'eu-west-1',
      AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
      AWS_ENDPOINT_URL: endpoint,
      ...env,
    },
    count: (op) => counted.push(op),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    logger: { warn: (msg, fields) => warnings.push(fields ? { msg, fields } : { msg }) },
    timeouts: { connectMs: 500, attemptMs: 1000, totalMs: 2000 },
    ...options,
  });
  cleanups.push(() => c.destroy());
  return { client: c, counted, sleeps, warnings };
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  res
    .writeHead(status, { 'content-type': 'application/x-amz-json-1.1', ...headers })
    .end(JSON.stringify(body));

describe('AwsClient.json', () => {
  it('POSTs the input to the endpoint path with the target, content type and a signature, and parses the output', async () => {
    const b = await backend(
      (_req, res) => json(res, 200, { Parameters: [{ Name: '/a', Value: 'v', Version: 3 }] }),
      '/proxy',
    );
    const { client: aws, counted } = client(b.url);
    const out = await aws.json('ssm', undefined, 'GetParameters', { Names: ['/a'], WithDecryption: true });
    expect(out).toEqual({ Parameters: [{ Name: '/a', Value: 'v', Version: 3 }] });
    const [req] = b.seen;
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/proxy/');
    expect(req?.headers['x-amz-target']).toBe('AmazonSSM.GetParameters');
    expect(req?.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(req?.headers['x-amz-security-token']).toBe('session');
    expect(req?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/eu-west-1\/ssm\/aws4_request, /,
    );
    expect(JSON.parse(req?.body ?? '')).toEqual({ Names: ['/a'], WithDecryption: true });
    expect(counted).toEqual(['ssm:GetParameters']);
  });

  it('joins an endpoint path with the request path as the SDK does', async () => {
    for (const path of ['/base', '/base/', '/a/b']) {
      const b = await backend((_req, res) => json(res, 200, {}), path);
      vi.stubEnv('AWS_ENDPOINT_URL_SSM', b.url);
      try {
        const sdk = new SSMClient({
          region: 'eu-west-1',
          credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
        });
        await sdk.send(new GetParametersCommand({ Names: ['/x'] }));
        sdk.destroy();
      } finally {
        vi.unstubAllEnvs();
      }
      const { client: aws } = client(b.url);
      await aws.json('ssm', undefined, 'GetParameters', { Names: ['/x'] });
      expect(b.seen.map((r) => r.url)).toEqual([b.seen[0]?.url, b.seen[0]?.url]);
      expect(b.seen[1]?.url.startsWith(new URL(b.url).pathname.replace(/\/$/, ''))).toBe(true);
    }
  });

  it('sends DynamoDB awsJson 1.0, keeps numbers as strings and resolves {} for an empty body', async () => {
    const b = await backend((_req, res, n) =>
      n === 1 ? json(res, 200, { Item: { n: { N: '12345678901234567890.5' } } }) : res.writeHead(200).end(),
    );
    const { client: aws } = client(b.url);
    const out = await aws.json<{ Item: { n: { N: string } } }>('dynamodb', 'us-east-2', 'GetItem', {
      TableName: 'T',
      Key: {},
    });
    expect(out.Item.n.N).toBe('12345678901234567890.5');
    expect(await aws.json('dynamodb', 'us-east-2', 'PutItem', {})).toEqual({});
    expect(b.seen[0]?.headers['x-amz-target']).toBe('DynamoDB_20120810.GetItem');
    expect(b.seen[0]?.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(b.seen[0]?.headers.authorization).toContain('/us-east-2/dynamodb/aws4_request');
  });

  it('retries a 503 once and returns the 200 that follows, logging the failed attempt without values', async () => {
    const b = await backend((_req, res, n) =>
      n === 1
        ? json(res, 503, { __type: 'ServiceUnavailable', message: 'busy' })
        : json(res, 200, { SecretString: 'hunter2' }),
    );
    const { client: aws, counted, sleeps, warnings } = client(b.url);
    const out = await aws.json('secretsmanager', undefined, 'GetSecretValue', {
      SecretId: 'db-password-xyz',
    });
    expect(out).toEqual({ SecretString: 'hunter2' });
    expect(counted).toEqual(['secretsmanager:GetSecretValue', 'secretsmanager:GetSecretValue']);
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeLessThan(50); // first transient retry: [0, 50) ms
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.fields).toMatchObject({
      service: 'secretsmanager',
      operation: 'GetSecretValue',
      attempt: 1,
      phase: 'response',
      status: 503,
    });
    expect(warnings[0]?.fields?.durationMs).toBeTypeOf('number');
    expect(JSON.stringify(warnings)).not.toMatch(/hunter2|db-password-xyz/);
  });

  it('does not retry a 400 ValidationException and throws AwsServiceError with its code, message and request id', async () => {
    const b = await backend((_req, res) =>
      json(
        res,
        400,
        {
          __type: 'com.amazonaws.ssm#ValidationException',
          message: 'Parameter name: can not be prefixed with "ssm"',
        },
        { 'x-amzn-requestid': 'req-1' },
      ),
    );
    const { client: aws, counted, sleeps } = client(b.url);
    const error = await aws
      .json('ssm', undefined, 'GetParameter', { Name: 'ssm-x' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsServiceError);
    expect(error).toMatchObject({
      code: 'AwsServiceError',
      awsCode: 'ValidationException',
      status: 400,
      throttling: false,
      requestId: 'req-1',
      message: 'Parameter name: can not be prefixed with "ssm"',
    });
    expect(counted).toHaveLength(1);
    expect(sleeps).toHaveLength(0);
  });

  it('takes the error code from x-amzn-ErrorType before the body, without its :suffix', async () => {
    const b = await backend((_req, res) =>
      json(
        res,
        400,
        { __type: 'Other' },
        { 'x-amzn-errortype': 'ParameterNotFound:http://internal.amazon.com/coral/' },
      ),
    );
    const { client: aws } = client(b.url);
    await expect(aws.json('ssm', undefined, 'GetParameter', { Name: '/x' })).rejects.toMatchObject({
      awsCode: 'ParameterNotFound',
    });
  });

  it('gives up after maxAttempts when throttled every time, with throttling backoff, and throws throttling: true', async () => {
    const b = await backend((_req, res) =>
      json(res, 400, {
        __type: 'com.amazon.coral.availability#ThrottlingException',
        message: 'Rate exceeded',
      }),
    );
    const { client: aws, counted, sleeps, warnings } = client(b.url);
    const error = await aws
      .json('ssm', undefined, 'GetParametersByPath', { Path: '/' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'AwsServiceError',
      awsCode: 'ThrottlingException',
      throttling: true,
    });
    expect(counted).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[0]).toBeLessThan(1000);
    expect(sleeps[1]).toBeLessThan(2000);
    expect(warnings).toHaveLength(0); // throttling is not a failure of the backend
  });

  it('treats a bare HTTP 429 as throttling', async () => {
    const b = await backend((_req, res) => res.writeHead(429).end());
    const { client: aws, counted } = client(b.url, { maxAttempts: 2 });
    await expect(aws.json('dynamodb', undefined, 'BatchGetItem', {})).rejects.toMatchObject({
      status: 429,
      throttling: true,
    });
    expect(counted).toHaveLength(2);
  });

  it('ends a call whose server never answers by attemptMs and totalMs, closing every socket it opened', async () => {
    const b = await backend(() => {});
    // No backoff, 5 attempts allowed: only totalMs can stop the third attempt and the rest.
    const {
      client: aws,
      counted,
      warnings,
    } = client(b.url, {
      maxAttempts: 5,
      random: () => 0,
      timeouts: { connectMs: 100, attemptMs: 100, totalMs: 250 },
    });
    const error = await aws
      .json('ssm', undefined, 'GetParameters', { Names: ['/a'] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsTransportError);
    expect(error).toMatchObject({ code: 'AwsTransportError', reason: 'timeout', phase: 'response' });
    expect(counted.length).toBeGreaterThanOrEqual(2);
    expect(counted.length).toBeLessThan(5);
    expect(warnings.map((w) => w.fields?.reason)).toEqual(counted.map(() => 'timeout'));
    await expect.poll(() => b.closed()).toBe(b.sockets.length);
    expect(b.sockets.length).toBe(counted.length);
  });

  it('ends a TLS handshake that never completes by connectMs, with phase connect, and closes the socket', async () => {
    // A TCP server that accepts and says nothing: the connection is made, the handshake never ends.
    const sockets: Socket[] = [];
    let closed = 0;
    const silent = createTcpServer((socket) => {
      sockets.push(socket);
      socket.resume(); // read, so that the client's close is seen
      socket.on('close', () => closed++);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          silent.close(() => resolve());
        }),
    );
    const url = `https://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const { client: aws, warnings } = client(url, {
      maxAttempts: 1,
      timeouts: { connectMs: 100, attemptMs: 1000, totalMs: 1000 },
    });
    await expect(aws.json('ssm', undefined, 'GetParameters', {})).rejects.toMatchObject({
      code: 'AwsTransportError',
      reason: 'timeout',
      phase: 'connect',
    });
    expect(warnings[0]?.fields).toMatchObject({ reason: 'timeout', phase: 'connect', attempt: 1 });
    await expect.poll(() => closed).toBe(1);
  });

  it('ends a body that trickles one byte at a time by attemptMs', async () => {
    const b = await backend((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'content-length': '100000' });
      const timer = setInterval(() => res.write(' '), 20);
      res.on('close', () => clearInterval(timer));
    });
    const { client: aws } = client(b.url, { maxAttempts: 1, timeouts: { attemptMs: 200, totalMs: 1000 } });
    await expect(aws.json('ssm', undefined, 'GetParameters', { Names: ['/a'] })).rejects.toMatchObject({
      code: 'AwsTransportError',
      reason: 'timeout',
      phase: 'response',
    });
    await expect.poll(() => b.closed()).toBe(1);
  });

  it('throws a network AwsTransportError with ECONNRESET when the server resets, after retrying it', async () => {
    const b = await backend((req) => req.socket.resetAndDestroy());
    const { client: aws, counted } = client(b.url);
    const error = await aws
      .json('ssm', undefined, 'GetParameters', { Names: ['/a'] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'AwsTransportError', reason: 'network', sysCode: 'ECONNRESET' });
    expect(counted).toHaveLength(3);
  });

  it('retries a refused connection and reports phase connect', async () => {
    const b = await backend(() => {});
    const url = b.url;
    for (const cleanup of cleanups.splice(0)) await cleanup();
    const { client: aws, counted } = client(url, { maxAttempts: 2 });
    await expect(aws.json('ssm', undefined, 'GetParameters', {})).rejects.toMatchObject({
      reason: 'network',
      phase: 'connect',
      sysCode: 'ECONNREFUSED',
    });
    expect(counted).toHaveLength(2);
  });

  it('rejects with the abort reason and closes the socket when the signal aborts', async () => {
    const b = await backend(() => {});
    const { client: aws, counted } = client(b.url);
    const controller = new AbortController();
    const call = aws.json('ssm', undefined, 'GetParameters', {}, { signal: controller.signal });
    await expect.poll(() => b.seen.length).toBe(1);
    controller.abort(new Error('shutting down'));
    await expect(call).rejects.toThrow('shutting down');
    expect(counted).toHaveLength(1);
    await expect.poll(() => b.closed()).toBe(1);
  });

  it('rejects a call whose signal is already aborted without sending it', async () => {
    const b = await backend((_req, res) => json(res, 200, {}));
    const { client: aws, counted } = client(b.url);
    await expect(
      aws.json('ssm', undefined, 'GetParameters', {}, { signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(counted).toHaveLength(0);
    expect(b.seen).toHaveLength(0);
  });

  it('throws AwsTransportError unreadable for a 200 that is not JSON, without retrying', async () => {
    const b = await backend((_req, res) => res.writeHead(200).end('<html>proxy</html>'));
    const { client: aws, counted } = client(b.url);
    await expect(aws.json('ssm', undefined, 'GetParameters', {})).rejects.toMatchObject({
      reason: 'unreadable',
    });
    expect(counted).toHaveLength(1);
  });

  it('throws AwsConfigError when no region is set anywhere', async () => {
    const b = await backend((_req, res) => json(res, 200, {}));
    const { client: aws, counted } = client(b.url, {}, { AWS_REGION: '' });
    await expect(aws.json('ssm', undefined, 'GetParameters', {})).rejects.toBeInstanceOf(AwsConfigError);
    expect(b.seen).toHaveLength(0);
    expect(counted).toHaveLength(0);
  });

  it('refuses timeouts and attempts that are not positive', () => {
    expect(() => createAwsClient({ env: {}, timeouts: { attemptMs: 0 } })).toThrow(
      /timeouts.attemptMs must be/,
    );
    expect(() => createAwsClient({ env: {}, maxAttempts: 0 })).toThrow(/maxAttempts must be/);
  });

  it('reuses one kept-alive socket for calls in sequence', async () => {
    const b = await backend((_req, res) => json(res, 200, {}));
    const { client: aws } = client(b.url);
    for (let i = 0; i < 3; i++) await aws.json('ssm', undefined, 'GetParameters', {});
    expect(b.sockets).toHaveLength(1);
  });
});

describe('AwsClient.rest', () => {
  it('starts an AppConfigData session and gets the configuration with the token in the query', async () => {
    const b = await backend((req, res) => {
      if (req.method === 'POST') {
        res
          .writeHead(201, { 'content-type': 'application/json' })
          .end(JSON.stringify({ InitialConfigurationToken: 'tok/1+=' }));
      } else {
        res
          .writeHead(200, {
            'content-type': 'application/json',
            'next-poll-configuration-token': 'tok2',
            'next-poll-interval-in-seconds': '60',
          })
          .end('{"flag":true}');
      }
    });
    const { client: aws, counted } = client(b.url);
    const start = await aws.rest('appconfigdata', undefined, {
      method: 'POST',
      path: '/configurationsessions',
      body: {
        ApplicationIdentifier: 'app',
        EnvironmentIdentifier: 'prod',
        ConfigurationProfileIdentifier: 'p',
      },
    });
    expect(start.status).toBe(201);
    const token = JSON.parse(start.body.toString()).InitialConfigurationToken as string;
    const got = await aws.rest('appconfigdata', undefined, {
      method: 'GET',
      path: '/configuration',
      query: { configuration_token: token },
    });
    expect(got.body.toString()).toBe('{"flag":true}');
    expect(got.headers['next-poll-configuration-token']).toBe('tok2');
    expect(counted).toEqual([
      'appconfigdata:StartConfigurationSession',
      'appconfigdata:GetLatestConfiguration',
    ]);
    expect(b.seen[0]?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(b.seen[0]?.body ?? '')).toMatchObject({ ApplicationIdentifier: 'app' });
    expect(b.seen[0]?.headers.authorization).toContain('/eu-west-1/appconfig/aws4_request');
    expect(new URL(b.seen[1]?.url ?? '', 'http://x').searchParams.get('configuration_token')).toBe('tok/1+=');
  });

  it('throws AwsServiceError for a restJson1 error with the code in x-amzn-ErrorType', async () => {
    const b = await backend((_req, res) =>
      res
        .writeHead(400, { 'x-amzn-errortype': 'BadRequestException', 'content-type': 'application/json' })
        .end('{"Message":"token expired"}'),
    );
    const { client: aws } = client(b.url);
    await expect(
      aws.rest('appconfigdata', undefined, {
        method: 'GET',
        path: '/configuration',
        query: { configuration_token: 't' },
      }),
    ).rejects.toMatchObject({ awsCode: 'BadRequestException', status: 400, message: 'token expired' });
  });
});

describe('Transport', () => {
  it('fails an answer larger than the cap as unreadable and closes the socket', async () => {
    const b = await backend((_req, res) => res.writeHead(200).end(Buffer.alloc(64 * 1024)));
    const transport = new Transport();
    cleanups.push(() => transport.destroy());
    const url = new URL(b.url);
    await expect(
      transport.send(
        { url, method: 'GET', path: '/', headers: {} },
        { connectMs: 500, attemptMs: 1000, maxBodyBytes: 1024 },
      ),
    ).rejects.toMatchObject({ reason: 'unreadable', phase: 'response' });
    await expect.poll(() => b.closed()).toBe(1);
  });
});
