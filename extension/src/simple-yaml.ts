/**
 * A small reader for the plain block YAML that `config.yaml` almost always is: block mappings and block
 * sequences of one-line scalars, with comments. Loading and running the full `yaml` library costs a cold
 * start about 11 ms of CPU; this reader costs a fraction of that for the common file.
 *
 * It is strict by design: anything outside its subset (flow collections, anchors, tags, block scalars,
 * multi-line scalars, escapes, floats, duplicate keys, odd indentation...) gives `undefined`, and the caller
 * then parses the text with `yaml`, which also words every error. Whatever it does return is what `yaml`
 * (core schema, YAML 1.2, `uniqueKeys`) gives for the same text, down to the node kinds, scalar values,
 * sources, types and start offsets, so the config reader cannot tell the two apart.
 *
 * The nodes are plain objects carrying `yaml`'s node-type symbol, which is all that `isMap`, `isSeq`,
 * `isScalar` and `isPair` look at; importing `yaml` at run time would defeat the purpose.
 */
import type { Alias, Node, Pair, Scalar, YAMLMap, YAMLSeq } from 'yaml';

/** The document's root node, or null for a file of only comments and blank lines. */
export interface SimpleDocument {
  readonly contents: Node | null;
}

// The registered symbols `yaml` tags its nodes with (see its `nodes/identity`).
const NODE_TYPE = Symbol.for('yaml.node.type');
const MAP = Symbol.for('yaml.map');
const SEQ = Symbol.for('yaml.seq');
const PAIR = Symbol.for('yaml.pair');
const SCALAR = Symbol.for('yaml.scalar');
const ALIAS = Symbol.for('yaml.alias');

const tagged = (node: unknown, type: symbol): boolean =>
  !!node && typeof node === 'object' && (node as Record<symbol, unknown>)[NODE_TYPE] === type;

// `yaml`'s own type guards, for its nodes and these alike: the config reader walks both.
export const isAlias = (node: unknown): node is Alias => tagged(node, ALIAS);
export const isMap = (node: unknown): node is YAMLMap => tagged(node, MAP);
export const isScalar = (node: unknown): node is Scalar => tagged(node, SCALAR);
export const isSeq = (node: unknown): node is YAMLSeq => tagged(node, SEQ);

type Range = [number, number, number];
type ScalarValue = string | number | boolean | null;
type ScalarType = 'PLAIN' | 'QUOTE_SINGLE' | 'QUOTE_DOUBLE';

/**
 * Characters that send the whole text to the full parser: `\r`, tabs, other controls, C1 controls,
 * a byte-order mark anywhere, non-characters, lone surrogates, and every Unicode space but U+0020.
 * Keeping only `\n` and plain spaces as whitespace means no line-break or trimming rule can differ
 * between this reader and `yaml` (JavaScript's `trim` and `\s` know many more spaces than YAML does).
 */
const OUTSIDE_CHARSET =
  /[^\n\x20-\x7E\u{A1}-\u{D7FF}\u{E000}-\u{FFFD}\u{10000}-\u{10FFFF}]|[\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]/u;

/** A plain key as the subset allows it; its colon must follow at once. */
const KEY = /[A-Za-z0-9_$./][A-Za-z0-9_$./-]*/y;

/** YAML's limit on an implicit key (`yaml` reports KEY_OVER_1024_CHARS beyond it). */
const MAX_KEY_LENGTH = 1024;

/** Nesting deeper than a config ever needs goes to the full parser, which bounds recursion itself. */
const MAX_DEPTH = 64;

/** First characters that make a plain scalar something else (an indicator, a flow collection...). */
const NOT_PLAIN_START = new Set('-?:,[]{}#&*!|>\'"%@`+');

const NULL_WORD = /^(?:~|[Nn]ull|NULL)$/;
const TRUE_WORD = /^(?:[Tt]rue|TRUE)$/;
const FALSE_WORD = /^(?:[Ff]alse|FALSE)$/;
const DIGITS = /^[0-9]+$/;

/**
 * Every character the core schema's other number forms use (`0x1F`, `0o17`, `1.5`, `1e3`, `1.`):
 * a digit-led scalar made of these alone might be a number, so it falls back; one with any other
 * character (`5m`, `30s`, `1h30m`) can only be a string.
 */
const NUMBER_LIKE = /^[0-9A-Fa-f.xXoO+-]*$/;

/** Flow indicators and `: ` inside a plain scalar; allowed by YAML in places, but kept out for simplicity. */
const NOT_PLAIN_INSIDE = /[[\]{}]|: /;

/** What may follow a closing quote: spaces, or at least one space and a comment. */
const AFTER_QUOTE = /^(?: *| +#.*)$/;

/** Thrown inside the reader when the text leaves the subset; never escapes {@link parseSimpleYaml}. */
class OutsideSubset extends Error {}

function outside(): never {
  throw new OutsideSubset();
}

/** A line with content (not blank, not a comment), by offsets into the text. */
interface Line {
  /** Offset of the line's first character. */
  readonly start: number;
  /** Leading spaces: the column of the first content character. */
  readonly indent: number;
  /** Offset of the line's `\n`, or the text's length on the last line. */
  readonly end: number;
}

/**
 * Reads `text` as YAML if it is inside the subset, the same way `yaml`'s `parseDocument` (YAML 1.2,
 * core schema, `uniqueKeys`) would. `undefined`: the text is outside the subset (or not valid YAML);
 * parse it with `yaml` instead.
 */
export function parseSimpleYaml(text: string): SimpleDocument | undefined {
  if (OUTSIDE_CHARSET.test(text)) return undefined;
  const lines = contentLines(text);
  if (lines.length === 0) return { contents: null };
  try {
    return { contents: new Reader(text, lines).document() };
  } catch (err) {
    if (err instanceof OutsideSubset) return undefined;
    throw err;
  }
}

/** The lines that hold YAML content; blank and comment-only lines say nothing about structure here. */
function contentLines(text: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start <= text.length) {
    const newline = text.indexOf('\n', start);
    const end = newline < 0 ? text.length : newline;
    let first = start;
    while (first < end && text.charCodeAt(first) === 0x20) first++;
    if (first < end && text.charCodeAt(first) !== 0x23) lines.push({ start, indent: first - start, end });
    if (newline < 0) break;
    start = newline + 1;
  }
  return lines;
}

/** Walks the content lines once, top to bottom; each method consumes the lines of the node it builds. */
class Reader {
  /** Index in `lines` of the first line not yet consumed. */
  #next = 0;

  constructor(
    private readonly text: string,
    private readonly lines: readonly Line[],
  ) {}

  /** The root collection; every line must belong to it. */
  document(): Node {
    const first = this.lines[0]!;
    const root = this.block(first, 0);
    if (this.#next < this.lines.length) outside();
    return root;
  }

  /** A mapping or sequence starting at `line`'s first content character. */
  private block(line: Line, depth: number): Node {
    const offset = line.start + line.indent;
    return this.isSeqItem(offset, line) ? this.seq(offset, depth) : this.map(offset, depth);
  }

  /** The line not yet consumed, if any. */
  private peek(): Line | undefined {
    return this.lines[this.#next];
  }

  /**
   * A block mapping whose first key is at `offset` on the current line; its other keys are at the same
   * column on the lines that follow.
   */
  private map(offset: number, depth: number): YAMLMap {
    if (depth > MAX_DEPTH) outside();
    const column = offset - this.lines[this.#next]!.start;
    const items: Pair<Scalar, Node>[] = [];
    const keys = new Set<unknown>();
    for (let at = offset; ; ) {
      const pair = this.pair(at, column, depth);
      // `yaml` compares resolved values, so `1` and `01`, or `true` and `True`, are the same key.
      if (keys.has(pair.key.value)) outside();
      keys.add(pair.key.value);
      items.push(pair);
      const line = this.peek();
      if (!line || line.indent < column) break;
      at = line.start + line.indent;
      // A key's own `- ` items were consumed with it; any other at this column is out of place.
      if (line.indent > column || this.isSeqItem(at, line)) outside();
    }
    return collection(MAP, items, offset, endOf(items[items.length - 1]!.value!)) as YAMLMap;
  }

  /** `key: value` or `key:` (then a nested block, or null) at `offset` on the current line. */
  private pair(offset: number, column: number, depth: number): Pair<Scalar, Node> {
    const line = this.lines[this.#next]!;
    const colon = this.keyEnd(offset, line);
    if (colon < 0) outside();
    const key = plainScalar(this.text.slice(offset, colon), offset, colon, colon);
    const valueAt = this.skipSpaces(colon + 1, line);
    let value: Node;
    if (valueAt < line.end && this.text.charCodeAt(valueAt) !== 0x23) {
      value = this.inlineScalar(valueAt, line);
      this.#next++;
    } else {
      this.#next++;
      value = this.nested(column, valueAt, depth, true);
    }
    return { [NODE_TYPE]: PAIR, key, value } as unknown as Pair<Scalar, Node>;
  }

  /**
   * The value of a `key:` or `-` with nothing after it: a block on the next lines indented more than
   * `column`, or (for a key, as YAML allows) a sequence at the key's own column; otherwise a null
   * scalar at `nullAt`, where `yaml` places it.
   */
  private nested(column: number, nullAt: number, depth: number, sameColumnSeq: boolean): Node {
    const line = this.peek();
    if (line && line.indent > column) return this.block(line, depth + 1);
    if (sameColumnSeq && line && line.indent === column) {
      const offset = line.start + line.indent;
      if (this.isSeqItem(offset, line)) return this.seq(offset, depth + 1);
    }
    return nullScalar(nullAt);
  }

  /** A block sequence whose first `-` is at `offset` on the current line. */
  private seq(offset: number, depth: number): YAMLSeq {
    if (depth > MAX_DEPTH) outside();
    const column = offset - this.lines[this.#next]!.start;
    const items: Node[] = [];
    for (let at = offset; ; ) {
      items.push(this.item(at, column, depth));
      const line = this.peek();
      if (!line || line.indent < column) break;
      if (line.indent > column) outside();
      at = line.start + line.indent;
      // A key at this column ends a sequence that is its parent key's value (`key:\n- a\nnext: b`).
      if (!this.isSeqItem(at, line)) break;
    }
    return collection(SEQ, items, offset, endOf(items[items.length - 1]!)) as YAMLSeq;
  }

  /** One `- ...` item whose `-` is at `offset` on the current line. */
  private item(offset: number, column: number, depth: number): Node {
    const line = this.lines[this.#next]!;
    const valueAt = this.skipSpaces(offset + 1, line);
    if (valueAt >= line.end || this.text.charCodeAt(valueAt) === 0x23) {
      this.#next++;
      return this.nested(column, valueAt, depth, false);
    }
    // `- - a` (a sequence in a sequence on one line) is left to the full parser.
    if (this.text.charCodeAt(valueAt) === 0x2d) outside();
    if (this.keyEnd(valueAt, line) >= 0) return this.map(valueAt, depth + 1);
    const value = this.inlineScalar(valueAt, line);
    this.#next++;
    return value;
  }

  /** Whether `offset` starts a sequence item: a `-` followed by a space or the end of the line. */
  private isSeqItem(offset: number, line: Line): boolean {
    return (
      this.text.charCodeAt(offset) === 0x2d &&
      (offset + 1 === line.end || this.text.charCodeAt(offset + 1) === 0x20)
    );
  }

  /** The offset of the colon after a plain key at `offset`, or -1 if no `key:` starts there. */
  private keyEnd(offset: number, line: Line): number {
    KEY.lastIndex = offset;
    const match = KEY.exec(this.text);
    if (!match) return -1;
    const colon = offset + match[0].length;
    if (match[0].length > MAX_KEY_LENGTH || this.text.charCodeAt(colon) !== 0x3a) return -1;
    return colon + 1 === line.end || this.text.charCodeAt(colon + 1) === 0x20 ? colon : -1;
  }

  /** The first offset from `offset` that is not a space, at most the line's end. */
  private skipSpaces(offset: number, line: Line): number {
    let at = offset;
    while (at < line.end && this.text.charCodeAt(at) === 0x20) at++;
    return at;
  }

  /** The one-line scalar at `offset` (not a space, not a comment), which must end the line. */
  private inlineScalar(offset: number, line: Line): Node {
    const rest = this.text.slice(offset, line.end);
    const nodeEnd = line.end < this.text.length ? line.end + 1 : line.end;
    const quote = rest.charCodeAt(0);
    if (quote === 0x27) return singleQuoted(rest, offset, nodeEnd);
    if (quote === 0x22) return doubleQuoted(rest, offset, nodeEnd);
    return plainValue(rest, offset, nodeEnd);
  }
}

/** A scalar node with the fields `yaml` sets on one it composes. */
function scalar(value: ScalarValue, source: string, type: ScalarType, range: Range): Scalar {
  return { [NODE_TYPE]: SCALAR, value, source, type, range } as unknown as Scalar;
}

/** What `yaml` gives for a missing value: an empty plain scalar whose value is null. */
function nullScalar(offset: number): Scalar {
  return scalar(null, '', 'PLAIN', [offset, offset, offset]);
}

/** A mapping or sequence node from its first key or `-` to where its last item ends. */
function collection(type: symbol, items: ReadonlyArray<Node | Pair>, start: number, end: number): Node {
  return { [NODE_TYPE]: type, items, range: [start, end, end] } as unknown as Node;
}

/** Where a node built here ends (every one has a range). */
function endOf(node: Node): number {
  return node.range![2];
}

/**
 * A plain scalar value: `rest` is the line from the value's first character. A ` #` starts a comment;
 * trailing spaces are not part of the value.
 */
function plainValue(rest: string, offset: number, nodeEnd: number): Scalar {
  if (NOT_PLAIN_START.has(rest[0]!)) outside();
  const hash = rest.indexOf(' #');
  // Only spaces are left to trim (see OUTSIDE_CHARSET), so `trimEnd` removes exactly what YAML does.
  const source = (hash < 0 ? rest : rest.slice(0, hash)).trimEnd();
  if (NOT_PLAIN_INSIDE.test(source) || source.endsWith(':')) outside();
  return plainScalar(source, offset, offset + source.length, nodeEnd);
}

/** A plain scalar resolved as the core schema does; forms that might be other numbers fall back. */
function plainScalar(source: string, start: number, valueEnd: number, nodeEnd: number): Scalar {
  return scalar(resolvePlain(source), source, 'PLAIN', [start, valueEnd, nodeEnd]);
}

/** The core schema's value for a non-empty plain scalar that passed the subset's checks. */
function resolvePlain(source: string): ScalarValue {
  if (NULL_WORD.test(source)) return null;
  if (TRUE_WORD.test(source)) return true;
  if (FALSE_WORD.test(source)) return false;
  const first = source.charCodeAt(0);
  // `.inf`, `.5` and their kin; a leading dot is rare enough in a config to leave to the full parser.
  if (first === 0x2e) outside();
  if (first >= 0x30 && first <= 0x39) {
    if (DIGITS.test(source)) return Number.parseInt(source, 10);
    if (NUMBER_LIKE.test(source)) outside();
  }
  return source;
}

/** `'...'` on one line, where `''` stands for one quote. */
function singleQuoted(rest: string, offset: number, nodeEnd: number): Scalar {
  let close = rest.indexOf("'", 1);
  while (close >= 0 && rest.charCodeAt(close + 1) === 0x27) close = rest.indexOf("'", close + 2);
  if (close < 0 || !AFTER_QUOTE.test(rest.slice(close + 1))) outside();
  const value = rest.slice(1, close).replaceAll("''", "'");
  return scalar(value, value, 'QUOTE_SINGLE', [offset, offset + close + 1, nodeEnd]);
}

/** `"..."` on one line with no escapes (a backslash falls back rather than being decoded here). */
function doubleQuoted(rest: string, offset: number, nodeEnd: number): Scalar {
  const close = rest.indexOf('"', 1);
  if (close < 0 || !AFTER_QUOTE.test(rest.slice(close + 1))) outside();
  const value = rest.slice(1, close);
  if (value.includes('\\')) outside();
  return scalar(value, value, 'QUOTE_DOUBLE', [offset, offset + close + 1, nodeEnd]);
}
