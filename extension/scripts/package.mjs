/**
 * Packages the layer: the bundle `lambda-cache/` (see bundle.mjs; no AWS SDK on the Lambda path) and the
 * `extensions/lambda-cache` launcher, zipped reproducibly into `<repo>/dist/lambda-cache-layer.zip` (same
 * sources, same bytes) and kept unzipped in `extension/dist/layer/`.
 */
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import yazl from 'yazl';
import { bundleLayer, staticInputs, staticOutputs } from './bundle.mjs';
import { LAUNCHER, NAME } from './launcher.mjs';
import { packageStandalone } from './standalone.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const workspace = resolve(here, '..');
const repo = resolve(workspace, '..');
const layerDir = join(workspace, 'dist', 'layer');
const zipPath = join(repo, 'dist', 'lambda-cache-layer.zip');

/** Every zip entry gets this timestamp, in DOS local-time fields, so the bytes do not depend on when or where. */
const FIXED_MTIME = new Date(2020, 0, 1, 0, 0, 0);

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
const metafile = await bundleLayer(join(layerDir, NAME));
const launcherPath = join(layerDir, 'extensions', NAME);
await mkdir(dirname(launcherPath), { recursive: true });
await writeFile(launcherPath, LAUNCHER);
await chmod(launcherPath, 0o755);

const out = (file) => relative(workspace, join(layerDir, NAME, file));
const sdk = (f) => f.includes('@aws-sdk/') || f.includes('@smithy/');
// Of the AWS client, only its error classes load before register (the server maps them to answers).
const awsClient = (f) => f.includes('src/aws/') && !f.endsWith('src/aws/errors.ts');
if (staticInputs(metafile, out('index.mjs')).some((f) => sdk(f) || awsClient(f) || f.includes('/yaml/'))) {
  throw new Error('index.mjs must not load the AWS client or the config parser: they load after register');
}
if (staticInputs(metafile, out('backend.mjs')).some(sdk)) {
  throw new Error('backend.mjs must not load the AWS SDK: it is the Lambda path (see src/aws/)');
}
if (staticInputs(metafile, out('backend.mjs')).some((f) => f.includes('/yaml/'))) {
  throw new Error(
    'backend.mjs must not load the yaml library: it loads only for a file the fast reader cannot read (see src/config.ts)',
  );
}
// Imported as ESM, these load more of Node at every cold start (src/builtins.ts says what and how much).
// The SDK's credential chain, loaded only on a laptop without credentials, may.
const FACADE_COSTLY = new Set(['http', 'fs', 'net', 'crypto'].flatMap((m) => [m, `node:${m}`]));
for (const file of new Set(
  [out('index.mjs'), out('backend.mjs')].flatMap((o) => staticOutputs(metafile, o)),
)) {
  const costly = metafile.outputs[file].imports.find(
    // A require() (aws4's of crypto, through the createRequire banner) builds no facade.
    (i) => i.external && i.kind !== 'require-call' && FACADE_COSTLY.has(i.path),
  );
  if (costly) {
    throw new Error(
      `${file} must not import ${costly.path}: take it from src/builtins.ts, which explains why`,
    );
  }
}
const files = (await readdir(join(layerDir, NAME))).sort();
const code = new Map();
for (const f of files) code.set(f, await readFile(join(layerDir, NAME, f)));
await writeZip([
  { name: 'extensions/', mode: 0o40755 },
  { name: `extensions/${NAME}`, mode: 0o100755, data: Buffer.from(LAUNCHER) },
  { name: `${NAME}/`, mode: 0o40755 },
  ...files.map((f) => ({ name: `${NAME}/${f}`, mode: 0o100644, data: code.get(f) })),
]);
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
/** Bytes of `file` and of every file it imports statically: what loading it reads. */
function loadedBytes(file, seen = new Set()) {
  if (seen.has(file)) return 0;
  seen.add(file);
  const o = metafile.outputs[file];
  const statics = o.imports.filter((imp) => imp.kind === 'import-statement' && !imp.external);
  return o.bytes + statics.reduce((sum, imp) => sum + loadedBytes(imp.path, seen), 0);
}
console.log(`index.mjs: ${kb(loadedBytes(out('index.mjs')))} with its chunks (loaded before register)`);
console.log(`backend.mjs: ${kb(loadedBytes(out('backend.mjs')))} with its chunks (loaded after register)`);
console.log(
  `sdk-credentials.mjs: ${kb(loadedBytes(out('sdk-credentials.mjs')))} (standalone without credentials only)`,
);
console.log(
  `${join('dist', 'lambda-cache-layer.zip')}: ${kb((await stat(zipPath)).size)}, ${files.length} files`,
);

// The same bundle with a JavaScript runtime of its own, for functions without Node.js (see standalone.mjs).
await packageStandalone(join(layerDir, NAME));
