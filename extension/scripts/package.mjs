/**
 * Packages the layer: `lambda-cache/index.mjs` + `backend.mjs` (bundled with esbuild; no AWS SDK) +
 * `sdk-credentials.mjs` (the SDK's credential chain, loaded only by a standalone server), and the
 * `extensions/lambda-cache` launcher, zipped reproducibly into `<repo>/dist/lambda-cache-layer.zip` (same
 * sources, same bytes) and kept unzipped in `extension/dist/layer/`.
 */
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import yazl from 'yazl';
import { LAUNCHER, NAME } from './launcher.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const workspace = resolve(here, '..');
const repo = resolve(workspace, '..');
const layerDir = join(workspace, 'dist', 'layer');
const zipPath = join(repo, 'dist', 'lambda-cache-layer.zip');

/** Every zip entry gets this timestamp, in DOS local-time fields, so the bytes do not depend on when or where. */
const FIXED_MTIME = new Date(2020, 0, 1, 0, 0, 0);

const BANNER = {
  // CommonJS parts (the signer, the SDK's credential chain) get a real `require` for node built-ins.
  js: "import { createRequire as __lcCreateRequire } from 'node:module'; const require = __lcCreateRequire(import.meta.url);",
};

const COMMON = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  mainFields: ['module', 'main'],
  banner: BANNER,
  minify: true,
  legalComments: 'none',
  sourcemap: false,
  metafile: true,
  logLevel: 'warning',
};

/**
 * One build, split into files by when they load: `index.mjs` holds only what listening and registering
 * need (~25 KiB); `backend.mjs` (config parser, AWS client, sources, cache) is reached through `import()`
 * after register; `sdk-credentials.mjs` (the SDK's credential chain) only by a standalone server without
 * credentials in its environment, never in Lambda. Code both sides use (the error classes, `shared/`)
 * goes to a chunk they both import, so each class exists once and `instanceof` holds across them.
 * Not one file: Node reads and pre-parses a whole file before its first line runs, and measured, one
 * file tripled the CPU time the extension adds before `register`, i.e. to every cold start.
 */
async function bundle() {
  const { metafile } = await build({
    ...COMMON,
    entryPoints: {
      index: join(workspace, 'src', 'main.ts'),
      backend: join(workspace, 'src', 'bootstrap.ts'),
      'sdk-credentials': join(workspace, 'src', 'aws', 'sdk-credentials.ts'),
    },
    outdir: join(layerDir, NAME),
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: 'chunk-[hash]',
  });
  return metafile;
}

/** The source files in `output` and in every file it imports statically: what loading it reads. */
function staticInputs(metafile, output) {
  const seen = new Set();
  const files = new Set();
  const visit = (out) => {
    if (seen.has(out)) return;
    seen.add(out);
    const o = metafile.outputs[out];
    for (const input of Object.keys(o.inputs)) files.add(input);
    for (const imp of o.imports) if (imp.kind === 'import-statement' && !imp.external) visit(imp.path);
  };
  visit(output);
  return [...files];
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
