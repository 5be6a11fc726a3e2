/**
 * Seed data for the local backends: parameters, secrets, DynamoDB tables and AppConfig
 * configurations, as a YAML or JSON file or an object. Loading checks the shape and names the file
 * and the member that is wrong.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { type DeployInput, type FeatureFlags, flagsContent } from './aws/appconfig.js';
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

/** One version of a seeded secret: text or base64 bytes, and its staging labels. */
export interface SecretVersionSeed {
  value?: string;
  /** The bytes of a binary secret, base64. */
  binary?: string;
  /** @default ['AWSCURRENT'] */
  stages?: string[];
  /** The version id, 32 to 64 characters (a UUID is made when absent). */
  id?: string;
}

/**
 * A secret to create at start: one `value` (or `binary`), which becomes `AWSCURRENT`, or
 * `versions`, oldest first, each put as `PutSecretValue` puts it (so a later `AWSCURRENT` makes the
 * one before `AWSPREVIOUS`).
 */
export interface SecretSeed {
  name: string;
  value?: string;
  /** The bytes of a binary secret, base64. */
  binary?: string;
  versions?: SecretVersionSeed[];
  description?: string;
  /** Turns rotation on, as DescribeSecret reports it. Dates are ISO 8601. */
  rotation?: { afterDays?: number; lambdaArn?: string; lastRotated?: string; nextRotation?: string };
}

/**
 * A configuration deployed to one environment of an AppConfig application at start; the
 * application, environment and profile are made as needed. Give `content` (text, or a mapping or
 * list stored as JSON) or `flags` (a feature-flag profile, in the format GetLatestConfiguration
 * returns: `{ flagName: { enabled, …attributes } }`).
 */
export type AppConfigSeed = DeployInput;

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
  appconfig?: AppConfigSeed[];
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

  if (!isObject(data)) fail('the top level', 'a mapping with parameters, secrets, tables and appconfig');
  const root = data as Record<string, unknown>;
  only(root, 'seed', ['parameters', 'secrets', 'tables', 'appconfig']);

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

  // A secret is often a JSON document: a mapping is stored as its JSON text.
  const secretText = (value: unknown, path: string): string =>
    isObject(value) ? JSON.stringify(value) : scalar(value, path);
  const base64 = (value: unknown, path: string): string => {
    const text = string(value, path);
    return text.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(text) ? text : fail(path, 'base64');
  };
  const date = (value: unknown, path: string): string => {
    if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString();
    return typeof value === 'string' && !Number.isNaN(Date.parse(value))
      ? value
      : fail(path, 'an ISO 8601 date, e.g. 2026-01-31T00:00:00Z');
  };
  const secretVersion = (entry: Record<string, unknown>, path: string): SecretVersionSeed => {
    if ((entry.value === undefined) === (entry.binary === undefined))
      fail(path, 'given value or binary, one of them');
    return entry.value === undefined
      ? { binary: base64(entry.binary, `${path}.binary`) }
      : { value: secretText(entry.value, `${path}.value`) };
  };

  const secrets = list(root.secrets, 'secrets').map((entry, index): SecretSeed => {
    const path = `secrets[${index}]`;
    if (!isObject(entry)) return fail(path, 'a mapping with name and value');
    only(entry, path, ['name', 'value', 'binary', 'versions', 'description', 'rotation']);
    const secret: SecretSeed = { name: string(entry.name, `${path}.name`) };
    if (entry.versions === undefined) {
      Object.assign(secret, secretVersion(entry, path));
    } else {
      if (entry.value !== undefined || entry.binary !== undefined) {
        fail(`${path}.versions`, 'absent when value or binary is given');
      }
      const versions = list(entry.versions, `${path}.versions`);
      if (versions.length === 0) fail(`${path}.versions`, 'a list of at least one version');
      secret.versions = versions.map((version, versionIndex): SecretVersionSeed => {
        const versionPath = `${path}.versions[${versionIndex}]`;
        if (!isObject(version)) return fail(versionPath, 'a mapping with value (or binary) and stages');
        only(version, versionPath, ['value', 'binary', 'stages', 'id']);
        return {
          ...secretVersion(version, versionPath),
          ...(version.stages === undefined
            ? {}
            : { stages: strings(version.stages, `${versionPath}.stages`) }),
          ...(version.id === undefined ? {} : { id: string(version.id, `${versionPath}.id`) }),
        };
      });
    }
    if (entry.description !== undefined)
      secret.description = string(entry.description, `${path}.description`);
    if (entry.rotation !== undefined) {
      const rotationPath = `${path}.rotation`;
      const rotation = entry.rotation;
      if (!isObject(rotation))
        return fail(rotationPath, 'a mapping with afterDays, lambdaArn, lastRotated, nextRotation');
      only(rotation, rotationPath, ['afterDays', 'lambdaArn', 'lastRotated', 'nextRotation']);
      const afterDays = rotation.afterDays;
      if (
        afterDays !== undefined &&
        (typeof afterDays !== 'number' || !Number.isInteger(afterDays) || afterDays < 1 || afterDays > 1000)
      ) {
        fail(`${rotationPath}.afterDays`, 'a whole number of days from 1 to 1000');
      }
      secret.rotation = {
        ...(afterDays === undefined ? {} : { afterDays: afterDays as number }),
        ...(rotation.lambdaArn === undefined
          ? {}
          : { lambdaArn: string(rotation.lambdaArn, `${rotationPath}.lambdaArn`) }),
        ...(rotation.lastRotated === undefined
          ? {}
          : { lastRotated: date(rotation.lastRotated, `${rotationPath}.lastRotated`) }),
        ...(rotation.nextRotation === undefined
          ? {}
          : { nextRotation: date(rotation.nextRotation, `${rotationPath}.nextRotation`) }),
      };
    }
    return secret;
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

  const appconfig = list(root.appconfig, 'appconfig').map((entry, index): AppConfigSeed => {
    const path = `appconfig[${index}]`;
    if (!isObject(entry))
      return fail(path, 'a mapping with application, environment, profile and content or flags');
    only(entry, path, [
      'application',
      'environment',
      'profile',
      'content',
      'flags',
      'contentType',
      'versionLabel',
    ]);
    const seed: AppConfigSeed = {
      application: string(entry.application, `${path}.application`),
      environment: string(entry.environment, `${path}.environment`),
      profile: string(entry.profile, `${path}.profile`),
    };
    for (const member of ['application', 'environment', 'profile'] as const) {
      if (seed[member].length > 128) fail(`${path}.${member}`, 'at most 128 characters');
    }
    if ((entry.content === undefined) === (entry.flags === undefined)) {
      fail(path, 'given content or flags, one of them');
    }
    if (entry.flags !== undefined) {
      try {
        flagsContent(entry.flags);
      } catch (error) {
        throw new SeedError(`${source}: ${path}.flags: ${(error as Error).message}`, { cause: error });
      }
      seed.flags = entry.flags as FeatureFlags;
    } else {
      seed.content = entry.content;
    }
    if (entry.contentType !== undefined) seed.contentType = string(entry.contentType, `${path}.contentType`);
    if (entry.versionLabel !== undefined)
      seed.versionLabel = string(entry.versionLabel, `${path}.versionLabel`);
    return seed;
  });

  return { parameters, secrets, tables, appconfig };
}
