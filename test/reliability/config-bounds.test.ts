import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Backends, startBackends } from '@lambda-cache/local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_REGION, seedData } from '../src/fixtures.js';
import { startStack, waitFor } from '../src/harness.js';

// Configs that are valid YAML, or not files at all, and that once held init until Lambda killed it:
// each must end init with init/error inside Lambda's 10 s, as any other config error does.

let backends: Backends;
let dir: string;
beforeAll(async () => {
  backends = await startBackends({ seed: seedData(), region: SEED_REGION });
  dir = await mkdtemp(join(tmpdir(), 'lambda-cache-config-bounds-'));
});
afterAll(async () => {
  await backends?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Outcome {
  /** The error type and body posted to init/error; else why init failed; `undefined` when it succeeded. */
  reported: string | undefined;
  exitCode: number | null | undefined;
  logs: string[];
}

async function initWith(opts: { config?: string; env?: Record<string, string> }): Promise<Outcome> {
  const stack = await startStack({ backends, ...opts, init: false, requireListening: false });
  try {
    const result = await stack.initDone;
    if (result.ok) return { reported: undefined, exitCode: null, logs: stack.logs() };
    const initError = stack.lambda.extensions[0]?.initError;
    const reported = initError ? `${initError.errorType} ${initError.body}` : JSON.stringify(result.error);
    await waitFor(
      'the extension to exit after init/error',
      () => stack.lambda.extensions[0]?.exitCode != null,
      { timeoutMs: 5000 },
    ).catch(() => undefined);
    return { reported, exitCode: stack.lambda.extensions[0]?.exitCode, logs: stack.logs() };
  } finally {
    await stack.close();
  }
}

function expectConfigInvalid(o: Outcome, problem: string): void {
  expect(o.reported).toContain('Extension.ConfigInvalid');
  expect(o.reported).toContain(problem);
  expect(o.exitCode).toBeGreaterThan(0);
}

describe('config bounds', () => {
  it('reports init/error when a small config expands past the entry limit through aliases', async () => {
    // 10 000 names anchored once and reused by 2 000 groups: about 100 KB, 20 million names expanded.
    const lines = ['parameters:', '  - names: &n'];
    for (let i = 0; i < 10_000; i++) lines.push(`      - /p/${i}`);
    for (let g = 0; g < 2_000; g++) lines.push('  - names: *n');
    const o = await initWith({ config: `${lines.join('\n')}\n` });
    expectConfigInvalid(o, 'entries once aliases are expanded');
    expect(o.reported).toMatch(/config\.yaml:10011:12: parameters\[9\]\.names: /);
  });

  it('reports init/error instead of waiting when the config is a FIFO without a writer', async () => {
    const fifo = join(dir, 'config.fifo');
    execFileSync('mkfifo', [fifo]);
    const o = await initWith({ env: { CACHE_EXTENSION_CONFIG: fifo } });
    expectConfigInvalid(o, 'is a FIFO, not a regular file');
  });

  it('reports init/error without reading it when the config is /dev/zero', async () => {
    const o = await initWith({ env: { CACHE_EXTENSION_CONFIG: '/dev/zero' } });
    expectConfigInvalid(o, 'is a character device, not a regular file');
  });
});
