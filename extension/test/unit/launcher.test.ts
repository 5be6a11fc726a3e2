import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

interface Launcher {
  LAUNCHER: string;
  NAME: string;
}

function sh(file: string, env: Record<string, string>, cwd: string) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(file, ['serve'], { env, cwd, timeout: 10_000 }, (err, stdout, stderr) => {
      const code = err ? Number((err as { code?: unknown }).code ?? 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('launcher', () => {
  let dir: string;
  let launcher: string;

  beforeEach(async () => {
    const { LAUNCHER, NAME } = (await import('../../scripts/launcher.mjs' as string)) as Launcher;
    dir = await mkdtemp(join(tmpdir(), 'lc-launcher-'));
    await mkdir(join(dir, 'layer', 'extensions'), { recursive: true });
    await mkdir(join(dir, 'layer', NAME), { recursive: true });
    launcher = join(dir, 'layer', 'extensions', NAME);
    await writeFile(launcher, LAUNCHER);
    await chmod(launcher, 0o755);
    // A stand-in bundle that reports how it was started.
    await writeFile(
      join(dir, 'layer', NAME, 'index.mjs'),
      'console.log(JSON.stringify({ name: process.env.LAMBDA_CACHE_EXTENSION_NAME, args: process.argv.slice(2), flags: process.execArgv }));\n',
    );
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs the bundle next to it under its own file name when started from another directory', async () => {
    const res = await sh(launcher, { LAMBDA_CACHE_NODE: process.execPath, PATH: '/usr/bin:/bin' }, tmpdir());
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({
      name: 'lambda-cache',
      args: ['serve'],
      flags: ['--no-concurrent-recompilation'],
    });
  });

  it('exits 127 with a clear message when no node executable is found', async () => {
    const res = await sh(
      launcher,
      { LAMBDA_CACHE_NODE: join(dir, 'no-such-node'), PATH: '/usr/bin:/bin' },
      dir,
    );
    expect(res.code).toBe(127);
    expect(res.stderr).toContain('[lambda-cache] ERROR cannot start: no node executable found');
  });
});
