// Builds dist/index.js from src/ (declarations come from `tsc -p tsconfig.build.json` first). The bundle
// takes in the extension's config parser (extension/src/config.ts, through src/extension-config.mjs) and the
// yaml package, so config.yaml is checked at synth by the parser the extension runs at init and the
// published package depends on neither. aws-cdk-lib and constructs are the user's (peer dependencies);
// @lambda-cache/shared, the env parsers, is a dependency of its own.
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

const result = await build({
  entryPoints: [join(root, 'src/index.ts')],
  outfile: join(dist, 'index.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  external: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', '@lambda-cache/shared'],
  logLevel: 'warning',
  legalComments: 'inline',
  metafile: true,
  // The bundled yaml package is CommonJS inside an ESM file: give it a require().
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
});

// The bundle redistributes third-party code: ship each package's licence with it.
const bundled = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
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
