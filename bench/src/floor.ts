/**
 * The floor every cold-start figure is compared with: a layer holding only the minimal extension
 * (`minimal-extension.ts`: Node, `node:http`, register, wait for events), launched the way the product
 * is, by a shell launcher that `exec`s node; and a layer with no extension at all.
 */
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The minimal extension's name, as its launcher's file name. */
export const MINIMAL_NAME = 'minimal';

/** A layer with the minimal extension as its only extension; the caller removes the directory. */
export async function minimalLayer(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lambda-cache-bench-minimal-'));
  await mkdir(join(dir, 'extensions'));
  const script = fileURLToPath(new URL('./minimal-extension.js', import.meta.url));
  const launcher = join(dir, 'extensions', MINIMAL_NAME);
  await writeFile(
    launcher,
    `#!/bin/sh\nMINIMAL_EXTENSION_NAME=${MINIMAL_NAME} exec '${process.execPath}' '${script}'\n`,
  );
  await chmod(launcher, 0o755);
  return dir;
}

/** A layer without extensions: the function alone. */
export async function emptyLayer(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lambda-cache-bench-nolayer-'));
  await mkdir(join(dir, 'extensions'));
  return dir;
}

/** A function whose handler does nothing, in a temp dir of its own. */
export async function trivialFunction(config?: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lambda-cache-bench-fn-'));
  await writeFile(join(dir, 'index.mjs'), 'export const handler = async () => ({ ok: true });\n');
  if (config !== undefined) await writeFile(join(dir, 'config.yaml'), config);
  return dir;
}
