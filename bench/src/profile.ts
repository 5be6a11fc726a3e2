/**
 * Where the extension's time goes, for a missed target: builds the extension's bundle again unminified
 * (the layer's esbuild settings, names kept, each module marked with its source path), runs it under the
 * emulator with `--cpu-prof`, drives the hit path or just starts it, and prints the CPU time by source
 * file and by function.
 *
 *   node bench/dist/profile.js hit [--seconds 10] [--route parameters|dynamodb] [--out <dir>]
 *   node bench/dist/profile.js startup [--out <dir>]
 *   node bench/dist/profile.js summarize <file.cpuprofile> [<bundle.mjs>]
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { extractLayer, startBackends } from '@lambda-cache/local';
import { HEADERS } from '@lambda-cache/shared';
import { benchSeed, REGION, SEED_CONFIG } from './data.js';
import { cpuProfileEnv, QUIET_SDK, Worker } from './processes.js';
import { hitPaths } from './sections/hit-path.js';
import { startExtension } from './stack.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
}

/** Lines of an unminified esbuild bundle where each module starts (`// path/to/file.ts`). */
function moduleMarks(source: string): { line: number; file: string }[] {
  const marks: { line: number; file: string }[] = [];
  source.split('\n').forEach((text, line) => {
    const m = /^\/\/ (\S+\.(?:ts|js|mjs|cjs|json))$/.exec(text);
    if (m?.[1]) marks.push({ line, file: m[1] });
  });
  return marks;
}

function fileAt(marks: readonly { line: number; file: string }[], line: number): string | undefined {
  let lo = 0;
  let hi = marks.length - 1;
  let found: string | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const mark = marks[mid]!;
    if (mark.line <= line) {
      found = mark.file;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

export async function summarize(profileFile: string, bundleFile?: string, top = 25): Promise<string> {
  const profile = JSON.parse(await readFile(profileFile, 'utf8')) as { nodes: ProfileNode[] };
  const marks = bundleFile ? moduleMarks(await readFile(bundleFile, 'utf8')) : [];
  const total = profile.nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const inBundle = bundleFile !== undefined && url.endsWith(bundleFile.split('/').pop() ?? '\0');
    const file = inBundle
      ? (fileAt(marks, lineNumber) ?? 'bundle')
      : url === ''
        ? '(native/V8)'
        : url.replace(/^file:\/\//, '').replace(/^node:/, 'node:');
    const fn = `${functionName || '(anonymous)'} — ${file}${inBundle ? '' : `:${lineNumber + 1}`}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + hits);
    byFile.set(file, (byFile.get(file) ?? 0) + hits);
  }
  const list = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => `${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`)
      .join('\n');
  return `self time by source file (${total} samples):\n${list(byFile)}\n\nself time by function:\n${list(byFunction)}\n`;
}

/** The layer with its bundle rebuilt unminified (same esbuild settings otherwise), in a temp dir. */
async function unminifiedLayer(): Promise<{ dir: string; bundle: string }> {
  const dir = await extractLayer(
    join(repoRoot, 'dist', 'lambda-cache-layer.zip'),
    await mkdtemp(join(tmpdir(), 'lambda-cache-profile-')),
  );
  const bundle = join(dir, 'lambda-cache', 'index.mjs');
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(repoRoot, 'extension', 'src', 'main.ts')],
    outfile: bundle,
    allowOverwrite: true,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    mainFields: ['module', 'main'],
    banner: {
      js: "import { createRequire as __lcCreateRequire } from 'node:module'; const require = __lcCreateRequire(import.meta.url);",
    },
    splitting: false,
    minify: false,
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  return { dir, bundle };
}

async function main(): Promise<void> {
  Object.assign(process.env, QUIET_SDK);
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      seconds: { type: 'string', default: '10' },
      route: { type: 'string', default: 'parameters' },
      out: { type: 'string' },
    },
  });
  const [mode, ...rest] = positionals;
  if (mode === 'summarize') {
    if (!rest[0]) throw new Error('usage: profile summarize <file.cpuprofile> [<bundle.mjs>]');
    process.stdout.write(await summarize(rest[0], rest[1]));
    return;
  }
  if (mode !== 'hit' && mode !== 'startup') throw new Error('usage: profile hit|startup|summarize …');
  const out = resolve(values.out ?? (await mkdtemp(join(tmpdir(), 'lambda-cache-cpuprof-'))));
  await mkdir(out, { recursive: true });
  const layer = await unminifiedLayer();
  const backends = await startBackends({
    seed: benchSeed({ prefetch: 0, kilobyte: 0, valueBytes: 0, readThrough: 0 }),
    region: REGION,
  });
  const token = 'profile-token';
  const worker = await Worker.start({ ...backends.env, AWS_SESSION_TOKEN: token });
  try {
    const ext = await startExtension({
      layerDir: layer.dir,
      backends,
      config: SEED_CONFIG,
      token,
      env: cpuProfileEnv(out),
    });
    try {
      process.stdout.write(
        `spawn → register ${ext.registerMs.toFixed(1)} ms, → ready ${ext.readyMs.toFixed(1)} ms\n`,
      );
      if (mode === 'hit') {
        const path = hitPaths()[values.route === 'dynamodb' ? 'dynamodb' : 'parameters'];
        const r = await worker.load({
          origin: ext.origin,
          headers: { [HEADERS.token]: token },
          connections: 32,
          durationMs: Number(values.seconds) * 1000,
          maxRequests: 10_000_000,
          paths: { kind: 'list', paths: [path] },
        });
        process.stdout.write(
          `${Math.round(r.rps)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, ${r.errors} errors\n`,
        );
      }
    } finally {
      await ext.close();
    }
    const profiles = (await readdir(out)).filter((f) => f.endsWith('.cpuprofile'));
    for (const file of profiles) {
      process.stdout.write(`\n${join(out, file)}\n`);
      process.stdout.write(await summarize(join(out, file), layer.bundle));
    }
    await copyFile(layer.bundle, join(out, 'index.mjs'));
  } finally {
    await worker.close();
    await backends.close();
    await rm(layer.dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  });
}
