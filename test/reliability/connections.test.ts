import { parameterPath, ROUTES } from '@lambda-cache/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_PARAMETER } from '../src/fixtures.js';
import { type Stack, startStack } from '../src/harness.js';
import { RawConnection } from '../src/raw.js';

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
      `GET ${path} HTTP/1.1\r\nHost: x\r\nX-Aws-Parameters-Secrets-Token: ${stack.token}\r\n\r\n`;
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
    // Once the crowd has gone, new connections are served again.
    const after = await stack.get(ROUTES.ping);
    expect(after.status).toBe(200);
  });
});
