// Builds dist/index.js (ESM) and dist/cjs/index.js (CommonJS) from src/ (declarations come from
// `tsc -p tsconfig.build.json` first). The bundles take in the extension's config parser
// (extension/src/config.ts, through src/extension-config.mjs) and the yaml package, so config.yaml is checked
// at synth by the parser the extension runs at init and the published package depends on neither. aws-cdk-lib and constructs are the user's (peer dependencies);
// @lambda-cache/shared, the env parsers, is a dependency of its own.
import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

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

// The bundles redistribute third-party code: ship each package's licence with it.
const bundled = new Set();
for (const input of builds.flatMap((b) => Object.keys(b.metafile.inputs))) {
  const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (m) bundled.add(join(process.cwd(), m[1]));
}
const notices = [];
for (const dir of [...bundled].sort()) {
  const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
  const files = (await readdir(dir)).filter((f) => /^(licen[cs]e|notice)/i.test(f)).sort();
  const texts = await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')));
  notices.push(
    `${pkg.name}@${pkg.version} (${pkg.license})\n\n${texts.join('\n').trim() || '(no licence file)'}\n`,
  );
}
await writeFile(
  join(dist, 'THIRD-PARTY-LICENSES.txt'),
  `Third-party code bundled into this package:\n\n${notices.join(`\n${'-'.repeat(72)}\n\n`)}`,
);

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
