/**
 * `lambda-cache-types config.yaml [--name Schema] > cache-schema.ts`: prints a schema type for
 * `createCacheClient<Schema>()` from the extension's config.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CodegenError, generateSchema } from '../codegen.js';

const USAGE = `usage: lambda-cache-types <config.yaml> [--name <TypeName>] > cache-schema.ts

Prints a TypeScript schema type for createCacheClient<Schema>() from the lambda-cache config:
parameter names, tables, and key types (from hashkeytype/sortkeytype).`;

function main(argv: string[]): number {
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
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    process.stderr.write(
      `lambda-cache-types: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}\n`,
    );
    return 1;
  }
  try {
    const name = parsed.values.name;
    process.stdout.write(generateSchema(text, { source: file, ...(name ? { typeName: name } : {}) }));
    return 0;
  } catch (err) {
    if (err instanceof CodegenError) {
      process.stderr.write(`lambda-cache-types: ${file}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

process.exitCode = main(process.argv.slice(2));
