/**
 * `config.yaml`: what the extension prefetches. Parsing is pure and strict: the result is a deep-frozen,
 * typed object, and every problem is a {@link ConfigError} whose message reads
 * `<file>:<line>:<column>: <key path>: <problem> (expected <what is valid>)`.
 *
 * The seed's format loads exactly as written:
 *
 * ```yaml
 * parameters:
 *   - region: us-west-2
 *     names: [CacheExtensions_Parameter1, /aws/reference/secretsmanager/secret_info]
 * dynamodb:
 *   - table: DynamoDbTable
 *     hashkey: pKey
 *     hashkeytype: S
 *     hashkeyvalue: pKey1
 *     sortkey: sKey
 *     sortkeytype: S
 *     sortkeyvalue: sKey1
 * ```
 *
 * Extensions, all optional:
 * - a parameters group takes `ttl` (Go duration, `0s` to `24h`), `decrypt` (default `true`), and `path`
 *   (starts with `/`) with `recursive` (default `false`) to load a hierarchy; a group has `names`, `path`
 *   or both; a `names` item is a name or `{ name, ttl?, decrypt? }` (which override the group's);
 * - a dynamodb entry takes `region`, `ttl`, and `keys:`, a list of key objects such as
 *   `{ pKey: pKey1, sKey: 2 }`, instead of or besides `hashkeyvalue`/`sortkeyvalue`.
 *
 * Leniencies kept for configs written for the seed: `parameters:` may be a single group (a mapping, as in
 * the seed's first version) instead of a list of groups; key types are accepted in any case (`s` is `S`); an
 * empty `sortkey`, `sortkeytype` or `sortkeyvalue` means "no sort key"; an empty `parameters:` or
 * `dynamodb:` is an empty list; a key value of type `S` is taken as written, so `hashkeyvalue: 0012` is the
 * string `"0012"` (as the seed's Go decoder read it). Items listed twice are loaded once.
 */
import { readFile } from 'node:fs/promises';
import {
  canonicalNumber,
  ENV,
  encodeKey,
  formatDuration,
  type KeyAttributes,
  type KeyAttributeValue,
  MAX_PARAMETER_NAME_LENGTH,
  parseDuration,
} from '@lambda-cache/shared';
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  visit,
} from 'yaml';

export interface ParameterEntry {
  readonly name: string;
  /** `undefined`: the function's region. */
  readonly region: string | undefined;
  readonly decrypt: boolean;
  /** `undefined`: the default TTL from the environment. */
  readonly ttlMs: number | undefined;
}

export interface ParameterPathEntry {
  /** Starts with `/`. */
  readonly path: string;
  readonly recursive: boolean;
  readonly region: string | undefined;
  readonly decrypt: boolean;
  readonly ttlMs: number | undefined;
}

export interface TableEntry {
  readonly table: string;
  readonly region: string | undefined;
  readonly ttlMs: number | undefined;
  /** Canonical keys (`normalizeKey`), each listed once. */
  readonly keys: readonly KeyAttributes[];
}

export interface CacheConfig {
  /** The file it was read from, for messages. */
  readonly file: string;
  readonly parameters: readonly ParameterEntry[];
  readonly paths: readonly ParameterPathEntry[];
  readonly tables: readonly TableEntry[];
}

/** A config that cannot be used. `message` names the file, position, key path and what is valid. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'ConfigInvalid';
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  readonly keyPath?: string;
  /** The problem alone, without position. */
  readonly problem: string;

  constructor(
    file: string,
    problem: string,
    where: { line?: number; column?: number; keyPath?: string } = {},
    options?: { cause?: unknown },
  ) {
    const position = where.line === undefined ? '' : `:${where.line}:${where.column ?? 1}`;
    const path = where.keyPath ? `${where.keyPath}: ` : '';
    super(`${file}${position}: ${path}${problem}`, options);
    this.file = file;
    this.problem = problem;
    if (where.line !== undefined) this.line = where.line;
    if (where.column !== undefined) this.column = where.column;
    if (where.keyPath !== undefined) this.keyPath = where.keyPath;
  }
}

/** A config file larger than this is refused: it is a list of names, not data. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

const TOP_KEYS = ['parameters', 'dynamodb'] as const;
const GROUP_KEYS = ['region', 'names', 'path', 'recursive', 'ttl', 'decrypt'] as const;
const NAME_KEYS = ['name', 'ttl', 'decrypt'] as const;
const TABLE_KEYS = [
  'table',
  'region',
  'ttl',
  'hashkey',
  'hashkeytype',
  'hashkeyvalue',
  'sortkey',
  'sortkeytype',
  'sortkeyvalue',
  'keys',
] as const;
const KEY_TYPES = ['S', 'N', 'B'] as const;
type KeyType = (typeof KEY_TYPES)[number];

const REGION = /^[a-z]{2,}(?:-[a-z]+)+-\d{1,2}$/;
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const TABLE_ARN = /^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[A-Za-z0-9_.-]{3,255}$/;
const BAD_NAME_CHARS = /[\s\p{Cc}]/u;
/** DynamoDB's limit on an attribute name used in a key. */
const MAX_KEY_ATTRIBUTE_LENGTH = 255;

const EXPECTED = {
  region: 'an AWS region such as us-west-2, or no region for the function’s own',
  duration: 'a duration from 0s to 24h with a unit: ms, s, m or h, e.g. 30s, 5m, 1h30m',
  boolean: 'true or false',
  name: `a parameter name of 1 to ${MAX_PARAMETER_NAME_LENGTH} characters without spaces, e.g. /app/prod/db-url`,
  path: `a parameter path starting with /, e.g. /app/prod/, of at most ${MAX_PARAMETER_NAME_LENGTH} characters`,
  table: 'a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -) or a table ARN',
  attribute: `an attribute name of 1 to ${MAX_KEY_ATTRIBUTE_LENGTH} characters`,
  keyType: 'S, N or B (string, number, binary)',
  S: 'a non-empty string',
  N: 'a number, as a YAML number or a numeric string, of at most 38 significant digits',
  B: 'padded base64, e.g. AQID',
} as const;

/** Walks the YAML tree with the file and positions at hand, so every failure can say where it is. */
class Reader {
  constructor(
    readonly file: string,
    readonly doc: Document,
    readonly lines: LineCounter,
  ) {}

  /** The collection being read: the position of last resort, for a value YAML gave no position. */
  #context: Node | null = null;

  fail(node: Node | null | undefined, keyPath: string, problem: string, expected: string): never {
    const offset = node?.range?.[0] ?? this.#context?.range?.[0] ?? 0;
    const pos = this.lines.linePos(offset);
    throw new ConfigError(this.file, `${problem} (expected ${expected})`, {
      line: Math.max(1, pos.line),
      column: Math.max(1, pos.col),
      keyPath: keyPath || '(top level)',
    });
  }

  line(node: Node | null | undefined): number | undefined {
    const offset = node?.range?.[0];
    return offset === undefined ? undefined : this.lines.linePos(offset).line;
  }

  /** The node an alias points to, so `*anchor` works wherever its target would. */
  resolve(node: unknown): Node | null {
    if (isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? null;
    return (node as Node | null | undefined) ?? null;
  }

  /** A mapping's pairs by key; unknown keys fail, naming the valid ones. */
  fields(node: Node, path: string, allowed: readonly string[]): Fields {
    if (!isMap(node)) this.fail(node, path, `is ${describe(node)}`, `a mapping with ${allowed.join(', ')}`);
    this.#context = node;
    const out: Fields = new Map();
    for (const pair of node.items) {
      const keyNode = this.resolve(pair.key);
      if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === 'object') {
        this.fail(keyNode, path, 'has a key that is not a plain name', `one of ${allowed.join(', ')}`);
      }
      const name = scalarText(keyNode);
      const keyPath = join(path, name);
      if (!allowed.includes(name)) {
        const near = allowed.find((a) => a.toLowerCase() === name.toLowerCase());
        const hint = near ? `unknown key, did you mean ${near}?` : 'unknown key';
        this.fail(keyNode, keyPath, hint, `one of ${allowed.join(', ')}`);
      }
      out.set(name, { key: keyNode, value: this.resolve(pair.value), path: keyPath });
    }
    return out;
  }

  /** A list's items; an empty value is an empty list. */
  list(field: Field | undefined, expected: string): Array<{ node: Node | null; path: string }> {
    if (!field || isNull(field.value)) return [];
    const node = field.value;
    if (!isSeq(node))
      this.fail(node ?? field.key, field.path, `is ${describe(node)}`, `a list of ${expected}`);
    this.#context = node;
    return node.items.map((item, i) => ({ node: this.resolve(item), path: `${field.path}[${i}]` }));
  }

  /** A scalar as written (`0012` stays `0012`), or `undefined` when empty or absent. */
  text(field: Field | undefined, expected: string): string | undefined {
    if (!field || isNull(field.value)) return undefined;
    const node = field.value;
    if (!isScalar(node)) this.fail(node ?? field.key, field.path, `is ${describe(node)}`, expected);
    return scalarText(node);
  }

  required(fields: Fields, mapNode: Node, path: string, name: string, expected: string): string {
    const value = this.text(fields.get(name), expected);
    if (value === undefined || value === '') {
      const field = fields.get(name);
      const problem = field ? 'is empty' : `misses ${name}`;
      this.fail(field?.value ?? field?.key ?? mapNode, field ? field.path : path, problem, expected);
    }
    return value;
  }

  bool(field: Field | undefined): boolean | undefined {
    if (!field || isNull(field.value)) return undefined;
    const node = field.value;
    if (!isScalar(node) || typeof node.value !== 'boolean') {
      this.fail(node ?? field.key, field.path, `is ${describe(node)}`, EXPECTED.boolean);
    }
    return node.value;
  }

  duration(field: Field | undefined): number | undefined {
    const text = this.text(field, EXPECTED.duration);
    if (text === undefined || !field) return undefined;
    try {
      return parseDuration(text);
    } catch {
      return this.fail(field.value, field.path, `${quote(text)} is not a valid duration`, EXPECTED.duration);
    }
  }

  region(field: Field | undefined): string | undefined {
    const text = this.text(field, EXPECTED.region);
    if (text === undefined || text === '' || !field) return undefined;
    if (!REGION.test(text))
      this.fail(field.value, field.path, `${quote(text)} is not a region`, EXPECTED.region);
    return text;
  }
}

interface Field {
  readonly key: Node;
  readonly value: Node | null;
  readonly path: string;
}
type Fields = Map<string, Field>;

const PLAIN_SEGMENT = /^[A-Za-z0-9_$-]+$/;

/** `dynamodb[0].table`; a name that is not plain is written as a JSON string: `keys[0]["my id"]`. */
function join(path: string, name: string): string {
  if (name.length > 64 || !PLAIN_SEGMENT.test(name)) return `${path}[${quote(name)}]`;
  return path ? `${path}.${name}` : name;
}

/** A user's text in a message: JSON-quoted (so newlines and quotes stay visible) and shortened. */
function quote(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}

function isNull(node: Node | null): boolean {
  return node === null || (isScalar(node) && node.value === null);
}

function scalarText(node: Node): string {
  const value = (node as { value?: unknown }).value;
  if (typeof value === 'string') return value;
  const source = (node as { source?: string }).source;
  return source ?? String(value);
}

function describe(node: Node | null): string {
  if (node === null) return 'empty';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'empty';
    if (typeof v === 'boolean') return `a boolean (${v})`;
    if (typeof v === 'number' || typeof v === 'bigint') return `a number (${scalarText(node)})`;
    return 'a string';
  }
  return 'not a plain value';
}

/** Parses the text of a config file. Throws {@link ConfigError}; never returns a partial config. */
export function parseConfig(text: string, file: string): CacheConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
    version: '1.2',
  });
  const syntax = doc.errors[0];
  if (syntax) {
    const problem = syntax.message.replace(/[.:\s]+$/, '');
    // YAML notices an unclosed `[` or `{` only where the collection ends, often the end of the file; the
    // line to fix is the one that opened it.
    const unclosed = unclosedFlow(doc, text, syntax.pos[0]);
    const pos = lines.linePos(unclosed?.start ?? syntax.pos[0]);
    const expected = unclosed
      ? `valid YAML: a closing ${unclosed.close} for the ${unclosed.open} opened here`
      : 'valid YAML';
    throw new ConfigError(file, `${problem} (expected ${expected})`, {
      line: Math.max(1, pos.line),
      column: Math.max(1, pos.col),
    });
  }
  const r = new Reader(file, doc, lines);
  const root = r.resolve(doc.contents);
  const parameters: ParameterEntry[] = [];
  const paths: ParameterPathEntry[] = [];
  const tables: TableEntry[] = [];
  if (!isNull(root)) {
    const top = r.fields(root as Node, '', TOP_KEYS);
    readParameters(r, top.get('parameters'), parameters, paths);
    readTables(r, top.get('dynamodb'), tables);
  }
  return deepFreeze({ file, parameters, paths, tables });
}

/** The innermost flow collection (`[…]`, `{…}`) that ends where a syntax error was found, if any. */
function unclosedFlow(
  doc: Document,
  text: string,
  offset: number,
): { start: number; open: string; close: string } | undefined {
  let found: { start: number; open: string; close: string } | undefined;
  visit(doc, {
    Collection(_key, node) {
      const range = node.range;
      if (!node.flow || !range || range[2] !== offset || range[0] >= offset) return;
      if (found && found.start > range[0]) return;
      const [open, close] = isSeq(node) ? ['[', ']'] : ['{', '}'];
      if (text.slice(range[0], range[1]).trimEnd().endsWith(close)) return;
      found = { start: range[0], open, close };
    },
  });
  return found;
}

interface Seen {
  readonly ttlMs: number | undefined;
  readonly line: number | undefined;
}

function sameTtl(
  r: Reader,
  seen: Seen,
  ttlMs: number | undefined,
  node: Node | null,
  path: string,
  what: string,
) {
  if (seen.ttlMs === ttlMs) return;
  const at = seen.line === undefined ? 'earlier' : `at line ${seen.line}`;
  const ttl = (ms: number | undefined) =>
    ms === undefined ? 'the default ttl' : `ttl ${formatDuration(ms)}`;
  r.fail(
    node,
    path,
    `${what} is also listed ${at} with ${ttl(seen.ttlMs)}, here with ${ttl(ttlMs)}`,
    'one ttl',
  );
}

function readParameters(
  r: Reader,
  field: Field | undefined,
  parameters: ParameterEntry[],
  paths: ParameterPathEntry[],
): void {
  const seenNames = new Map<string, Seen>();
  const seenPaths = new Map<string, Seen>();
  // The seed's first format had a single group, `parameters: { region, names }`, not a list of them.
  const groups =
    field && isMap(field.value)
      ? [{ node: field.value as Node | null, path: field.path }]
      : r.list(field, 'groups with region, names, path, ttl, decrypt');
  for (const { node: groupNode, path } of groups) {
    if (isNull(groupNode)) r.fail(groupNode, path, 'is empty', `a mapping with ${GROUP_KEYS.join(', ')}`);
    const group = r.fields(groupNode as Node, path, GROUP_KEYS);
    const region = r.region(group.get('region'));
    const ttlMs = r.duration(group.get('ttl'));
    const decrypt = r.bool(group.get('decrypt')) ?? true;
    const recursiveField = group.get('recursive');
    const recursive = r.bool(recursiveField);
    const namesField = group.get('names');
    const pathField = group.get('path');
    if (!namesField && !pathField) {
      r.fail(
        groupNode,
        path,
        'has neither names nor path',
        'names: a list of parameter names, and/or path: /prefix/',
      );
    }
    if (recursiveField && recursive !== undefined && !pathField) {
      r.fail(
        recursiveField.key,
        recursiveField.path,
        'applies only to a path',
        'path next to it, or no recursive',
      );
    }

    for (const item of r.list(namesField, 'parameter names, or { name, ttl, decrypt } mappings')) {
      let entry: ParameterEntry;
      let nameNode: Node | null = item.node;
      let namePath = item.path;
      if (isMap(item.node)) {
        const fields = r.fields(item.node, item.path, NAME_KEYS);
        const name = r.required(fields, item.node, item.path, 'name', EXPECTED.name);
        nameNode = fields.get('name')?.value ?? item.node;
        namePath = join(item.path, 'name');
        entry = {
          name,
          region,
          decrypt: r.bool(fields.get('decrypt')) ?? decrypt,
          ttlMs: r.duration(fields.get('ttl')) ?? ttlMs,
        };
      } else {
        if (isNull(item.node)) r.fail(item.node, item.path, 'is empty', EXPECTED.name);
        if (!isScalar(item.node)) r.fail(item.node, item.path, `is ${describe(item.node)}`, EXPECTED.name);
        entry = { name: scalarText(item.node), region, decrypt, ttlMs };
      }
      checkName(r, entry.name, nameNode, namePath);
      const id = JSON.stringify([entry.name, entry.region ?? null, entry.decrypt]);
      const seen = seenNames.get(id);
      if (seen) {
        sameTtl(r, seen, entry.ttlMs, nameNode, namePath, `parameter ${entry.name}`);
        continue;
      }
      seenNames.set(id, { ttlMs: entry.ttlMs, line: r.line(nameNode) });
      parameters.push(entry);
    }

    if (pathField) {
      const prefix = r.text(pathField, EXPECTED.path);
      if (
        prefix === undefined ||
        !prefix.startsWith('/') ||
        prefix.length > MAX_PARAMETER_NAME_LENGTH ||
        BAD_NAME_CHARS.test(prefix)
      ) {
        const problem =
          prefix === undefined || prefix === '' ? 'is empty' : `${quote(prefix)} is not a parameter path`;
        r.fail(pathField.value ?? pathField.key, pathField.path, problem, EXPECTED.path);
      }
      const entry: ParameterPathEntry = {
        path: prefix,
        recursive: recursive ?? false,
        region,
        decrypt,
        ttlMs,
      };
      const id = JSON.stringify([entry.path, entry.recursive, entry.region ?? null, entry.decrypt]);
      const seen = seenPaths.get(id);
      if (seen) {
        sameTtl(r, seen, entry.ttlMs, pathField.value, pathField.path, `path ${entry.path}`);
        continue;
      }
      seenPaths.set(id, { ttlMs, line: r.line(pathField.value) });
      paths.push(entry);
    }
  }
}

function checkName(r: Reader, name: string, node: Node | null, path: string): void {
  if (name === '') r.fail(node, path, 'is empty', EXPECTED.name);
  if (name.length > MAX_PARAMETER_NAME_LENGTH) {
    r.fail(node, path, `is ${name.length} characters long`, EXPECTED.name);
  }
  if (BAD_NAME_CHARS.test(name))
    r.fail(node, path, `${quote(name)} contains a space or control character`, EXPECTED.name);
}

interface Schema {
  readonly hashkey: string;
  readonly hashType: KeyType;
  readonly sortkey: string | undefined;
  readonly sortType: KeyType | undefined;
}

function readTables(r: Reader, field: Field | undefined, tables: TableEntry[]): void {
  const seenKeys = new Map<string, Seen>();
  const schemas = new Map<string, { schema: Schema; line: number | undefined }>();
  for (const { node, path } of r.list(field, 'tables with table, hashkey, hashkeytype, hashkeyvalue, …')) {
    if (isNull(node)) r.fail(node, path, 'is empty', `a mapping with ${TABLE_KEYS.join(', ')}`);
    const f = r.fields(node as Node, path, TABLE_KEYS);
    const tableNode = node as Node;
    const table = r.required(f, tableNode, path, 'table', EXPECTED.table);
    if (!TABLE_NAME.test(table) && !TABLE_ARN.test(table)) {
      r.fail(
        f.get('table')?.value,
        join(path, 'table'),
        `${quote(table)} is not a table name`,
        EXPECTED.table,
      );
    }
    const region = r.region(f.get('region'));
    const ttlMs = r.duration(f.get('ttl'));
    const schema = readSchema(r, f, tableNode, path);

    const schemaId = JSON.stringify([table, region ?? null]);
    const known = schemas.get(schemaId);
    if (!known) {
      schemas.set(schemaId, { schema, line: r.line(tableNode) });
    } else if (
      known.schema.hashkey !== schema.hashkey ||
      known.schema.hashType !== schema.hashType ||
      known.schema.sortkey !== schema.sortkey ||
      known.schema.sortType !== schema.sortType
    ) {
      r.fail(
        f.get('hashkey')?.key ?? tableNode,
        join(path, 'hashkey'),
        `table ${table} has another key schema at line ${known.line ?? '?'}`,
        `the same hashkey, sortkey and types as there (${describeSchema(known.schema)})`,
      );
    }

    const keys: Array<{ key: KeyAttributes; node: Node | null; path: string }> = [];
    const hashValue = f.get('hashkeyvalue');
    const sortValue = f.get('sortkeyvalue');
    const keysField = f.get('keys');
    const hasHashValue = hashValue !== undefined && !isNull(hashValue.value);
    const hasSortValue = sortValue !== undefined && !isNull(sortValue.value);
    if (hasSortValue && !schema.sortkey) {
      r.fail(sortValue.key, sortValue.path, 'is given without sortkey', 'sortkey and sortkeytype next to it');
    }
    if (hasHashValue || hasSortValue) {
      if (!hasHashValue) {
        r.fail(
          sortValue?.key,
          join(path, 'sortkeyvalue'),
          'is given without hashkeyvalue',
          'hashkeyvalue too',
        );
      }
      if (schema.sortkey && !hasSortValue) {
        r.fail(
          hashValue.key,
          join(path, 'hashkeyvalue'),
          `is given without sortkeyvalue, but the table has sort key ${schema.sortkey}`,
          'sortkeyvalue too, or keys: a list of { hashkey: value, sortkey: value }',
        );
      }
      const key: Record<string, KeyAttributeValue> = {
        [schema.hashkey]: keyValue(r, hashValue.value, hashValue.path, schema.hashType),
      };
      if (schema.sortkey && schema.sortType && sortValue) {
        define(key, schema.sortkey, keyValue(r, sortValue.value, sortValue.path, schema.sortType));
      }
      keys.push({ key: canonical(key), node: hashValue.value, path: hashValue.path });
    } else if (!keysField) {
      r.fail(
        tableNode,
        path,
        'has neither hashkeyvalue nor keys',
        'hashkeyvalue (and sortkeyvalue), or keys: a list of key mappings',
      );
    }
    const attributes = schema.sortkey ? [schema.hashkey, schema.sortkey] : [schema.hashkey];
    const expectedKey = `a mapping of ${attributes.join(' and ')}`;
    for (const item of r.list(keysField, `key mappings of ${attributes.join(' and ')}`)) {
      if (!isMap(item.node)) r.fail(item.node, item.path, `is ${describe(item.node)}`, expectedKey);
      const values = r.fields(item.node, item.path, attributes);
      const key: Record<string, KeyAttributeValue> = {};
      for (const attribute of attributes) {
        const value = values.get(attribute);
        if (!value) r.fail(item.node, item.path, `misses the key attribute ${attribute}`, expectedKey);
        const type = attribute === schema.hashkey ? schema.hashType : (schema.sortType as KeyType);
        define(key, attribute, keyValue(r, value.value, value.path, type));
      }
      keys.push({ key: canonical(key), node: item.node, path: item.path });
    }

    const unique: KeyAttributes[] = [];
    for (const k of keys) {
      const id = JSON.stringify([table, region ?? null, encodeKey(k.key)]);
      const seen = seenKeys.get(id);
      if (seen) {
        sameTtl(r, seen, ttlMs, k.node, k.path, `this key of ${table}`);
        continue;
      }
      seenKeys.set(id, { ttlMs, line: r.line(k.node) });
      unique.push(k.key);
    }
    if (unique.length > 0) tables.push({ table, region, ttlMs, keys: unique });
  }
}

function describeSchema(s: Schema): string {
  const hash = `hashkey ${s.hashkey} ${s.hashType}`;
  return s.sortkey ? `${hash}, sortkey ${s.sortkey} ${s.sortType}` : hash;
}

function readSchema(r: Reader, f: Fields, node: Node, path: string): Schema {
  const hashkey = r.required(f, node, path, 'hashkey', EXPECTED.attribute);
  checkAttribute(r, f.get('hashkey'), hashkey);
  const hashType = keyType(r, f, node, path, 'hashkeytype');
  const sortField = f.get('sortkey');
  const sortkey = r.text(sortField, EXPECTED.attribute) || undefined;
  const sortTypeField = f.get('sortkeytype');
  if (!sortkey) {
    const typeText = r.text(sortTypeField, EXPECTED.keyType);
    if (sortTypeField && typeText) {
      r.fail(sortTypeField.key, sortTypeField.path, 'is given without sortkey', 'sortkey next to it');
    }
    return { hashkey, hashType, sortkey: undefined, sortType: undefined };
  }
  checkAttribute(r, sortField, sortkey);
  if (sortkey === hashkey) {
    r.fail(
      sortField?.value,
      sortField?.path ?? path,
      `is the same attribute as hashkey`,
      'two different names',
    );
  }
  const sortType = keyType(r, f, node, path, 'sortkeytype');
  return { hashkey, hashType, sortkey, sortType };
}

function checkAttribute(r: Reader, field: Field | undefined, name: string): void {
  if (name.length > MAX_KEY_ATTRIBUTE_LENGTH || BAD_NAME_CHARS.test(name.replace(/ /g, ''))) {
    r.fail(field?.value, field?.path ?? '', `${quote(name)} is not an attribute name`, EXPECTED.attribute);
  }
}

function keyType(
  r: Reader,
  f: Fields,
  node: Node,
  path: string,
  name: 'hashkeytype' | 'sortkeytype',
): KeyType {
  const field = f.get(name);
  const text = r.text(field, EXPECTED.keyType);
  if (text === undefined || text === '') {
    if (field) r.fail(field.value ?? field.key, field.path, 'is empty', EXPECTED.keyType);
    // Point at the attribute whose type is missing: that is the line to fix.
    const owner = f.get(name === 'hashkeytype' ? 'hashkey' : 'sortkey');
    r.fail(
      owner?.key ?? node,
      owner?.path ?? path,
      `is given without ${name}`,
      `${name}: ${EXPECTED.keyType}`,
    );
  }
  const upper = text.toUpperCase();
  if (!(KEY_TYPES as readonly string[]).includes(upper)) {
    r.fail(field?.value, field?.path ?? path, `${quote(text)} is not a key type`, EXPECTED.keyType);
  }
  return upper as KeyType;
}

/** One key attribute value, typed by its declared type; the node's text as written for S and N. */
function keyValue(r: Reader, node: Node | null, path: string, type: KeyType): KeyAttributeValue {
  if (isNull(node)) r.fail(node, path, 'is empty', EXPECTED[type]);
  if (!isScalar(node)) r.fail(node, path, `is ${describe(node)}`, EXPECTED[type]);
  const raw = node.value;
  if (type !== 'S' && typeof raw === 'boolean') r.fail(node, path, `is ${describe(node)}`, EXPECTED[type]);
  const text = scalarText(node);
  switch (type) {
    case 'S':
      if (text === '') r.fail(node, path, 'is an empty string, which DynamoDB refuses in keys', EXPECTED.S);
      return { S: text };
    case 'N':
      try {
        return { N: canonicalNumber(text) };
      } catch (err) {
        return r.fail(node, path, (err as Error).message, EXPECTED.N);
      }
    case 'B':
      if (!isBase64(text)) r.fail(node, path, `${quote(text)} is not base64`, EXPECTED.B);
      return { B: text };
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
function isBase64(text: string): boolean {
  return text !== '' && BASE64.test(text);
}

/** Attributes sorted by name, as `normalizeKey` would return them; the values are already canonical. */
function canonical(key: Record<string, KeyAttributeValue>): KeyAttributes {
  const out: Record<string, KeyAttributeValue> = {};
  for (const name of Object.keys(key).sort()) define(out, name, key[name] as KeyAttributeValue);
  return out;
}

/** Sets an own property even when the attribute is named `__proto__` (assignment would not). */
function define(target: Record<string, KeyAttributeValue>, name: string, value: KeyAttributeValue): void {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function emptyConfig(file: string): CacheConfig {
  return deepFreeze({ file, parameters: [], paths: [], tables: [] });
}

/**
 * Reads and parses a config file. A missing file is an empty config, or with `required` a
 * {@link ConfigError}; an unreadable or oversized one is always an error.
 *
 * @example
 * const config = await loadConfig('/var/task/config.yaml', { required: false });
 */
export async function loadConfig(file: string, opts: { required: boolean }): Promise<CacheConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      if (!opts.required) return emptyConfig(file);
      throw new ConfigError(file, `not found (expected a YAML file there, or ${ENV.config} naming one)`);
    }
    const problem = code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? 'unknown error'})`;
    throw new ConfigError(file, `${problem} (expected a readable YAML file)`, {}, { cause: err });
  }
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) {
    throw new ConfigError(
      file,
      `is larger than ${MAX_CONFIG_BYTES} bytes (expected a list of items to cache)`,
    );
  }
  return parseConfig(text, file);
}

/**
 * One line for the startup log: counts, regions and TTLs; never names or values.
 *
 * @example
 * describeConfig(config); // "/var/task/config.yaml: 2 parameters, 0 paths, 1 item in 1 table, regions us-west-2 default, ttls default"
 */
export function describeConfig(c: CacheConfig): string {
  const items = c.tables.reduce((n, t) => n + t.keys.length, 0);
  if (c.parameters.length + c.paths.length + items === 0) {
    return `${c.file}: nothing to prefetch; every item is read through on demand`;
  }
  const all = [...c.parameters, ...c.paths, ...c.tables];
  const explicit = <T>(values: ReadonlyArray<T | undefined>): T[] =>
    [...new Set(values)].filter((v): v is T => v !== undefined);
  const usesDefault = (values: ReadonlyArray<unknown>) => (values.includes(undefined) ? ['default'] : []);
  const regionList = all.map((e) => e.region);
  const ttlList = all.map((e) => e.ttlMs);
  const regions = [...explicit(regionList).sort(), ...usesDefault(regionList)];
  const ttls = [
    ...explicit(ttlList)
      .sort((a, b) => a - b)
      .map(formatDuration),
    ...usesDefault(ttlList),
  ];
  const tables = new Set(c.tables.map((t) => t.table)).size;
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  return [
    `${c.file}: ${plural(c.parameters.length, 'parameter', 'parameters')}`,
    plural(c.paths.length, 'path', 'paths'),
    `${plural(items, 'item', 'items')} in ${plural(tables, 'table', 'tables')}`,
    `regions ${regions.join(' ')}`,
    `ttls ${ttls.join(' ')}`,
  ].join(', ');
}
