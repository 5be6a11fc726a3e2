import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCacheClient } from '@lambda-cache/client';
import type { Backends } from '@lambda-cache/local';
import { parameterPath, ROUTES } from '@lambda-cache/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_PARAMETER, SEED_PARAMETER_VALUE, seedConfig, seedData } from '../src/fixtures.js';
import { repoRoot, type Stack, sleep, startStack, waitFor } from '../src/harness.js';

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

/**
 * The local backends in a process of their own (the `lambda-cache-local backends` command), so that they
 * can be frozen too. Only `env` and `close()` of {@link Backends} are real: calls are counted by the
 * extension's `/v1/stats` instead.
 */
async function backendsProcess(): Promise<{ backends: Backends; pid: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'lambda-cache-freeze-'));
  await writeFile(join(dir, 'seed.json'), JSON.stringify(seed));
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(repoRoot, 'local', 'dist', 'cli.js'),
      'backends',
      '--seed',
      join(dir, 'seed.json'),
      '--region',
      'us-west-2',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const env: Record<string, string> = {};
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString('utf8');
  });
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('the backends to print their environment', () => out.includes('# stop with Ctrl-C'), {
      timeoutMs: 20_000,
    });
  } catch (err) {
    await close();
    throw err;
  }
  for (const m of out.matchAll(/^export ([A-Z0-9_]+)=(?:'([^']*)'|(\S*))$/gm))
    env[m[1] as string] = m[2] ?? m[3] ?? '';
  return { backends: { env, close } as unknown as Backends, pid: child.pid as number };
}

function backendCalls(stats: { backendCalls: Record<string, number> }): number {
  return Object.values(stats.backendCalls).reduce((a, b) => a + b, 0);
}

let stack: Stack;
let separate: { stack: Stack; backends: Backends } | undefined;
beforeAll(async () => {
  stack = await startStack({ config, seed, env: { CACHE_EXTENSION_TTL: '1s' } });
});
afterAll(async () => {
  await stack?.close();
  await separate?.stack.close();
  await separate?.backends.close();
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

  it('answers the next read when the extension and the backends were frozen together', async () => {
    const b = await backendsProcess();
    const s = await startStack({ config, seed, backends: b.backends, env: { CACHE_EXTENSION_TTL: '1s' } });
    separate = { stack: s, backends: b.backends };
    const client = createCacheClient({ port: s.port, token: s.token, localCache: false, connections: 4 });
    try {
      expect(await client.getParameter(SEED_PARAMETER)).toBe(SEED_PARAMETER_VALUE);
      const before = backendCalls((await s.get(ROUTES.stats)).body);
      const tree = [...processTree(s.lambda.extensions[0]?.pid as number), b.pid];
      for (const p of tree) process.kill(p, 'SIGSTOP');
      try {
        await sleep(FROZEN_MS);
      } finally {
        // The backends first: AWS is never frozen, only the function's environment is.
        for (const p of [...tree].reverse()) process.kill(p, 'SIGCONT');
      }
      expect(await client.getParameter(SEED_PARAMETER)).toBe(SEED_PARAMETER_VALUE);
      const values = await Promise.all(NAMES.map((n) => client.getParameter(n)));
      expect(values).toEqual(NAMES.map((n) => `frozen-value-${n}`));
      const item = await client.getItem('DynamoDbTable', { pKey: 'pKey1', sKey: 'sKey1' });
      expect(item).toMatchObject({ Data: 'Data goes here' });
      const after = backendCalls((await s.get(ROUTES.stats)).body);
      // Seven parameter keys and one item: at most one call each, whatever the batching.
      expect(after - before).toBeGreaterThan(0);
      expect(after - before).toBeLessThanOrEqual(NAMES.length + 3);
      console.log(
        `[freeze] extension and backends stopped ${FROZEN_MS} ms; backend calls after thaw: ${after - before}`,
      );
    } finally {
      await client.close();
    }
  });
});
