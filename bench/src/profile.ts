/**
 * Where the extension's time goes, for a missed target: builds the extension's bundle again unminified
 * (the layer's esbuild settings, names kept, each module marked with its source path), runs it under the
 * emulator with `--cpu-prof`, drives the hit path or just starts it, and prints the CPU time by source
 * file and by function.
 *
 * Add `--packaged` to profile the shipped, minified bundle instead.
 *
 *   node bench/dist/profile.js hit [--seconds 10] [--route parameters|dynamodb|secrets|secrets_aws|appconfig|appconfig_flag] [--connections 32] [--out <dir>]
 *   node bench/dist/profile.js startup [--out <dir>]
 *   node bench/dist/profile.js memory [--entries 10000] [--read-through 100000] [--node-flags "--max-semi-space-size=1"] [--out <dir>]
 *   node bench/dist/profile.js summarize <file.cpuprofile> [<bundle.mjs>] [<until function>]
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { extractLayer, startBackends } from '@lambda-cache/local';
import { HEADERS } from '@lambda-cache/shared';
import {
  benchSeed,
  configFor,
  kilobyteName,
  READ_THROUGH_PREFIX,
  REGION,
  range,
  SEED_CONFIG,
  SEED_STACK_CONFIG,
} from './data.js';
import {
  cpuProfileEnv,
  nodeFlagsEnv,
  QUIET_SDK,
  rssMiB,
  sleep,
  startBareServer,
  Worker,
} from './processes.js';
import { HIT_ROUTES, type HitRoute, hitPaths } from './sections/hit-path.js';
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

interface CpuProfile {
  nodes: (ProfileNode & { children?: number[] })[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * Self time by source file and by function. With `until`, only the samples before the first one whose
 * stack holds a function of that name (e.g. `register`: what runs before the extension registers).
 */
export async function summarize(
  profileFile: string,
  bundleFile?: string,
  until?: string,
  top = 25,
  requests = 0,
): Promise<string> {
  const profile = JSON.parse(await readFile(profileFile, 'utf8')) as CpuProfile;
  // `bundleFile` is one bundle or a directory of them (the layer's lambda-cache/).
  const bundles = new Map<string, { line: number; file: string }[]>();
  if (bundleFile) {
    const files = (await stat(bundleFile)).isDirectory()
      ? (await readdir(bundleFile)).filter((f) => f.endsWith('.mjs')).map((f) => join(bundleFile, f))
      : [bundleFile];
    for (const f of files) bundles.set(basename(f), moduleMarks(await readFile(f, 'utf8')));
  }
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stackHas = (id: number, name: string): boolean => {
    for (
      let cur: number | undefined = id, depth = 0;
      cur !== undefined && depth < 500;
      cur = parent.get(cur), depth++
    ) {
      if (byId.get(cur)?.callFrame.functionName === name) return true;
    }
    return false;
  };
  const selfUs = new Map<number, number>();
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    if (until && stackHas(id, until)) break;
    // timeDeltas[i] is the time before sample i; attribute the gap after it to it, as DevTools does.
    const us = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + us);
    totalUs += us;
  }
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const marks = bundles.get(basename(url));
    const inBundle = marks !== undefined;
    const file = inBundle
      ? (fileAt(marks, lineNumber) ?? basename(url))
      : url === ''
        ? '(native/V8)'
        : url.replace(/^file:\/\//, '');
    const fn = `${functionName || '(anonymous)'} — ${file}${inBundle ? '' : `:${lineNumber + 1}`}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    byFile.set(file, (byFile.get(file) ?? 0) + us);
  }
  const list = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(
        ([k, v]) =>
          `${(v / 1000).toFixed(1).padStart(8)} ms ${((v / totalUs) * 100).toFixed(1).padStart(5)}%${requests ? ` ${(v / requests).toFixed(2).padStart(7)} µs/req` : ''}  ${k}`,
      )
      .join('\n');
  const scope = until ? ` before the first call of ${until}()` : '';
  return `self time by source file${scope} (${(totalUs / 1000).toFixed(1)} ms profiled):\n${list(byFile)}\n\nself time by function:\n${list(byFunction)}\n`;
}

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Self size of a V8 heap snapshot's objects, by constructor (objects) or by kind (strings, code, …). */
export async function summarizeHeap(file: string, top = 20): Promise<string> {
  const heap = JSON.parse(await readFile(file, 'utf8')) as HeapSnapshot;
  const fields = heap.snapshot.meta.node_fields;
  const types = heap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const groups = new Map<string, { size: number; count: number }>();
  let total = 0;
  for (let i = 0; i < heap.nodes.length; i += width) {
    const type = types[heap.nodes[i + typeAt] as number] ?? '?';
    const size = heap.nodes[i + sizeAt] as number;
    const name =
      type === 'object' || type === 'closure' ? (heap.strings[heap.nodes[i + nameAt] as number] ?? '?') : '';
    const key = name ? `${name} (${type})` : `(${type})`;
    const g = groups.get(key) ?? { size: 0, count: 0 };
    g.size += size;
    g.count++;
    groups.set(key, g);
    total += size;
  }
  const rows = [...groups.entries()]
    .sort((a, b) => b[1].size - a[1].size)
    .slice(0, top)
    .map(
      ([k, g]) => `${(g.size / 2 ** 20).toFixed(2).padStart(8)} MiB  ${String(g.count).padStart(8)}  ${k}`,
    );
  return `JS heap after a full GC: ${(total / 2 ** 20).toFixed(1)} MiB live\n     size     count  what\n${rows.join('\n')}\n`;
}

/** Waits for a file in `dir` ending with `suffix` whose size stopped changing. */
async function settledFile(dir: string, suffix: string, timeoutMs: number): Promise<string> {
  let last = -1;
  for (let waited = 0; waited < timeoutMs; waited += 250) {
    const name = (await readdir(dir)).find((f) => f.endsWith(suffix));
    if (name) {
      const size = (await stat(join(dir, name))).size;
      if (size > 0 && size === last) return join(dir, name);
      last = size;
    }
    await sleep(250);
  }
  throw new Error(`no ${suffix} in ${dir} after ${timeoutMs} ms`);
}

/** The packaged layer as it ships (minified: function names are mangled, Node's own are not). */
async function packagedLayer(): Promise<{ dir: string; bundle: string }> {
  const dir = await extractLayer(
    join(repoRoot, 'dist', 'lambda-cache-layer.zip'),
    await mkdtemp(join(tmpdir(), 'lambda-cache-profile-')),
  );
  return { dir, bundle: join(dir, 'lambda-cache') };
}

/** The layer with its bundle rebuilt unminified (same esbuild settings otherwise), in a temp dir. */
async function unminifiedLayer(): Promise<{ dir: string; bundle: string }> {
  const dir = await extractLayer(
    join(repoRoot, 'dist', 'lambda-cache-layer.zip'),
    await mkdtemp(join(tmpdir(), 'lambda-cache-profile-')),
  );
  const out = join(dir, 'lambda-cache');
  // The layer's own bundling, unminified and with names kept, over the extracted minified files.
  const bundler = join(repoRoot, 'extension', 'scripts', 'bundle.mjs');
  const { bundleLayer } = (await import(pathToFileURL(bundler).href)) as {
    bundleLayer(outdir: string, opts: { minify: boolean }): Promise<unknown>;
  };
  await rm(out, { recursive: true, force: true });
  await bundleLayer(out, { minify: false });
  return { dir, bundle: out };
}

async function main(): Promise<void> {
  Object.assign(process.env, QUIET_SDK);
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      seconds: { type: 'string', default: '10' },
      route: { type: 'string', default: 'parameters' },
      connections: { type: 'string', default: '32' },
      out: { type: 'string' },
      entries: { type: 'string', default: '10000' },
      'node-flags': { type: 'string', default: '' },
      packaged: { type: 'boolean', default: false },
      'read-through': { type: 'string', default: '0' },
    },
  });
  const [mode, ...rest] = positionals;
  if (mode === 'summarize') {
    if (!rest[0])
      throw new Error('usage: profile summarize <file.cpuprofile> [<bundle.mjs>] [<until function>]');
    process.stdout.write(await summarize(rest[0], rest[1], rest[2]));
    return;
  }
  if (mode !== 'hit' && mode !== 'startup' && mode !== 'memory')
    throw new Error('usage: profile hit|startup|memory|summarize …');
  const route = values.route as HitRoute;
  if (!HIT_ROUTES.includes(route)) throw new Error(`--route is one of ${HIT_ROUTES.join(', ')}`);
  const out = resolve(values.out ?? (await mkdtemp(join(tmpdir(), 'lambda-cache-cpuprof-'))));
  await mkdir(out, { recursive: true });
  const layer = values.packaged ? await packagedLayer() : await unminifiedLayer();
  const entries = mode === 'memory' ? Number(values.entries) : 0;
  const readThrough = mode === 'memory' ? Number(values['read-through']) : 0;
  const backends = await startBackends({
    seed: benchSeed({ prefetch: 0, kilobyte: entries, valueBytes: 1024, readThrough }),
    region: REGION,
  });
  if (mode === 'memory') {
    try {
      const flags = (values['node-flags'] ?? '').split(/\s+/).filter(Boolean);
      await profileMemory(layer.dir, backends, out, entries, readThrough, flags);
    } finally {
      await backends.close();
      await rm(layer.dir, { recursive: true, force: true });
    }
    return;
  }
  const token = 'profile-token';
  const worker = await Worker.start({ ...backends.env, AWS_SESSION_TOKEN: token });
  let requests = 0;
  let bareRequests = 0;
  try {
    const ext = await startExtension({
      layerDir: layer.dir,
      backends,
      // The hit path's config (the seed's, plus a secret and a configuration); startup, the seed's own.
      config: mode === 'hit' ? SEED_STACK_CONFIG : SEED_CONFIG,
      token,
      env: cpuProfileEnv(out),
    });
    try {
      process.stdout.write(
        `spawn → register ${ext.registerMs.toFixed(1)} ms, → ready ${ext.readyMs.toFixed(1)} ms\n`,
      );
      if (mode === 'hit') {
        const path = hitPaths()[route];
        const first = await ext.get(path);
        const r = await worker.load({
          origin: ext.origin,
          headers: { [HEADERS.token]: token },
          connections: Number(values.connections),
          durationMs: Number(values.seconds) * 1000,
          maxRequests: 10_000_000,
          paths: { kind: 'list', paths: [path] },
        });
        process.stdout.write(
          `extension: ${r.requests} requests, ${Math.round(r.rps)} req/s, p50 ${r.p50Ms.toFixed(3)} ms, p99 ${r.p99Ms.toFixed(3)} ms, ${r.errors} errors\n`,
        );
        requests = r.requests;
        // The same load on the bare server, profiled the same way, for a per-request comparison.
        const bareDir = join(out, 'bare');
        await mkdir(bareDir, { recursive: true });
        const bare = await startBareServer(first.body, ['--cpu-prof', `--cpu-prof-dir=${bareDir}`]);
        try {
          const b = await worker.load({
            origin: `http://127.0.0.1:${bare.port}`,
            headers: { [HEADERS.token]: token },
            connections: Number(values.connections),
            durationMs: Number(values.seconds) * 1000,
            maxRequests: 10_000_000,
            paths: { kind: 'list', paths: [path] },
          });
          process.stdout.write(
            `bare: ${b.requests} requests, ${Math.round(b.rps)} req/s, p50 ${b.p50Ms.toFixed(3)} ms, p99 ${b.p99Ms.toFixed(3)} ms\n`,
          );
          bareRequests = b.requests;
        } finally {
          await bare.close();
        }
      }
    } finally {
      await ext.close();
    }
    const profiles = (await readdir(out)).filter((f) => f.endsWith('.cpuprofile'));
    for (const file of profiles) {
      process.stdout.write(`\n${join(out, file)}\n`);
      process.stdout.write(
        await summarize(
          join(out, file),
          layer.bundle,
          mode === 'startup' ? 'register' : undefined,
          25,
          requests,
        ),
      );
    }
    if (existsSync(join(out, 'bare'))) {
      for (const file of (await readdir(join(out, 'bare'))).filter((f) => f.endsWith('.cpuprofile'))) {
        process.stdout.write(`\nbare node:http server: ${join(out, 'bare', file)}\n`);
        process.stdout.write(
          await summarize(join(out, 'bare', file), undefined, undefined, 25, bareRequests),
        );
      }
    }
    for (const f of await readdir(layer.bundle)) await copyFile(join(layer.bundle, f), join(out, f));
  } finally {
    await worker.close();
    await backends.close();
    await rm(layer.dir, { recursive: true, force: true });
  }
}

/** RSS of the extension with `entries` 1 KiB parameters, before and after a full GC, and what the JS heap holds. */
async function profileMemory(
  layerDir: string,
  backends: Awaited<ReturnType<typeof startBackends>>,
  out: string,
  entries: number,
  readThrough: number,
  flags: string[],
): Promise<void> {
  const ext = await startExtension({
    layerDir,
    backends,
    config: entries > 0 ? configFor(range(entries).map(kilobyteName), 0) : SEED_CONFIG,
    token: 'profile-token',
    env: nodeFlagsEnv(out, [...flags, '--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${out}`]),
  });
  try {
    if (readThrough > 0) {
      const worker = await Worker.start({ ...backends.env });
      try {
        const r = await worker.load({
          origin: ext.origin,
          headers: { [HEADERS.token]: 'profile-token' },
          connections: 16,
          durationMs: 600_000,
          maxRequests: readThrough,
          paths: { kind: 'parameters', prefix: READ_THROUGH_PREFIX, start: 0, count: readThrough },
        });
        process.stdout.write(`${r.requests} read-through keys, ${r.errors} errors\n`);
      } finally {
        await worker.close();
      }
    }
    await sleep(1000);
    process.stdout.write(`node flags: ${flags.join(' ') || '(none)'}; ${entries} entries of 1 KiB\n`);
    process.stdout.write(`RSS idle: ${rssMiB(ext.pid).toFixed(1)} MiB\n`);
    process.kill(ext.pid, 'SIGUSR2');
    const file = await settledFile(out, '.heapsnapshot', 120_000);
    await sleep(500);
    process.stdout.write(`RSS after the snapshot's full GC: ${rssMiB(ext.pid).toFixed(1)} MiB\n`);
    process.stdout.write(await summarizeHeap(file));
  } finally {
    await ext.close();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  });
}
