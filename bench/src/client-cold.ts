/**
 * A fresh Node process's first read of a parameter, the way a function's init does it, and the CPU time
 * it cost (`process.cpuUsage()`, from the first line of this script to the parsed answer):
 *
 * - `client`: `import('@lambda-cache/client')`, `createCacheClient()`, first `getParameter`;
 * - `http`: `node:http` by `process.getBuiltinModule` (the cheapest way: an ESM import of it loads Node's
 *   bundled undici on Node 22 and later), one `GET` with the token header, the body parsed as JSON.
 *
 * Nothing is imported before the clock starts, so both variants pay only for what they load and do.
 * Prints `{ cpuMs, wallMs }` as one JSON line.
 *
 * Usage: node client-cold.js client|http <name> <path>   (CACHE_EXTENSION_PORT, AWS_SESSION_TOKEN set)
 */
const cpuAtStart = process.cpuUsage();
const wallAtStart = performance.now();

const TOKEN_HEADER = 'x-aws-parameters-secrets-token';

async function withClient(name: string): Promise<unknown> {
  const { createCacheClient } = await import('@lambda-cache/client');
  const cache = createCacheClient();
  const value = await cache.getParameter(name);
  await cache.close();
  return value;
}

async function withHttp(path: string): Promise<unknown> {
  const http = process.getBuiltinModule('node:http');
  const body = await new Promise<string>((resolve, reject) => {
    const req = http.get(
      {
        host: '127.0.0.1',
        port: Number(process.env.CACHE_EXTENSION_PORT),
        path,
        headers: { [TOKEN_HEADER]: process.env.AWS_SESSION_TOKEN ?? '' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () =>
          res.statusCode === 200 ? resolve(text) : reject(new Error(`status ${res.statusCode}`)),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
  });
  return (JSON.parse(body) as { value?: unknown }).value;
}

async function main(): Promise<void> {
  const [mode, name, path] = process.argv.slice(2);
  if ((mode !== 'client' && mode !== 'http') || !name || !path) {
    throw new Error('usage: client-cold client|http <name> <path>');
  }
  const value = mode === 'client' ? await withClient(name) : await withHttp(path);
  const cpu = process.cpuUsage(cpuAtStart);
  const wallMs = performance.now() - wallAtStart;
  if (typeof value !== 'string' || value === '') throw new Error(`${mode}: no value read`);
  process.stdout.write(`${JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000, wallMs })}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`client-cold failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
