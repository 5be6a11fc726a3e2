// Builds the published files from src/ (declarations come from `tsc -p tsconfig.build.json` first):
//   dist/index.js        ESM bundle            dist/index.d.ts …     types for `import`
//   dist/cjs/index.js    CommonJS bundle       dist/cjs/index.d.ts … types for `require`
//   dist/bin/lambda-cache-types.js            the schema generator, with the extension's config loader
// The bundles inline the wire contract, p-retry (ESM-only, so a CommonJS handler could not require it
// before Node 22.12) and the DynamoDB (un)marshaller; the transport is `node:http`, so the published package
// has no runtime dependency.
import { cp, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { writeThirdPartyLicenses } from '../../scripts/third-party-licenses.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20.19',
  logLevel: 'warning',
  legalComments: 'inline',
  metafile: true,
};

/** Every bundle built, for the licence notices of what went into them. */
const results = [];
function collect(result) {
  results.push(result);
  return result;
}

await rm(join(dist, 'cjs'), { recursive: true, force: true });
collect(
  await build({
    ...common,
    entryPoints: [join(root, 'src/index.ts')],
    format: 'esm',
    outfile: join(dist, 'index.js'),
  }),
);
collect(
  await build({
    ...common,
    entryPoints: [join(root, 'src/index.ts')],
    format: 'cjs',
    outfile: join(dist, 'cjs/index.js'),
  }),
);
collect(
  await build({
    ...common,
    // The entry joins the command to the extension's config loader (extension/src/config.ts), bundled in
    // with the yaml package: the generator refuses exactly what the extension refuses.
    entryPoints: [join(root, 'src/bin/lambda-cache-types.entry.mjs')],
    format: 'esm',
    outfile: join(dist, 'bin/lambda-cache-types.js'),
    // The bundled yaml package is CommonJS inside an ESM file: give it a require().
    banner: {
      js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  }),
);

// The bundles redistribute third-party code: ship each package's licence with it.
await writeThirdPartyLicenses(dist, results);

// Only the declarations the public entry reaches are published; internal ones would name bundled packages.
const PUBLIC_TYPES = new Set(['index.d.ts', 'client.d.ts', 'errors.d.ts', 'options.d.ts', 'schema.d.ts']);
await rm(join(dist, 'bin/lambda-cache-types.d.ts'), { force: true });
for (const file of await readdir(dist)) {
  if (file.endsWith('.d.ts') && !PUBLIC_TYPES.has(file)) await rm(join(dist, file));
}

// The same declarations, under a package.json that marks dist/cjs as CommonJS, so TypeScript reads them
// as the types of the require() entry.
for (const file of await readdir(dist)) {
  if (file.endsWith('.d.ts')) await cp(join(dist, file), join(dist, 'cjs', file));
}
await writeFile(join(dist, 'cjs/package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
