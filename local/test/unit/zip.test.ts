import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { extractLayer, LayerZipError } from '../../src/zip.js';
import { writeZip, type ZipEntry } from '../fixtures/lambda/zip-writer.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'zip-test-'));
  dirs.push(dir);
  return dir;
}

async function zipOf(entries: readonly ZipEntry[]): Promise<string> {
  const file = join(await tempDir(), 'layer.zip');
  await writeFile(file, writeZip(entries));
  return file;
}

describe('extractLayer', () => {
  it('keeps the executable bit when the zip carries Unix modes', async () => {
    const zip = await zipOf([
      { name: 'extensions/', mode: 0o040755 },
      { name: 'extensions/lambda-cache', data: '#!/bin/sh\nexec node "$@"\n', mode: 0o100755 },
      { name: 'lambda-cache/index.js', data: 'console.log(1)', mode: 0o100644 },
    ]);
    const dest = await extractLayer(zip, join(await tempDir(), 'opt'));
    const launcher = await stat(join(dest, 'extensions', 'lambda-cache'));
    expect(launcher.mode & 0o777).toBe(0o755);
    expect((await stat(join(dest, 'lambda-cache', 'index.js'))).mode & 0o777).toBe(0o644);
    expect(await readFile(join(dest, 'lambda-cache', 'index.js'), 'utf8')).toBe('console.log(1)');
  });

  it('extracts into a new temporary directory when no destination is given', async () => {
    const zip = await zipOf([{ name: 'a.txt', data: 'a', mode: 0o100644 }]);
    const dest = await extractLayer(zip);
    dirs.push(dest);
    expect(await readFile(join(dest, 'a.txt'), 'utf8')).toBe('a');
  });

  it('refuses an entry that climbs out of the destination with ../', async () => {
    const root = await tempDir();
    const zip = await zipOf([{ name: '../evil.txt', data: 'x', mode: 0o100644 }]);
    await expect(extractLayer(zip, join(root, 'opt'))).rejects.toThrow(LayerZipError);
    await expect(extractLayer(zip, join(root, 'opt'))).rejects.toThrow(/\.\.\/evil\.txt/);
    expect(existsSync(join(root, 'evil.txt'))).toBe(false);
  });

  it('refuses a nested ../ entry and an absolute entry', async () => {
    const root = await tempDir();
    for (const name of ['a/../../evil.txt', '/tmp/evil.txt']) {
      const zip = await zipOf([{ name, data: 'x', mode: 0o100644 }]);
      await expect(extractLayer(zip, join(root, 'opt'))).rejects.toThrow(LayerZipError);
    }
    expect(existsSync(join(root, 'evil.txt'))).toBe(false);
  });

  it('refuses a symlink that points outside the destination', async () => {
    const zip = await zipOf([{ name: 'link', data: '../../etc/passwd', mode: 0o120777 }]);
    await expect(extractLayer(zip, join(await tempDir(), 'opt'))).rejects.toThrow(/points outside/);
  });

  it('keeps a symlink that stays inside the destination', async () => {
    const zip = await zipOf([
      { name: 'bin/tool.js', data: 'x', mode: 0o100755 },
      { name: 'extensions/tool', data: '../bin/tool.js', mode: 0o120777 },
    ]);
    const dest = await extractLayer(zip, join(await tempDir(), 'opt'));
    expect(await readlink(join(dest, 'extensions', 'tool'))).toBe('../bin/tool.js');
  });

  it('rejects with a LayerZipError when the file is not a zip', async () => {
    const file = join(await tempDir(), 'not.zip');
    await writeFile(file, 'plain text');
    await expect(extractLayer(file)).rejects.toThrow(LayerZipError);
  });
});
