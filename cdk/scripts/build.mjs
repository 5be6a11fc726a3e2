// Builds dist/index.js (ESM) and dist/cjs/index.js (CommonJS) from src/ (declarations come from
// `tsc -p tsconfig.build.json` first). The bundles take in the extension's config parser
// (extension/src/config.ts, through src/extension-config.mjs) and the yaml package, so config.yaml is checked
// at synth by the parser the extension runs at init and the published package depends on neither. aws-cdk-lib and constructs are the user's (peer dependencies);
// @lambda-cache/shared, the env parsers, is a dependency of its own.
import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { writeThirdPartyLicenses } from '../../scripts/third-party-licenses.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

const common = {
  entryPoints: [join(root, 'src/index.ts')],
  bundle: true,
  platform: 'node',
  target: 'node20.19',
  external: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', '@lambda-cache/shared'],
  logLevel: 'warning',
  legalComments: 'inline',
  metafile: true,
};
await rm(join(dist, 'cjs'), { recursive: true, force: true });
// CDK apps are often CommonJS (ts-node): they get a require() entry of their own.
const builds = await Promise.all([
  build({
    ...common,
    format: 'esm',
    outfile: join(dist, 'index.js'),
    // The bundled yaml package is CommonJS inside an ESM file: give it a require().
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  }),
  build({ ...common, format: 'cjs', outfile: join(dist, 'cjs/index.js') }),
]);

await writeThirdPartyLicenses(dist, builds);

// Only the declarations the public entry reaches are published; the internal ones name the bundled parser.
const PUBLIC_TYPES = new Set(['index.d.ts', 'attach.d.ts', 'layer.d.ts', 'settings.d.ts']);
for (const file of await readdir(dist)) {
  if (!file.endsWith('.d.ts')) continue;
  if (!PUBLIC_TYPES.has(file)) {
    await rm(join(dist, file));
    continue;
  }
  if ((await readFile(join(dist, file), 'utf8')).includes('extension-config')) {
    throw new Error(`dist/${file} refers to the bundled config parser; keep its types out of the public API`);
  }
}

// The same declarations, under a package.json that marks dist/cjs as CommonJS, so TypeScript reads them as
// the types of the require() entry.
for (const file of PUBLIC_TYPES) await cp(join(dist, file), join(dist, 'cjs', file));
await writeFile(join(dist, 'cjs/package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
