import { chmod, copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type CliIo, runCli } from '../../src/cli.js';

const fixtures = fileURLToPath(new URL('../fixtures/lambda/', import.meta.url));
const functionDir = join(fixtures, 'function');

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

function capture(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (line) => out.push(line), stderr: (line) => err.push(line) };
}

async function layerDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cli-sandbox-test-'));
  dirs.push(dir);
  await mkdir(join(dir, 'extensions'));
  await copyFile(join(fixtures, 'extension.cjs'), join(dir, 'extensions', 'ext-normal'));
  await chmod(join(dir, 'extensions', 'ext-normal'), 0o755);
  return dir;
}

describe('runCli invoke --sandbox', { timeout: 20_000 }, () => {
  it('documents --sandbox and --cpu-share-during-init in the usage', async () => {
    const io = capture();
    expect(await runCli(['--help'], io)).toBe(0);
    expect(io.out.join('\n')).toContain('--sandbox <method>');
    expect(io.out.join('\n')).toContain('--cpu-share-during-init');
  });

  it('exits 2 naming the valid methods when --sandbox is unknown', async () => {
    const io = capture();
    const status = await runCli(
      ['invoke', '--layer', await layerDir(), '--function', functionDir, '--sandbox', 'docker'],
      io,
    );
    expect(status).toBe(2);
    expect(io.err[0]).toBe('lambda-cache-local: --sandbox must be auto, cgroup or pss, got "docker"');
  });

  it('prints the measuring method, PSS when given --sandbox pss', async () => {
    const io = capture();
    const status = await runCli(
      ['invoke', '--layer', await layerDir(), '--function', functionDir, '--handler', 'esm.handler'],
      io,
    );
    expect(status).toBe(0);
    const pss = capture();
    expect(
      await runCli(
        [
          'invoke',
          '--layer',
          await layerDir(),
          '--function',
          functionDir,
          '--handler',
          'esm.handler',
          '--sandbox',
          'pss',
          '--cpu-share-during-init',
        ],
        pss,
      ),
    ).toBe(0);
    expect(pss.out.some((line) => line.startsWith('[emulator] sandbox: no cgroup'))).toBe(true);
    expect(pss.out.some((line) => /^REPORT .*\tMax Memory Used: [1-9]\d* MB/.test(line))).toBe(true);
    expect(io.out.some((line) => line.startsWith('[emulator] sandbox: '))).toBe(true);
  });
});
