/**
 * `npm start`'s main job, as a newcomer runs it: the example function with the packaged layer under the
 * local Lambda emulator, on seeded local backends. The workspaces and the layer are built by `npm test`.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../src/harness.js';

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runStart(): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'example-function', 'scripts', 'start.mjs')],
      {
        cwd: repoRoot,
        timeout: 90_000,
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, FORCE_COLOR: '0' },
      },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('npm start (example function)', () => {
  it('prints the seed item read through the extension and exits 0 after one batched load per backend', {
    timeout: 120_000,
  }, async () => {
    const { code, stdout, stderr } = await runStart();
    expect(code, `stdout:\n${stdout.slice(-3000)}\nstderr:\n${stderr.slice(-3000)}`).toBe(0);
    const responses = stdout
      .split('\n')
      .filter((line) => line.includes('Finally got some response here: '))
      .map((line) => line.slice(line.indexOf('Finally got some response here: ') + 32));
    expect(responses).toHaveLength(3);
    for (const body of responses) {
      expect(JSON.parse(body)).toEqual({ Data: 'Data goes here', pKey: 'pKey1', sKey: 'sKey1' });
    }
    // Like Lambda: Init Duration on the first REPORT only.
    const reports = stdout.split('\n').filter((line) => line.startsWith('REPORT RequestId: '));
    expect(reports).toHaveLength(3);
    expect(reports.map((line) => line.includes('Init Duration:'))).toEqual([true, false, false]);
    expect(stdout).toMatch(/\[lambda-cache\] listening on http:\/\/127\.0\.0\.1:\d+/);
    // All three invokes together cost one GetParameters and one BatchGetItem.
    expect(stdout).toMatch(/GetParameters ×1\b/);
    expect(stdout).toMatch(/BatchGetItem ×1\b/);
  });
});
