#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Backends } from './backends.js';
import { LambdaEmulator } from './lambda/emulator.js';
import { extractLayer } from './zip.js';

const USAGE = `Usage: lambda-cache-local <command> [options]

Run a Lambda function with its layer's extensions locally, against local AWS backends.

Commands:
  invoke     Start the layer's extensions and the function under the local Lambda
             emulator, invoke it, print what Lambda would log, shut down.
  backends   Start local SSM, Secrets Manager, AppConfigData and DynamoDB endpoints and print
             the environment variables that point the AWS SDK at them.

invoke options:
  --layer <zip|dir>        the layer: a .zip or an extracted directory (required)
  --function <dir>         the function's code directory, LAMBDA_TASK_ROOT (required)
  --handler <file.export>  default: index.handler
  --event <json|@file>     the event, inline JSON or @path to a JSON file; default: {}
  --times <n>              invoke n times in one environment (1-1000); default: 1
  --seed <file>            start local backends seeded from this YAML/JSON file
  --env <KEY=VALUE>        extra environment for the extensions and the function (repeatable)
  --timeout <ms>           function timeout; default: 3000
  --memory <MB>            memory size: the sandbox's memory limit and CPU share
                           (MB / 1769 of a vCPU after init); default: 128
  --name <name>            function name; default: local-function
  --freeze                 SIGSTOP the processes between invokes, as Lambda freezes them
  --sandbox <method>       auto (default): a cgroup where possible (root, cgroup v1 or
                           v2), else PSS; cgroup: fail where none can be created;
                           pss: no limits, Max Memory Used is the sum of sampled PSS
  --cpu-share-during-init  apply the CPU share during init too (Lambda's on-demand init
                           runs at full CPU)
  --runtime <name>         nodejs (default): the function is JavaScript, run by this Node;
                           python3: --handler is module.function, run by python3 from PATH

backends options:
  --seed <file>            the data to start with (YAML or JSON)
  --region <region>        default: us-east-1

Global options:
  -h, --help               show this help

Exit status: 0 when every invoke succeeded, 1 when one failed or an error occurred, 2 on bad usage.`;

/** Where the CLI writes; tests capture it, the binary uses the process streams. */
export interface CliIo {
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
  /** Aborting stops `backends` (SIGINT/SIGTERM in the binary) and cuts `invoke` short. */
  readonly signal?: AbortSignal;
}

/** Bad usage: reported with a hint, exit status 2. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function integer(flag: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  if (!/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return Number(text);
}

function parseEnv(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (eq < 0 || !ENV_NAME.test(key)) {
      throw new UsageError(`--env takes KEY=VALUE with KEY a variable name, got "${pair}"`);
    }
    env[key] = pair.slice(eq + 1);
  }
  return env;
}

async function parseEvent(text: string | undefined): Promise<unknown> {
  if (text === undefined) return {};
  let json = text;
  let source = '--event';
  if (text.startsWith('@')) {
    source = text.slice(1);
    try {
      json = await readFile(source, 'utf8');
    } catch (error) {
      throw new UsageError(
        `cannot read the event file ${source}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      );
    }
  }
  try {
    return JSON.parse(json);
  } catch (error) {
    throw new UsageError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
}

async function isDirectory(path: string): Promise<boolean | undefined> {
  const info = await stat(path).catch(() => undefined);
  return info === undefined ? undefined : info.isDirectory();
}

function waitForAbort(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolveAbort) => {
    if (signal === undefined) return;
    if (signal.aborted) resolveAbort();
    else signal.addEventListener('abort', () => resolveAbort(), { once: true });
  });
}

function describeCalls(backends: Backends): string {
  const count = (calls: Readonly<Record<string, number>>): string => {
    const entries = Object.entries(calls);
    if (entries.length === 0) return '0';
    return entries.map(([operation, n]) => `${operation} ${n}`).join(', ');
  };
  return `backend calls: SSM: ${count(backends.ssm.calls)}; Secrets Manager: ${count(backends.secretsManager.calls)}; DynamoDB: ${count(backends.dynamodb.calls)}`;
}

async function invokeCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      layer: { type: 'string' },
      function: { type: 'string' },
      handler: { type: 'string', default: 'index.handler' },
      event: { type: 'string' },
      times: { type: 'string' },
      seed: { type: 'string' },
      env: { type: 'string', multiple: true, default: [] },
      timeout: { type: 'string' },
      memory: { type: 'string' },
      name: { type: 'string' },
      freeze: { type: 'boolean', default: false },
      sandbox: { type: 'string', default: 'auto' },
      'cpu-share-during-init': { type: 'boolean', default: false },
      runtime: { type: 'string', default: 'nodejs' },
    },
  });
  if (values.layer === undefined) throw new UsageError('invoke needs --layer <zip|dir>');
  if (values.function === undefined) throw new UsageError('invoke needs --function <dir>');
  const times = integer('--times', values.times, 1, 1, 1000);
  const timeoutMs = integer('--timeout', values.timeout, 3000, 1, 900_000);
  const memoryMb = integer('--memory', values.memory, 128, 128, 10_240);
  const sandbox = values.sandbox;
  if (sandbox !== 'auto' && sandbox !== 'cgroup' && sandbox !== 'pss') {
    throw new UsageError(`--sandbox must be auto, cgroup or pss, got "${sandbox}"`);
  }
  const runtime = values.runtime;
  if (runtime !== 'nodejs' && runtime !== 'python3') {
    throw new UsageError(`--runtime must be nodejs or python3, got "${runtime}"`);
  }
  const userEnv = parseEnv(values.env);
  const event = await parseEvent(values.event);
  const functionDir = resolve(values.function);
  if ((await isDirectory(functionDir)) !== true)
    throw new UsageError(`--function is not a directory: ${values.function}`);
  const layerIsDir = await isDirectory(values.layer);
  if (layerIsDir === undefined) throw new UsageError(`--layer does not exist: ${values.layer}`);

  const cleanups: (() => Promise<unknown>)[] = [];
  let failed = 0;
  try {
    const layerDir = layerIsDir ? resolve(values.layer) : await extractLayer(values.layer);
    if (!layerIsDir) cleanups.push(() => rm(layerDir, { recursive: true, force: true }));

    let backends: Backends | undefined;
    if (values.seed !== undefined) {
      // Loaded on demand: the AWS SDK and dynalite are not needed for --help or an invoke without backends.
      const { startBackends } = await import('./backends.js');
      backends = await startBackends({
        seed: values.seed,
        ...(userEnv.AWS_REGION ? { region: userEnv.AWS_REGION } : {}),
      });
      const started = backends;
      cleanups.push(() => started.close());
    }
    const env: Record<string, string> = { ...(backends?.env ?? {}), ...userEnv };
    // The extension reads /var/task/config.yaml by default; locally the function's directory stands in for /var/task.
    const config = join(functionDir, 'config.yaml');
    if (env.CACHE_EXTENSION_CONFIG === undefined && (await stat(config).catch(() => undefined))?.isFile()) {
      env.CACHE_EXTENSION_CONFIG = config;
    }

    const lambda = await LambdaEmulator.create({
      layerDir,
      functionDir,
      handler: values.handler,
      env,
      timeoutMs,
      memoryMb,
      freezeBetweenInvokes: values.freeze,
      sandbox,
      cpuShareDuringInit: values['cpu-share-during-init'],
      runtime,
      ...(values.name !== undefined ? { functionName: values.name } : {}),
      onLog: io.stdout,
    });
    cleanups.push(() => lambda.shutdown());
    const aborted = waitForAbort(io.signal).then(() => 'aborted' as const);
    for (let i = 0; i < times; i++) {
      const result = await Promise.race([lambda.invoke(event), aborted]);
      if (result === 'aborted') {
        io.stderr('interrupted: shutting down');
        failed++;
        break;
      }
      if (!result.ok) failed++;
      io.stdout(
        `${result.ok ? 'RESPONSE' : 'ERROR'} RequestId: ${result.requestId} ${JSON.stringify(result.payload)}`,
      );
    }
    const shutdown = await lambda.shutdown();
    if (shutdown.killed.length > 0)
      io.stderr(`killed after the shutdown deadline: ${shutdown.killed.join(', ')}`);
    if (backends !== undefined) io.stdout(describeCalls(backends));
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  }
  return failed === 0 ? 0 : 1;
}

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]*$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}

async function backendsCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: { seed: { type: 'string' }, region: { type: 'string' } },
  });
  const { startBackends } = await import('./backends.js');
  const backends = await startBackends({
    ...(values.seed !== undefined ? { seed: values.seed } : {}),
    ...(values.region !== undefined ? { region: values.region } : {}),
  });
  try {
    io.stdout('# local AWS backends are running; export these in the shell that runs your code:');
    for (const [key, value] of Object.entries(backends.env)) io.stdout(`export ${key}=${shellQuote(value)}`);
    io.stdout('# stop with Ctrl-C');
    await waitForAbort(io.signal);
    io.stdout(describeCalls(backends));
  } finally {
    await backends.close();
  }
  return 0;
}

/**
 * The `lambda-cache-local` command line. Returns the exit status; never throws for a user error.
 *
 * @example
 * process.exitCode = await runCli(process.argv.slice(2));
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo = { stdout: (line) => console.log(line), stderr: (line) => console.error(line) },
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      io.stdout(USAGE);
      return command === undefined ? 2 : 0;
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout(USAGE);
      return 0;
    }
    if (command === 'invoke') return await invokeCommand(rest, io);
    if (command === 'backends') return await backendsCommand(rest, io);
    throw new UsageError(`unknown command "${command}" (expected invoke or backends)`);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const usage =
      error instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_'));
    io.stderr(`lambda-cache-local: ${error instanceof Error ? error.message : String(error)}`);
    if (usage) {
      io.stderr('Run lambda-cache-local --help for usage.');
      return 2;
    }
    return 1;
  }
}

/** Runs the command on this process's arguments and signals (the bin shim and `node dist/cli.js` call it). */
export function main(): void {
  const controller = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => controller.abort());
  }
  runCli(process.argv.slice(2), {
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
    signal: controller.signal,
  }).then(
    (status) => {
      process.exitCode = status;
    },
    (error: unknown) => {
      process.stderr.write(`lambda-cache-local: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) main();
