/**
 * The root README's Python function, exactly as printed there, under the local emulator's Python runtime
 * with the standalone layer: no `node` on the `PATH` of the extension or the function.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { type Backends, LambdaEmulator, startBackends } from '@lambda-cache/local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_ITEM, SEED_PARAMETER_VALUE, SEED_REGION, seedConfig, seedData } from '../src/fixtures.js';
import {
  assertNoValuesLogged,
  freePort,
  layerDir,
  newToken,
  pathWithoutNode,
  repoRoot,
  secretValues,
  standaloneZip,
} from '../src/harness.js';

/** The README's `app.py` block: the fenced Python block that starts with `# app.py`. */
async function readmeExample(): Promise<string> {
  const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
  const block = /```python\n(# app\.py[^\n]*\n[\s\S]*?)```/.exec(readme);
  if (!block?.[1]) throw new Error('README.md has no ```python block starting with "# app.py"');
  return block[1];
}

let backends: Backends;
let functionDir: string;
let binDir: string;
beforeAll(async () => {
  backends = await startBackends({ seed: seedData(), region: SEED_REGION });
  functionDir = await mkdtemp(join(tmpdir(), 'lambda-cache-python-fn-'));
  await writeFile(join(functionDir, 'app.py'), await readmeExample());
  await writeFile(join(functionDir, 'config.yaml'), seedConfig);
  // python3 alone in a directory of its own: PATH then holds it and the launcher's commands, never node.
  binDir = await mkdtemp(join(tmpdir(), 'lambda-cache-python-bin-'));
  const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
  await mkdir(binDir, { recursive: true });
  await symlink(python.trim(), join(binDir, 'python3'));
});
afterAll(async () => {
  await backends?.close();
  if (functionDir) await rm(functionDir, { recursive: true, force: true });
  if (binDir) await rm(binDir, { recursive: true, force: true });
});

describe('the README Python function with the standalone layer', () => {
  it('returns the seeded parameter and item, read through the extension, with no node on PATH', async () => {
    const path = [binDir, await pathWithoutNode()].join(delimiter);
    for (const dir of path.split(delimiter)) expect(existsSync(join(dir, 'node'))).toBe(false);
    const logs: string[] = [];
    // The example reads the extension's port from CACHE_EXTENSION_PORT, as in Lambda: a concrete one here.
    const port = await freePort();
    const lambda = await LambdaEmulator.create({
      layerDir: await layerDir(standaloneZip()),
      functionDir,
      handler: 'app.handler',
      runtime: 'python3',
      sandbox: 'pss',
      env: {
        ...backends.env,
        AWS_REGION: SEED_REGION,
        AWS_SESSION_TOKEN: newToken(),
        CACHE_EXTENSION_PORT: String(port),
        CACHE_EXTENSION_CONFIG: join(functionDir, 'config.yaml'),
        PATH: path,
      },
      onLog: (line) => logs.push(line),
    });
    try {
      const result = await lambda.invoke({});
      expect(result.ok, `${JSON.stringify(result.payload)}\n${logs.join('\n')}`).toBe(true);
      expect(result.payload).toEqual({ parameter: SEED_PARAMETER_VALUE, data: SEED_ITEM.Data });
      // Both came from the prefetch: one batched call per backend, none from the function.
      expect(backends.ssm.calls.GetParameters).toBe(1);
      expect(backends.dynamodb.calls.BatchGetItem).toBe(1);
      expect(logs.some((l) => l.includes(`listening on http://127.0.0.1:${port}`))).toBe(true);
    } finally {
      await lambda.shutdown('spindown');
    }
    assertNoValuesLogged(logs, secretValues(seedData()));
  });
});
