/**
 * The layer's JavaScript, bundled with esbuild: used by package.mjs for the layer and by the benchmark's
 * profiler for an unminified copy of the same files.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const workspace = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');

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
export async function bundleLayer(outdir, { minify = true } = {}) {
  const { metafile } = await build({
    ...COMMON,
    entryPoints: {
      index: join(workspace, 'src', 'main.ts'),
      backend: join(workspace, 'src', 'bootstrap.ts'),
      'sdk-credentials': join(workspace, 'src', 'aws', 'sdk-credentials.ts'),
    },
    // Paths in the metafile are relative to the workspace, wherever the script is run from.
    absWorkingDir: workspace,
    outdir,
    minify,
    // Names kept when unminified, for CPU profiles that say which function is which.
    keepNames: !minify,
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: 'chunk-[hash]',
  });
  return metafile;
}

/** `output` and every output file it imports statically: what loading it loads. */
export function staticOutputs(metafile, output) {
  const seen = new Set();
  const visit = (out) => {
    if (seen.has(out)) return;
    seen.add(out);
    for (const imp of metafile.outputs[out].imports) {
      if (imp.kind === 'import-statement' && !imp.external) visit(imp.path);
    }
  };
  visit(output);
  return [...seen];
}

/** The source files in `output` and in every file it imports statically: what loading it reads. */
export function staticInputs(metafile, output) {
  return [
    ...new Set(staticOutputs(metafile, output).flatMap((out) => Object.keys(metafile.outputs[out].inputs))),
  ];
}
