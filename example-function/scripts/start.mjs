#!/usr/bin/env node
/**
 * `npm start`: the example function with the packaged layer under the local Lambda emulator, against local
 * SSM, Secrets Manager, AppConfigData and DynamoDB seeded from seed.yaml. Offline, no AWS account, no fixed port.
 * Prints what CloudWatch Logs would show, then how many backend calls were made and how long the cached reads
 * took; stops everything it started; exits 0, or 1 with a message saying what failed.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const exampleDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(exampleDir, '..');
const layerZip = join(repoRoot, 'dist', 'lambda-cache-layer.zip');
const seedFile = join(exampleDir, 'seed.yaml');
const configFile = join(exampleDir, 'config.yaml');
const handlerFile = join(exampleDir, 'dist', 'index.js');
const HANDLER = 'dist/index.handler';
const REGION = 'us-west-2';
const INVOKES = 3;
/**
 * The feature-flag profile the function reads, prefetched during init with the AppConfig agent's own variable
 * (what a function written for AWS's AppConfig extension already sets), so config.yaml stays the seed's.
 */
const APPCONFIG_PREFETCH = '/applications/example-app/environments/local/configurations/feature-flags';
/** The whole run, start to exit. Init alone may take Lambda's 10 s; everything else is milliseconds. */
const DEADLINE_MS = 30_000;

const dim = (text) => (process.stdout.isTTY ? `\x1b[2m${text}\x1b[22m` : text);
const bold = (text) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[22m` : text);
const say = (text = '') => process.stdout.write(`${text}\n`);
const rel = (path) => relative(process.cwd(), path) || '.';

class StartError extends Error {}

/** A port that was free a moment ago: the extension listens on it and the function's client reads it. */
function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** A log entry from the emulator as the single line CloudWatch would show. */
function lineOf(entry) {
  if (typeof entry === 'string') return entry;
  if (entry && typeof entry === 'object' && 'line' in entry) return String(entry.line);
  return JSON.stringify(entry);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const ms = (n) => `${n < 10 ? n.toFixed(2) : n.toFixed(0)} ms`;

/** `{ GetParameters: 1 }` → `GetParameters ×1`, skipping operations never called. */
function describeCalls(calls) {
  const parts = Object.entries(calls ?? {})
    .filter(([, n]) => n > 0)
    .map(([op, n]) => `${op} ×${n}`);
  return parts.length ? parts.join(', ') : 'none';
}

function parseBody(payload) {
  const response = typeof payload === 'string' ? JSON.parse(payload) : payload;
  const body = typeof response?.body === 'string' ? JSON.parse(response.body) : response?.body;
  return { response, body };
}

/** The extension's counters, or `undefined` if it cannot say (the summary then leaves them out). */
async function readStats(port, token) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/v1/stats`, {
      headers: { 'x-aws-parameters-secrets-token': token },
      signal: AbortSignal.timeout(2_000),
    });
    return res.ok ? await res.json() : undefined;
  } catch {
    return undefined;
  }
}

/** One GET over `agent`, resolving to its duration in ms; a non-200 or a slow answer rejects. */
function timedGet(agent, port, path, token) {
  return new Promise((resolveGet, reject) => {
    const start = performance.now();
    const req = http.get(
      {
        host: '127.0.0.1',
        port,
        path,
        agent,
        timeout: 2_000,
        headers: { 'x-aws-parameters-secrets-token': token },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200
            ? resolveGet(performance.now() - start)
            : reject(new Error(`GET ${path} answered ${res.statusCode}`)),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
  });
}

/**
 * The extension's own answer time for a cached item, measured from outside the function over one keep-alive
 * connection (what the client does once its connection is open), or `undefined` if it cannot be measured.
 */
async function measureHits(port, token, count = 20) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const { dynamodbPath } = await import('@lambda-cache/shared');
    const path = dynamodbPath('DynamoDbTable', { pKey: { S: 'pKey1' }, sKey: { S: 'sKey1' } });
    await timedGet(agent, port, path, token); // opens the connection
    const times = [];
    for (let i = 0; i < count; i++) times.push(await timedGet(agent, port, path, token));
    return median(times);
  } catch {
    return undefined;
  } finally {
    agent.destroy();
  }
}

function checkBuilt() {
  if (!existsSync(layerZip)) {
    throw new StartError(`${rel(layerZip)} is missing: run \`npm run package\` (npm start does it first).`);
  }
  if (!existsSync(handlerFile)) {
    throw new StartError(`${rel(handlerFile)} is missing: run \`npm run build\` (npm start does it first).`);
  }
}

async function loadLocal() {
  // The local backends use the AWS SDK in this process; its notice about future Node versions is not
  // about anything npm start does.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  try {
    return await import('@lambda-cache/local');
  } catch (err) {
    throw new StartError(
      `cannot load @lambda-cache/local (${err.message}): run \`npm install\`, then \`npm run build\`.`,
    );
  }
}

async function main(cleanup) {
  checkBuilt();
  const { startBackends, extractLayer, LambdaEmulator } = await loadLocal();

  say(bold('lambda-cache — the example function under a local Lambda, with the packaged layer'));
  const backends = await startBackends({ seed: seedFile, region: REGION });
  cleanup.push(() => backends.close());
  say(
    dim(`  backends   local SSM, Secrets Manager, AppConfigData and DynamoDB, seeded from ${rel(seedFile)}`),
  );

  const layerDir = await mkdtemp(join(tmpdir(), 'lambda-cache-layer-'));
  cleanup.push(() => rm(layerDir, { recursive: true, force: true }));
  await extractLayer(layerZip, layerDir);
  say(dim(`  layer      ${rel(layerZip)}, extracted as Lambda does to /opt`));

  const port = await freePort();
  // Lambda gives every environment a session token; the extension requires it on every v1 request. Known
  // here so this script can read the extension's /v1/stats at the end.
  const token = `local-${randomBytes(24).toString('base64url')}`;
  const env = {
    ...backends.env,
    AWS_REGION: REGION,
    AWS_SESSION_TOKEN: token,
    // Both the extension and the function's client read this one variable.
    CACHE_EXTENSION_PORT: String(port),
    // The AWS-compatible port (2773 by default) is not what this example reads: let the system pick one,
    // so a machine with something on 2773 (or a second run) is not warned about it.
    PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: '0',
    // The same for the AppConfig agent's port (2772 by default).
    AWS_APPCONFIG_EXTENSION_HTTP_PORT: '0',
    AWS_APPCONFIG_EXTENSION_PREFETCH_LIST: APPCONFIG_PREFETCH,
    CACHE_EXTENSION_CONFIG: configFile,
  };
  say(dim(`  function   ${rel(exampleDir)}, handler ${HANDLER}, config ${rel(configFile)}`));
  say(dim(`  prefetch   config.yaml, and AWS_APPCONFIG_EXTENSION_PREFETCH_LIST=${APPCONFIG_PREFETCH}`));
  say(dim(`  extension  http://127.0.0.1:${port}`));
  say();
  say(bold('--- logs, as CloudWatch Logs shows them'));

  const lambda = await LambdaEmulator.create({
    layerDir,
    functionDir: exampleDir,
    handler: HANDLER,
    env,
    onLog: (entry) => say(lineOf(entry)),
  });
  cleanup.push(() => lambda.shutdown('spindown'));

  const init = await lambda.init();
  if (!init.ok) {
    throw new StartError(`init failed (${init.error?.errorType}): ${init.error?.message}`);
  }
  const results = [];
  for (let i = 0; i < INVOKES; i++) {
    const result = await lambda.invoke({ payload: 'hello' });
    if (!result.ok) {
      throw new StartError(
        `invoke ${i + 1} failed: ${typeof result.payload === 'string' ? result.payload : JSON.stringify(result.payload)}`,
      );
    }
    results.push(result);
  }
  // Counters first, so they count the function's reads only.
  const stats = await readStats(port, token);
  const hitMs = await measureHits(port, token);
  const shutdown = cleanup.pop();
  await shutdown();

  say();
  say(bold('--- summary'));
  const bodies = results.map((r) => parseBody(r.payload));
  const first = bodies[0];
  say(`  response     ${first.response?.statusCode ?? '?'} ${JSON.stringify(first.body?.item)}`);
  // Lengths, stages and `enabled` only: the body never carries a value.
  const secretsRead = Object.entries(first.body?.secrets ?? {}).map(
    ([id, s]) => `secret ${id} ${s.length} chars (${s.versionStages.join(',')})`,
  );
  const flagsRead = Object.entries(first.body?.featureFlags ?? {}).map(
    ([name, f]) => `flag ${name} enabled=${f.enabled}`,
  );
  say(`  read         ${[...secretsRead, ...flagsRead].join('; ') || 'no secret or flag'}`);
  say(`  init         ${ms(init.initDurationMs)} (extension registered and prefetched, function loaded)`);
  const last = results.at(-1);
  const memorySize = /\tMemory Size: (\d+) MB/.exec(last.report)?.[1] ?? '?';
  say(
    `  memory       Max Memory Used ${last.maxMemoryUsedMb} MB of ${memorySize} MB, ${
      last.memoryMethod === 'cgroup'
        ? "the peak of the sandbox's cgroup (runtime + extension, a page they share counted once), as Lambda measures it"
        : "the sum of the sandbox processes' PSS, sampled: no cgroup could be created here (see the [emulator] sandbox line)"
    }`,
  );
  say(`  AWS calls    for all ${INVOKES} invokes, counted at the local backends:`);
  for (const [service, counts] of [
    ['SSM', backends.ssm?.calls],
    ['Secrets Manager', backends.secretsManager?.calls],
    ['AppConfigData', backends.appConfig?.calls],
    ['DynamoDB', backends.dynamodb?.calls],
  ]) {
    say(`    ${service.padEnd(16)} ${describeCalls(counts)}`);
  }
  say(
    dim(
      '    (secret_info is read through SSM as /aws/reference/secretsmanager/secret_info; example/api-key is\n' +
        '     read through from Secrets Manager on the first getSecret; the flags were prefetched during init)',
    ),
  );
  if (stats) {
    say(
      `  extension    ${stats.entries} entries; ${stats.hits} hits, ${stats.misses} misses, ${stats.staleServes} stale, ${stats.errors} errors`,
    );
  }
  const reads = bodies.map((b) => b.body?.readMs);
  if (reads.every(Boolean)) {
    say(
      `${'  read latency inside the function'.padEnd(36)}${reads.map((_, i) => `invoke ${i + 1}`.padStart(10)).join('')}`,
    );
    for (const [label, field] of [
      ['getItem(DynamoDbTable)', 'item'],
      ['getParameter(parameter)', 'parameter'],
      ['getParameter(secret)', 'secret'],
      ['getSecret(example/api-key)', 'apiKey'],
      ['getFeatureFlag(new_greeting)', 'flag'],
    ]) {
      say(`    ${label.padEnd(32)}${reads.map((r) => ms(r[field]).padStart(10)).join('')}`);
    }
    const warm = reads.slice(1).flatMap((r) => [r.item, r.parameter, r.secret, r.apiKey, r.flag]);
    if (warm.length > 0) say(`    median of the reads after invoke 1: ${ms(median(warm))}`);
    if (hitMs !== undefined) {
      say(
        `    the extension itself, GET /v1/dynamodb hit on a kept-alive connection: ${ms(hitMs)} (median of 20)`,
      );
    }
    say(
      dim(
        "    (invoke 1 includes the client's first connection to the extension; later reads are answered by the\n" +
          "     client's in-process layer, which never keeps a value longer than the extension's max-age)",
      ),
    );
  }
  say();
  say(
    'The function never called AWS: the extension made every call above, and answered every later read from memory.',
  );
}

async function run() {
  const cleanup = [];
  const closeAll = async () => {
    // Last started, first stopped; every step bounded so a stuck child cannot keep us alive.
    while (cleanup.length > 0) {
      const step = cleanup.pop();
      await Promise.race([
        Promise.resolve()
          .then(step)
          .catch(() => undefined),
        new Promise((r) => setTimeout(r, 3_000).unref()),
      ]);
    }
  };
  const watchdog = setTimeout(async () => {
    process.stderr.write(`\nnpm start: gave up after ${DEADLINE_MS / 1000} s; stopping everything.\n`);
    await closeAll();
    process.exit(1);
  }, DEADLINE_MS);
  // Ctrl-C stops the children too, instead of leaving an extension or a backend behind.
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, async () => {
      interrupted = true;
      process.stderr.write(`\nnpm start: ${signal}, stopping everything.\n`);
      await closeAll();
      process.exit(130);
    });
  }
  try {
    await main(cleanup);
    await closeAll();
    clearTimeout(watchdog);
    // Everything we started is stopped; exit now rather than wait on a handle a library left open.
    process.exit(0);
  } catch (err) {
    // Interrupted: the signal handler is already stopping everything and will exit.
    if (interrupted) return;
    process.stderr.write(
      `\nnpm start failed: ${err instanceof StartError ? err.message : (err?.stack ?? err)}\n`,
    );
    await closeAll();
    clearTimeout(watchdog);
    process.exit(1);
  }
}

await run();
