/**
 * The layer's `extensions/lambda-cache`: Lambda starts every file in `/opt/extensions`; this POSIX `sh`
 * script finds its own directory (the layer works wherever it is extracted), finds `node`, and runs the
 * bundle next to it under its own file name.
 */

/** The extension's name: the launcher's file name and the bundle's directory. */
export const NAME = 'lambda-cache';

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
# A 1 MiB young generation: the extension's live heap is small, and V8's default semi-spaces (16 MiB or
# more) hold a burst of AWS SDK garbage as resident memory long after it is dead, which Lambda bills.
LAMBDA_CACHE_EXTENSION_NAME=$(basename -- "$0") exec "$node" --max-semi-space-size=1 "$entry" "$@"
`;
