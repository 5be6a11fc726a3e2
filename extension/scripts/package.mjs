/**
 * Packages the layer: `lambda-cache/index.mjs` (src/main.ts bundled with esbuild, AWS SDK included) and the
 * `extensions/lambda-cache` launcher, zipped reproducibly into `<repo>/dist/lambda-cache-layer.zip` (same
 * sources, same bytes) and kept unzipped in `extension/dist/layer/`.
 */
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import yazl from 'yazl';

const here = dirname(fileURLToPath(import.meta.url));
const workspace = resolve(here, '..');
const repo = resolve(workspace, '..');
const layerDir = join(workspace, 'dist', 'layer');
const zipPath = join(repo, 'dist', 'lambda-cache-layer.zip');
const NAME = 'lambda-cache';

// POSIX sh: Lambda starts every file in /opt/extensions; this one finds node and runs the bundle next to it.
const LAUNCHER = `#!/bin/sh
# lambda-cache extension launcher. Lambda runs every file in extensions/; this one starts the bundled
# extension with Node.js. Its own file name is the extension name Lambda expects at register.
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd) || exit 1
entry="$here/../${NAME}/index.mjs"
if [ -n "\${LAMBDA_CACHE_NODE:-}" ]; then
  node="$LAMBDA_CACHE_NODE"
elif [ -x /var/lang/bin/node ]; then
  node=/var/lang/bin/node
else
  node=$(command -v node 2>/dev/null || true)
fi
if [ -z "$node" ] || [ ! -x "$node" ]; then
  echo "[${NAME}] ERROR cannot start: no node executable found (tried \\$LAMBDA_CACHE_NODE, /var/lang/bin/node, PATH). Use a Node.js runtime, or set LAMBDA_CACHE_NODE to a node binary." >&2
  exit 127
fi
LAMBDA_CACHE_EXTENSION_NAME=$(basename -- "$0") exec "$node" "$entry" "$@"
`;

/** Every zip entry gets this timestamp, in DOS local-time fields, so the bytes do not depend on when or where. */
const FIXED_MTIME = new Date(2020, 0, 1, 0, 0, 0);

async function bundle() {
  const result = await build({
    entryPoints: [join(workspace, 'src', 'main.ts')],
    outfile: join(layerDir, NAME, 'index.mjs'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // ESM builds of the SDK where they exist; CommonJS parts get a real `require` for node built-ins.
    mainFields: ['module', 'main'],
    banner: {
      js: "import { createRequire as __lcCreateRequire } from 'node:module'; const require = __lcCreateRequire(import.meta.url);",
    },
    // Without splitting, `await import('./bootstrap.js')` stays in this one file as a lazily initialised
    // module: the SDK is parsed with the file but evaluated only after register.
    splitting: false,
    minify: true,
    legalComments: 'none',
    sourcemap: false,
    metafile: true,
    logLevel: 'warning',
  });
  return result.metafile;
}

function addZipEntries(zip, entries) {
  for (const e of [...entries].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const options = { mtime: FIXED_MTIME, mode: e.mode, forceDosTimestamp: true };
    if (e.data === undefined) zip.addEmptyDirectory(e.name, options);
    else zip.addBuffer(e.data, e.name, { ...options, compress: true });
  }
}

async function writeZip(entries) {
  await mkdir(dirname(zipPath), { recursive: true });
  const zip = new yazl.ZipFile();
  addZipEntries(zip, entries);
  zip.end({ forceZip64Format: false });
  await new Promise((resolvePromise, reject) => {
    const out = createWriteStream(zipPath);
    zip.outputStream.pipe(out).on('close', resolvePromise).on('error', reject);
  });
}

await rm(layerDir, { recursive: true, force: true });
const metafile = await bundle();
const bundlePath = join(layerDir, NAME, 'index.mjs');
const launcherPath = join(layerDir, 'extensions', NAME);
await mkdir(dirname(launcherPath), { recursive: true });
await writeFile(launcherPath, LAUNCHER);
await chmod(launcherPath, 0o755);

const code = await readFile(bundlePath);
if (!Object.keys(metafile.inputs).some((f) => f.includes('client-ssm'))) {
  throw new Error('the bundle does not contain the SSM client');
}
await writeZip([
  { name: 'extensions/', mode: 0o40755 },
  { name: `extensions/${NAME}`, mode: 0o100755, data: Buffer.from(LAUNCHER) },
  { name: `${NAME}/`, mode: 0o40755 },
  { name: `${NAME}/index.mjs`, mode: 0o100644, data: code },
]);
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`bundle ${join('extension', 'dist', 'layer', NAME, 'index.mjs')}: ${kb(code.length)}`);
console.log(`layer  ${join('dist', 'lambda-cache-layer.zip')}: ${kb((await stat(zipPath)).size)}`);
