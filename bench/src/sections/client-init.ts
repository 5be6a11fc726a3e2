/**
 * 3. What the client costs a function's init: CPU time of `import` + `createCacheClient()` + the first
 * `getParameter` in a fresh Node process, against the same first read done with `node:http` directly,
 * both against the running extension, alternately; and the client's size minified in an ESM function
 * bundle.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parameterPath } from '@lambda-cache/shared';
import type { Context } from '../context.js';
import { SEED_PARAMETER } from '../data.js';

export const CLIENT_INIT_FIGURES = {
  clientCpu: 'client.init.client_cpu',
  httpCpu: 'client.init.node_http_cpu',
  overHttp: 'client.init.client_minus_node_http_cpu',
  clientWall: 'client.init.client_wall',
  httpWall: 'client.init.node_http_wall',
  bundle: 'client.bundle_esm_min',
} as const;

export const CLIENT_INIT_NOTES = { bundleLargest: 'client.bundle_esm_min.largest' } as const;

const benchDir = fileURLToPath(new URL('../../', import.meta.url));
const script = fileURLToPath(new URL('../client-cold.js', import.meta.url));

/** A handler as a user writes it: the client created outside the handler, one read inside. */
const HANDLER_SOURCE = [
  "import { createCacheClient } from '@lambda-cache/client';",
  'const cache = createCacheClient();',
  "export const handler = async () => ({ value: await cache.getParameter('/app/prod/db-url') });",
  '',
].join('\n');

function coldRead(
  mode: 'client' | 'http',
  env: Record<string, string>,
): Promise<{ cpuMs: number; wallMs: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, mode, SEED_PARAMETER, parameterPath(SEED_PARAMETER)], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`client-cold ${mode} exited with ${code}: ${err.slice(0, 500)}`));
        return;
      }
      try {
        resolve(JSON.parse(out) as { cpuMs: number; wallMs: number });
      } catch {
        reject(new Error(`client-cold ${mode} printed ${out.slice(0, 200)}`));
      }
    });
  });
}

/** `node_modules/undici/lib/x.js` → `undici`; a workspace's own files → its folder. */
function packageOf(input: string): string {
  const at = input.lastIndexOf('node_modules/');
  if (at < 0) return input.split('/').slice(0, 2).join('/');
  const parts = input.slice(at + 'node_modules/'.length).split('/');
  return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? input);
}

/**
 * Bytes of the handler bundled with the client (esbuild --bundle --minify --format=esm --platform=node),
 * and the packages that take the most of it.
 */
async function bundle(): Promise<{ bytes: number; largest: string }> {
  const { build } = await import('esbuild');
  const result = await build({
    stdin: { contents: HANDLER_SOURCE, resolveDir: benchDir, loader: 'js', sourcefile: 'handler.mjs' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error('esbuild wrote no bundle');
  const byPackage = new Map<string, number>();
  for (const output of Object.values(result.metafile.outputs))
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs))
      byPackage.set(packageOf(input), (byPackage.get(packageOf(input)) ?? 0) + bytesInOutput);
  const largest = [...byPackage]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([name, bytes]) => `${name} ${(bytes / 1000).toFixed(0)} KB`)
    .join(', ');
  return { bytes: file.contents.byteLength, largest };
}

export async function clientInit(ctx: Context): Promise<void> {
  const { options, recorder } = ctx;
  const F = CLIENT_INIT_FIGURES;
  const ext = await ctx.seedStack();
  const env = { CACHE_EXTENSION_PORT: String(ext.port), AWS_SESSION_TOKEN: ctx.token };
  const client: { cpuMs: number; wallMs: number }[] = [];
  const http: { cpuMs: number; wallMs: number }[] = [];
  // Unmeasured: the file cache warm for both.
  await coldRead('client', env);
  await coldRead('http', env);
  for (let round = 0; round < options.clientColdRounds; round++) {
    if (round % 2 === 0) {
      client.push(await coldRead('client', env));
      http.push(await coldRead('http', env));
    } else {
      http.push(await coldRead('http', env));
      client.push(await coldRead('client', env));
    }
  }
  recorder.figure(
    F.clientCpu,
    'ms',
    'CPU of a fresh Node process: import the client + createCacheClient() + first getParameter',
    client.map((s) => s.cpuMs),
  );
  recorder.figure(
    F.httpCpu,
    'ms',
    'CPU of a fresh Node process: import node:http + one GET with the token + JSON.parse',
    http.map((s) => s.cpuMs),
  );
  recorder.figure(
    F.overHttp,
    'ms',
    'client CPU minus node:http CPU, each round',
    client.map((s, i) => s.cpuMs - (http[i]?.cpuMs ?? Number.NaN)),
  );
  recorder.figure(
    F.clientWall,
    'ms',
    'wall time of the same, the client',
    client.map((s) => s.wallMs),
  );
  recorder.figure(
    F.httpWall,
    'ms',
    'wall time of the same, node:http',
    http.map((s) => s.wallMs),
  );
  const bundled = await bundle();
  recorder.figure(
    F.bundle,
    'KB',
    'a handler importing @lambda-cache/client, esbuild --bundle --minify --format=esm --platform=node (1 KB = 1000 bytes)',
    [bundled.bytes / 1000],
  );
  recorder.notes[CLIENT_INIT_NOTES.bundleLargest] = bundled.largest;
  ctx.log(
    `client init: ${recorder.median(F.clientCpu)} ms CPU vs node:http ${recorder.median(F.httpCpu)} ms; bundle ${recorder.median(F.bundle)} KB`,
  );
}
