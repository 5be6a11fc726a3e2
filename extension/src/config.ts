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
 *   `{ pKey: pKey1, sKey: 2 }`, instead of or besides `hashkeyvalue`/`sortkeyvalue`. With `keys:`, the
 *   key's attribute names and types may be left out: the key objects name the attributes, and a YAML
 *   string is an `S`, a YAML number an `N` (a declared `hashkeytype`/`sortkeytype` still wins).
 *
 * Leniencies kept for configs written for the seed: `parameters:` may be a single group (a mapping, as in
 * the seed's first version) instead of a list of groups; key types are accepted in any case (`s` is `S`); an
 * empty `sortkey`, `sortkeytype` or `sortkeyvalue` means "no sort key"; an empty `parameters:` or
 * `dynamodb:` is an empty list; a key value of type `S` is taken as written, so `hashkeyvalue: 0012` is the
 * string `"0012"` (as the seed's Go decoder read it). Items listed twice are loaded once.
 *
 * Bounds, so that no config can hold init past Lambda's 10 s: the file is read only if it is a regular file
 * of at most {@link MAX_CONFIG_BYTES}, and once YAML aliases are expanded it may list at most
 * {@link MAX_CONFIG_ENTRIES} entries (names, keys, groups and tables, repeats included).
 *
 * Two parsers, one reader: a file of plain block YAML (mappings, lists, one-line scalars, comments: what
 * config files are written in) is read by `simple-yaml.ts`; anything else, and every file that fails,
 * by the full `yaml` library (`config-yaml.ts`), which the extension then loads on demand. Every message
 * comes from that second pass, so it is the same whichever parser read the file first. Importing and
 * running `yaml` for the seed's config cost about 11 ms of CPU at every cold start.
 */
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import {
  canonicalNumber,
  ENV,
  formatDuration,
  type KeyAttributes,
  type KeyAttributeValue,
  MAX_PARAMETER_NAME_LENGTH,
  parseDuration,
} from '@lambda-cache/shared';
import type { Alias, Node } from 'yaml';
import { fs } from './builtins.js';
import { ConfigInvalidError } from './errors.js';
import { isAlias, isMap, isScalar, isSeq, parseSimpleYaml } from './simple-yaml.js';

export { isMap, isScalar } from './simple-yaml.js';

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

export type KeyType = 'S' | 'N' | 'B';

/** The key attributes of a configured table, declared or taken from its key objects. */
export interface TableKeySchema {
  readonly table: string;
  readonly region: string | undefined;
  /** The partition key first when `hashkey` names it; otherwise in the order the first key wrote them. */
  readonly attributes: ReadonlyArray<{ readonly name: string; readonly type: KeyType }>;
}

export interface CacheConfig {
  /** The file it was read from, for messages. */
  readonly file: string;
  /** `false` when the file did not exist and was not required: the config is then empty. */
  readonly found: boolean;
  readonly parameters: readonly ParameterEntry[];
  readonly paths: readonly ParameterPathEntry[];
  readonly tables: readonly TableEntry[];
  /** One per table and region, including tables whose `keys:` list is empty. */
  readonly keySchemas: readonly TableKeySchema[];
  /** What each source's own section held, by section key (see {@link ConfigSection}, {@link sectionOf}). */
  readonly sections: ReadonlyMap<string, unknown>;
}

/**
 * A top-level section of `config.yaml` that a source reads itself (`secrets:`, `appconfig:`), with the
 * same {@link Reader} and so the same messages as the rest of the file.
 */
export interface ConfigSection<C> {
  /** The top-level key. */
  readonly key: string;
  /** The section's value; `field` is `undefined` when the file has none. Fails with `r.fail`. */
  read(r: Reader, field: Field | undefined): C;
  /** For the start log: counts, never names or values, e.g. `2 secrets`. */
  describe(value: C): string;
}

/** What `section` read from `config` (what it reads from nothing if the config was parsed without it). */
export function sectionOf<C>(config: CacheConfig, section: ConfigSection<C>): C {
  if (config.sections.has(section.key)) return config.sections.get(section.key) as C;
  return section.read(new Reader(config.file, EMPTY_SOURCE), undefined);
}

/** A config that cannot be used. `message` names the file, position, key path and what is valid. */
export class ConfigError extends ConfigInvalidError {
  override readonly name = 'ConfigError';
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

/** A config file larger than this (1 MiB, about 37 000 names) is refused: it is a list of names, not data. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * The most entries (list items: names, keys, groups, tables) a config may list once YAML aliases are
 * expanded, repeats included. A 1 MiB file without aliases stays well under it; aliases of long lists
 * could otherwise make a 96 KB file expand into millions of entries and hold init for minutes.
 */
export const MAX_CONFIG_ENTRIES = 100_000;

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
const KEY_TYPES: readonly KeyType[] = ['S', 'N', 'B'];

const REGION = /^[a-z]{2,}(?:-[a-z]+)+-\d{1,2}$/;
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const TABLE_ARN = /^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[A-Za-z0-9_.-]{3,255}$/;
const BAD_NAME_CHARS = /[\s\p{Cc}]/u;
/** DynamoDB's limit on an attribute name used in a key. */
const MAX_KEY_ATTRIBUTE_LENGTH = 255;

export const EXPECTED = {
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
  file: `a YAML file of at most ${MAX_CONFIG_BYTES} bytes`,
} as const;

/**
 * A key path such as `dynamodb[0].keys[2].id`, turned into text only when a message needs it: a valid
 * config never builds one, and a config of the maximum size has hundreds of thousands of them.
 */
export class KeyPath {
  constructor(
    readonly parent: KeyPath | undefined,
    readonly segment: string | number,
  ) {}

  toString(): string {
    const parent = this.parent === undefined ? '' : this.parent.toString();
    if (typeof this.segment === 'number') return `${parent}[${this.segment}]`;
    return join(parent, this.segment);
  }
}

/** `undefined` is the top level. */
export type Path = KeyPath | undefined;

export const at = (path: Path, segment: string | number): KeyPath => new KeyPath(path, segment);

const PLAIN_SEGMENT = /^[A-Za-z0-9_$-]+$/;

/** `dynamodb[0].table`; a name that is not plain is written as a JSON string: `keys[0]["my id"]`. */
function join(path: string, name: string): string {
  if (name.length > 64 || !PLAIN_SEGMENT.test(name)) return `${path}[${quote(name)}]`;
  return path ? `${path}.${name}` : name;
}

export interface Field {
  readonly key: Node;
  /** The value, aliases resolved. */
  readonly value: Node | null;
  /** The value as written: the alias itself when it is one, so a message can point at it. */
  readonly written: Node | null;
  readonly path: KeyPath;
}
export type Fields = Map<string, Field>;

/** A list item: its node (aliases resolved), and itself as its path, so a list costs one object an item. */
export class Item extends KeyPath {
  constructor(
    parent: KeyPath | undefined,
    segment: string | number,
    readonly node: Node | null,
  ) {
    super(parent, segment);
  }

  get path(): KeyPath {
    return this;
  }
}

/** Where an offset of the file is: line and column from 1 (yaml's `LineCounter` is one). */
export interface LinePositions {
  linePos(offset: number): { line: number; col: number };
}

/** A parsed file as the {@link Reader} walks it, from either parser. */
export interface YamlSource {
  /** The root node; `null` for a file of only comments and blank lines. */
  readonly contents: unknown;
  readonly lines: LinePositions;
  /** Every alias with the node it stands for (a file with no aliases need not say). */
  readonly aliases?: () => Map<Alias, Node>;
}

/** Line starts of `text`, found only when a message needs a position. */
class LineIndex implements LinePositions {
  #starts: number[] | undefined;
  constructor(private readonly text: string) {}

  linePos(offset: number): { line: number; col: number } {
    if (this.#starts === undefined) {
      this.#starts = [0];
      for (let i = this.text.indexOf('\n'); i !== -1; i = this.text.indexOf('\n', i + 1))
        this.#starts.push(i + 1);
    }
    const starts = this.#starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - (starts[lo] as number) + 1 };
  }
}

const EMPTY_SOURCE: YamlSource = { contents: null, lines: new LineIndex('') };

/** Walks the YAML tree with the file and positions at hand, so every failure can say where it is. */
export class Reader {
  constructor(
    readonly file: string,
    readonly source: YamlSource,
  ) {}

  get lines(): LinePositions {
    return this.source.lines;
  }

  /** The collection being read: the position of last resort, for a value YAML gave no position. */
  #context: Node | null = null;
  /** Every alias and the node it stands for, indexed on first use. */
  #aliases: Map<Alias, Node> | undefined;
  /** List items read so far, aliases expanded: the bound on the work a config can ask for. */
  #entries = 0;

  fail(node: Node | null | undefined, keyPath: Path | string, problem: string, expected: string): never {
    const offset = node?.range?.[0] ?? this.#context?.range?.[0] ?? 0;
    const pos = this.lines.linePos(offset);
    throw new ConfigError(this.file, `${problem} (expected ${expected})`, {
      line: Math.max(1, pos.line),
      column: Math.max(1, pos.col),
      keyPath: String(keyPath ?? '') || '(top level)',
    });
  }

  line(node: Node | null | undefined): number | undefined {
    const offset = node?.range?.[0];
    return offset === undefined ? undefined : this.lines.linePos(offset).line;
  }

  /**
   * The node an alias points to, so `*anchor` works wherever its target would. `Alias.resolve(doc)`
   * walks the whole document on every call, which made a config with many aliases quadratic (minutes for
   * a few thousand `ttl: *t`); the index is built in one walk instead.
   */
  resolve(node: unknown, path: Path): Node | null {
    if (!isAlias(node)) return (node as Node | null | undefined) ?? null;
    this.#aliases ??= this.source.aliases?.() ?? new Map();
    const target = this.#aliases.get(node);
    if (target === undefined) {
      this.fail(
        node,
        path,
        `refers to &${node.source}, which is not defined before it`,
        `an anchor &${node.source} earlier in the file`,
      );
    }
    return target;
  }

  /**
   * A mapping's pairs by key; unknown keys fail, naming the valid ones. With `allowed` undefined any
   * plain key is taken (the attributes of a key object whose table declares none).
   */
  fields(node: Node, path: Path, allowed: readonly string[] | undefined): Fields {
    const valid = allowed ? allowed.join(', ') : 'attribute names';
    if (!isMap(node)) this.fail(node, path, `is ${describe(node)}`, `a mapping with ${valid}`);
    this.#context = node;
    const out: Fields = new Map();
    for (const pair of node.items) {
      const keyNode = this.resolve(pair.key, path);
      if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === 'object') {
        this.fail(keyNode, path, 'has a key that is not a plain name', allowed ? `one of ${valid}` : valid);
      }
      const name = scalarText(keyNode);
      const keyPath = at(path, name);
      if (allowed && !allowed.includes(name)) {
        const near = allowed.find((a) => a.toLowerCase() === name.toLowerCase());
        const hint = near ? `unknown key, did you mean ${near}?` : 'unknown key';
        this.fail(keyNode, keyPath, hint, `one of ${valid}`);
      }
      const written = (pair.value as Node | null | undefined) ?? null;
      out.set(name, { key: keyNode, value: this.resolve(written, keyPath), written, path: keyPath });
    }
    return out;
  }

  /** A list's items; an empty value is an empty list. Counts them against {@link MAX_CONFIG_ENTRIES}. */
  list(field: Field | undefined, expected: string): Item[] {
    if (!field || isNull(field.value)) return [];
    const node = field.value;
    if (!isSeq(node))
      this.fail(node ?? field.key, field.path, `is ${describe(node)}`, `a list of ${expected}`);
    this.count(node.items.length, field.written ?? node, field.path);
    this.#context = node;
    const items: Item[] = new Array(node.items.length);
    for (let i = 0; i < node.items.length; i++) {
      const written = node.items[i];
      const resolved = isAlias(written) ? this.resolve(written, at(field.path, i)) : (written as Node | null);
      items[i] = new Item(field.path, i, resolved ?? null);
    }
    return items;
  }

  count(entries: number, node: Node | null, path: Path): void {
    this.#entries += entries;
    if (this.#entries > MAX_CONFIG_ENTRIES) {
      this.fail(
        node,
        path,
        `makes the config list more than ${MAX_CONFIG_ENTRIES} entries once aliases are expanded`,
        `at most ${MAX_CONFIG_ENTRIES} names, keys, groups and tables in all, counting each alias as the entries it repeats`,
      );
    }
  }

  /** A scalar as written (`0012` stays `0012`), or `undefined` when empty or absent. */
  text(field: Field | undefined, expected: string): string | undefined {
    if (!field || isNull(field.value)) return undefined;
    const node = field.value;
    if (!isScalar(node)) this.fail(node ?? field.key, field.path, `is ${describe(node)}`, expected);
    return scalarText(node);
  }

  required(fields: Fields, mapNode: Node, path: Path, name: string, expected: string): string {
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

/** A user's text in a message: JSON-quoted (so newlines and quotes stay visible) and shortened. */
export function quote(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}

export function isNull(node: Node | null): boolean {
  return node === null || (isScalar(node) && node.value === null);
}

export function scalarText(node: Node): string {
  const value = (node as { value?: unknown }).value;
  if (typeof value === 'string') return value;
  const source = (node as { source?: string }).source;
  return source ?? String(value);
}

export function describe(node: Node | null): string {
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

/**
 * The config in `text` read by the fast parser, or `undefined` when that cannot read it (YAML beyond
 * plain block mappings and lists) or finds it invalid: the full parser then reads it, for its message.
 */
export function readSimpleConfig(
  text: string,
  file: string,
  found: boolean,
  sections: ReadonlyArray<ConfigSection<unknown>>,
): CacheConfig | undefined {
  const doc = parseSimpleYaml(text);
  if (!doc) return undefined;
  try {
    return buildConfig(
      new Reader(file, { contents: doc.contents, lines: new LineIndex(text) }),
      found,
      sections,
    );
  } catch (err) {
    if (err instanceof ConfigError) return undefined;
    throw err;
  }
}

/** The config a parsed file describes. Throws {@link ConfigError}; never returns a partial config. */
export function buildConfig(
  r: Reader,
  found: boolean,
  sections: ReadonlyArray<ConfigSection<unknown>>,
): CacheConfig {
  const { file } = r;
  const root = r.resolve(r.source.contents, undefined);
  const parameters: ParameterEntry[] = [];
  const paths: ParameterPathEntry[] = [];
  const tables: TableEntry[] = [];
  const keySchemas: TableKeySchema[] = [];
  const read = new Map<string, unknown>();
  const top = isNull(root)
    ? new Map<string, Field>()
    : r.fields(root as Node, undefined, [...TOP_KEYS, ...sections.map((s) => s.key)]);
  readParameters(r, top.get('parameters'), parameters, paths);
  readTables(r, top.get('dynamodb'), tables, keySchemas);
  for (const s of sections) read.set(s.key, s.read(r, top.get(s.key)));
  deepFreeze({ file, found, parameters, paths, tables, keySchemas });
  for (const value of read.values()) deepFreeze(value);
  return Object.freeze({ file, found, parameters, paths, tables, keySchemas, sections: read });
}

/** Where an item was first listed; its line is looked up only if a repeat disagrees with it. */
interface Seen {
  readonly ttlMs: number | undefined;
  readonly node: Node | null;
}

function sameTtl(
  r: Reader,
  seen: Seen,
  ttlMs: number | undefined,
  node: Node | null,
  path: Path,
  what: string,
) {
  if (seen.ttlMs === ttlMs) return;
  const line = r.line(seen.node);
  const where = line === undefined ? 'earlier' : `at line ${line}`;
  const ttl = (ms: number | undefined) =>
    ms === undefined ? 'the default ttl' : `ttl ${formatDuration(ms)}`;
  r.fail(
    node,
    path,
    `${what} is also listed ${where} with ${ttl(seen.ttlMs)}, here with ${ttl(ttlMs)}`,
    'one ttl for both, or the item listed once',
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
  let groups: Item[];
  if (field && isMap(field.value)) {
    r.count(1, field.written, field.path);
    groups = [new Item(field.path.parent, field.path.segment, field.value)];
  } else {
    groups = r.list(field, 'groups with region, names, path, ttl, decrypt');
  }
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
      let namePath: KeyPath = item.path;
      if (isMap(item.node)) {
        const fields = r.fields(item.node, item.path, NAME_KEYS);
        const name = r.required(fields, item.node, item.path, 'name', EXPECTED.name);
        nameNode = fields.get('name')?.value ?? item.node;
        namePath = at(item.path, 'name');
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
      // Neither a region nor a checked name holds a space: the three parts cannot run into each other.
      const id = `${entry.region ?? '-'} ${entry.decrypt ? 1 : 0} ${entry.name}`;
      const seen = seenNames.get(id);
      if (seen) {
        sameTtl(r, seen, entry.ttlMs, nameNode, namePath, `parameter ${entry.name}`);
        continue;
      }
      seenNames.set(id, { ttlMs: entry.ttlMs, node: nameNode });
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
      seenPaths.set(id, { ttlMs, node: pathField.value });
      paths.push(entry);
    }
  }
}

function checkName(r: Reader, name: string, node: Node | null, path: Path): void {
  if (name === '') r.fail(node, path, 'is empty', EXPECTED.name);
  if (name.length > MAX_PARAMETER_NAME_LENGTH) {
    r.fail(node, path, `is ${name.length} characters long`, EXPECTED.name);
  }
  if (BAD_NAME_CHARS.test(name))
    r.fail(node, path, `${quote(name)} contains a space or control character`, EXPECTED.name);
}

/** What an entry declares with `hashkey`, `sortkey` and their types; `undefined` where it says nothing. */
interface Declared {
  readonly hashkey: string | undefined;
  readonly hashType: KeyType | undefined;
  readonly sortkey: string | undefined;
  readonly sortType: KeyType | undefined;
}

/** One attribute of a table's key: its name, and its type once declared or taken from a value. */
interface Attribute {
  readonly name: string;
  /** `hashkeytype` or `sortkeytype` when `hashkey` names the attribute, for messages. */
  readonly typeKey: 'hashkeytype' | 'sortkeytype' | undefined;
  type: KeyType | undefined;
  /** Where the type was taken from a value, for the message when another value disagrees. */
  source?: Field;
}

/** A key as written, before typing: each attribute's field, in the order of the entry's attributes. */
interface RawKey {
  readonly values: readonly Field[];
  readonly node: Node | null;
  readonly path: KeyPath;
}

interface KnownSchema {
  /** `name type` pairs sorted by name: two entries of one table must agree on them. */
  readonly signature: string;
  readonly hashkey: string | undefined;
  readonly description: string;
  readonly node: Node;
}

function readTables(
  r: Reader,
  field: Field | undefined,
  tables: TableEntry[],
  keySchemas: TableKeySchema[],
): void {
  const seenKeys = new Map<string, Seen>();
  const schemas = new Map<string, KnownSchema>();
  for (const { node, path } of r.list(field, 'tables with table, hashkey, hashkeytype, hashkeyvalue, …')) {
    if (isNull(node)) r.fail(node, path, 'is empty', `a mapping with ${TABLE_KEYS.join(', ')}`);
    const f = r.fields(node as Node, path, TABLE_KEYS);
    const tableNode = node as Node;
    const table = r.required(f, tableNode, path, 'table', EXPECTED.table);
    if (!TABLE_NAME.test(table) && !TABLE_ARN.test(table)) {
      r.fail(f.get('table')?.value, at(path, 'table'), `${quote(table)} is not a table name`, EXPECTED.table);
    }
    const region = r.region(f.get('region'));
    const ttlMs = r.duration(f.get('ttl'));
    const keysField = f.get('keys');
    const keyItems = r.list(keysField, 'key mappings such as { id: a }');
    const declared = readDeclared(r, f, tableNode, path, keyItems.length > 0);

    const raw: RawKey[] = [];
    let attributes: Attribute[];
    if (declared.hashkey !== undefined) {
      attributes = [{ name: declared.hashkey, typeKey: 'hashkeytype', type: declared.hashType }];
      if (declared.sortkey !== undefined) {
        attributes.push({ name: declared.sortkey, typeKey: 'sortkeytype', type: declared.sortType });
      }
      const fromValues = readValueForm(r, f, tableNode, path, declared, keysField !== undefined);
      if (fromValues) raw.push(fromValues);
    } else {
      attributes = attributesOf(r, keyItems[0] as Item);
    }
    const names = attributes.map((a) => a.name);
    const expectedKey = `a mapping of ${names.join(' and ')}`;
    for (const item of keyItems) {
      if (!isMap(item.node)) r.fail(item.node, item.path, `is ${describe(item.node)}`, expectedKey);
      const fields = r.fields(item.node, item.path, names);
      const values: Field[] = [];
      for (const name of names) {
        const value = fields.get(name);
        if (!value) r.fail(item.node, item.path, `misses the key attribute ${name}`, expectedKey);
        values.push(value);
      }
      raw.push({ values, node: item.node, path: item.path });
    }

    for (const [i, attribute] of attributes.entries()) inferType(r, attribute, i, raw);
    checkSchema(r, schemas, keySchemas, { table, region, attributes, declared, f, node: tableNode, path });

    // Canonical keys list their attributes by name: sort once per entry, not once per key.
    const order = attributes.map((_, i) => i).sort((a, b) => compareNames(names[a], names[b]));
    // Neither a table name nor a region holds a space, so the scope and the key cannot run together.
    const scope = `${table} ${region ?? '-'} `;
    const unique: KeyAttributes[] = [];
    for (const k of raw) {
      const canonicalKey: Record<string, KeyAttributeValue> = {};
      for (const i of order) {
        const attribute = attributes[i] as Attribute;
        const value = k.values[i] as Field;
        define(canonicalKey, attribute.name, keyValue(r, value.value, value.path, attribute.type as KeyType));
      }
      // `encodeKey` of a canonical key is its JSON: the key is already what `normalizeKey` would return.
      const id = scope + JSON.stringify(canonicalKey);
      const seen = seenKeys.get(id);
      if (seen) {
        sameTtl(r, seen, ttlMs, k.node, k.path, `this key of ${table}`);
        continue;
      }
      seenKeys.set(id, { ttlMs, node: k.node });
      unique.push(canonicalKey);
    }
    if (unique.length > 0) tables.push({ table, region, ttlMs, keys: unique });
  }
}

/** `hashkey`, `sortkey` and their types; a missing type is allowed only when `keys:` can give it. */
function readDeclared(r: Reader, f: Fields, node: Node, path: Path, haveKeys: boolean): Declared {
  const hashField = f.get('hashkey');
  const hashkey = r.text(hashField, EXPECTED.attribute) || undefined;
  if (hashkey === undefined) {
    if (hashField) r.fail(hashField.value ?? hashField.key, hashField.path, 'is empty', EXPECTED.attribute);
    if (!haveKeys) {
      r.fail(
        node,
        path,
        'misses hashkey',
        'hashkey and hashkeytype, or keys: a list of key mappings such as { id: a }',
      );
    }
    // The key objects name the attributes: nothing that describes them may stand alone.
    for (const name of ['hashkeytype', 'hashkeyvalue', 'sortkey', 'sortkeytype', 'sortkeyvalue']) {
      const other = f.get(name);
      if (other && !isNull(other.value)) {
        r.fail(other.key, other.path, 'is given without hashkey', `hashkey next to it, or no ${name}`);
      }
    }
    return { hashkey: undefined, hashType: undefined, sortkey: undefined, sortType: undefined };
  }
  checkAttribute(r, hashField?.value, hashField?.path, hashkey);
  const hashType = keyType(r, f, node, path, 'hashkeytype', haveKeys);
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
  checkAttribute(r, sortField?.value, sortField?.path, sortkey);
  if (sortkey === hashkey) {
    r.fail(
      sortField?.value,
      sortField?.path ?? path,
      `is the same attribute as hashkey`,
      'two different names',
    );
  }
  const sortType = keyType(r, f, node, path, 'sortkeytype', haveKeys);
  return { hashkey, hashType, sortkey, sortType };
}

/** The seed's `hashkeyvalue`/`sortkeyvalue` form, as a key still to be typed, or `undefined` if absent. */
function readValueForm(
  r: Reader,
  f: Fields,
  tableNode: Node,
  path: Path,
  declared: Declared,
  hasKeysField: boolean,
): RawKey | undefined {
  const hashValue = f.get('hashkeyvalue');
  const sortValue = f.get('sortkeyvalue');
  const hasHashValue = hashValue !== undefined && !isNull(hashValue.value);
  const hasSortValue = sortValue !== undefined && !isNull(sortValue.value);
  if (hasSortValue && !declared.sortkey) {
    r.fail(sortValue.key, sortValue.path, 'is given without sortkey', 'sortkey and sortkeytype next to it');
  }
  if (!hasHashValue && !hasSortValue) {
    if (!hasKeysField) {
      r.fail(
        tableNode,
        path,
        'has neither hashkeyvalue nor keys',
        'hashkeyvalue (and sortkeyvalue), or keys: a list of key mappings',
      );
    }
    return undefined;
  }
  if (!hasHashValue) {
    r.fail(sortValue?.key, at(path, 'sortkeyvalue'), 'is given without hashkeyvalue', 'hashkeyvalue too');
  }
  if (declared.sortkey && !hasSortValue) {
    r.fail(
      hashValue.key,
      at(path, 'hashkeyvalue'),
      `is given without sortkeyvalue, but the table has sort key ${declared.sortkey}`,
      'sortkeyvalue too, or keys: a list of { hashkey: value, sortkey: value }',
    );
  }
  const values = declared.sortkey && sortValue ? [hashValue, sortValue] : [hashValue];
  return { values, node: hashValue.value, path: hashValue.path };
}

/** The attributes the first key object names, when no `hashkey` declares them. */
function attributesOf(r: Reader, first: Item): Attribute[] {
  const expected =
    'a key of one or two attributes: the partition key and, if the table has one, the sort key';
  if (!isMap(first.node)) r.fail(first.node, first.path, `is ${describe(first.node)}`, expected);
  const fields = r.fields(first.node, first.path, undefined);
  if (fields.size === 0 || fields.size > 2) {
    r.fail(first.node, first.path, `names ${fields.size} attributes`, expected);
  }
  const attributes: Attribute[] = [];
  for (const [name, field] of fields) {
    checkAttribute(r, field.key, field.path, name);
    attributes.push({ name, typeKey: undefined, type: undefined });
  }
  return attributes;
}

/** The YAML type of a key value: a string is an S, a number an N; anything else says nothing. */
function yamlKeyType(node: Node | null): KeyType | undefined {
  if (!isScalar(node)) return undefined;
  const v = node.value;
  if (typeof v === 'string') return 'S';
  if (typeof v === 'number' || typeof v === 'bigint') return 'N';
  return undefined;
}

const TYPE_WORD: Record<KeyType, string> = { S: 'string', N: 'number', B: 'binary value' };

/** Gives an attribute without a declared type the type of its first value; every other value must agree. */
function inferType(r: Reader, attribute: Attribute, index: number, raw: readonly RawKey[]): void {
  if (attribute.type !== undefined) return;
  const declareIt = attribute.typeKey
    ? `${attribute.typeKey}: S, N or B next to ${attribute.typeKey === 'hashkeytype' ? 'hashkey' : 'sortkey'}`
    : `hashkey: ${attribute.name} and hashkeytype: S, N or B`;
  for (const key of raw) {
    const value = key.values[index];
    if (!value) continue;
    if (isNull(value.value))
      r.fail(value.value, value.path, 'is empty', `a string or a number, or ${declareIt}`);
    const type = yamlKeyType(value.value);
    if (type === undefined) {
      r.fail(
        value.value,
        value.path,
        `is ${describe(value.value)}, which says nothing of the key type`,
        `a string or a number, or ${declareIt}`,
      );
    }
    if (attribute.type === undefined) {
      attribute.type = type;
      attribute.source = value;
      continue;
    }
    if (type !== attribute.type) {
      const first = attribute.source as Field;
      const line = r.line(first.value);
      const typeName = TYPE_WORD[attribute.type];
      const asString = attribute.typeKey
        ? `${attribute.typeKey}: S`
        : `hashkey: ${attribute.name} with hashkeytype: S`;
      r.fail(
        value.value,
        value.path,
        `is a ${TYPE_WORD[type]}, but ${first.path}${line === undefined ? '' : ` at line ${line}`} is a ${typeName}`,
        `a ${typeName} in every key, or ${asString} to read every ${attribute.name} as a string`,
      );
    }
  }
}

/** Two entries of one table (and region) must describe one key; the first one's schema is kept. */
function checkSchema(
  r: Reader,
  schemas: Map<string, KnownSchema>,
  keySchemas: TableKeySchema[],
  entry: {
    table: string;
    region: string | undefined;
    attributes: readonly Attribute[];
    declared: Declared;
    f: Fields;
    node: Node;
    path: Path;
  },
): void {
  const typed = entry.attributes
    .filter((a) => a.type !== undefined)
    .map((a) => ({ name: a.name, type: a.type as KeyType }));
  const signature = typed
    .map((a) => `${a.name} ${a.type}`)
    .sort()
    .join(', ');
  const hashkey = entry.declared.hashkey;
  const description =
    hashkey === undefined
      ? signature
      : `hashkey ${hashkey} ${typed[0]?.type}${typed[1] ? `, sortkey ${typed[1].name} ${typed[1].type}` : ''}`;
  const id = JSON.stringify([entry.table, entry.region ?? null]);
  const known = schemas.get(id);
  if (!known) {
    schemas.set(id, { signature, hashkey, description, node: entry.node });
    keySchemas.push({ table: entry.table, region: entry.region, attributes: typed });
    return;
  }
  const bothDeclared = known.hashkey !== undefined && hashkey !== undefined;
  if (known.signature === signature && (!bothDeclared || known.hashkey === hashkey)) return;
  const line = r.line(known.node) ?? '?';
  if (bothDeclared) {
    r.fail(
      entry.f.get('hashkey')?.key ?? entry.node,
      at(entry.path, 'hashkey'),
      `table ${entry.table} has another key schema at line ${line}`,
      `the same hashkey, sortkey and types as there (${known.description})`,
    );
  }
  r.fail(
    entry.node,
    entry.path,
    `table ${entry.table} has another key schema at line ${line}`,
    `the same key attributes and types as there (${known.signature})`,
  );
}

function checkAttribute(r: Reader, node: Node | null | undefined, path: Path, name: string): void {
  if (name === '' || name.length > MAX_KEY_ATTRIBUTE_LENGTH || BAD_NAME_CHARS.test(name.replace(/ /g, ''))) {
    r.fail(node, path, `${quote(name)} is not an attribute name`, EXPECTED.attribute);
  }
}

/** A declared key type; `undefined` when absent and `keys:` may give it (`mayInfer`). */
function keyType(
  r: Reader,
  f: Fields,
  node: Node,
  path: Path,
  name: 'hashkeytype' | 'sortkeytype',
  mayInfer: boolean,
): KeyType | undefined {
  const field = f.get(name);
  const text = r.text(field, EXPECTED.keyType);
  if (text === undefined || text === '') {
    if (field) r.fail(field.value ?? field.key, field.path, 'is empty', EXPECTED.keyType);
    if (mayInfer) return undefined;
    // Point at the attribute whose type is missing: that is the line to fix.
    const owner = f.get(name === 'hashkeytype' ? 'hashkey' : 'sortkey');
    r.fail(
      owner?.key ?? node,
      owner?.path ?? path,
      `is given without ${name}`,
      `${name}: ${EXPECTED.keyType}`,
    );
  }
  const upper = text.toUpperCase() as KeyType;
  if (!KEY_TYPES.includes(upper)) {
    r.fail(field?.value, field?.path ?? path, `${quote(text)} is not a key type`, EXPECTED.keyType);
  }
  return upper;
}

/** One key attribute value, typed by its declared type; the node's text as written for S and N. */
function keyValue(r: Reader, node: Node | null, path: Path, type: KeyType): KeyAttributeValue {
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

/** The order `normalizeKey` sorts attribute names in (`Array.prototype.sort`'s default). */
function compareNames(a: string | undefined, b: string | undefined): number {
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Sets an own property even when the attribute is named `__proto__` (assignment would not). */
function define(target: Record<string, KeyAttributeValue>, name: string, value: KeyAttributeValue): void {
  if (name === '__proto__') {
    Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[name] = value;
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const FILE_KINDS: ReadonlyArray<[(s: Stats) => boolean, string]> = [
  [(s) => s.isDirectory(), 'a directory'],
  [(s) => s.isFIFO(), 'a FIFO'],
  [(s) => s.isCharacterDevice(), 'a character device'],
  [(s) => s.isBlockDevice(), 'a block device'],
  [(s) => s.isSocket(), 'a socket'],
];

function tooLarge(file: string): ConfigError {
  return new ConfigError(file, `is larger than ${MAX_CONFIG_BYTES} bytes (expected ${EXPECTED.file})`);
}

/**
 * The file's text, or `undefined` when it does not exist. Only a regular file is read, and no more than
 * the limit plus one byte: a FIFO would block init until a writer came, a device such as `/dev/zero`
 * never ends.
 */
async function readConfigText(file: string, required: boolean): Promise<string | undefined> {
  let handle: FileHandle;
  try {
    // O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer; a regular file ignores it.
    handle = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      if (!required) return undefined;
      throw new ConfigError(file, `not found (expected a YAML file there, or ${ENV.config} naming one)`);
    }
    throw new ConfigError(
      file,
      `cannot be read (${code ?? 'unknown error'}) (expected a readable YAML file)`,
      {},
      { cause: err },
    );
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) {
      const kind = FILE_KINDS.find(([test]) => test(stats))?.[1] ?? 'something else';
      throw new ConfigError(file, `is ${kind}, not a regular file (expected ${EXPECTED.file})`);
    }
    if (stats.size > MAX_CONFIG_BYTES) throw tooLarge(file);
    // The size may change between the stat and the read: read until the end, but never past the limit.
    const limit = MAX_CONFIG_BYTES + 1;
    const chunks: Buffer[] = [];
    let total = 0;
    let chunkSize = Math.min(limit, Math.max(stats.size + 1, 16 * 1024));
    while (total < limit) {
      const chunk = Buffer.allocUnsafe(Math.min(chunkSize, limit - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      chunkSize = limit - total;
    }
    if (total > MAX_CONFIG_BYTES) throw tooLarge(file);
    return Buffer.concat(chunks, total).toString('utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(
      file,
      `cannot be read (${code ?? 'unknown error'}) (expected a readable YAML file)`,
      {},
      { cause: err },
    );
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * Reads and parses a config file. A missing file is an empty config (with `found: false`), or with
 * `required` a {@link ConfigError}; an unreadable, oversized or special file (FIFO, device, directory) is
 * always an error.
 *
 * @example
 * const config = await loadConfig('/var/task/config.yaml', { required: false });
 */
export async function loadConfig(
  file: string,
  opts: { required: boolean; sections?: ReadonlyArray<ConfigSection<unknown>> },
): Promise<CacheConfig> {
  const text = await readConfigText(file, opts.required);
  const sections = opts.sections ?? [];
  if (text === undefined) return buildConfig(new Reader(file, EMPTY_SOURCE), false, sections);
  const simple = readSimpleConfig(text, file, true, sections);
  if (simple) return simple;
  // Only now, and only for such a file: the full YAML parser (see the top of this file).
  const { parseYamlConfig } = await import('./config-yaml.js');
  return parseYamlConfig(text, file, true, sections);
}

/**
 * One line for the startup log: counts, regions and TTLs; never names or values. `sections` are the
 * sources' own sections the config was read with; each that lists something adds its `describe()`.
 *
 * @example
 * describeConfig(config); // "/var/task/config.yaml: 2 parameters, 0 paths, 1 item in 1 table, regions us-west-2 default, ttls default"
 */
export function describeConfig(c: CacheConfig, sections: ReadonlyArray<ConfigSection<unknown>> = []): string {
  if (!c.found) {
    return `${c.file}: does not exist, so nothing is prefetched (fine when nothing needs to be: every item is read through on demand)`;
  }
  const own = sections.flatMap((s) => {
    const value = c.sections.get(s.key);
    const listed = Array.isArray(value) ? value.length > 0 : value !== undefined;
    return listed ? [s.describe(value)] : [];
  });
  const items = c.tables.reduce((n, t) => n + t.keys.length, 0);
  if (c.parameters.length + c.paths.length + items === 0) {
    if (own.length > 0) return `${c.file}: ${own.join(', ')}`;
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
    ...own,
  ].join(', ');
}
