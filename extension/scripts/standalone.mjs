/**
 * Packages the standalone layers, `<repo>/dist/lambda-cache-standalone-<arch>.zip`: the Node layer's
 * bundle, the Bun binary for that architecture in `lambda-cache/runtime/bun`, and a launcher that runs the
 * bundle with it, for functions whose runtime brings no Node.js. Each is also kept unzipped in
 * `extension/dist/standalone-<arch>/`.
 *
 * The binaries come from the npm registry: `npm pack <package>@<version>` (a platform package for another
 * CPU refuses to install, but packs) into `extension/.runtime-cache/`, checked against the sha512
 * integrity pinned in `standalone-runtimes.json`; a tarball already in the cache with that integrity is
 * reused, so a rebuild needs no network.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { crc32, deflateRawSync, gunzipSync } from 'node:zlib';
import { NAME, STANDALONE_RUNTIME, standaloneLauncher } from './launcher.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const workspace = resolve(here, '..');
const repo = resolve(workspace, '..');
const cacheDir = join(workspace, '.runtime-cache');
const FIXED_MTIME = new Date(2020, 0, 1, 0, 0, 0);
/** ELF `e_machine` of each architecture's binary. */
const ELF_MACHINE = { 'x86-64': 0x3e, aarch64: 0xb7 };

/** @returns {{ runtime: string, version: string, architectures: Record<string, { package: string, integrity: string, binary: string, machine: keyof typeof ELF_MACHINE, uname: string }> }} */
export async function readPins() {
  return JSON.parse(await readFile(join(here, 'standalone-runtimes.json'), 'utf8'));
}

function integrityOf(buffer) {
  return `sha512-${createHash('sha512').update(buffer).digest('base64')}`;
}

/** The tarball name npm pack writes for a package and version. */
function tarballName(pkg, version) {
  return `${pkg.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;
}

/** The verified tarball of `pkg@version`, from the cache or else from the registry. */
async function fetchTarball(pkg, version, integrity) {
  const file = join(cacheDir, tarballName(pkg, version));
  if (existsSync(file)) {
    const cached = await readFile(file);
    if (integrityOf(cached) === integrity) return cached;
    await rm(file);
  }
  await mkdir(cacheDir, { recursive: true });
  await promisify(execFile)(
    'npm',
    ['pack', `${pkg}@${version}`, '--pack-destination', cacheDir, '--silent'],
    {
      cwd: cacheDir,
      maxBuffer: 1024 * 1024,
    },
  );
  const fetched = await readFile(file);
  const got = integrityOf(fetched);
  if (got !== integrity) {
    await rm(file);
    throw new Error(`${pkg}@${version}: integrity ${got} is not the pinned ${integrity}`);
  }
  return fetched;
}

/** One regular file out of a gzipped tar (npm's tarballs: ustar, no long-name extensions needed here). */
function untarFile(tgz, wanted) {
  const tar = gunzipSync(tgz);
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start, length) => header.toString('latin1', start, start + length).replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    const name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    if (name === wanted && (type === '0' || type === '')) return tar.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error(`${wanted} is not in the tarball`);
}

/** Lambda's direct-upload limit for a zip. */
const MAX_ZIP_BYTES = 50 * 1024 * 1024;

/**
 * Raw deflate of `data` and its CRC-32. Large files go through GNU gzip when there is one: for the runtime
 * binary it writes a stream about 1.5 MB smaller than Node's zlib at level 9, which keeps the arm64 zip
 * under the 50 MiB limit. `-n` leaves name and time out of the header, so its 10 bytes are fixed and the
 * 8-byte trailer is the CRC-32 and the size.
 */
async function deflate(data) {
  if (data.length > 1024 * 1024) {
    const gz = await new Promise((resolvePromise) => {
      const child = execFile(
        'gzip',
        ['-9', '-n', '-c'],
        { encoding: 'buffer', maxBuffer: 2 * data.length },
        (err, out) => resolvePromise(err ? undefined : out),
      );
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(data);
    });
    if (gz && gz[3] === 0 && gz.readUInt32LE(gz.length - 4) === data.length % 2 ** 32) {
      return { raw: gz.subarray(10, gz.length - 8), crc: gz.readUInt32LE(gz.length - 8) };
    }
  }
  return { raw: deflateRawSync(data, { level: 9 }), crc: crc32(data) };
}

/** DOS date and time fields of FIXED_MTIME (local time, as zip readers take them). */
function dosTime(d) {
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: ((d.getFullYear() - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

/** A plain zip (no zip64, no data descriptors, Unix modes), entries in name order: same input, same bytes. */
async function writeZip(zipPath, entries) {
  const { time, date } = dosTime(FIXED_MTIME);
  const parts = [];
  const central = [];
  let offset = 0;
  for (const e of [...entries].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const name = Buffer.from(e.name);
    const { raw, crc } = e.data === undefined ? { raw: Buffer.alloc(0), crc: 0 } : await deflate(e.data);
    const method = e.data === undefined ? 0 : 8;
    const size = e.data?.length ?? 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // names are UTF-8
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(raw.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const dir = Buffer.alloc(46);
    dir.writeUInt32LE(0x02014b50, 0);
    dir.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so readers take the mode from the attributes
    local.copy(dir, 6, 4, 30);
    dir.writeUInt32LE(((e.mode << 16) | (e.data === undefined ? 0x10 : 0)) >>> 0, 38);
    dir.writeUInt32LE(offset, 42);
    parts.push(local, name, raw);
    central.push(dir, name);
    offset += local.length + name.length + raw.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  const zip = Buffer.concat([...parts, directory, end]);
  if (zip.length > MAX_ZIP_BYTES) {
    throw new Error(`${zipPath} is ${zip.length} bytes, over Lambda's ${MAX_ZIP_BYTES}-byte upload limit`);
  }
  await mkdir(dirname(zipPath), { recursive: true });
  await writeFile(zipPath, zip);
}

/**
 * Writes both standalone zips from the bundle in `bundleDir` (the Node layer's `lambda-cache/`).
 * @returns the zips' paths, by architecture
 */
export async function packageStandalone(bundleDir) {
  const pins = await readPins();
  const files = (await readdir(bundleDir)).sort();
  const code = new Map();
  for (const f of files) code.set(f, await readFile(join(bundleDir, f)));
  const written = {};
  for (const [arch, pin] of Object.entries(pins.architectures)) {
    const binary = untarFile(await fetchTarball(pin.package, pins.version, pin.integrity), pin.binary);
    if (binary.readUInt32BE(0) !== 0x7f454c46 || binary.readUInt16LE(18) !== ELF_MACHINE[pin.machine]) {
      throw new Error(`${pin.package}: ${pin.binary} is not an ELF ${pin.machine} executable`);
    }
    const entries = [
      { name: 'extensions/', mode: 0o40755 },
      { name: `extensions/${NAME}`, mode: 0o100755, data: Buffer.from(standaloneLauncher(pin.uname)) },
      { name: `${NAME}/`, mode: 0o40755 },
      ...files.map((f) => ({ name: `${NAME}/${f}`, mode: 0o100644, data: code.get(f) })),
      // Empty: Bun reads this one instead of a bunfig.toml in the function's working directory.
      { name: `${NAME}/bunfig.toml`, mode: 0o100644, data: Buffer.alloc(0) },
      { name: `${NAME}/${dirname(STANDALONE_RUNTIME)}/`, mode: 0o40755 },
      { name: `${NAME}/${STANDALONE_RUNTIME}`, mode: 0o100755, data: binary },
    ];
    const unzipped = join(workspace, 'dist', `standalone-${arch}`);
    await rm(unzipped, { recursive: true, force: true });
    for (const e of entries) {
      const path = join(unzipped, e.name);
      if (e.data === undefined) await mkdir(path, { recursive: true });
      else {
        await writeFile(path, e.data);
        await chmod(path, e.mode & 0o777);
      }
    }
    const zipPath = join(repo, 'dist', `lambda-cache-standalone-${arch}.zip`);
    await writeZip(zipPath, entries);
    const mib = (n) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
    const unzippedBytes = entries.reduce((sum, e) => sum + (e.data?.length ?? 0), 0);
    console.log(
      `${join('dist', `lambda-cache-standalone-${arch}.zip`)}: ${mib((await stat(zipPath)).size)}, ${mib(unzippedBytes)} unzipped (${pins.runtime} ${pins.version}, ${pin.package})`,
    );
    written[arch] = zipPath;
  }
  return written;
}
