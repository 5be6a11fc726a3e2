#!/usr/bin/env node
// The `lambda-cache-local` command. npm links a package's bin when it installs the package, so this file
// is committed and the command's code is `dist/cli.js`: in a fresh clone of the repository, which has no
// build yet, the first run builds it.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  const { ensureBuilt } = await import('../../scripts/ensure-built.mjs');
  ensureBuilt(cli, '@lambda-cache/local');
}
const { main } = await import(cli.href);
main();
