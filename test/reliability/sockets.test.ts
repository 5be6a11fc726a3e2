import type net from 'node:net';
import { ROUTES } from '@lambda-cache/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpGet, layerKind, type Stack, sleep, startStack, waitFor } from '../src/harness.js';
import { openDeaf, RawConnection, rawRequest } from '../src/raw.js';

/** The extension's documented connection cap. */
const CAP = 256;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

const ping = (keepAlive: boolean) =>
  `GET ${ROUTES.ping} HTTP/1.1\r\nHost: 127.0.0.1\r\n${keepAlive ? '' : 'Connection: close\r\n'}\r\n`;

describe('connection slots', () => {
  it('frees the slots of connections that never read once the headers timeout ends them', async () => {
    const deaf: net.Socket[] = [];
    try {
      // Each starts a request and stops half-way through its headers, and never reads the 408 it gets.
      for (let i = 0; i < CAP; i++) {
        const s = await openDeaf(stack.port);
        s.write(`GET ${ROUTES.ping} HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
        deaf.push(s);
      }
      expect((await rawRequest(stack.port, ping(false))).status).toBe(503);
      // The 5 s headers timeout (checked every second) must free every slot without the peers' help.
      const statuses: (number | null)[] = [];
      const served = await waitFor(
        'a slot held by a connection that never reads to be freed',
        async () => {
          const a = await rawRequest(stack.port, ping(false));
          statuses.push(a.status);
          return a.status === 200 ? a : undefined;
        },
        { timeoutMs: 12_000, intervalMs: 250 },
      ).catch((err: Error) => {
        throw new Error(`${err.message}; answers while waiting: ${[...new Set(statuses)].join(', ')}`);
      });
      expect(served.status).toBe(200);
    } finally {
      for (const s of deaf) s.destroy();
    }
  });

  it('admits a new connection at the cap by closing the longest-idle keep-alive one', async () => {
    const idle: RawConnection[] = [];
    try {
      // A full house of keep-alive connections, each served once and idle since, the first for longest.
      for (let i = 0; i < CAP; i++) {
        const c = await RawConnection.open(stack.port);
        expect((await c.request(ping(true))).status).toBe(200);
        idle.push(c);
      }
      // Idle long enough to be displaced (1 s), well inside the 5 s keep-alive timeout.
      await sleep(1200);
      const newcomer = await rawRequest(stack.port, ping(false));
      expect(newcomer.status).toBe(200);
      await waitFor('the longest-idle connection to be closed', () => idle[0]?.closed, { timeoutMs: 2000 });
      expect(idle.slice(1).filter((c) => c.closed)).toHaveLength(0);
      // The others keep their slots and are served.
      const again = await Promise.all(idle.slice(1).map((c) => c.request(ping(true))));
      expect(again.filter((a) => a.status === 200)).toHaveLength(CAP - 1);
    } finally {
      for (const c of idle) c.close();
    }
  });

  it('serves a new connection at once when a crowd of kept-alive connections has just closed', async () => {
    for (let round = 0; round < 3; round++) {
      const crowd: RawConnection[] = [];
      for (let i = 0; i < CAP; i++) crowd.push(await RawConnection.open(stack.port));
      const first = await Promise.all(crowd.map((c) => c.request(ping(true))));
      expect(first.filter((a) => a.status === 200)).toHaveLength(CAP);
      // The crowd leaves and a new connection comes straight after, before the server has seen every close.
      for (const c of crowd) c.close();
      if (layerKind === 'standalone') {
        // Bun's server reports the crowd's closes a little later than Node's: a slot frees within a second.
        await waitFor(
          `round ${round}: a new connection served`,
          async () => {
            return (await httpGet(stack.port, ROUTES.ping)).status === 200;
          },
          { timeoutMs: 1000, intervalMs: 50 },
        );
        continue;
      }
      const after = await httpGet(stack.port, ROUTES.ping);
      expect(after.status, `round ${round}`).toBe(200);
    }
  });
});
