/**
 * Packages the layer: `lambda-cache/index.mjs` + `backend.mjs` (bundled with esbuild; no AWS SDK) +
 * `sdk-credentials.mjs` (the SDK's credential chain, loaded only by a standalone server), and the
 * `extensions/lambda-cache` launcher, zipped reproducibly into `<repo>/dist/lambda-cache-layer.zip` (same
 * sources, same bytes) and kept unzipped in `extension/dist/layer/`.
 */
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
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
 * Two files, not one: `index.mjs` holds only what listening and registering need (~25 KiB) and reaches
 * `backend.mjs` (config parser, AWS SDK, sources, cache) through `import()` after register. One file with
 * lazily initialised modules would not evaluate the SDK early either, but Node would still have to read
 * and pre-parse all of it before the first line runs: measured, that tripled the CPU time the extension
 * adds before `register`, i.e. to every cold start.
 */
/** Modules reached by `import()` that get a file of their own, loaded only when that import runs. */
function lazy(filter, file) {
  return {
    name: `lazy-${file}`,
    setup(b) {
      b.onResolve({ filter }, () => ({ path: `./${file}`, external: true }));
    },
  };
}

async function bundle() {
  // The SDK's credential chain (profiles, SSO) serves a laptop without credentials in its environment;
  // in Lambda the environment always has them, so this file is never read there.
  const credentials = await build({
    ...COMMON,
    entryPoints: [join(workspace, 'src', 'aws', 'sdk-credentials.ts')],
    outfile: join(layerDir, NAME, 'sdk-credentials.mjs'),
  });
  const backend = await build({
    ...COMMON,
    entryPoints: [join(workspace, 'src', 'bootstrap.ts')],
    outfile: join(layerDir, NAME, 'backend.mjs'),
    plugins: [lazy(/\/sdk-credentials\.js$/, 'sdk-credentials.mjs')],
  });
  const entry = await build({
    ...COMMON,
    entryPoints: [join(workspace, 'src', 'main.ts')],
    outfile: join(layerDir, NAME, 'index.mjs'),
    plugins: [lazy(/^\.\/bootstrap\.js$/, 'backend.mjs')],
  });
  return { backend: backend.metafile, entry: entry.metafile, credentials: credentials.metafile };
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

const entryCode = await readFile(bundlePath);
const backendCode = await readFile(join(layerDir, NAME, 'backend.mjs'));
const credentialsCode = await readFile(join(layerDir, NAME, 'sdk-credentials.mjs'));
const inputs = (m) => Object.keys(m.inputs);
const sdk = (f) => f.includes('@aws-sdk/') || f.includes('@smithy/');
// Of the AWS client, only its error classes are in the entry (the server maps them to answers).
const awsClient = (f) => f.includes('src/aws/') && !f.endsWith('src/aws/errors.ts');
if (inputs(metafile.entry).some((f) => sdk(f) || awsClient(f) || f.includes('/yaml/'))) {
  throw new Error(
    'the entry bundle must not contain the AWS client or the config parser: they load after register',
  );
}
if (inputs(metafile.backend).some(sdk)) {
  throw new Error('the backend bundle must not contain the AWS SDK: it is the Lambda path (see src/aws/)');
}
await writeZip([
  { name: 'extensions/', mode: 0o40755 },
  { name: `extensions/${NAME}`, mode: 0o100755, data: Buffer.from(LAUNCHER) },
  { name: `${NAME}/`, mode: 0o40755 },
  { name: `${NAME}/backend.mjs`, mode: 0o100644, data: backendCode },
  { name: `${NAME}/index.mjs`, mode: 0o100644, data: entryCode },
  { name: `${NAME}/sdk-credentials.mjs`, mode: 0o100644, data: credentialsCode },
]);
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
const rel = (...p) => join('extension', 'dist', 'layer', NAME, ...p);
console.log(`entry   ${rel('index.mjs')}: ${kb(entryCode.length)} (loaded before register)`);
console.log(`backend ${rel('backend.mjs')}: ${kb(backendCode.length)} (loaded after register)`);
console.log(
  `sdk     ${rel('sdk-credentials.mjs')}: ${kb(credentialsCode.length)} (standalone without credentials only)`,
);
console.log(`layer   ${join('dist', 'lambda-cache-layer.zip')}: ${kb((await stat(zipPath)).size)}`);
