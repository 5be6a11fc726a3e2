#!/usr/bin/env node
/**
 * `lambda-cache [serve]`: the layer's entry point. Inside Lambda the launcher runs it as an extension;
 * elsewhere it serves the same API as a standalone local server until Ctrl-C or SIGTERM.
 */
import { run } from './run.js';

const USAGE = `usage: lambda-cache [serve]

Runs the lambda-cache extension. Inside Lambda (AWS_LAMBDA_RUNTIME_API set) it registers with the
Extensions API; elsewhere it serves http://127.0.0.1:$CACHE_EXTENSION_PORT until interrupted.
Settings come from CACHE_EXTENSION_* environment variables and the config file.
`;

const args = process.argv.slice(2);
if (args[0] === '--help' || args[0] === '-h') {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (args.length > 1 || (args.length === 1 && args[0] !== 'serve')) {
  process.stderr.write(USAGE);
  process.exit(2);
}

// The SDK inside the layer is ours to update, not the function author's: its Node version notice is noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// A stray rejection must not take the cache down with the function's data in it: log its code, go on.
process.on('unhandledRejection', (err: unknown) => {
  const e = err as { code?: unknown; name?: unknown } | null;
  process.stderr.write(
    `[lambda-cache] ERROR unhandled rejection ${String(e?.code ?? e?.name ?? typeof err)}\n`,
  );
});

const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
process.once('SIGTERM', () => controller.abort());
const code = await run({ env: process.env, signal: controller.signal });
// SDK keep-alive sockets and timers must not hold a finished extension open.
process.exit(code);
