import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { capture, functionDir, layerDir } from '../fixtures/lambda/cli-io.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

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
      [
        'invoke',
        '--layer',
        await layerDir(dirs, 'cli-sandbox-test-'),
        '--function',
        functionDir,
        '--sandbox',
        'docker',
      ],
      io,
    );
    expect(status).toBe(2);
    expect(io.err[0]).toBe('lambda-cache-local: --sandbox must be auto, cgroup or pss, got "docker"');
  });

  it('prints the measuring method, PSS when given --sandbox pss', async () => {
    const io = capture();
    const status = await runCli(
      [
        'invoke',
        '--layer',
        await layerDir(dirs, 'cli-sandbox-test-'),
        '--function',
        functionDir,
        '--handler',
        'esm.handler',
      ],
      io,
    );
    expect(status).toBe(0);
    const pss = capture();
    expect(
      await runCli(
        [
          'invoke',
          '--layer',
          await layerDir(dirs, 'cli-sandbox-test-'),
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
