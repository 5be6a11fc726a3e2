/**
 * `npm start`'s main job, as a newcomer runs it: the example function with the packaged layer under the
 * local Lambda emulator, on seeded local backends. The workspaces and the layer are built by `npm test`.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { loadSeed } from '@lambda-cache/local';
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

/** One run serves every test of this file: it starts a whole stack, which two cores pay for. */
let run: Promise<Outcome> | undefined;
const started = (): Promise<Outcome> => {
  run ??= runStart();
  return run;
};

describe('npm start (example function)', () => {
  it('prints the seed item read through the extension and exits 0 after one batched load per backend', {
    timeout: 120_000,
  }, async () => {
    const { code, stdout, stderr } = await started();
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

  it('reads the rotated secret and the feature flag on every invoke, each loaded from AWS once, and logs neither value', {
    timeout: 120_000,
  }, async () => {
    const { code, stdout, stderr } = await started();
    expect(code, `stdout:\n${stdout.slice(-3000)}\nstderr:\n${stderr.slice(-3000)}`).toBe(0);
    // seed.yaml's example/api-key has two versions; AWSCURRENT is the second, placeholder-key-2 (17 chars).
    const reads = stdout.split('\n').filter((line) => line.includes('\tINFO\tRead secret '));
    expect(reads).toHaveLength(3);
    for (const line of reads) {
      expect(line).toMatch(
        /Read secret example\/api-key \(17 chars, AWSCURRENT\); feature flag new_greeting enabled=true$/,
      );
    }
    // The profile is prefetched during init (AWS_APPCONFIG_EXTENSION_PREFETCH_LIST), the secret is not in
    // config.yaml: the extension's own count says so before the first invoke.
    const prefetch = stdout.split('\n').find((line) => line.includes('[lambda-cache] prefetch done'));
    expect(prefetch).toMatch(/\bsecrets=0 configurations=1\b/);
    // One session and one poll for all three invokes, and one read-through of the secret.
    expect(stdout).toMatch(/AppConfigData +StartConfigurationSession ×1, GetLatestConfiguration ×1$/m);
    expect(stdout).toMatch(/Secrets Manager +GetSecretValue ×1$/m);
    // Neither a secret's value nor a flag's attribute is printed, by the function or the extension.
    const seed = await loadSeed(join(repoRoot, 'example-function', 'seed.yaml'));
    const values = [
      ...(seed.secrets ?? []).flatMap((s) => [s.value, ...(s.versions ?? []).map((v) => v.value)]),
      ...(seed.appconfig ?? []).flatMap((c) =>
        Object.values(c.flags ?? {}).flatMap((f) => Object.values(f).filter((v) => typeof v === 'string')),
      ),
    ].filter((v): v is string => typeof v === 'string' && v.length >= 8);
    expect(values).toEqual(
      expect.arrayContaining(['placeholder-key-1', 'placeholder-key-2', 'Hello from AppConfig']),
    );
    for (const value of values) expect(stdout + stderr, value).not.toContain(value);
  });
});
