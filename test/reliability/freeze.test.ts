import { readdirSync, readFileSync } from 'node:fs';
import { createCacheClient } from '@lambda-cache/client';
import { parameterPath, ROUTES } from '@lambda-cache/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_PARAMETER, SEED_PARAMETER_VALUE, seedConfig, seedData } from '../src/fixtures.js';
import { type Stack, sleep, startStack } from '../src/harness.js';

const NAMES = Array.from({ length: 5 }, (_, i) => `/frozen/p${i}`);
const config = seedConfig.replace(
  '      - /aws/reference/secretsmanager/secret_info\n',
  `      - /aws/reference/secretsmanager/secret_info\n${NAMES.map((n) => `      - ${n}\n`).join('')}`,
);
const seed = seedData();
seed.parameters = [
  ...(seed.parameters ?? []),
  ...NAMES.map((name) => ({ name, value: `frozen-value-${name}` })),
];

/** Longer than the TTL (1s) and than the server's keep-alive timeout (5s). */
const FROZEN_MS = 6500;

/** The pid and every descendant (the launcher may run node as a child), from /proc. */
function processTree(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: the fields after the last ')' are fixed.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // The process ended while we looked.
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length && i < 1000; i++) {
    for (const [pid, ppid] of parentOf) if (ppid === tree[i]) tree.push(pid);
  }
  return tree;
}

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    config,
    seed,
    env: { CACHE_EXTENSION_TTL: '1s' },
  });
});
afterAll(async () => {
  await stack?.close();
});

describe('freeze and thaw', () => {
  it('answers the next read with at most one refresh per key when the extension was frozen past TTL and keep-alive', async () => {
    const pid = stack.lambda.extensions[0]?.pid;
    expect(pid).toBeGreaterThan(0);
    const client = createCacheClient({
      port: stack.port,
      token: stack.token,
      localCache: false,
      connections: 4,
    });
    try {
      // Warm keep-alive sockets that will be dead (closed by the server's idle timer) after the thaw.
      expect(await client.getParameter(SEED_PARAMETER)).toBe(SEED_PARAMETER_VALUE);
      await Promise.all(NAMES.map((n) => client.getParameter(n)));
      const tree = processTree(pid as number);
      stack.backends.ssm.resetCalls();
      for (const p of tree) process.kill(p, 'SIGSTOP');
      try {
        await sleep(FROZEN_MS);
      } finally {
        for (const p of tree) process.kill(p, 'SIGCONT');
      }
      expect(await client.getParameter(SEED_PARAMETER)).toBe(SEED_PARAMETER_VALUE);
      const values = await Promise.all(NAMES.map((n) => client.getParameter(n)));
      expect(values).toEqual(NAMES.map((n) => `frozen-value-${n}`));
      // Read every key again a few times: still at most one refresh each.
      for (let round = 0; round < 3; round++) {
        await Promise.all([SEED_PARAMETER, ...NAMES].map((n) => stack.get(parameterPath(n))));
      }
      const ssm = stack.backends.ssm.calls;
      const calls = (ssm.GetParameters ?? 0) + (ssm.GetParameter ?? 0);
      expect(calls).toBeGreaterThan(0);
      console.log(
        `[freeze] ${tree.length} process(es) stopped ${FROZEN_MS} ms; SSM calls after thaw: ${calls}`,
      );
      // Keys: the seed parameter, the secret reference and NAMES.
      expect(calls).toBeLessThanOrEqual(NAMES.length + 2);
      expect((await stack.get(ROUTES.health)).body.status).toBe('ready');
    } finally {
      await client.close();
    }
  });
});
