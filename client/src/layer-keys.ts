/**
 * Keys of the in-process layer (`local-cache.ts`): one key space per kind of read, so a parameter name, an
 * item, a secret and a configuration can never share an entry whatever their text, and within a space a
 * key text that no other read of that kind produces. A hit builds only these short texts, never a URL.
 */
import { dynamodbPath, type KeyAttributes } from '@lambda-cache/shared';
import { toWireKey } from './dynamodb.js';

/** The key spaces; every read kind has its own. */
export const SPACE = {
  parameters: 0,
  /** `decrypt: false`: a `SecureString` still encrypted is another value than the decrypted one. */
  rawParameters: 1,
  items: 2,
  /** A secret's current version, keyed by the id alone. */
  secrets: 3,
  /** A secret read with `versionId` or `versionStage`. */
  secretVersions: 4,
  configurations: 5,
  featureFlags: 6,
} as const;

export type Space = (typeof SPACE)[keyof typeof SPACE];

/** Where a read is kept. */
export interface LayerKey {
  readonly space: Space;
  readonly key: string;
}

/** `text` with its length in front, so where it ends is never in doubt: `3:a|b` and `1:a` + `|b` differ. */
function part(text: string): string {
  return `${text.length}:${text}`;
}

/** The space of a parameter read; its key is the name as asked (selector included). */
export function parameterSpace(decrypt: boolean): Space {
  return decrypt ? SPACE.parameters : SPACE.rawParameters;
}

/**
 * The key of an item read, built without marshalling: the table and each attribute's name, type and text,
 * length-prefixed so no two different keys share a text. Only strings and finite numbers take this path;
 * any other key (binary, bigint, a malformed one) gives `undefined` and is kept under its canonical wire
 * path instead ({@link itemPathKey}). One key spelled two ways (`1.5` and `1.50` are one JS number, the
 * attributes in either order) gets one text; a string and a number never do.
 */
export function itemLayerKey(table: string, key: unknown): string | undefined {
  if (typeof key !== 'object' || key === null || Array.isArray(key)) return undefined;
  const names = Object.keys(key);
  if (names.length === 2) {
    if ((names[0] as string) > (names[1] as string)) names.reverse();
  } else if (names.length !== 1) {
    return undefined;
  }
  let text = part(table);
  for (const name of names) {
    const value: unknown = (key as Record<string, unknown>)[name];
    let typed: string;
    if (typeof value === 'string') typed = `S${value}`;
    else if (typeof value === 'number' && Number.isFinite(value)) typed = `N${value}`;
    else return undefined;
    text += `|${part(name)}${part(typed)}`;
  }
  return text;
}

/**
 * The key of an item read that {@link itemLayerKey} leaves out: its canonical path, which every spelling of
 * the key shares (the path of the read without `refresh`). A path starts with `/` and a cheap key with a
 * digit, so the two never meet in the space. Throws `RouteError` for a table name that cannot be sent.
 */
export function itemPathKey(table: string, wireKey: KeyAttributes): string {
  return dynamodbPath(table, wireKey);
}

/**
 * A secret read: the id alone for the current version (the common read, one map lookup away), else in its
 * own space the selector's kind (`I` version id, `S` stage), the selector length-prefixed, then the id.
 */
export function secretLayerKey(id: string, versionId?: string, versionStage?: string): LayerKey {
  if (versionId !== undefined) return { space: SPACE.secretVersions, key: `I${part(versionId)}${id}` };
  if (versionStage !== undefined) {
    return { space: SPACE.secretVersions, key: `S${part(versionStage)}${id}` };
  }
  return { space: SPACE.secrets, key: id };
}

/** A configuration read: application and environment length-prefixed, then the profile. */
export function configurationLayerKey(application: string, environment: string, profile: string): string {
  return `${part(application)}${part(environment)}${profile}`;
}

/** A feature-flag read: application, environment and profile length-prefixed, then the flag key. */
export function featureFlagLayerKey(
  application: string,
  environment: string,
  profile: string,
  flag: string,
): string {
  return `${part(application)}${part(environment)}${part(profile)}${flag}`;
}

/** Every read the client keeps, described as data (the property tests enumerate them). */
export type LayerRead =
  | { readonly kind: 'parameter'; readonly name: string; readonly decrypt: boolean }
  | { readonly kind: 'item'; readonly table: string; readonly key: Parameters<typeof toWireKey>[0] }
  | {
      readonly kind: 'secret';
      readonly id: string;
      readonly versionId?: string;
      readonly versionStage?: string;
    }
  | {
      readonly kind: 'configuration';
      readonly application: string;
      readonly environment: string;
      readonly profile: string;
    }
  | {
      readonly kind: 'featureFlag';
      readonly application: string;
      readonly environment: string;
      readonly profile: string;
      readonly flag: string;
    };

/** Where the client keeps `read`: the same functions the client calls, gathered in one place. */
export function layerKeyOf(read: LayerRead): LayerKey {
  switch (read.kind) {
    case 'parameter':
      return { space: parameterSpace(read.decrypt), key: read.name };
    case 'item':
      return {
        space: SPACE.items,
        key: itemLayerKey(read.table, read.key) ?? itemPathKey(read.table, toWireKey(read.key)),
      };
    case 'secret':
      return secretLayerKey(read.id, read.versionId, read.versionStage);
    case 'configuration':
      return {
        space: SPACE.configurations,
        key: configurationLayerKey(read.application, read.environment, read.profile),
      };
    case 'featureFlag':
      return {
        space: SPACE.featureFlags,
        key: featureFlagLayerKey(read.application, read.environment, read.profile, read.flag),
      };
  }
}
