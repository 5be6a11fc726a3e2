// What the client costs a function's init: CPU time and memory of `import` + create + the first read, in a
// fresh Node process per run, against a stand-in extension on 127.0.0.1 (port 0) served from this process,
// so the measured process pays only for its own side of the call.
//
//   node scripts/init-cost.mjs [runs]      (after `npm run build -w client`; default 15 runs per variant)
//
// Each variant prints the median over its runs of CPU (user + system, from process.cpuUsage() taken before
// the import and after the first answer's body was parsed), the heap used and the RSS after the call.
// `node:http` is the floor the client is held to: the same request written by hand with a keep-alive Agent.
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

// The measured process runs this file too: an ESM import of node:http here would be paid before the clock
// starts (on Node 22 and later it loads Node's bundled undici) and hide that cost from the variants.
const http = process.getBuiltinModule('node:http');

const here = fileURLToPath(import.meta.url);
const dist = join(dirname(here), '..', 'dist');
const BODY = JSON.stringify({
  name: '/app/prod/db-url',
  type: 'String',
  value: 'postgres://db.internal:5432/app',
  version: 3,
  lastModified: '2024-05-01T10:00:00.000Z',
});

/** The first read written by hand with a keep-alive Agent: what the client is held to. */
async function getByHand({ Agent, get }, port) {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const text = await new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/v1/parameters?name=%2Fapp%2Fprod%2Fdb-url', agent }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        data += chunk;
      });
      res.on('end', () => resolve(data));
      res.on('error', reject);
    }).on('error', reject);
  });
  JSON.parse(text);
  agent.destroy();
}

/** Runs in the measured process: one variant, then prints its figures as one JSON line. */
const VARIANTS = {
  /** Node's own startup, nothing imported: the noise floor. */
  nothing: async () => {},
  'node:http': async (port) => getByHand(process.getBuiltinModule('node:http'), port),
  /** The same, with `import()`: on Node 22 and later the module's ESM facade loads Node's bundled undici. */
  'node:http, imported': async (port) => getByHand(await import('node:http'), port),
  'undici (index)': async (port) => {
    const { Pool } = await import('undici');
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 8 });
    const res = await pool.request({ path: '/v1/parameters?name=%2Fapp%2Fprod%2Fdb-url', method: 'GET' });
    await res.body.json();
    await pool.close();
  },
  'undici (lib/dispatcher/pool.js)': async (port) => {
    const { default: Pool } = await import('undici/lib/dispatcher/pool.js');
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 8 });
    // The deep Pool has no promise API of its own (that lives in undici's index): dispatch by hand.
    await new Promise((resolve, reject) => {
      let data = '';
      pool.dispatch(
        {
          path: '/v1/parameters?name=%2Fapp%2Fprod%2Fdb-url',
          method: 'GET',
          origin: `http://127.0.0.1:${port}`,
        },
        {
          onConnect() {},
          onHeaders() {
            return true;
          },
          onData(chunk) {
            data += chunk;
            return true;
          },
          onComplete() {
            resolve(JSON.parse(data));
          },
          onError: reject,
        },
      );
    });
    await pool.close();
  },
  'p-retry (import only)': async () => {
    await import('p-retry');
  },
  client: async (port) => {
    const { createCacheClient } = await import(pathToFileURL(join(dist, 'index.js')).href);
    const cache = createCacheClient({ port });
    await cache.getParameter('/app/prod/db-url');
    await cache.close();
  },
  'client (CommonJS build)': async (port) => {
    const { createRequire } = await import('node:module');
    const { createCacheClient } = createRequire(here)(join(dist, 'cjs', 'index.js'));
    const cache = createCacheClient({ port });
    await cache.getParameter('/app/prod/db-url');
    await cache.close();
  },
};

async function child(name, port) {
  const before = process.cpuUsage();
  await VARIANTS[name](port);
  const cpu = process.cpuUsage(before);
  const mem = process.memoryUsage();
  process.stdout.write(
    `${JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000, heapMiB: mem.heapUsed / 2 ** 20, rssMiB: mem.rss / 2 ** 20 })}\n`,
  );
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function parent(runs) {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' });
    res.end(BODY);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const run = promisify(execFile);
  const rows = [];
  for (const name of Object.keys(VARIANTS)) {
    const samples = [];
    for (let i = 0; i < runs; i++) {
      const { stdout } = await run(process.execPath, [here, '--variant', name, String(port)]);
      samples.push(JSON.parse(stdout));
    }
    rows.push({
      variant: name,
      'cpu ms': median(samples.map((s) => s.cpuMs)).toFixed(1),
      'heap MiB': median(samples.map((s) => s.heapMiB)).toFixed(1),
      'rss MiB': median(samples.map((s) => s.rssMiB)).toFixed(1),
    });
  }
  server.close();
  console.log(`median of ${runs} runs per variant, Node ${process.version}`);
  console.table(rows);
}

const at = process.argv.indexOf('--variant');
if (at !== -1) await child(process.argv[at + 1], Number(process.argv[at + 2]));
else await parent(Number(process.argv[2] ?? 15));
