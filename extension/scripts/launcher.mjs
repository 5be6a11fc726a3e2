/**
 * The layer's `extensions/lambda-cache`: Lambda starts every file in `/opt/extensions`; this POSIX `sh`
 * script finds its own directory (the layer works wherever it is extracted), finds `node`, and runs the
 * bundle next to it under its own file name.
 */

/** The extension's name: the launcher's file name and the bundle's directory. */
export const NAME = 'lambda-cache';

/**
 * The flags the launcher gives Node. `--no-concurrent-recompilation`: V8 compiles optimized code on the
 * main thread instead of on background threads. glibc gives each of those threads a malloc arena of its
 * own, and the memory of their compile jobs stays resident in it: after a 10 000-entry prefetch, 13 MiB
 * of the extension's private memory on Node 24 and 4 MiB on Node 22. The cache's hot code is small and
 * is optimized once; at 128 MB the background threads would spend the same CPU quota as the main thread.
 * Unlike some V8 flags it leaves Node's code cache of its built-ins usable, so it costs the start nothing
 * (extension README, "Node runs with one flag"). Node refuses to start with a flag it does not know, so
 * the integration suite runs the packaged layer on Node 20, 22 and 24.
 */
export const NODE_FLAGS = ['--no-concurrent-recompilation'];

export const LAUNCHER = `#!/bin/sh
# lambda-cache extension launcher. Lambda runs every file in extensions/; this one starts the bundled
# extension with Node.js. Its own file name is the extension name Lambda expects at register.
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd) || exit 1
entry="$here/../${NAME}/index.mjs"
if [ -n "\${LAMBDA_CACHE_NODE:-}" ]; then
  node="$LAMBDA_CACHE_NODE"
elif [ -x /var/lang/bin/node ]; then
  node=/var/lang/bin/node
else
  node=$(command -v node 2>/dev/null || true)
fi
if [ -z "$node" ] || [ ! -x "$node" ]; then
  echo "[${NAME}] ERROR cannot start: no node executable found (tried \\$LAMBDA_CACHE_NODE, /var/lang/bin/node, PATH). Use a Node.js runtime, or set LAMBDA_CACHE_NODE to a node binary." >&2
  exit 127
fi
# --no-concurrent-recompilation: V8 optimizes hot functions on the main thread. Compiled on its
# background threads, each job left memory resident in that thread's malloc arena (13 MiB after
# 10 000 entries on Node 24).
LAMBDA_CACHE_EXTENSION_NAME=$(basename -- "$0") exec "$node" ${NODE_FLAGS.join(' ')} "$entry" "$@"
`;

/** Where the standalone layer keeps its JavaScript runtime, relative to the bundle's directory. */
export const STANDALONE_RUNTIME = 'runtime/bun';

/**
 * The standalone layer's `extensions/lambda-cache` for one architecture (`x86_64` or `aarch64`, as
 * `uname -m` says it): the same bundle, run by the Bun binary shipped next to it, so the execution
 * environment needs no Node.js (Python, Java, custom runtimes). A layer of the other architecture says so
 * instead of failing to exec. Bun is told to read an empty config of the layer's own, not a `bunfig.toml`
 * of the function's working directory, never to install packages, to keep no transpiler cache (nothing
 * to write in a read-only `/opt`), and `DO_NOT_TRACK=1` asks it for no telemetry.
 */
export function standaloneLauncher(machine) {
  return `#!/bin/sh
# lambda-cache extension launcher (standalone layer, ${machine}). Lambda runs every file in extensions/;
# this one starts the bundled extension with the JavaScript runtime inside the layer: no Node.js needed.
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd) || exit 1
dir="$here/../${NAME}"
runtime="$dir/${STANDALONE_RUNTIME}"
arch=$(uname -m)
if [ "$arch" != ${machine} ]; then
  echo "[${NAME}] ERROR cannot start: this is the ${machine} standalone layer and the function runs on $arch; attach the layer of its architecture" >&2
  exit 126
fi
if [ ! -x "$runtime" ]; then
  echo "[${NAME}] ERROR cannot start: the layer's runtime $runtime is missing or not executable" >&2
  exit 127
fi
BUN_RUNTIME_TRANSPILER_CACHE_PATH=0 DO_NOT_TRACK=1 LAMBDA_CACHE_EXTENSION_NAME=$(basename -- "$0") \\
  exec "$runtime" --config="$dir/bunfig.toml" --no-install "$dir/index.mjs" "$@"
`;
}
