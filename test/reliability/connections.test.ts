import { parameterPath, ROUTES } from '@lambda-cache/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_PARAMETER } from '../src/fixtures.js';
import { layerKind, type Stack, startStack, waitFor } from '../src/harness.js';
import { RawConnection, rawRequest } from '../src/raw.js';

/** The extension's documented connection cap. */
const CAP = 256;
const EXTRA = 40;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

describe('connection cap', () => {
  it('refuses connections beyond the cap cleanly and keeps serving the others', async () => {
    const request = (path: string) =>
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Aws-Parameters-Secrets-Token: ${stack.token}\r\n\r\n`;
    const connections: RawConnection[] = [];
    try {
      for (let i = 0; i < CAP + EXTRA; i++) connections.push(await RawConnection.open(stack.port));
      const first = await Promise.all(connections.map((c) => c.request(request(ROUTES.ping))));
      const served = first.filter((a) => a.status === 200).length;
      const refused = first.filter((a) => a.status !== 200);
      console.log(
        `[connections] ${CAP + EXTRA} open: ${served} served, ${refused.filter((a) => a.status === 503).length} got 503, ${refused.filter((a) => a.status === null).length} closed`,
      );
      expect(served).toBe(CAP);
      expect(refused).toHaveLength(EXTRA);
      for (const a of refused) {
        // Refused: 503 ServiceUnavailable with the JSON envelope, or the connection closed without a word.
        if (a.status === null) continue;
        expect(a.status).toBe(503);
        expect(JSON.parse(a.body).code).toBe('ServiceUnavailable');
      }
      // The connections inside the cap keep being served, with real reads.
      const kept = connections.filter((_, i) => first[i]?.status === 200);
      const second = await Promise.all(kept.map((c) => c.request(request(parameterPath(SEED_PARAMETER)))));
      expect(second.map((a) => a.status)).toEqual(kept.map(() => 200));
    } finally {
      for (const c of connections) c.close();
    }
    // Once the crowd has gone, new connections are served again: at once under Node; Bun's server (the
    // standalone layer) reports the crowd's closes a little later, so there a slot frees within a second.
    if (layerKind === 'standalone') {
      await waitFor(
        'a new connection served after the crowd closed',
        async () => {
          return (await stack.get(ROUTES.ping)).status === 200;
        },
        { timeoutMs: 1000, intervalMs: 50 },
      );
      return;
    }
    const after = await stack.get(ROUTES.ping);
    expect(after.status).toBe(200);
  });

  it('frees the slots of connections that never send a request, and serves again', async () => {
    const idle: RawConnection[] = [];
    try {
      // A misbehaving function (or a leak) holds every slot without sending a byte.
      for (let i = 0; i < CAP; i++) idle.push(await RawConnection.open(stack.port));
      const refused = await rawRequest(
        stack.port,
        `GET ${ROUTES.ping} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
      );
      // Node's server counts a connection from its accept; the standalone layer's runtime (Bun) only from
      // its first request, so there connections that never send a byte hold no slot at all. Either way
      // they are closed by the headers timeout below.
      expect(refused.status).toBe(layerKind === 'standalone' ? 200 : 503);
      // The server's headers timeout (5 s) closes them; then a new connection is served again.
      const served = await waitFor(
        'a slot to free up',
        async () => {
          const a = await rawRequest(
            stack.port,
            `GET ${ROUTES.ping} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
          );
          return a.status === 200 ? a : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 250 },
      );
      expect(served.status).toBe(200);
      // The idle connections were opened one after another, so their timeouts end one after another too:
      // the first freed slot comes before the last one closes. Every one of them is closed in the end.
      await waitFor('every idle connection to be closed by the server', () => idle.every((c) => c.closed), {
        timeoutMs: 20_000,
        intervalMs: 100,
      });
      expect(idle.filter((c) => c.closed)).toHaveLength(CAP);
    } finally {
      for (const c of idle) c.close();
    }
  });
});
