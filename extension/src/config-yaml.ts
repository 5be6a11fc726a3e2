/**
 * `config.yaml` read by the full `yaml` library: the files the fast parser does not read (anchors and
 * aliases, flow collections, block scalars, …), and every file that is invalid, so that each message
 * names the line and column yaml found. The extension imports this module only when it needs it (see
 * `config.ts`); build tools and tests use {@link parseConfig}.
 */
import {
  type Alias,
  type Document,
  isAlias,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  visit,
} from 'yaml';
import {
  buildConfig,
  type CacheConfig,
  ConfigError,
  type ConfigSection,
  Reader,
  readSimpleConfig,
} from './config.js';

/**
 * Parses the text of a config file, synchronously. Throws {@link ConfigError}; never returns a partial
 * config.
 *
 * @example
 * const config = parseConfig(readFileSync('config.yaml', 'utf8'), 'config.yaml');
 */
export function parseConfig(
  text: string,
  file: string,
  sections: ReadonlyArray<ConfigSection<unknown>> = [],
): CacheConfig {
  return readSimpleConfig(text, file, true, sections) ?? parseYamlConfig(text, file, true, sections);
}

/** {@link parseConfig} with the full parser alone. */
export function parseYamlConfig(
  text: string,
  file: string,
  found: boolean,
  sections: ReadonlyArray<ConfigSection<unknown>>,
): CacheConfig {
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
  const source = { contents: doc.contents, lines, aliases: () => indexAliases(doc) };
  return buildConfig(new Reader(file, source), found, sections);
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

/** Every alias with the node its anchor names: the last one defined before it, as YAML resolves them. */
function indexAliases(doc: Document): Map<Alias, Node> {
  const anchors = new Map<string, Node>();
  const targets = new Map<Alias, Node>();
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        if (target !== undefined) targets.set(node, target);
      } else if (node.anchor) {
        anchors.set(node.anchor, node);
      }
    },
  });
  return targets;
}
