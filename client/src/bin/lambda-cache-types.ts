/**
 * `lambda-cache-types config.yaml [--name Schema] > cache-schema.ts`: prints a schema type for
 * `createCacheClient<Schema>()` from the extension's config. The config is read by the extension's own
 * loader, handed in by the bin's entry (`lambda-cache-types.entry.mjs`), so a config the extension would
 * refuse is refused here with the extension's message.
 */
import { parseArgs } from 'node:util';
import { type ConfigForTypes, generateSchema } from '../codegen.js';
import { InvalidOptionError } from '../errors.js';

const USAGE = `usage: lambda-cache-types <config.yaml> [--name <TypeName>] > cache-schema.ts

Prints a TypeScript schema type for createCacheClient<Schema>() from the lambda-cache config:
parameter names, tables, and key types (S, N or B, declared or taken from the key values), secrets
and AppConfig configurations.`;

/** The extension's config loader, as the bin's entry passes it in. */
export interface ConfigLoader {
  /** Reads and checks a config file exactly as the extension does at init. */
  load(file: string): Promise<ConfigForTypes>;
  /** `true` for the loader's own errors: a config problem, whose message names the file and position. */
  isConfigError(err: unknown): boolean;
}

/** Runs the command; resolves to its exit code (0 done, 1 the config is refused, 2 usage). */
export async function main(argv: string[], loader: ConfigLoader): Promise<number> {
  let parsed: ReturnType<
    typeof parseArgs<{
      options: { name: { type: 'string' }; help: { type: 'boolean' } };
      allowPositionals: true;
    }>
  >;
  try {
    parsed = parseArgs({
      args: argv,
      options: { name: { type: 'string' }, help: { type: 'boolean' } },
      allowPositionals: true,
    });
  } catch (err) {
    process.stderr.write(`lambda-cache-types: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [file, ...extra] = parsed.positionals;
  if (file === undefined || extra.length > 0) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  try {
    const config = await loader.load(file);
    const name = parsed.values.name;
    process.stdout.write(generateSchema(config, { source: file, ...(name ? { typeName: name } : {}) }));
    return 0;
  } catch (err) {
    // The loader's messages start with the file name already.
    if (loader.isConfigError(err)) {
      process.stderr.write(`lambda-cache-types: ${(err as Error).message}\n`);
      return 1;
    }
    if (err instanceof InvalidOptionError) {
      process.stderr.write(`lambda-cache-types: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
