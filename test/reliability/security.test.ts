import net from 'node:net';
import { networkInterfaces } from 'node:os';
import { parameterPath, ROUTES } from '@lambda-cache/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_PARAMETER, SEED_PARAMETER_VALUE } from '../src/fixtures.js';
import { type Stack, startStack } from '../src/harness.js';
import { rawRequest } from '../src/raw.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

function tokenVariants(token: string): Record<string, string> {
  return {
    wrong: 'not-the-token',
    'upper case': token.toUpperCase(),
    'lower case': token.toLowerCase(),
    // Spaces and tabs around a header value are not part of it (RFC 9110 §5.5): the parser strips them,
    // so whitespace can only make a different token when something follows it.
    'trailing no-break space': `${token}\u00a0`,
    'space then more': `${token} x`,
    'tab then more': `${token}\tx`,
    prefix: token.slice(0, -1),
    'longer by one': `${token}x`,
    empty: '',
  };
}

function connectOutcome(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}

describe('access control', () => {
  it('returns 403 Forbidden when the token is missing or differs at all', async () => {
    const variants = tokenVariants(stack.token);
    for (const route of [
      parameterPath(SEED_PARAMETER),
      ROUTES.stats,
      ROUTES.health,
      `${ROUTES.awsParameter}?name=x`,
    ]) {
      for (const [label, token] of Object.entries(variants)) {
        // Raw, so trailing whitespace reaches the server exactly as written.
        const header = label === 'empty' ? '' : `X-Aws-Parameters-Secrets-Token: ${token}\r\n`;
        const a = await rawRequest(
          stack.port,
          `GET ${route} HTTP/1.1\r\nHost: 127.0.0.1\r\n${header}Connection: close\r\n\r\n`,
        );
        expect({ route, label, status: a.status }).toEqual({ route, label, status: 403 });
        expect(JSON.parse(a.body).code).toBe('Forbidden');
        expect(a.body).not.toContain(SEED_PARAMETER_VALUE);
      }
    }
  });

  it('serves the token when only optional whitespace surrounds it, as HTTP defines header values', async () => {
    const a = await rawRequest(
      stack.port,
      `GET ${parameterPath(SEED_PARAMETER)} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Aws-Parameters-Secrets-Token: \t${stack.token} \t\r\nConnection: close\r\n\r\n`,
    );
    expect(a.status).toBe(200);
  });

  it('returns 403 when the token header is given twice', async () => {
    const a = await rawRequest(
      stack.port,
      `GET ${parameterPath(SEED_PARAMETER)} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Aws-Parameters-Secrets-Token: ${stack.token}\r\nX-Aws-Parameters-Secrets-Token: ${stack.token}\r\nConnection: close\r\n\r\n`,
    );
    expect(a.status).toBe(403);
  });

  it('returns 400 when X-Forwarded-For is present, even with the right token', async () => {
    for (const [path, xff] of [
      [parameterPath(SEED_PARAMETER), '10.0.0.1'],
      [parameterPath(SEED_PARAMETER), '127.0.0.1'],
      [parameterPath(SEED_PARAMETER), ''],
      [ROUTES.ping, '10.0.0.1'],
      [ROUTES.stats, '10.0.0.1'],
    ] as const) {
      const a = await rawRequest(
        stack.port,
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Aws-Parameters-Secrets-Token: ${stack.token}\r\nX-Forwarded-For: ${xff}\r\nConnection: close\r\n\r\n`,
      );
      expect({ path, xff, status: a.status }).toEqual({ path, xff, status: 400 });
      expect(JSON.parse(a.body).code).toBe('BadRequest');
      expect(a.body).not.toContain(SEED_PARAMETER_VALUE);
    }
  });

  it('serves the value when the token matches exactly', async () => {
    const res = await stack.get(parameterPath(SEED_PARAMETER));
    expect(res.status).toBe(200);
    expect(res.body.value).toBe(SEED_PARAMETER_VALUE);
  });

  it('is not reachable on any non-loopback address of the machine', async () => {
    const addresses = Object.values(networkInterfaces())
      .flat()
      .filter((a): a is NonNullable<typeof a> => a !== undefined && !a.internal)
      .map((a) => a.address);
    for (const address of addresses) {
      expect({ address, outcome: await connectOutcome(address, stack.port) }).not.toEqual({
        address,
        outcome: 'connected',
      });
    }
    // The IPv6 loopback is not 127.0.0.1 either: the server binds exactly one address.
    expect(await connectOutcome('::1', stack.port)).not.toBe('connected');
    expect(await connectOutcome('127.0.0.1', stack.port)).toBe('connected');
  });
});
