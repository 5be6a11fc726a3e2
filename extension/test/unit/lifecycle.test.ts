import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExtensionsApi } from '../../src/lifecycle.js';
import { run } from '../../src/run.js';

interface Recorded {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A tiny Extensions API: answers register, hands out queued events, records every call. */
class FakeExtensionsApi {
  readonly calls: Recorded[] = [];
  readonly events: object[] = [];
  /** Runs before register is answered (the extension is waiting for it). */
  beforeRegister: (() => Promise<void>) | undefined;
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void this.answer(req, Buffer.concat(chunks).toString(), res);
    });
  });
  port = 0;

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return `127.0.0.1:${this.port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async answer(req: http.IncomingMessage, body: string, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '').replace('/2020-01-01/extension', '');
    this.calls.push({ method: req.method ?? '', path, headers: req.headers, body });
    if (path === '/register') {
      await this.beforeRegister?.();
      res.writeHead(200, { 'lambda-extension-identifier': 'ext-id-1', 'content-type': 'application/json' });
      return void res.end(
        JSON.stringify({ functionName: 'fn', functionVersion: '$LATEST', handler: 'index.handler' }),
      );
    }
    if (path === '/event/next') {
      const event = this.events.shift() ?? {
        eventType: 'SHUTDOWN',
        shutdownReason: 'spindown',
        deadlineMs: 0,
      };
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify(event));
    }
    if (path === '/init/error' || path === '/exit/error') {
      res.writeHead(202);
      return void res.end('{}');
    }
    res.writeHead(404);
    res.end();
  }
}

function ping(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/ping', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

describe('run (Lambda lifecycle)', () => {
  let api: FakeExtensionsApi;
  let dir: string;
  let runtimeApi: string;
  let lines: string[];
  const write = (line: string) => {
    lines.push(line);
  };

  beforeEach(async () => {
    api = new FakeExtensionsApi();
    runtimeApi = await api.start();
    dir = await mkdtemp(join(tmpdir(), 'lc-lifecycle-'));
    lines = [];
  });
  afterEach(async () => {
    await api.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function config(text: string): Promise<string> {
    const file = join(dir, 'config.yaml');
    await writeFile(file, text);
    return file;
  }

  function env(extra: Record<string, string>): Record<string, string> {
    return {
      AWS_LAMBDA_RUNTIME_API: runtimeApi,
      CACHE_EXTENSION_PORT: '0',
      AWS_REGION: 'us-west-2',
      LAMBDA_CACHE_EXTENSION_NAME: 'lambda-cache',
      ...extra,
    };
  }

  it('listens before register and loads the config only after it when started', async () => {
    let port = 0;
    let pingAtRegister = 0;
    let linesAtRegister: string[] = [];
    api.beforeRegister = async () => {
      pingAtRegister = await ping(port);
      linesAtRegister = [...lines];
    };
    api.events.push({ eventType: 'INVOKE', requestId: 'r1', deadlineMs: Date.now() + 3000 });
    api.events.push({ eventType: 'SHUTDOWN', shutdownReason: 'SPINDOWN', deadlineMs: Date.now() + 2000 });
    const code = await run({
      env: env({ CACHE_EXTENSION_CONFIG: await config('# nothing to prefetch\n') }),
      onListening: (p) => {
        port = p;
      },
      write,
    });
    expect(code).toBe(0);
    expect(pingAtRegister).toBe(200);
    expect(api.calls[0]?.path).toBe('/register');
    expect(api.calls[0]?.headers['lambda-extension-name']).toBe('lambda-cache');
    expect(JSON.parse(api.calls[0]?.body ?? '{}')).toEqual({ events: ['INVOKE', 'SHUTDOWN'] });
    expect(api.calls.slice(1).map((c) => c.path)).toEqual(['/event/next', '/event/next']);
    expect(api.calls[1]?.headers['lambda-extension-identifier']).toBe('ext-id-1');
    expect(linesAtRegister.some((l) => l.includes('listening on http://127.0.0.1:'))).toBe(true);
    expect(linesAtRegister.some((l) => l.includes('config '))).toBe(false);
    expect(lines.some((l) => l.includes('prefetch done'))).toBe(true);
    // The server is closed after SHUTDOWN.
    await expect(ping(port)).rejects.toThrow();
  });

  it('reports init/error with the line of the problem when the config is invalid', async () => {
    const file = await config('parameters:\n  - names: [a]\n    colour: red\n');
    const code = await run({ env: env({ CACHE_EXTENSION_CONFIG: file }), write });
    expect(code).toBe(1);
    expect(api.calls.map((c) => c.path)).toEqual(['/register', '/init/error']);
    const report = api.calls[1] as Recorded;
    expect(report.headers['lambda-extension-function-error-type']).toBe('Extension.ConfigInvalid');
    expect(report.headers['lambda-extension-identifier']).toBe('ext-id-1');
    const body = JSON.parse(report.body) as { errorMessage: string; errorType: string };
    expect(body.errorType).toBe('Extension.ConfigInvalid');
    expect(body.errorMessage).toContain(`${file}:3:`);
    expect(lines.join('')).not.toContain('    at ');
  });

  it('registers, then reports init/error when an environment variable is invalid', async () => {
    const code = await run({ env: env({ CACHE_EXTENSION_TTL: '5 minutes' }), write });
    expect(code).toBe(1);
    expect(api.calls.map((c) => c.path)).toEqual(['/register', '/init/error']);
    expect(JSON.parse(api.calls[1]?.body ?? '{}').errorMessage).toContain('CACHE_EXTENSION_TTL');
  });

  it('reports init/error when the explicitly named config file is missing', async () => {
    const code = await run({ env: env({ CACHE_EXTENSION_CONFIG: join(dir, 'nope.yaml') }), write });
    expect(code).toBe(1);
    expect(api.calls[1]?.headers['lambda-extension-function-error-type']).toBe('Extension.ConfigInvalid');
  });

  it('exits 0 when SHUTDOWN arrives, whatever the case of its reason', async () => {
    api.events.push({ eventType: 'SHUTDOWN', shutdownReason: 'Timeout', deadlineMs: Date.now() + 2000 });
    const code = await run({ env: env({ CACHE_EXTENSION_CONFIG: await config('# empty\n') }), write });
    expect(code).toBe(0);
    expect(lines.some((l) => l.includes('shutdown reason=timeout'))).toBe(true);
  });

  it('never logs the session token when it starts', async () => {
    const token = 'IQoJ-very-secret-session-token';
    await run({
      env: env({ CACHE_EXTENSION_CONFIG: await config('# empty\n'), AWS_SESSION_TOKEN: token }),
      write,
    });
    expect(lines.join('')).not.toContain(token);
    expect(lines.some((l) => l.includes('tokenCheck=true'))).toBe(true);
  });

  it('writes JSON lines when AWS_LAMBDA_LOG_FORMAT is JSON', async () => {
    await run({
      env: env({ CACHE_EXTENSION_CONFIG: await config('# empty\n'), AWS_LAMBDA_LOG_FORMAT: 'JSON' }),
      write,
    });
    const parsed = lines.map((l) => JSON.parse(l) as { level: string; message: string });
    expect(parsed.some((p) => /listening on http:\/\/127\.0\.0\.1:\d+/.test(p.message))).toBe(true);
    expect(parsed.every((p) => p.message.startsWith('[lambda-cache] '))).toBe(true);
  });
});

describe("run (the port of AWS's Parameters and Secrets extension)", () => {
  let api: FakeExtensionsApi;
  let dir: string;
  let lines: string[];
  const write = (line: string) => {
    lines.push(line);
  };
  const AWS_LINE = /AWS Parameters and Secrets extension routes on http:\/\/127\.0\.0\.1:(\d+)/;

  beforeEach(async () => {
    api = new FakeExtensionsApi();
    dir = await mkdtemp(join(tmpdir(), 'lc-lifecycle-aws-'));
    lines = [];
  });
  afterEach(async () => {
    await api.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function env(extra: Record<string, string>): Promise<Record<string, string>> {
    const file = join(dir, 'config.yaml');
    await writeFile(file, '# nothing to prefetch\n');
    return {
      AWS_LAMBDA_RUNTIME_API: await api.start(),
      CACHE_EXTENSION_PORT: '0',
      CACHE_EXTENSION_CONFIG: file,
      AWS_REGION: 'us-west-2',
      ...extra,
    };
  }

  it('listens on a port of its own for the AWS routes before register and names it when the main port is 0', async () => {
    let awsPing = 0;
    let awsPort = 0;
    let mainPort = 0;
    api.beforeRegister = async () => {
      // Recorded, not asserted: a throw here would leave register unanswered.
      awsPort = Number(lines.map((l) => AWS_LINE.exec(l)?.[1]).find(Boolean) ?? 0);
      if (awsPort > 0) awsPing = await ping(awsPort);
    };
    const code = await run({ env: await env({}), onListening: (p) => (mainPort = p), write });
    expect(code).toBe(0);
    expect(awsPort).toBeGreaterThan(0);
    expect(awsPort).not.toBe(mainPort);
    expect(awsPing).toBe(200);
    expect(lines.find((l) => AWS_LINE.test(l))).toContain('variable=PARAMETERS_SECRETS_EXTENSION_HTTP_PORT');
  });

  it('warns naming the port and the variable, and goes on, when the AWS port is taken', async () => {
    const holder = http.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as AddressInfo).port;
    let mainPing = 0;
    let mainPort = 0;
    api.beforeRegister = async () => {
      mainPing = await ping(mainPort);
    };
    try {
      const code = await run({
        env: await env({ PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(taken) }),
        onListening: (p) => (mainPort = p),
        write,
      });
      expect(code).toBe(0);
      expect(mainPing).toBe(200);
      expect(api.calls.map((c) => c.path)).not.toContain('/init/error');
      const warning = lines.find((l) => l.includes(`cannot listen on 127.0.0.1:${taken}`));
      expect(warning).toMatch(/WARN .*\(PARAMETERS_SECRETS_EXTENSION_HTTP_PORT\).*error=EADDRINUSE/);
      expect(lines.some((l) => AWS_LINE.test(l))).toBe(false);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('reports init/error naming the variable and the range when SSM_PARAMETER_STORE_TTL is out of range', async () => {
    const code = await run({ env: await env({ SSM_PARAMETER_STORE_TTL: '301' }), write });
    expect(code).toBe(1);
    expect(api.calls.map((c) => c.path)).toEqual(['/register', '/init/error']);
    expect(api.calls[1]?.headers['lambda-extension-function-error-type']).toBe('Extension.ConfigInvalid');
    expect(JSON.parse(api.calls[1]?.body ?? '{}').errorMessage).toBe(
      'SSM_PARAMETER_STORE_TTL: 301 seconds is out of range (expected whole seconds from 0 to 300)',
    );
  });
});

describe('run (standalone)', () => {
  it('serves until the signal aborts when no Runtime API is set', async () => {
    const controller = new AbortController();
    const lines: string[] = [];
    let port = 0;
    const done = run({
      env: { CACHE_EXTENSION_PORT: '0', CACHE_EXTENSION_CONFIG: '', AWS_REGION: 'us-west-2' },
      signal: controller.signal,
      onListening: (p) => {
        port = p;
      },
      write: (l) => {
        lines.push(l);
      },
    });
    for (let i = 0; i < 200 && !lines.some((l) => l.includes('prefetch done')); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(await ping(port)).toBe(200);
    controller.abort();
    expect(await done).toBe(0);
  });
});

describe('ExtensionsApi', () => {
  it('throws when register answers without an identifier', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(403);
      res.end('{"errorType":"Extension.Forbidden"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = new ExtensionsApi({
      runtimeApi: `127.0.0.1:${(server.address() as AddressInfo).port}`,
      name: 'lambda-cache',
    });
    try {
      await expect(client.register()).rejects.toMatchObject({ status: 403 });
    } finally {
      client.close();
      server.close();
    }
  });
});
