/**
 * The `secrets:` section of `config.yaml`: Secrets Manager secrets to prefetch. Read with the config's
 * {@link Reader}, so a problem reads `<file>:<line>:<column>: <key path>: <problem> (expected …)` as
 * everywhere else in the file.
 *
 * ```yaml
 * secrets:
 *   - region: us-west-2          # optional: the function's region
 *     ttl: 10m                   # optional: SECRETS_MANAGER_TTL, else the default TTL
 *     json: true                 # optional: every name of the group must hold JSON text
 *     names:
 *       - prod/db-password
 *       - arn:aws:secretsmanager:us-west-2:123456789012:secret:prod/api-key-AbCdEf
 *       - { name: prod/old-key, versionStage: AWSPREVIOUS, ttl: 1h, json: false }
 * ```
 *
 * A name item takes `name` and, all optional, `versionStage` or `versionId` (not both), `ttl` and
 * `json`, which override the group's. A secret listed twice (same region, id and version) is loaded once;
 * listed twice with different `ttl` or `json`, it is an error.
 */
import { MAX_SECRET_ID_LENGTH } from '@lambda-cache/shared';
import type { Node } from 'yaml';
import {
  at,
  type ConfigSection,
  describe,
  type Field,
  isMap,
  isNull,
  isScalar,
  type KeyPath,
  quote,
  type Reader,
  scalarText,
} from '../config.js';
import { CURRENT_STAGE } from './secrets-routes.js';

/** One secret to prefetch. Codegen (`lambda-cache-types`) reads this shape. */
export interface SecretEntry {
  /** A secret name or ARN (full, or partial without the six random characters). */
  readonly id: string;
  /** `undefined`: the function's region (or, for an ARN, the region it names). */
  readonly region: string | undefined;
  readonly versionId: string | undefined;
  /** `undefined`: `AWSCURRENT`. An explicit `AWSCURRENT` is read as `undefined`, so both spellings are one entry. */
  readonly versionStage: string | undefined;
  /** `undefined`: `SECRETS_MANAGER_TTL`, else the default TTL. */
  readonly ttlMs: number | undefined;
  /** The secret must be JSON text; one that is not (or is binary) is that secret's load error. */
  readonly json: boolean;
}

const GROUP_KEYS = ['region', 'ttl', 'json', 'names'] as const;
const NAME_KEYS = ['name', 'versionStage', 'versionId', 'ttl', 'json'] as const;

/** What `CreateSecret` accepts as a name. https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
/** A secret ARN, full or partial; the partition, region and account are checked, the name part as a name. */
const SECRET_ARN = /^arn:(aws[a-z-]*):secretsmanager:([a-z]{2,}(?:-[a-z]+)+-\d{1,2}):(\d{12}):secret:(.+)$/;
const VERSION_ID = /^[A-Za-z0-9-]{32,64}$/;
const MAX_STAGE_LENGTH = 256;
const STAGE_CHARS = /^[^\p{Cc}]+$/u;

const SECRET_EXPECTED = {
  id: `a secret name (1 to 512 of A-Z a-z 0-9 / _ + = . @ -) or a secret ARN such as arn:aws:secretsmanager:us-west-2:123456789012:secret:prod/db-AbCdEf, at most ${MAX_SECRET_ID_LENGTH} characters`,
  versionId: 'a version id of 32 to 64 letters, digits or hyphens, e.g. a UUID',
  versionStage: `a staging label of 1 to ${MAX_STAGE_LENGTH} characters, e.g. AWSCURRENT or AWSPREVIOUS`,
  group: `a mapping with ${GROUP_KEYS.join(', ')}`,
  name: `a secret name or ARN, or a mapping with ${NAME_KEYS.join(', ')}`,
} as const;

/** The region an ARN names, or `undefined` for a name. */
export function arnRegion(id: string): string | undefined {
  return SECRET_ARN.exec(id)?.[2];
}

/** Why `id` is not a secret id Secrets Manager accepts, or `undefined` when it is one. */
export function secretIdProblem(id: string): string | undefined {
  if (id === '') return 'is empty';
  if (id.length > MAX_SECRET_ID_LENGTH) return `is ${id.length} characters long`;
  if (id.startsWith('arn:')) {
    const match = SECRET_ARN.exec(id);
    if (!match || !SECRET_NAME.test(match[4] ?? ''))
      return `${quote(id)} is not a Secrets Manager secret ARN`;
    return undefined;
  }
  if (!SECRET_NAME.test(id)) return `${quote(id)} is not a secret name`;
  return undefined;
}

/** Where an entry was first listed, for the message when a repeat disagrees. */
interface Seen {
  readonly entry: SecretEntry;
  readonly node: Node | null;
}

function readSecrets(r: Reader, field: Field | undefined): readonly SecretEntry[] {
  const out: SecretEntry[] = [];
  const seen = new Map<string, Seen>();
  for (const group of r.list(field, 'groups with region, ttl, json, names')) {
    if (isNull(group.node) || !isMap(group.node)) {
      r.fail(group.node, group.path, `is ${describe(group.node)}`, SECRET_EXPECTED.group);
    }
    const f = r.fields(group.node, group.path, GROUP_KEYS);
    const region = r.region(f.get('region'));
    const ttlMs = r.duration(f.get('ttl'));
    const json = r.bool(f.get('json')) ?? false;
    const names = f.get('names');
    if (names === undefined || isNull(names.value)) {
      r.fail(
        names?.value ?? group.node,
        names?.path ?? group.path,
        names ? 'is empty' : 'misses names',
        'names: a list of secret names or ARNs',
      );
    }
    for (const item of r.list(
      names,
      'secret names or ARNs, or { name, versionStage, versionId, ttl, json } mappings',
    )) {
      let idNode: Node | null = item.node;
      let idPath: KeyPath = item.path;
      let entry: SecretEntry;
      if (isMap(item.node)) {
        const nf = r.fields(item.node, item.path, NAME_KEYS);
        const id = r.required(nf, item.node, item.path, 'name', SECRET_EXPECTED.id);
        idNode = nf.get('name')?.value ?? item.node;
        idPath = at(item.path, 'name');
        const versionId = r.text(nf.get('versionId'), SECRET_EXPECTED.versionId);
        const versionStage = r.text(nf.get('versionStage'), SECRET_EXPECTED.versionStage);
        const idField = nf.get('versionId');
        const stageField = nf.get('versionStage');
        if (versionId !== undefined && idField && !VERSION_ID.test(versionId)) {
          r.fail(
            idField.value,
            idField.path,
            `${quote(versionId)} is not a version id`,
            SECRET_EXPECTED.versionId,
          );
        }
        if (versionStage !== undefined && stageField) {
          if (versionStage.length > MAX_STAGE_LENGTH || !STAGE_CHARS.test(versionStage)) {
            const problem =
              versionStage === '' ? 'is empty' : `${quote(versionStage)} is not a staging label`;
            r.fail(stageField.value, stageField.path, problem, SECRET_EXPECTED.versionStage);
          }
        }
        if (versionId !== undefined && versionStage !== undefined && stageField) {
          r.fail(
            stageField.key,
            stageField.path,
            'is given with versionId',
            'versionId or versionStage, not both (a version id names one version already)',
          );
        }
        entry = {
          id,
          region,
          versionId,
          versionStage: versionStage === CURRENT_STAGE ? undefined : versionStage,
          ttlMs: r.duration(nf.get('ttl')) ?? ttlMs,
          json: r.bool(nf.get('json')) ?? json,
        };
      } else {
        if (isNull(item.node)) r.fail(item.node, item.path, 'is empty', SECRET_EXPECTED.name);
        if (!isScalar(item.node))
          r.fail(item.node, item.path, `is ${describe(item.node)}`, SECRET_EXPECTED.name);
        entry = {
          id: scalarText(item.node),
          region,
          versionId: undefined,
          versionStage: undefined,
          ttlMs,
          json,
        };
      }
      const problem = secretIdProblem(entry.id);
      if (problem !== undefined) r.fail(idNode, idPath, problem, SECRET_EXPECTED.id);
      const named = arnRegion(entry.id);
      if (named !== undefined && region !== undefined && named !== region) {
        r.fail(
          idNode,
          idPath,
          `names region ${named}, but its group has region ${region}`,
          'the ARN’s own region in region, or no region',
        );
      }
      // JSON: ids, stages and regions may hold any character a key would use as a separator.
      const key = JSON.stringify([
        entry.region ?? named ?? null,
        entry.id,
        entry.versionId ?? null,
        entry.versionStage ?? null,
      ]);
      const first = seen.get(key);
      if (first) {
        sameSettings(r, first, entry, idNode, idPath);
        continue;
      }
      seen.set(key, { entry, node: idNode });
      out.push(entry);
    }
  }
  return out;
}

function sameSettings(r: Reader, first: Seen, entry: SecretEntry, node: Node | null, path: KeyPath): void {
  if (first.entry.ttlMs === entry.ttlMs && first.entry.json === entry.json) return;
  const line = r.line(first.node);
  const where = line === undefined ? 'earlier' : `at line ${line}`;
  const what = first.entry.ttlMs === entry.ttlMs ? 'json' : 'ttl';
  r.fail(
    node,
    path,
    `secret ${entry.id} is also listed ${where} with another ${what}`,
    'one ttl and one json setting for both, or the secret listed once',
  );
}

/**
 * The `secrets:` section.
 *
 * @example
 * const entries = sectionOf(config, secretsSection); // readonly SecretEntry[]
 */
export const secretsSection: ConfigSection<readonly SecretEntry[]> = {
  key: 'secrets',
  read: readSecrets,
  describe(entries) {
    return `${entries.length} ${entries.length === 1 ? 'secret' : 'secrets'}`;
  },
};
