import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, realpath, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';

/** Lambda's limit for a function and its layers, unzipped. */
export const MAX_UNZIPPED_BYTES = 250 * 1024 * 1024;

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;
/** The high byte of "version made by": 3 is Unix, the only host whose attributes carry a mode. */
const UNIX_HOST = 3;

/** A layer zip that cannot be extracted safely. */
export class LayerZipError extends Error {
  override readonly name = 'LayerZipError';
}

function open(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolveOpen, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: true, strictFileNames: true }, (error, zip) => {
      if (error) reject(error);
      else resolveOpen(zip);
    });
  });
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<NodeJS.ReadableStream> {
  return new Promise((resolveStream, reject) => {
    zip.openReadStream(entry, (error, stream) => {
      if (error) reject(error);
      else resolveStream(stream);
    });
  });
}

/** `dest/name`, refusing anything that would land outside `dest` (zip slip). */
function inside(dest: string, name: string): string {
  const target = resolve(dest, name);
  if (isAbsolute(name) || (target !== dest && !target.startsWith(dest + sep))) {
    throw new LayerZipError(`entry "${name}" would be written outside the destination`);
  }
  return target;
}

/**
 * Extracts a layer zip as Lambda does into `/opt`: Unix modes are kept (extensions must stay executable),
 * and entries that would escape `destDir` (`../`, absolute paths, symlinks pointing out) are refused.
 * Returns the directory, a new temporary one when `destDir` is not given (the caller removes it).
 *
 * @example
 * const layerDir = await extractLayer('dist/lambda-cache-layer.zip');
 */
export async function extractLayer(zipFile: string, destDir?: string): Promise<string> {
  const dest = destDir === undefined ? await mkdtemp(join(tmpdir(), 'lambda-layer-')) : resolve(destDir);
  try {
    return await extractInto(zipFile, dest);
  } catch (error) {
    if (destDir === undefined) await rm(dest, { recursive: true, force: true });
    throw error;
  }
}

async function extractInto(zipFile: string, dest: string): Promise<string> {
  await mkdir(dest, { recursive: true });
  const root = await realpath(dest);
  let zip: yauzl.ZipFile;
  try {
    zip = await open(zipFile);
  } catch (error) {
    throw new LayerZipError(
      `cannot read ${zipFile}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  let total = 0;
  const modes: [string, number][] = [];
  try {
    await new Promise<void>((resolveAll, reject) => {
      const fail = (error: unknown): void => {
        zip.close();
        reject(error);
      };
      zip.on('error', fail);
      zip.on('end', () => resolveAll());
      zip.on('entry', (entry: yauzl.Entry) => {
        extractEntry(zip, entry).then(() => zip.readEntry(), fail);
      });
      zip.readEntry();
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new LayerZipError(`cannot extract ${zipFile}: ${message}`);
  }
  // Directory modes last, so a read-only directory does not stop its own files from being written.
  for (const [path, mode] of modes.reverse()) await chmod(path, mode);
  return dest;

  async function extractEntry(archive: yauzl.ZipFile, entry: yauzl.Entry): Promise<void> {
    const target = inside(root, entry.fileName);
    const unix = entry.versionMadeBy >> 8 === UNIX_HOST;
    const attributes = (entry.externalFileAttributes >>> 16) & 0xffff;
    const type = unix ? attributes & S_IFMT : 0;
    const isDir = entry.fileName.endsWith('/') || type === S_IFDIR;
    const mode = unix && (attributes & 0o777) !== 0 ? attributes & 0o777 : isDir ? 0o755 : 0o644;
    if (isDir) {
      await mkdir(target, { recursive: true });
      modes.push([target, mode | 0o700]);
      return;
    }
    total += entry.uncompressedSize;
    if (total > MAX_UNZIPPED_BYTES) {
      throw new LayerZipError(`more than ${MAX_UNZIPPED_BYTES} bytes unzipped (Lambda's limit)`);
    }
    await mkdir(dirname(target), { recursive: true });
    const stream = await openEntry(archive, entry);
    if (type === S_IFLNK) {
      const chunks: Buffer[] = [];
      for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
      const link = Buffer.concat(chunks).toString('utf8');
      const pointsTo = resolve(dirname(target), link);
      if (isAbsolute(link) || relative(root, pointsTo).startsWith('..')) {
        throw new LayerZipError(`symlink "${entry.fileName}" points outside the destination (${link})`);
      }
      await symlink(link, target);
      return;
    }
    await pipeline(stream, createWriteStream(target, { mode }));
    await chmod(target, mode);
  }
}
