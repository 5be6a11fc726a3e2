/**
 * Reads config.yaml at synth with the extension's own parser, so a file the extension would refuse at init
 * fails `cdk synth` with the message the function's init would have logged.
 */
import { readFileSync, statSync } from 'node:fs';
import { type ConfigForGrants, MAX_CONFIG_BYTES, parseConfig } from './extension-config.mjs';

/** Throws the extension's `ConfigError` for a config it would refuse, or an `Error` naming the file. */
export function readConfig(file: string): ConfigForGrants {
  let size: number;
  try {
    const stats = statSync(file);
    if (!stats.isFile()) throw new Error(`${file}: is not a regular file (expected config.yaml)`);
    size = stats.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`${file}: not found (expected the config.yaml that the function's code contains)`);
    }
    throw err;
  }
  // The extension refuses a larger file at init without parsing it.
  if (size > MAX_CONFIG_BYTES) {
    throw new Error(
      `${file}: is larger than ${MAX_CONFIG_BYTES} bytes (expected a YAML file of at most ${MAX_CONFIG_BYTES} bytes)`,
    );
  }
  return parseConfig(readFileSync(file, 'utf8'), file);
}
