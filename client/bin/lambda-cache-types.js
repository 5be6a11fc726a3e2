#!/usr/bin/env node
// The `lambda-cache-types` command. npm links a package's bin when it installs the package, so this file
// is committed and the command's code is `dist/bin/lambda-cache-types.js`: in a fresh clone of the
// repository, which has no build yet, the first run builds it.
import { existsSync } from 'node:fs';

const bin = new URL('../dist/bin/lambda-cache-types.js', import.meta.url);
if (!existsSync(bin)) {
  const { ensureBuilt } = await import('../../scripts/ensure-built.mjs');
  ensureBuilt(bin, '@lambda-cache/client');
}
await import(bin.href);
