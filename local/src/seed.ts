/**
 * Seed data for the local backends: parameters, secrets and DynamoDB tables, as a YAML or JSON file
 * or an object. Loading checks the shape and names the file and the member that is wrong.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { TableSeed } from './aws/dynamodb.js';

/** A parameter to create at start. */
export interface ParameterSeed {
  name: string;
  /** The current value. */
  value: string;
  /** @default 'String' */
  type?: 'String' | 'StringList' | 'SecureString';
  /** Labels on the current version. */
  labels?: string[];
  /** Older values, oldest first: they become versions 1..n and `value` becomes n+1. */
  history?: string[];
}

/** A secret to create at start (its one version is `AWSCURRENT`). */
export interface SecretSeed {
  name: string;
  value: string;
}

export type { TableSeed };

/**
 * What the backends hold at start.
 *
 * @example
 * const seed: Seed = {
 *   parameters: [{ name: '/app/db-url', value: 'postgres://…', type: 'SecureString' }],
 *   secrets: [{ name: 'secret_info', value: '{"user":"app"}' }],
 *   tables: [{ name: 'Orders', hashKey: { name: 'id', type: 'S' }, items: [{ id: '1', total: 12.5 }] }],
 * };
 */
export interface Seed {
  parameters?: ParameterSeed[];
  secrets?: SecretSeed[];
  tables?: TableSeed[];
}

/** A seed that does not have the expected shape; the message names the file (when any) and the member. */
export class SeedError extends Error {
  override readonly name = 'SeedError';
  readonly code = 'SEED_INVALID';
}

/** Reads a `.yaml`, `.yml` or `.json` seed file and checks its shape. */
export async function loadSeed(file: string): Promise<Seed> {
  const extension = extname(file).toLowerCase();
  if (!['.yaml', '.yml', '.json'].includes(extension)) {
    throw new SeedError(`${file}: a seed file must end in .yaml, .yml or .json`);
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new SeedError(
      `${file}: cannot read the seed file (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      {
        cause: error,
      },
    );
  }
  let data: unknown;
  try {
    data = extension === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new SeedError(
      `${file}: not valid ${extension === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  return checkSeed(data ?? {}, file);
}

const TYPES = ['String', 'StringList', 'SecureString'];
const KEY_TYPES = ['S', 'N', 'B'];

/** Checks that `data` is a {@link Seed}; `source` names where it came from in messages. */
export function checkSeed(data: unknown, source = 'seed'): Seed {
  const fail = (path: string, expected: string): never => {
    throw new SeedError(`${source}: ${path} must be ${expected}`);
  };
  const isObject = (value: unknown): value is Record<string, unknown> =>
    typeof value === 'object' && value !== null && !Array.isArray(value);
  const only = (value: Record<string, unknown>, path: string, keys: string[]): void => {
    for (const key of Object.keys(value)) {
      if (!keys.includes(key)) fail(`${path}.${key}`, `absent (valid keys: ${keys.join(', ')})`);
    }
  };
  const string = (value: unknown, path: string): string =>
    typeof value === 'string' && value.length > 0 ? value : fail(path, 'a non-empty string');
  const list = (value: unknown, path: string): unknown[] =>
    value === undefined ? [] : Array.isArray(value) ? value : fail(path, 'a list');
  // YAML reads `value: 42` or `value: true` as a number or a boolean; SSM holds text, so take its text.
  const scalar = (value: unknown, path: string): string =>
    typeof value === 'number' || typeof value === 'boolean' ? String(value) : string(value, path);
  const scalars = (value: unknown, path: string): string[] =>
    list(value, path).map((item, index) => scalar(item, `${path}[${index}]`));
  const strings = (value: unknown, path: string): string[] =>
    list(value, path).map((item, index) => string(item, `${path}[${index}]`));

  if (!isObject(data)) fail('the top level', 'a mapping with parameters, secrets and tables');
  const root = data as Record<string, unknown>;
  only(root, 'seed', ['parameters', 'secrets', 'tables']);

  const parameters = list(root.parameters, 'parameters').map((entry, index): ParameterSeed => {
    const path = `parameters[${index}]`;
    if (!isObject(entry)) return fail(path, 'a mapping with name and value');
    only(entry, path, ['name', 'value', 'type', 'labels', 'history']);
    const type = entry.type ?? 'String';
    if (typeof type !== 'string' || !TYPES.includes(type)) fail(`${path}.type`, `one of ${TYPES.join(', ')}`);
    return {
      name: string(entry.name, `${path}.name`),
      value: scalar(entry.value, `${path}.value`),
      type: type as ParameterSeed['type'],
      labels: strings(entry.labels, `${path}.labels`),
      history: scalars(entry.history, `${path}.history`),
    };
  });

  const secrets = list(root.secrets, 'secrets').map((entry, index): SecretSeed => {
    const path = `secrets[${index}]`;
    if (!isObject(entry)) return fail(path, 'a mapping with name and value');
    only(entry, path, ['name', 'value']);
    // A secret is often a JSON document: a mapping is stored as its JSON text.
    const value = isObject(entry.value) ? JSON.stringify(entry.value) : scalar(entry.value, `${path}.value`);
    return { name: string(entry.name, `${path}.name`), value };
  });

  const key = (value: unknown, path: string): TableSeed['hashKey'] => {
    if (!isObject(value)) return fail(path, 'a mapping with name and type');
    only(value, path, ['name', 'type']);
    if (typeof value.type !== 'string' || !KEY_TYPES.includes(value.type)) {
      fail(`${path}.type`, `one of ${KEY_TYPES.join(', ')}`);
    }
    return { name: string(value.name, `${path}.name`), type: value.type as 'S' | 'N' | 'B' };
  };

  const tables = list(root.tables, 'tables').map((entry, index): TableSeed => {
    const path = `tables[${index}]`;
    if (!isObject(entry)) return fail(path, 'a mapping with name, hashKey and items');
    only(entry, path, ['name', 'hashKey', 'sortKey', 'items']);
    const hashKey = key(entry.hashKey, `${path}.hashKey`);
    const sortKey = entry.sortKey === undefined ? undefined : key(entry.sortKey, `${path}.sortKey`);
    const items = list(entry.items, `${path}.items`).map((item, itemIndex) => {
      const itemPath = `${path}.items[${itemIndex}]`;
      if (!isObject(item)) return fail(itemPath, 'a mapping of attributes');
      for (const keyAttribute of [hashKey, ...(sortKey ? [sortKey] : [])]) {
        const value = item[keyAttribute.name];
        const ok = keyAttribute.type === 'N' ? typeof value === 'number' : typeof value === 'string';
        if (!ok) {
          fail(
            `${itemPath}.${keyAttribute.name}`,
            keyAttribute.type === 'N' ? 'a number (key type N)' : 'a string',
          );
        }
      }
      return item;
    });
    const name = string(entry.name, `${path}.name`);
    // DynamoDB's table-name rule; dynalite would refuse the table with a less helpful message.
    if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(name)) {
      fail(`${path}.name`, '3 to 255 characters of a-z, A-Z, 0-9, _ - .');
    }
    return { name, hashKey, ...(sortKey ? { sortKey } : {}), items };
  });

  return { parameters, secrets, tables };
}
