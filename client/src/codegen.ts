/**
 * Generates a schema type (see `schema.ts`) from the extension's `config.yaml`: every configured
 * parameter name (a `path:` hierarchy as a template literal key) and every table with its key typed from
 * `hashkeytype`/`sortkeytype`. Values default to `string` and items to `Record<string, unknown>`; the
 * generated file says where to refine them.
 */
import { parseDocument } from 'yaml';

export class CodegenError extends Error {
  override readonly name = 'CodegenError';
}

interface TableKey {
  readonly attributes: Map<string, string>;
}

const KEY_TYPES: Readonly<Record<string, string>> = { S: 'string', N: 'number | bigint', B: 'Uint8Array' };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function list(value: unknown, where: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new CodegenError(`${where} must be a list`);
  return value;
}

function keyType(declared: unknown, sample: unknown, where: string): string {
  if (declared === undefined || declared === null)
    return typeof sample === 'number' ? KEY_TYPES.N! : KEY_TYPES.S!;
  const type = KEY_TYPES[String(declared).toUpperCase()];
  if (type === undefined)
    throw new CodegenError(`${where} must be S, N or B, not ${JSON.stringify(declared)}`);
  return type;
}

/** A TypeScript template literal for `path/…`, with backticks, backslashes and `${` escaped. */
function pathPattern(path: string): string {
  const prefix = path.endsWith('/') ? path : `${path}/`;
  return `\`${prefix.replace(/[`\\$]/g, (c) => `\\${c}`)}\${string}\``;
}

function collectParameters(doc: Record<string, unknown>): Map<string, string> {
  const out = new Map<string, string>();
  list(doc.parameters, 'parameters').forEach((entry, i) => {
    const where = `parameters[${i}]`;
    if (!isRecord(entry)) throw new CodegenError(`${where} must be a mapping`);
    list(entry.names, `${where}.names`).forEach((item, j) => {
      // A name is a scalar, or a `{ name, ttl, decrypt }` mapping.
      const name = isRecord(item) ? item.name : item;
      if ((typeof name !== 'string' && typeof name !== 'number') || name === '') {
        throw new CodegenError(`${where}.names[${j}] must be a parameter name or a { name } mapping`);
      }
      out.set(`readonly ${JSON.stringify(String(name))}`, 'string');
    });
    if (entry.path !== undefined && entry.path !== null) {
      if (typeof entry.path !== 'string' || entry.path === '')
        throw new CodegenError(`${where}.path must be a path`);
      out.set(`readonly [name: ${pathPattern(entry.path)}]`, 'string');
    }
  });
  return out;
}

function collectTables(doc: Record<string, unknown>): Map<string, TableKey> {
  const out = new Map<string, TableKey>();
  list(doc.dynamodb, 'dynamodb').forEach((entry, i) => {
    const where = `dynamodb[${i}]`;
    if (!isRecord(entry)) throw new CodegenError(`${where} must be a mapping`);
    const table = entry.table;
    if (typeof table !== 'string' || table === '')
      throw new CodegenError(`${where}.table must be a table name`);
    const firstKey = list(entry.keys, `${where}.keys`)[0];
    const sample = isRecord(firstKey) ? firstKey : {};
    const attributes = new Map<string, string>();
    for (const [nameField, typeField, valueField] of [
      ['hashkey', 'hashkeytype', 'hashkeyvalue'],
      ['sortkey', 'sortkeytype', 'sortkeyvalue'],
    ] as const) {
      const name = entry[nameField];
      if (name === undefined || name === null) continue;
      if (typeof name !== 'string' || name === '')
        throw new CodegenError(`${where}.${nameField} must be a name`);
      const value = entry[valueField] ?? sample[name];
      attributes.set(name, keyType(entry[typeField], value, `${where}.${typeField}`));
    }
    if (attributes.size === 0) throw new CodegenError(`${where}.hashkey is required`);
    const known = out.get(table);
    if (known !== undefined && [...attributes].join() !== [...known.attributes].join()) {
      throw new CodegenError(`${where}: table ${table} is configured twice with different keys`);
    }
    out.set(table, { attributes });
  });
  return out;
}

/** The TypeScript source of a schema type for the `config.yaml` text. */
export function generateSchema(
  yamlText: string,
  options: { typeName?: string; source?: string } = {},
): string {
  const typeName = options.typeName ?? 'Schema';
  if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(typeName))
    throw new CodegenError(`"${typeName}" is not a type name`);
  const parsed = parseDocument(yamlText, { prettyErrors: true });
  const first = parsed.errors[0];
  if (first !== undefined) throw new CodegenError(first.message);
  const doc = parsed.toJS() ?? {};
  if (!isRecord(doc)) throw new CodegenError('the config must be a mapping with parameters: and dynamodb:');
  const parameters = collectParameters(doc);
  const tables = collectTables(doc);
  const lines = [
    `// Generated by lambda-cache-types${options.source ? ` from ${options.source}` : ''}; regenerate when it changes.`,
    '// Values are typed `string` (their type after transform: "json" is yours to write) and items',
    '// `Record<string, unknown>`: replace them with your own types.',
    "import type { CacheSchema } from '@lambda-cache/client';",
    '',
    `export interface ${typeName} extends CacheSchema {`,
    '  readonly parameters: {',
    ...[...parameters].map(([key, type]) => `    ${key}: ${type};`),
    '  };',
    '  readonly tables: {',
  ];
  for (const [table, { attributes }] of tables) {
    const key = [...attributes].map(([name, type]) => `readonly ${JSON.stringify(name)}: ${type}`).join('; ');
    lines.push(
      `    readonly ${JSON.stringify(table)}: {`,
      `      readonly key: { ${key} };`,
      '      readonly item: Record<string, unknown>;',
      '    };',
    );
  }
  lines.push('  };', '}', '');
  return lines.join('\n');
}
