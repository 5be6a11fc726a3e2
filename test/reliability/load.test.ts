import { readFileSync } from 'node:fs';
import { parameterPath, ROUTES } from '@lambda-cache/shared';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedConfig, seedData } from '../src/fixtures.js';
import { type Stack, seededRandom, startStack } from '../src/harness.js';

const CONNECTIONS = 200;
const REQUESTS = 50_000;
/** ~10 s alone on two cores; several times that when the cores are busy with other work. */
const BUDGET_MS = 150_000;
/**
 * Resident memory the extension may use at the end of the run (DESIGN: bounded cache, no leaks).
 * Observed: 59 MB after init, 84–86 MB after the run (105 MB with an earlier build). The bound leaves
 * about 40 % for V8's timing (± 10 MiB) and other Node versions, and is still crossed by a leak of 1 KiB
 * per request (50 MB over the run).
 */
const RSS_BOUND_MB = 120;

const CONFIGURED = Array.from({ length: 20 }, (_, i) => `/load/configured/${i}`);
const READ_THROUGH = Array.from({ length: 500 }, (_, i) => `/load/read-through/${i}`);
const MISSING = Array.from({ length: 200 }, (_, i) => `/load/missing/${i}`);

const config = seedConfig.replace(
  '      - /aws/reference/secretsmanager/secret_info\n',
  `      - /aws/reference/secretsmanager/secret_info\n${CONFIGURED.map((n) => `      - ${n}\n`).join('')}`,
);
const seed = seedData();
seed.parameters = [
  ...(seed.parameters ?? []),
  ...[...CONFIGURED, ...READ_THROUGH].map((name) => ({ name, value: `load-value-${name}` })),
];

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

/** The node process serving the extension: the launcher itself when it execs, else its child. */
function nodePid(pid: number): number {
  const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  if (comm.startsWith('node')) return pid;
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
  // The launcher `exec`s its runtime, so the extension is this process or its one child: under the
  // standalone layer the runtime is not named node.
  return children.find((p) => p > 0) ?? pid;
}

let stack: Stack;
beforeAll(async () => {
  // Warn, not debug: a debug line per request would make this run measure logging.
  stack = await startStack({ config, seed, env: { CACHE_EXTENSION_LOG_LEVEL: 'warn' } });
});
afterAll(async () => {
  await stack?.close();
});

describe('load', () => {
  it(
    `has no transport errors and no 5xx when ${CONNECTIONS} keep-alive connections send ${REQUESTS} mixed requests`,
    async () => {
      const pid = nodePid(stack.lambda.extensions[0]?.pid as number);
      const rssBefore = rssMb(pid);
      const pool = new Pool(stack.baseUrl, {
        connections: CONNECTIONS,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        headersTimeout: 20_000,
        bodyTimeout: 20_000,
      });
      const statuses = new Map<number, number>();
      const transportErrors: string[] = [];
      let wrongBodies = 0;
      const random = seededRandom(42);
      const perWorker = REQUESTS / CONNECTIONS;
      const worker = async () => {
        for (let i = 0; i < perWorker; i++) {
          const r = random();
          const name =
            r < 0.6
              ? (CONFIGURED[Math.floor(random() * CONFIGURED.length)] as string)
              : r < 0.8
                ? (READ_THROUGH[Math.floor(random() * READ_THROUGH.length)] as string)
                : (MISSING[Math.floor(random() * MISSING.length)] as string);
          try {
            const res = await pool.request({
              path: parameterPath(name),
              method: 'GET',
              headers: { 'x-aws-parameters-secrets-token': stack.token },
            });
            const text = await res.body.text();
            statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
            if (res.statusCode === 200 && JSON.parse(text).value !== `load-value-${name}`) wrongBodies++;
            if (res.statusCode === 404 && !name.startsWith('/load/missing/')) wrongBodies++;
          } catch (err) {
            transportErrors.push((err as { code?: string }).code ?? String(err));
          }
        }
      };
      try {
        await Promise.all(Array.from({ length: CONNECTIONS }, worker));
      } finally {
        await pool.close();
      }
      const counts = Object.fromEntries(statuses);
      expect(transportErrors.slice(0, 5)).toEqual([]);
      expect(Object.keys(counts).sort()).toEqual(['200', '404']);
      expect((counts[200] ?? 0) + (counts[404] ?? 0)).toBe(REQUESTS);
      expect(wrongBodies).toBe(0);

      const rss = rssMb(pid);
      expect(rss).toBeLessThan(RSS_BOUND_MB);
      const stats = (await stack.get(ROUTES.stats)).body;
      // Printed for RELIABILITY.md: the figures of this run.
      console.log(
        `[load] ${REQUESTS} requests over ${CONNECTIONS} connections: ${JSON.stringify(counts)}, rss ${rssBefore.toFixed(1)} MB before, ${rss.toFixed(1)} MB after, hits ${stats.hits}, misses ${stats.misses}, negativeHits ${stats.negativeHits}`,
      );
    },
    BUDGET_MS,
  );
});
