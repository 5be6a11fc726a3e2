import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { capture, fixtures, functionDir, layerDir } from '../fixtures/lambda/cli-io.js';
import { writeZip } from '../fixtures/lambda/zip-writer.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('runCli', { timeout: 20_000 }, () => {
  it('prints the usage and exits 0 when asked for --help', async () => {
    const io = capture();
    expect(await runCli(['--help'], io)).toBe(0);
    expect(io.out.join('\n')).toMatch(/^Usage: lambda-cache-local <command>/);
    expect(io.out.join('\n')).toContain('--layer <zip|dir>');
    expect(io.err).toEqual([]);
  });

  it('exits 2 with a one-line error and no stack trace when a flag is unknown', async () => {
    const io = capture();
    expect(await runCli(['invoke', '--bogus'], io)).toBe(2);
    expect(io.err[0]).toMatch(/^lambda-cache-local: .*--bogus/);
    expect(io.err.join('\n')).not.toMatch(/\n\s+at /);
    expect(io.err).toContain('Run lambda-cache-local --help for usage.');
  });

  it('exits 2 naming the missing flag when invoke has no --layer', async () => {
    const io = capture();
    expect(await runCli(['invoke', '--function', functionDir], io)).toBe(2);
    expect(io.err[0]).toBe('lambda-cache-local: invoke needs --layer <zip|dir>');
  });

  it('exits 2 when --times is not a whole number in range', async () => {
    const io = capture();
    expect(await runCli(['invoke', '--layer', '.', '--function', functionDir, '--times', '0x10'], io)).toBe(
      2,
    );
    expect(io.err[0]).toContain('--times must be a whole number from 1 to 1000');
  });

  it('exits 2 when --event is not JSON', async () => {
    const io = capture();
    expect(await runCli(['invoke', '--layer', '.', '--function', functionDir, '--event', '{nope'], io)).toBe(
      2,
    );
    expect(io.err[0]).toContain('--event is not valid JSON');
  });

  it('exits 2 on an unknown command', async () => {
    const io = capture();
    expect(await runCli(['deploy'], io)).toBe(2);
    expect(io.err[0]).toContain('unknown command "deploy"');
  });

  it('invokes the function N times and prints Lambda lines and responses when given a layer directory', async () => {
    const io = capture();
    const eventFile = join(await layerDir(dirs, 'cli-test-'), 'event.json');
    await writeFile(eventFile, '{"from":"file"}');
    const status = await runCli(
      [
        'invoke',
        '--layer',
        await layerDir(dirs, 'cli-test-'),
        '--function',
        functionDir,
        '--handler',
        'esm.handler',
        '--event',
        `@${eventFile}`,
        '--times',
        '2',
      ],
      io,
    );
    expect(status).toBe(0);
    expect(io.out).toContain('EXTENSION\tName: ext-normal\tState: Ready\tEvents: [INVOKE, SHUTDOWN]');
    const responses = io.out.filter((line) => line.startsWith('RESPONSE RequestId: '));
    expect(responses).toHaveLength(2);
    expect(responses[0]).toContain('"event":{"from":"file"}');
    const reports = io.out.filter((line) => line.startsWith('REPORT '));
    expect(reports).toHaveLength(2);
    expect(reports[0]).toContain('Init Duration');
    expect(reports[1]).not.toContain('Init Duration');
  });

  it('extracts a zip layer, starts seeded backends and passes their endpoints and --env to the function', async () => {
    const dir = await layerDir(dirs, 'cli-test-');
    const zip = join(dir, 'layer.zip');
    const extension = await readFile(join(fixtures, 'extension.cjs'), 'utf8');
    await writeFile(zip, writeZip([{ name: 'extensions/ext-normal', data: extension, mode: 0o100755 }]));
    const seed = join(dir, 'seed.yaml');
    await writeFile(seed, 'parameters:\n  - name: p1\n    value: v1\n');
    const io = capture();
    const status = await runCli(
      [
        'invoke',
        '--layer',
        zip,
        '--function',
        functionDir,
        '--handler',
        'env.handler',
        '--seed',
        seed,
        '--env',
        'FIXTURE_EXTRA=x=y',
      ],
      io,
    );
    expect(status).toBe(0);
    expect(io.out).toContain('EXTENSION\tName: ext-normal\tState: Ready\tEvents: [INVOKE, SHUTDOWN]');
    const response = io.out.find((line) => line.startsWith('RESPONSE '));
    const payload = JSON.parse(response?.replace(/^RESPONSE RequestId: \S+ /, '') ?? '{}') as {
      env: Record<string, string | null>;
    };
    expect(payload.env.AWS_ENDPOINT_URL_SSM).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
    expect(payload.env.FIXTURE_EXTRA).toBe('x=y');
    expect(io.out.at(-1)).toMatch(/^backend calls: SSM: /);
  });

  it('exits 1 when an invoke fails', async () => {
    const io = capture();
    const status = await runCli(
      [
        'invoke',
        '--layer',
        await layerDir(dirs, 'cli-test-'),
        '--function',
        functionDir,
        '--handler',
        'fail.handler',
      ],
      io,
    );
    expect(status).toBe(1);
    expect(
      io.out.some((line) => line.startsWith('ERROR RequestId: ') && line.includes('"errorType":"TypeError"')),
    ).toBe(true);
  });

  it('prints the backend environment and stops when aborted', async () => {
    const controller = new AbortController();
    const io = capture(controller.signal);
    const running = runCli(['backends'], io);
    for (let i = 0; i < 100 && !io.out.some((line) => line.startsWith('# stop')); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(io.out.some((line) => /^export AWS_ENDPOINT_URL_SSM=http:\/\/127\.0\.0\.1:\d+$/.test(line))).toBe(
      true,
    );
    controller.abort();
    expect(await running).toBe(0);
  });
});
