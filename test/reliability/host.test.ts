import { randomBytes } from 'node:crypto';
import { parameterPath, ROUTES } from '@lambda-cache/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_PARAMETER, SEED_PARAMETER_VALUE } from '../src/fixtures.js';
import { type Stack, startStack, waitFor } from '../src/harness.js';
import { type RawAnswer, rawRequest } from '../src/raw.js';

/** In Lambda (a session token to check) and standalone on a laptop (none, so no token check). */
let lambda: Stack;
let standalone: Stack;
beforeAll(async () => {
  [lambda, standalone] = await Promise.all([startStack(), startStack({ env: { AWS_SESSION_TOKEN: '' } })]);
});
afterAll(async () => {
  await Promise.all([lambda?.close(), standalone?.close()]);
});

function get(stack: Stack, target: string, headers: string[], version = '1.1'): Promise<RawAnswer> {
  const lines = [`GET ${target} HTTP/${version}`, ...headers];
  if (stack.token !== '') lines.push(`X-Aws-Parameters-Secrets-Token: ${stack.token}`);
  return rawRequest(stack.port, `${[...lines, 'Connection: close'].join('\r\n')}\r\n\r\n`);
}

function expectEnvelope(a: RawAnswer, status: number, code: string): void {
  expect(a.status).toBe(status);
  expect(a.headers['content-type']).toBe('application/json');
  expect(JSON.parse(a.body)).toEqual({ code, message: expect.any(String) });
}

describe('Host', () => {
  it('refuses a non-loopback Host with 400 and the JSON envelope, with or without a session token', async () => {
    for (const stack of [standalone, lambda]) {
      for (const host of [
        'attacker.example',
        `attacker.example:${stack.port}`,
        '127.0.0.1.attacker.example',
        'localhost.attacker.example',
        'localhostx',
        '10.0.0.1',
        '127.0.0.2',
        '[::2]',
        '[::1]x',
        '127.0.0.1:80x',
        '',
      ]) {
        for (const target of [parameterPath(SEED_PARAMETER), ROUTES.ping]) {
          const a = await get(stack, target, [`Host: ${host}`]);
          expect(a.body, `Host: ${host}`).not.toContain(SEED_PARAMETER_VALUE);
          expectEnvelope(a, 400, 'BadRequest');
        }
      }
    }
  });

  it('serves loopback Hosts, with or without a port, in any letter case', async () => {
    for (const stack of [standalone, lambda]) {
      for (const host of [
        '127.0.0.1',
        `127.0.0.1:${stack.port}`,
        'localhost',
        'LocalHost:3000',
        '[::1]',
        `[::1]:${stack.port}`,
      ]) {
        const a = await get(stack, parameterPath(SEED_PARAMETER), [`Host: ${host}`]);
        expect(a.status, `Host: ${host}`).toBe(200);
        expect(JSON.parse(a.body).value).toBe(SEED_PARAMETER_VALUE);
      }
    }
  });

  it('answers HTTP/1.1 without Host with the JSON envelope, and serves HTTP/1.0 without it', async () => {
    for (const stack of [standalone, lambda]) {
      expectEnvelope(await get(stack, ROUTES.ping, []), 400, 'BadRequest');
      // HTTP/1.0 predates Host; a browser (the rebinding risk) always sends one.
      expect((await get(stack, ROUTES.ping, [], '1.0')).status).toBe(200);
    }
  });
});

describe('proxy headers', () => {
  it('refuses Forwarded and X-Real-IP with 400 as it refuses X-Forwarded-For', async () => {
    for (const stack of [standalone, lambda]) {
      for (const header of [
        'Forwarded: for=10.0.0.1',
        'forwarded: for=127.0.0.1;proto=http',
        'X-Real-IP: 10.0.0.1',
        'X-Real-Ip: 127.0.0.1',
        'X-Forwarded-For: 10.0.0.1',
      ]) {
        const a = await get(stack, parameterPath(SEED_PARAMETER), ['Host: 127.0.0.1', header]);
        expect(a.body, header).not.toContain(SEED_PARAMETER_VALUE);
        expectEnvelope(a, 400, 'BadRequest');
      }
    }
  });
});

describe('CONNECT', () => {
  it('answers 405 MethodNotAllowed with the JSON envelope instead of closing without a word', async () => {
    for (const stack of [standalone, lambda]) {
      const a = await rawRequest(stack.port, 'CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n');
      expectEnvelope(a, 405, 'MethodNotAllowed');
      expect(a.headers.allow).toBe('GET');
      // The server is still there.
      expect((await get(stack, ROUTES.ping, ['Host: 127.0.0.1'])).status).toBe(200);
    }
  });
});

describe('token log', () => {
  it('logs a rejected token at info, without the token sent or the one expected', async () => {
    const sent = `IQoJ${randomBytes(24).toString('base64url')}`;
    const path = parameterPath(SEED_PARAMETER);
    for (const header of [`X-Aws-Parameters-Secrets-Token: ${sent}`, '']) {
      const lines = [
        `GET ${path} HTTP/1.1`,
        'Host: 127.0.0.1',
        ...(header ? [header] : []),
        'Connection: close',
      ];
      const a = await rawRequest(lambda.port, `${lines.join('\r\n')}\r\n\r\n`);
      expectEnvelope(a, 403, 'Forbidden');
    }
    // Info lines carry no level word; debug lines (the request line) say DEBUG.
    const info = (l: string) =>
      /^\[lambda-cache\] (?!DEBUG |WARN |ERROR )/.test(l) && /token/i.test(l) && /refused|rejected/.test(l);
    const logged = await waitFor(
      'two info lines about a rejected token',
      () => {
        const found = lambda.logs().filter(info);
        return found.length >= 2 ? found : undefined;
      },
      { timeoutMs: 3000 },
    );
    expect(logged, JSON.stringify(logged)).toHaveLength(2);
    expect(logged.every((l) => l.includes(ROUTES.parameters))).toBe(true);
    for (const line of lambda.logs()) {
      expect(line).not.toContain(sent);
      expect(line).not.toContain(lambda.token);
      // Not even a piece of either.
      expect(line).not.toContain(sent.slice(4, 16));
      expect(line).not.toContain(lambda.token.slice(4, 16));
    }
  });
});
