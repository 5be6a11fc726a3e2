/**
 * The floor for any Node.js extension's start (DESIGN.md: a Node process that only listens, registers and
 * waits): listen on one loopback port, register with the Extensions API, with nothing loaded but
 * `node:http`, then wait for events until SHUTDOWN. The start-up section times it
 * spawn → register beside the product, so the gap to `node -e 0` can be split into what Node and one
 * HTTP round trip cost and what the product adds.
 * https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html
 */
import type { IncomingHttpHeaders } from 'node:http';
import { basename } from 'node:path';

// The cheapest way to `node:http`: an ESM import of it loads Node's bundled undici on Node 22 and later.
const http = process.getBuiltinModule('node:http');

const api = process.env.AWS_LAMBDA_RUNTIME_API;
const agent = new http.Agent({ keepAlive: true });

function call(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const [host, port] = (api ?? '').split(':');
    const req = http.request({ host, port: Number(port), method, path, headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve({ headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const name = process.env.MINIMAL_EXTENSION_NAME ?? basename(process.argv[1] ?? 'minimal');
  // An extension that serves the function listens before it registers: one port on loopback, answering
  // every request with an empty 200.
  const server = http.createServer((_req, res) => res.end());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const registered = await call(
    'POST',
    '/2020-01-01/extension/register',
    { 'lambda-extension-name': name, 'content-type': 'application/json' },
    JSON.stringify({ events: ['INVOKE', 'SHUTDOWN'] }),
  );
  const id = String(registered.headers['lambda-extension-identifier'] ?? '');
  // Bounded: a benchmark environment sees a handful of events.
  for (let i = 0; i < 10_000; i++) {
    const event = await call('GET', '/2020-01-01/extension/event/next', {
      'lambda-extension-identifier': id,
    });
    if ((JSON.parse(event.body) as { eventType?: string }).eventType === 'SHUTDOWN') break;
  }
  agent.destroy();
  server.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`minimal extension failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
