import http from 'node:http';
import { CLIENT_ATTEMPT_TIMEOUT_MS, EXTENSION_REQUEST_WAIT_MS, parameterPath } from '@lambda-cache/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { type CacheServer, createServer } from '../../src/server.js';
import { PendingStore } from '../../src/store.js';

let server: CacheServer | undefined;
afterEach(async () => {
  await server?.close(0);
  server = undefined;
});

/** A GET that gives up as the client does by default: after `CLIENT_ATTEMPT_TIMEOUT_MS`. */
function getAsTheClient(port: number, path: string): Promise<{ status: number } | 'client timed out'> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.setTimeout(CLIENT_ATTEMPT_TIMEOUT_MS, () => {
      req.destroy();
      resolve('client timed out');
    });
    req.on('error', reject);
  });
}

describe('PendingStore', () => {
  it('answers 503 before the client gives up when the store is not built in time', async () => {
    expect(EXTENSION_REQUEST_WAIT_MS).toBeLessThan(CLIENT_ATTEMPT_TIMEOUT_MS);
    // A start whose store never comes (a config still loading): requests wait for it, bounded.
    server = createServer({
      store: new PendingStore(() => Date.now()),
      sessionToken: undefined,
      legacyRoutes: false,
      logger: silentLogger,
    });
    const port = await server.listen(0);
    // 503 is what the client retries; its own timeout would end the call with a TimeoutError instead.
    expect(await getAsTheClient(port, parameterPath('/app/slow-start'))).toEqual({ status: 503 });
  }, 15_000);

  it('serves from the store once it is built, for requests that were waiting', async () => {
    const pending = new PendingStore(() => Date.now());
    const answer = pending.read('p', { target: { name: 'p' }, form: 'main', refresh: false });
    const reply = {
      body: Buffer.from('{}'),
      contentType: 'application/json',
      cache: 'hit',
      ageMs: 0,
      ttlLeftMs: 1,
    };
    pending.resolve({ read: () => reply } as unknown as Parameters<PendingStore['resolve']>[0]);
    await expect(answer).resolves.toBe(reply);
  });
});
