import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAlias, isMap, isPair, isScalar, isSeq, type Node, parseDocument } from 'yaml';
import { parseSimpleYaml } from '../../src/simple-yaml.js';

/** What `yaml` gives for `text` with the config reader's options: its root, or `undefined` on errors. */
function oracle(text: string): { contents: unknown } | undefined {
  const doc = parseDocument(text, { uniqueKeys: true, version: '1.2' });
  return doc.errors.length === 0 ? { contents: doc.contents } : undefined;
}

function kind(node: unknown): string {
  if (node === null) return 'null';
  if (isAlias(node)) return 'alias';
  if (isMap(node)) return 'map';
  if (isSeq(node)) return 'seq';
  if (isScalar(node)) return 'scalar';
  return typeof node;
}

/**
 * The first place where `actual` differs from `expected` (node kinds, scalar value, source and type,
 * map keys in order, the start offset of every node), or `undefined` when they agree.
 */
function difference(expected: unknown, actual: unknown, path = '$'): string | undefined {
  const want = kind(expected);
  const got = kind(actual);
  if (want !== got) return `${path}: ${got} instead of ${want}`;
  if (want === 'null') return undefined;
  const e = expected as Node;
  const a = actual as Node;
  if (e.range?.[0] !== a.range?.[0]) return `${path}: starts at ${a.range?.[0]} instead of ${e.range?.[0]}`;
  if (isScalar(e) && isScalar(a)) {
    if (!Object.is(e.value, a.value))
      return `${path}: value ${String(a.value)} instead of ${String(e.value)}`;
    if (e.source !== a.source) return `${path}: source ${a.source} instead of ${e.source}`;
    if (e.type !== a.type) return `${path}: type ${a.type} instead of ${e.type}`;
    return undefined;
  }
  if (isMap(e) && isMap(a)) {
    if (e.items.length !== a.items.length)
      return `${path}: ${a.items.length} keys instead of ${e.items.length}`;
    for (const [i, pair] of e.items.entries()) {
      const other = a.items[i]!;
      const at = `${path}.${String((pair.key as { source?: string }).source)}`;
      const found = difference(pair.key, other.key, `${at}(key)`) ?? difference(pair.value, other.value, at);
      if (found) return found;
    }
    return undefined;
  }
  if (isSeq(e) && isSeq(a)) {
    if (e.items.length !== a.items.length)
      return `${path}: ${a.items.length} items instead of ${e.items.length}`;
    for (const [i, item] of e.items.entries()) {
      const found = difference(item, a.items[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  return `${path}: cannot compare ${want}`;
}

/** Asserts that the reader accepts `text` and agrees with `yaml` on it. */
function expectSameAsYaml(text: string): void {
  const expected = oracle(text);
  expect(expected, 'yaml rejects the input').toBeDefined();
  const actual = parseSimpleYaml(text);
  expect(actual, 'the reader fell back').toBeDefined();
  expect(difference(expected!.contents, actual!.contents)).toBeUndefined();
}

const SAMPLE = `# comment
parameters:
  - region: us-west-2
    names:
      - CacheExtensions_Parameter1
      - /aws/reference/secretsmanager/secret_info
    ttl: 5m        # trailing comment
    decrypt: true
dynamodb:
  - table: DynamoDbTable
    hashkey: pKey
    hashkeytype: S
    hashkeyvalue: pKey1
    keys:
      - id: item-001
        n: 42
secrets:
- name: arn:aws:secretsmanager:us-west-2:123456789012:secret:db-AbCdEf
  versionStage: 'AWSCURRENT'
  json: "true"
`;

// ---- A generator of documents inside the subset, with the layout choices as data so they shrink. ----

type Gen =
  | { readonly kind: 'scalar'; readonly text: string; readonly trail: string }
  | { readonly kind: 'null'; readonly trail: string }
  | { readonly kind: 'map'; readonly entries: readonly GenEntry[] }
  | { readonly kind: 'seq'; readonly items: readonly GenItem[] };

/** `step`: how much deeper a nested block is; `before`: blank and comment lines ahead of the line. */
interface GenEntry {
  readonly key: string;
  readonly value: Gen;
  readonly step: number;
  readonly sameColumnSeq: boolean;
  readonly nullTrail: string;
  readonly before: readonly string[];
}

/** `gap`: spaces after the `-`; `compact`: a mapping item starts on the `-` line. */
interface GenItem {
  readonly value: Gen;
  readonly step: number;
  readonly gap: number;
  readonly compact: boolean;
  readonly nullTrail: string;
  readonly before: readonly string[];
}

const word = fc.stringMatching(/^[a-z][a-zA-Z0-9_]{0,8}$/);
const digits = fc.stringMatching(/^[0-9]{1,12}$/);

/** Plain keys the subset takes: never a leading `.`, and digit-led ones are digits or plainly strings. */
const key = fc.oneof(
  fc.constantFrom(
    'region',
    'names',
    'ttl',
    'a.b',
    'x/y',
    'my-key',
    'k_1',
    '$ref',
    '/path',
    'true',
    'Null',
    '7',
  ),
  fc.stringMatching(/^[A-Za-z_$/][A-Za-z0-9_$./-]{0,6}$/),
  digits,
  fc.stringMatching(/^[0-9]{1,3}[ghkmst_/$][a-z0-9./-]{0,3}$/),
);

const arn = fc
  .tuple(fc.constantFrom('ssm', 'secretsmanager'), fc.stringMatching(/^[0-9]{12}$/), word)
  .map(([service, account, name]) => `arn:aws:${service}:us-west-2:${account}:secret:${name}-AbCdEf`);

const path = fc.array(word, { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join('/')}`);

const plain = fc.oneof(
  word,
  arn,
  path,
  digits,
  fc.constantFrom('5m', '30s', '1h30m', '50%', '3rd'),
  fc.constantFrom('true', 'False', 'TRUE', 'NULL', 'null', 'Null', '~'),
  fc.constantFrom(
    'a,b',
    'k=v',
    'a:b',
    'a#b',
    'x - y',
    "it's",
    'say "hi"',
    '~/dir',
    'a :b',
    'a  b',
    '<<',
    'é ü',
  ),
);

const singleQuoted = fc
  .stringMatching(/^[a-z '#:,[{\-"\\]{0,10}$/)
  .map((text) => `'${text.replaceAll("'", "''")}'`);
const doubleQuoted = fc.stringMatching(/^[a-z '#:,[\]{}-]{0,10}$/).map((text) => `"${text}"`);

/** What may follow a value on its line. */
const trail = fc.constantFrom('', '', '  ', ' # note', '   #x: [y] - z');
/** What may follow a `key:` or `-` with no value on its line. */
const nullTrail = fc.constantFrom('', '', ' ', ' # c', '    #');
const between = fc.array(
  fc.oneof(
    fc.constantFrom('', '   '),
    fc.nat(6).map((n) => `${' '.repeat(n)}# x: - [y]`),
  ),
  {
    maxLength: 2,
  },
);

const scalarGen: fc.Arbitrary<Gen> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('scalar' as const), text: plain, trail }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('scalar' as const), text: singleQuoted, trail }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('scalar' as const), text: doubleQuoted, trail }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('null' as const), trail: nullTrail }) },
);

/** The core schema's value for a generated plain key, to keep the keys of one mapping distinct. */
function keyValue(text: string): unknown {
  if (/^[0-9]+$/.test(text)) return Number.parseInt(text, 10);
  if (/^(?:[Tt]rue|TRUE)$/.test(text)) return true;
  if (/^(?:[Ff]alse|FALSE)$/.test(text)) return false;
  if (/^(?:[Nn]ull|NULL)$/.test(text)) return null;
  return text;
}

const collections = new Map<number, fc.Arbitrary<Gen>>();

/** A mapping or sequence nested at most `depth` levels. */
function collectionGen(depth: number): fc.Arbitrary<Gen> {
  const known = collections.get(depth);
  if (known) return known;
  const child =
    depth <= 1 ? scalarGen : fc.oneof({ weight: 3, arbitrary: scalarGen }, collectionGen(depth - 1));
  const step = fc.integer({ min: 1, max: 3 });
  const entry = fc.record({
    key,
    value: child,
    step,
    sameColumnSeq: fc.boolean(),
    nullTrail,
    before: between,
  });
  const item = fc.record({
    value: child,
    step,
    gap: fc.integer({ min: 1, max: 3 }),
    compact: fc.boolean(),
    nullTrail,
    before: between,
  });
  const made = fc.oneof(
    fc.record({
      kind: fc.constant('map' as const),
      entries: fc.uniqueArray(entry, { minLength: 1, maxLength: 4, selector: (e) => keyValue(e.key) }),
    }),
    fc.record({ kind: fc.constant('seq' as const), items: fc.array(item, { minLength: 1, maxLength: 4 }) }),
  );
  collections.set(depth, made);
  return made;
}

/** Appends the lines of `node`, a collection whose lines start at `column`. */
function render(node: Gen, column: number, out: string[]): void {
  const pad = ' '.repeat(column);
  if (node.kind === 'map') {
    for (const e of node.entries) {
      out.push(...e.before);
      renderAfter(
        `${pad}${e.key}:`,
        e.value,
        e.nullTrail,
        e.value.kind === 'seq' && e.sameColumnSeq ? column : column + e.step,
        out,
      );
    }
  } else if (node.kind === 'seq') {
    for (const item of node.items) {
      out.push(...item.before);
      const dash = `${pad}-`;
      if (item.value.kind === 'map' && item.compact) {
        // The mapping's first key goes on the `-` line; its other keys line up under it.
        const at = out.length;
        const inner = column + 1 + item.gap;
        render(
          {
            kind: 'map',
            entries: [{ ...item.value.entries[0]!, before: [] }, ...item.value.entries.slice(1)],
          },
          inner,
          out,
        );
        out[at] = `${dash}${' '.repeat(item.gap)}${out[at]!.slice(inner)}`;
      } else if (item.value.kind === 'scalar') {
        out.push(`${dash}${' '.repeat(item.gap)}${item.value.text}${item.value.trail}`);
      } else {
        renderAfter(dash, item.value, item.nullTrail, column + item.step, out);
      }
    }
  }
}

/** A `key:` or `-` line (`head`) and its value: inline when a scalar, else on the lines below. */
function renderAfter(head: string, value: Gen, blockTrail: string, childColumn: number, out: string[]): void {
  if (value.kind === 'scalar') out.push(`${head} ${value.text}${value.trail}`);
  else if (value.kind === 'null') out.push(`${head}${value.trail}`);
  else {
    out.push(`${head}${blockTrail}`);
    render(value, childColumn, out);
  }
}

const subsetDocument = fc
  .record({
    root: collectionGen(4),
    column: fc.constantFrom(0, 0, 0, 2),
    head: between,
    newline: fc.boolean(),
  })
  .map(({ root, column, head, newline }) => {
    const out = [...head];
    render(root, column, out);
    return out.join('\n') + (newline ? '\n' : '');
  });

const FRAGMENTS = [
  '- ',
  '-',
  ': ',
  ':',
  '#',
  ' #',
  ' # c',
  "'",
  '"',
  "''",
  '&a ',
  '*a',
  '[',
  ']',
  '{',
  '}',
  '|',
  '>',
  '\t',
  '\r',
  '\n',
  '\n',
  '\n',
  '  ',
  ' ',
  '---',
  '...',
  '%YAML 1.2',
  '!t ',
  '? ',
  ',',
  '\\',
  '\uFEFF',
  '\u00A0',
  'é',
  '1',
  '42',
  '007',
  '.5',
  '.inf',
  '0x1F',
  '0o7',
  '-1',
  '+1',
  '1e3',
  '5m',
  'a',
  'key',
  'true',
  'Null',
  '~',
  'arn:aws:x',
  '/p',
  'k: v',
  '\nk: ',
  '\n  - ',
  '\n- ',
  '\n  a: ',
  '\n    b:',
  "'x'",
  '"y"',
  'a:b',
  '@',
  '`',
];

const yamlish = fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 30 }).map((parts) => parts.join(''));

describe('parseSimpleYaml', () => {
  it('reads the sample config exactly as yaml does', () => {
    expectSameAsYaml(SAMPLE);
  });

  it("builds nodes that yaml's own type guards recognise", () => {
    const root = parseSimpleYaml('a:\n  - b: 1\n')!.contents;
    expect(isMap(root)).toBe(true);
    if (!isMap(root)) return;
    const pair = root.items[0]!;
    expect(isPair(pair) && isScalar(pair.key) && isSeq(pair.value)).toBe(true);
    expect(isMap((pair.value as { items: unknown[] }).items[0])).toBe(true);
  });

  it('reads a 1 MiB list of 37 000 names as yaml does', () => {
    const names = Array.from(
      { length: 37_000 },
      (_, i) => `      - /app/prod/p-${String(i + 1).padStart(6, '0')}\n`,
    );
    const text = `parameters:\n  - names:\n${names.join('')}`;
    expect(text.length).toBeGreaterThan(990_000);
    expectSameAsYaml(text);
  });

  it('gives null contents for text with no content', () => {
    expect(parseSimpleYaml('')).toStrictEqual({ contents: null });
    expect(parseSimpleYaml('# only\n\n')).toStrictEqual({ contents: null });
    expect(parseSimpleYaml('   \n  # indented\n')).toStrictEqual({ contents: null });
  });

  it.each([
    ['a:', 'a key with nothing after it'],
    ['a:   # c\nb: 1', 'a null value followed by a comment'],
    ['-\n- \n- # c\n-', 'empty sequence items'],
    ['a:\n- 1\n- 2\nb: 3', 'a sequence at its key’s column'],
    ['- k:\n  - a\n  j: 1', 'a sequence at the column of a key in a sequence item'],
    ['-   a: 1\n    b:\n    - x', 'a compact mapping after several spaces'],
    ['-\n  - a\n-\n   b: 1', 'blocks under a bare -'],
    ['  a: 1\n  b:\n    - 2', 'an indented root'],
    ['a:\n  b: 1\n# low comment\n  c: 2', 'a comment line at a lower indentation'],
    ["a: 'it''s # not a comment'  # but this is", 'an escaped single quote'],
    ['a: "x: [y] #z"', 'flow characters inside double quotes'],
    ['a: b#c\nd: e:f\ng: h - i', '# and : that start nothing'],
    ['a: 0012\nb: 5m\nc: ~\nd: NULL\ne: False\nf: 1h30m', 'resolved plain scalars'],
    [`${'k'.repeat(1024)}: 1`, 'a key of 1024 characters'],
  ])('agrees with yaml on %j (%s)', (text) => {
    expectSameAsYaml(text);
  });

  it.each([
    // Line breaks other than \n could be read differently.
    ['a: 1\r\nb: 2'],
    // Tabs are not indentation in YAML and are kept out entirely.
    ['a:\tb'],
    // A byte-order mark.
    ['\uFEFFa: 1'],
    // A control character.
    ['a: b\u0007'],
    // A space JavaScript trims but YAML does not.
    ['a: b\u00A0'],
    // A plain scalar continued on the next line.
    ['a: b\n  c'],
    // A plain scalar as the nested value of a key.
    ['a:\n  b'],
    // A root that is a scalar.
    ['hello'],
    // Indentation that fits no open block.
    ['a:\n    b: 1\n  c: 2'],
    // A root that ends before the text does.
    ['  a: 1\nb: 2'],
    // A compact mapping whose next key is not under its first.
    ['- a: 1\n   b: 2'],
    // A document start marker.
    ['---\na: 1'],
    // A document end marker.
    ['a: 1\n...'],
    // A directive.
    ['%YAML 1.2\n---\na: 1'],
    // An anchor.
    ['a: &x 1'],
    // An alias.
    ['a: *x'],
    // A tag.
    ['a: !str 1'],
    // A literal block scalar.
    ['a: |\n  text'],
    // A folded block scalar.
    ['a: >\n  text'],
    // A flow sequence.
    ['a: [1, 2]'],
    // A flow mapping.
    ['a: {b: 1}'],
    // A flow indicator inside a plain scalar.
    ['a: x]'],
    // A quoted key.
    ['"a": 1'],
    // A key with a space.
    ['a b: 1'],
    // A complex key.
    ['? a\n: 1'],
    // A colon not followed by a space.
    ['a:b'],
    // A duplicate key.
    ['a: 1\na: 2'],
    // Keys that are the same once resolved.
    ['1: a\n01: b'],
    // A key over YAML's 1024-character limit.
    [`${'k'.repeat(1025)}: 1`],
    // A sequence in a sequence on one line.
    ['- - a'],
    // A plain scalar with `: ` inside.
    ['a: b: c'],
    // A plain scalar ending in a colon.
    ['- a:b:'],
    // A float.
    ['a: 1.5'],
    // A hexadecimal integer.
    ['a: 0x1F'],
    // An octal integer.
    ['a: 0o17'],
    // An exponent.
    ['a: 1e3'],
    // Infinity.
    ['a: .inf'],
    // A leading dot.
    ['a: .5'],
    // A sign.
    ['a: -1'],
    // A plus.
    ['a: +1'],
    // A double-quoted escape.
    ['a: "x\\ny"'],
    // An unterminated single quote.
    ["a: 'x"],
    // An unterminated double quote.
    ['a: "x'],
    // A multi-line quoted scalar.
    ["a: 'x\n  y'"],
    // Text after a closing quote.
    ["a: 'x' y"],
    // A comment not separated from a closing quote.
    ["a: 'x'#c"],
    // A sequence item at a mapping's column.
    ['a: 1\n- b'],
    // A reserved indicator.
    ['a: @x'],
    // A backtick.
    ['a: `x`'],
    // Nesting deeper than the reader goes.
    [Array.from({ length: 70 }, (_, i) => `${' '.repeat(i)}k:`).join('\n')],
  ])('falls back on %j', (text) => {
    expect(parseSimpleYaml(text)).toBeUndefined();
  });

  it('reads every generated document of the subset exactly as yaml does', () => {
    fc.assert(
      fc.property(subsetDocument, (text) => {
        expectSameAsYaml(text);
      }),
      { numRuns: 500 },
    );
  });

  it('never returns a document that yaml would not give for YAML-ish text', () => {
    let accepted = 0;
    fc.assert(
      fc.property(yamlish, (text) => {
        const actual = parseSimpleYaml(text);
        if (actual === undefined) return;
        accepted++;
        const expected = oracle(text);
        expect(expected, 'yaml rejects what the reader accepted').toBeDefined();
        expect(difference(expected!.contents, actual.contents)).toBeUndefined();
      }),
      { numRuns: 1000 },
    );
    // The property says nothing if the fragments never make a document the reader takes.
    expect(accepted).toBeGreaterThan(0);
  });

  it('does not load yaml at run time', () => {
    const source = readFileSync(new URL('../../src/simple-yaml.ts', import.meta.url), 'utf8');
    const imports = source.split('\n').filter((line) => /from\s+['"]yaml['"]/.test(line));
    expect(imports.length).toBeGreaterThan(0);
    for (const line of imports) expect(line).toMatch(/^import type /);
    expect(source).not.toMatch(/import\(\s*['"]yaml['"]|require\(\s*['"]yaml['"]/);
  });
});
