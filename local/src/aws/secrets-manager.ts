/**
 * Secrets Manager, in memory, speaking its JSON 1.1 protocol (`X-Amz-Target: secretsmanager.<Op>`).
 * Operations: GetSecretValue, BatchGetSecretValue, DescribeSecret, CreateSecret, PutSecretValue,
 * UpdateSecretVersionStage, RotateSecret, DeleteSecret, RestoreSecret.
 * Shapes, limits and staging-label rules follow the API reference:
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_Operations.html
 *
 * There is no rotation Lambda here: `RotateSecret` finishes a rotation by promoting the version a
 * caller put as `AWSPENDING` (what a rotation function's `finishSecret` step does), and tests rotate
 * with {@link SecretStore.rotate}.
 */
import { createHash, randomUUID } from 'node:crypto';
import { AwsError, validationError } from './errors.js';
import {
  epochSeconds,
  type Input,
  optionalBoolean,
  optionalInteger,
  optionalObject,
  optionalObjectList,
  optionalString,
  optionalStringList,
  requiredString,
} from './input.js';

/** The account every local ARN names. */
export const LOCAL_ACCOUNT_ID = '123456789012';

const CURRENT = 'AWSCURRENT';
const PREVIOUS = 'AWSPREVIOUS';
const PENDING = 'AWSPENDING';
/** BatchGetSecretValue: at most 20 ids, and MaxResults 1..20 with Filters; at most 10 filters. */
const BATCH_LIMIT = 20;
const MAX_FILTERS = 10;
const MAX_FILTER_VALUES = 10;
const NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const FILTER_VALUE_PATTERN = /^!?[a-zA-Z0-9 :_@/+=.\-!]*$/;
const MAX_SECRET_BYTES = 65_536;
/** A version id (ClientRequestToken) is 32 to 64 characters. */
const VERSION_ID_LENGTH = { min: 32, max: 64 };
const MAX_STAGE_LENGTH = 256;
const MAX_STAGES_PER_VERSION = 20;
/** Secrets Manager keeps the 100 most recent versions; older versions without a label go. */
const MAX_VERSIONS = 100;
const RECOVERY_WINDOW_DAYS = { min: 7, max: 30, default: 30 };
const ROTATION_DAYS = { min: 1, max: 1000 };
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** A secret value: text (`SecretString`) or bytes (`SecretBinary`, base64 on the wire). */
export type SecretValue = { readonly string: string } | { readonly binary: Buffer };

interface SecretVersion {
  readonly id: string;
  readonly value: SecretValue;
  readonly createdMs: number;
  readonly stages: Set<string>;
}

interface Rotation {
  lambdaArn: string | undefined;
  /** Milliseconds between rotations (`AutomaticallyAfterDays` or `rate(…)`). */
  intervalMs: number | undefined;
  rules: Record<string, unknown> | undefined;
}

interface Secret {
  readonly name: string;
  readonly arn: string;
  readonly createdMs: number;
  description: string | undefined;
  lastChangedMs: number;
  lastAccessedMs: number | undefined;
  /** When a deleted secret goes for good; `undefined` while it is not deleted. */
  deletionMs: number | undefined;
  rotationEnabled: boolean;
  rotation: Rotation;
  lastRotatedMs: number | undefined;
  nextRotationMs: number | undefined;
  versions: SecretVersion[];
}

/** The `GetSecretValue` answer shape. */
export interface SecretValueJson {
  ARN: string;
  Name: string;
  VersionId: string;
  SecretString?: string;
  /** Base64, as the JSON protocol carries blobs. */
  SecretBinary?: string;
  VersionStages: string[];
  CreatedDate: number;
}

/** What SSM's `/aws/reference/secretsmanager/` names answer: the value is always text. */
export interface SecretReference extends SecretValueJson {
  /** The secret's text, or the base64 of a binary secret. */
  SecretString: string;
}

/** A version for {@link SecretStore.put} and the seed. */
export interface SecretVersionInput {
  readonly value: SecretValue;
  /** @default ['AWSCURRENT'] */
  readonly stages?: readonly string[];
  /** The version id (a UUID is made when absent). */
  readonly id?: string;
}

export class SecretStore {
  readonly #secrets = new Map<string, Secret>();
  readonly #region: string;
  readonly #now: () => number;

  constructor(region: string, now: () => number) {
    this.#region = region;
    this.#now = now;
  }

  /** Creates a secret, or adds a new version (`AWSCURRENT` unless `stages` says otherwise) when it exists. */
  put(name: string, version: SecretVersionInput & { description?: string }): { versionId: string } {
    const input: Input = {
      ClientRequestToken: version.id,
      ...wireValue(version.value),
      ...(version.stages === undefined ? {} : { VersionStages: [...version.stages] }),
    };
    if (this.#get(name) === undefined) this.create({ Name: name, Description: version.description });
    const result = this.putValue({ SecretId: name, ...input }) as { VersionId: string };
    return { versionId: result.VersionId };
  }

  /**
   * A finished rotation: `value` becomes a new `AWSCURRENT` version (the old one `AWSPREVIOUS`), the
   * rotation dates move on.
   */
  rotate(name: string, value: SecretValue): { versionId: string } {
    const secret = this.#live(name);
    const version = this.#addVersion(secret, value, undefined, [CURRENT]);
    this.#rotated(secret);
    return { versionId: version.id };
  }

  /**
   * Sets (or with `undefined`, clears) `NextRotationDate`. A date turns rotation on, as AWS shows the date
   * only for a secret that rotates: a test can schedule a rotation without a rotation function.
   */
  setNextRotationDate(name: string, date: Date | number | undefined): void {
    const secret = this.#find(name);
    secret.nextRotationMs = date === undefined ? undefined : new Date(date).getTime();
    if (date !== undefined) secret.rotationEnabled = true;
  }

  /** Sets what DescribeSecret answers about rotation, as a secret with rotation turned on has it. */
  configureRotation(
    name: string,
    rotation: {
      afterDays?: number;
      lambdaArn?: string;
      lastRotated?: Date | number;
      nextRotation?: Date | number;
    },
  ): void {
    const secret = this.#find(name);
    secret.rotationEnabled = true;
    secret.rotation = {
      lambdaArn: rotation.lambdaArn,
      intervalMs: rotation.afterDays === undefined ? undefined : rotation.afterDays * DAY_MS,
      rules: rotation.afterDays === undefined ? undefined : { AutomaticallyAfterDays: rotation.afterDays },
    };
    if (rotation.lastRotated !== undefined) secret.lastRotatedMs = new Date(rotation.lastRotated).getTime();
    if (rotation.nextRotation !== undefined) {
      secret.nextRotationMs = new Date(rotation.nextRotation).getTime();
    } else if (secret.rotation.intervalMs !== undefined) {
      secret.nextRotationMs = (secret.lastRotatedMs ?? this.#now()) + secret.rotation.intervalMs;
    }
  }

  create(input: Input): unknown {
    const name = requiredString(input, 'Name');
    if (!NAME_PATTERN.test(name)) {
      throw new AwsError(
        'ValidationException',
        'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
      );
    }
    const existing = this.#get(name);
    if (existing?.deletionMs !== undefined) {
      throw new AwsError(
        'InvalidRequestException',
        `You can't create this secret because a secret with this name is already scheduled for deletion.`,
      );
    }
    if (existing !== undefined) {
      throw new AwsError(
        'ResourceExistsException',
        `The operation failed because the secret ${name} already exists.`,
      );
    }
    const value = secretValue(input);
    const token = versionToken(input);
    const now = this.#now();
    const secret: Secret = {
      name,
      arn: this.#arn(name),
      createdMs: now,
      description: optionalString(input, 'Description'),
      lastChangedMs: now,
      lastAccessedMs: undefined,
      deletionMs: undefined,
      rotationEnabled: false,
      rotation: { lambdaArn: undefined, intervalMs: undefined, rules: undefined },
      lastRotatedMs: undefined,
      nextRotationMs: undefined,
      versions: [],
    };
    this.#secrets.set(name, secret);
    if (value === undefined) return { ARN: secret.arn, Name: name };
    const version = this.#addVersion(secret, value, token, [CURRENT]);
    return { ARN: secret.arn, Name: name, VersionId: version.id };
  }

  putValue(input: Input): unknown {
    const secret = this.#live(requiredString(input, 'SecretId'));
    const value = secretValue(input);
    if (value === undefined) {
      throw new AwsError(
        'InvalidParameterException',
        'You must provide either SecretString or SecretBinary.',
      );
    }
    const stages = optionalStringList(input, 'VersionStages') ?? [CURRENT];
    checkStages(stages);
    const version = this.#addVersion(secret, value, versionToken(input), stages);
    return { ARN: secret.arn, Name: secret.name, VersionId: version.id, VersionStages: [...version.stages] };
  }

  getValue(input: Input): SecretValueJson {
    const secret = this.#live(requiredString(input, 'SecretId'));
    const versionId = optionalString(input, 'VersionId');
    if (versionId !== undefined) checkVersionId(versionId, 'versionId');
    const json = this.#value(secret, versionId, optionalString(input, 'VersionStage'));
    this.#accessed(secret);
    return json;
  }

  /** `GetSecretValue` of `AWSCURRENT` by id, or `undefined` when there is none (for SSM references). */
  lookup(secretId: string): SecretReference | undefined {
    const secret = this.#resolve(secretId);
    if (secret === undefined || secret.deletionMs !== undefined) return undefined;
    try {
      const json = this.#value(secret, undefined, undefined);
      this.#accessed(secret);
      return { ...json, SecretString: json.SecretString ?? json.SecretBinary ?? '' };
    } catch {
      return undefined;
    }
  }

  batchGetValue(input: Input): unknown {
    const ids = optionalStringList(input, 'SecretIdList');
    const filters = optionalObjectList(input, 'Filters');
    const maxResults = optionalInteger(input, 'MaxResults');
    if ((ids === undefined) === (filters === undefined)) {
      throw new AwsError(
        'InvalidParameterException',
        'Either SecretIdList or Filters must be provided, but not both.',
      );
    }
    if (ids !== undefined) {
      if (ids.length < 1 || ids.length > BATCH_LIMIT) {
        throw validationError(
          `[${ids.join(', ')}]`,
          'secretIdList',
          `Member must have length ${ids.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${BATCH_LIMIT}`}`,
        );
      }
      if (maxResults !== undefined) {
        throw new AwsError('InvalidParameterException', 'MaxResults can only be used with Filters.');
      }
      const SecretValues: SecretValueJson[] = [];
      const Errors: Array<{ SecretId: string; ErrorCode: string; Message: string }> = [];
      for (const id of new Set(ids)) {
        try {
          const secret = this.#live(id);
          SecretValues.push(this.#value(secret, undefined, undefined));
          this.#accessed(secret);
        } catch (error) {
          if (!(error instanceof AwsError)) throw error;
          Errors.push({ SecretId: id, ErrorCode: error.code, Message: error.message });
        }
      }
      return { SecretValues, Errors };
    }
    const limit = maxResults ?? BATCH_LIMIT;
    if (limit < 1 || limit > BATCH_LIMIT) {
      throw validationError(
        String(limit),
        'maxResults',
        `Member must have value ${limit < 1 ? 'greater than or equal to 1' : `less than or equal to ${BATCH_LIMIT}`}`,
      );
    }
    const matches = secretFilter(filters ?? []);
    const after = decodeToken(optionalString(input, 'NextToken'));
    this.#purge();
    const matching = [...this.#secrets.values()]
      .filter((secret) => secret.deletionMs === undefined && matches(secret))
      .sort((a, b) => compare(a.name, b.name))
      .filter((secret) => after === undefined || compare(secret.name, after) > 0);
    const page = matching.slice(0, limit);
    const SecretValues: SecretValueJson[] = [];
    const Errors: Array<{ SecretId: string; ErrorCode: string; Message: string }> = [];
    for (const secret of page) {
      try {
        SecretValues.push(this.#value(secret, undefined, undefined));
        this.#accessed(secret);
      } catch (error) {
        // A secret created without a value has no AWSCURRENT version yet.
        if (!(error instanceof AwsError)) throw error;
        Errors.push({ SecretId: secret.name, ErrorCode: error.code, Message: error.message });
      }
    }
    const last = page.at(-1);
    return {
      SecretValues,
      Errors,
      ...(matching.length > limit && last ? { NextToken: encodeToken(last.name) } : {}),
    };
  }

  describe(input: Input): unknown {
    const secret = this.#find(requiredString(input, 'SecretId'));
    const VersionIdsToStages: Record<string, string[]> = {};
    for (const version of secret.versions) {
      if (version.stages.size > 0) VersionIdsToStages[version.id] = [...version.stages];
    }
    const date = (ms: number | undefined, member: string) =>
      ms === undefined ? {} : { [member]: epochSeconds(ms) };
    return {
      ARN: secret.arn,
      Name: secret.name,
      ...(secret.description === undefined ? {} : { Description: secret.description }),
      RotationEnabled: secret.rotationEnabled,
      ...(secret.rotation.lambdaArn === undefined ? {} : { RotationLambdaARN: secret.rotation.lambdaArn }),
      ...(secret.rotation.rules === undefined ? {} : { RotationRules: secret.rotation.rules }),
      ...date(secret.lastRotatedMs, 'LastRotatedDate'),
      ...date(secret.lastChangedMs, 'LastChangedDate'),
      ...date(secret.lastAccessedMs, 'LastAccessedDate'),
      ...date(secret.deletionMs, 'DeletedDate'),
      ...(secret.rotationEnabled ? date(secret.nextRotationMs, 'NextRotationDate') : {}),
      CreatedDate: epochSeconds(secret.createdMs),
      VersionIdsToStages,
    };
  }

  /**
   * Moves one staging label: to `MoveToVersionId`, from `RemoveFromVersionId` (which must name the
   * version holding it, when another version holds it). Moving `AWSCURRENT` moves `AWSPREVIOUS` to
   * the version it left.
   */
  updateVersionStage(input: Input): unknown {
    const secret = this.#live(requiredString(input, 'SecretId'));
    const stage = requiredString(input, 'VersionStage');
    checkStages([stage]);
    const removeFrom = optionalString(input, 'RemoveFromVersionId');
    const moveTo = optionalString(input, 'MoveToVersionId');
    if (removeFrom !== undefined) checkVersionId(removeFrom, 'removeFromVersionId');
    if (moveTo !== undefined) checkVersionId(moveTo, 'moveToVersionId');
    const holder = secret.versions.find((version) => version.stages.has(stage));
    const versionById = (id: string): SecretVersion => {
      const version = secret.versions.find((candidate) => candidate.id === id);
      if (version === undefined) {
        throw new AwsError(
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret value for VersionId: ${id}`,
        );
      }
      return version;
    };
    if (moveTo === undefined) {
      if (removeFrom === undefined) {
        throw new AwsError(
          'InvalidParameterException',
          'You must specify MoveToVersionId, RemoveFromVersionId, or both.',
        );
      }
      const from = versionById(removeFrom);
      if (holder !== from) {
        throw new AwsError(
          'InvalidParameterException',
          `The staging label ${stage} is not attached to version ${removeFrom}.`,
        );
      }
      if (stage === CURRENT) {
        throw new AwsError(
          'InvalidParameterException',
          `You can't remove ${CURRENT} from a version without moving it to another version.`,
        );
      }
      from.stages.delete(stage);
    } else {
      const to = versionById(moveTo);
      if (holder !== undefined && holder !== to) {
        if (removeFrom !== holder.id) {
          throw new AwsError(
            'InvalidParameterException',
            `The staging label ${stage} is currently attached to version ${holder.id}. Specify that version in RemoveFromVersionId to move the label.`,
          );
        }
        this.#moveStage(secret, stage, to);
      } else if (holder === undefined) {
        if (removeFrom !== undefined) versionById(removeFrom);
        if (to.stages.size >= MAX_STAGES_PER_VERSION) {
          throw new AwsError(
            'LimitExceededException',
            `A version can have at most ${MAX_STAGES_PER_VERSION} staging labels.`,
          );
        }
        to.stages.add(stage);
      }
    }
    secret.lastChangedMs = this.#now();
    this.#prune(secret);
    return { ARN: secret.arn, Name: secret.name };
  }

  rotateSecret(input: Input): unknown {
    const secret = this.#live(requiredString(input, 'SecretId'));
    const lambdaArn = optionalString(input, 'RotationLambdaARN');
    const rules = optionalObject(input, 'RotationRules');
    const immediately = optionalBoolean(input, 'RotateImmediately') ?? true;
    // The SDK fills ClientRequestToken in; it names the version a rotation function would put as
    // AWSPENDING, and here the caller has put that version already.
    versionToken(input);
    if (lambdaArn === undefined && secret.rotation.lambdaArn === undefined) {
      throw new AwsError(
        'InvalidRequestException',
        "You tried to enable rotation on a secret that doesn't already have a Lambda function ARN configured and you didn't include such an ARN as a parameter in this call.",
      );
    }
    const intervalMs = rules === undefined ? secret.rotation.intervalMs : rotationInterval(rules);
    const pending = secret.versions.find((version) => version.stages.has(PENDING));
    if (immediately && pending === undefined) {
      // Where AWS would invoke the rotation function, which puts the AWSPENDING version itself.
      throw new AwsError(
        'InvalidRequestException',
        `The local backend runs no rotation function: put the new value as ${PENDING} first (PutSecretValue with VersionStages [${PENDING}]), then RotateSecret makes it ${CURRENT}.`,
      );
    }
    secret.rotationEnabled = true;
    secret.rotation = {
      lambdaArn: lambdaArn ?? secret.rotation.lambdaArn,
      intervalMs,
      rules: rules ?? secret.rotation.rules,
    };
    secret.lastChangedMs = this.#now();
    if (!immediately || pending === undefined) {
      if (intervalMs !== undefined)
        secret.nextRotationMs = (secret.lastRotatedMs ?? this.#now()) + intervalMs;
      return { ARN: secret.arn, Name: secret.name };
    }
    pending.stages.delete(PENDING);
    this.#moveStage(secret, CURRENT, pending);
    this.#rotated(secret);
    return { ARN: secret.arn, Name: secret.name, VersionId: pending.id };
  }

  deleteSecret(input: Input): unknown {
    const secret = this.#live(requiredString(input, 'SecretId'));
    const window = optionalInteger(input, 'RecoveryWindowInDays');
    const force = optionalBoolean(input, 'ForceDeleteWithoutRecovery') ?? false;
    if (window !== undefined && force) {
      throw new AwsError(
        'InvalidParameterException',
        "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
      );
    }
    if (window !== undefined && (window < RECOVERY_WINDOW_DAYS.min || window > RECOVERY_WINDOW_DAYS.max)) {
      throw new AwsError(
        'InvalidParameterException',
        `The RecoveryWindowInDays value must be between ${RECOVERY_WINDOW_DAYS.min} and ${RECOVERY_WINDOW_DAYS.max} days (inclusive).`,
      );
    }
    const now = this.#now();
    const deletionMs = force ? now : now + (window ?? RECOVERY_WINDOW_DAYS.default) * DAY_MS;
    if (force) this.#secrets.delete(secret.name);
    else secret.deletionMs = deletionMs;
    secret.lastChangedMs = now;
    return { ARN: secret.arn, Name: secret.name, DeletionDate: epochSeconds(deletionMs) };
  }

  restoreSecret(input: Input): unknown {
    const secret = this.#find(requiredString(input, 'SecretId'));
    secret.deletionMs = undefined;
    secret.lastChangedMs = this.#now();
    return { ARN: secret.arn, Name: secret.name };
  }

  #value(secret: Secret, versionId: string | undefined, stage: string | undefined): SecretValueJson {
    let version: SecretVersion | undefined;
    if (versionId !== undefined) {
      version = secret.versions.find((candidate) => candidate.id === versionId);
      if (version === undefined) {
        throw new AwsError(
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`,
        );
      }
      if (stage !== undefined && !version.stages.has(stage)) {
        // "If you include both this parameter and VersionStage, the two parameters must refer to the
        // same secret version."
        throw new AwsError(
          'InvalidParameterException',
          `You provided a VersionStage (${stage}) that is not attached to the version with VersionId ${versionId}.`,
        );
      }
    } else {
      const wanted = stage ?? CURRENT;
      version = secret.versions.find((candidate) => candidate.stages.has(wanted));
      if (version === undefined) {
        throw new AwsError(
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret value for staging label: ${wanted}`,
        );
      }
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.id,
      ...('string' in version.value
        ? { SecretString: version.value.string }
        : { SecretBinary: version.value.binary.toString('base64') }),
      VersionStages: [...version.stages],
      CreatedDate: epochSeconds(version.createdMs),
    };
  }

  #addVersion(
    secret: Secret,
    value: SecretValue,
    token: string | undefined,
    stages: readonly string[],
  ): SecretVersion {
    const id = token ?? randomUUID();
    const existing = secret.versions.find((version) => version.id === id);
    if (existing !== undefined) {
      // A repeated ClientRequestToken with the same value is an idempotent retry.
      if (sameValue(existing.value, value)) return existing;
      throw new AwsError(
        'ResourceExistsException',
        'You can’t modify an existing version, you can only create a new version.',
      );
    }
    const now = this.#now();
    // "If this operation creates the first version for the secret, then Secrets Manager
    // automatically attaches the staging label AWSCURRENT to it."
    const first = secret.versions.length === 0;
    const version: SecretVersion = { id, value, createdMs: now, stages: new Set() };
    secret.versions.push(version);
    for (const stage of new Set(first ? [CURRENT, ...stages] : stages))
      this.#moveStage(secret, stage, version);
    secret.lastChangedMs = now;
    this.#prune(secret);
    return version;
  }

  /** Attaches `stage` to `to` only; moving `AWSCURRENT` moves `AWSPREVIOUS` to where it was. */
  #moveStage(secret: Secret, stage: string, to: SecretVersion): void {
    const from = secret.versions.find((version) => version.stages.has(stage));
    if (from === to) return;
    from?.stages.delete(stage);
    to.stages.add(stage);
    if (stage === CURRENT && from !== undefined) {
      for (const version of secret.versions) version.stages.delete(PREVIOUS);
      from.stages.add(PREVIOUS);
    }
  }

  /** Keeps at most {@link MAX_VERSIONS} versions by dropping the oldest without labels. */
  #prune(secret: Secret): void {
    let excess = secret.versions.length - MAX_VERSIONS;
    if (excess <= 0) return;
    secret.versions = secret.versions.filter((version) => {
      if (excess > 0 && version.stages.size === 0) {
        excess--;
        return false;
      }
      return true;
    });
  }

  #rotated(secret: Secret): void {
    const now = this.#now();
    secret.lastRotatedMs = now;
    secret.lastChangedMs = now;
    if (secret.rotation.intervalMs !== undefined) secret.nextRotationMs = now + secret.rotation.intervalMs;
  }

  /** AWS records the day of the last access, not its time. */
  #accessed(secret: Secret): void {
    secret.lastAccessedMs = Math.floor(this.#now() / DAY_MS) * DAY_MS;
  }

  #find(secretId: string): Secret {
    const secret = this.#resolve(secretId);
    if (secret === undefined) {
      throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    }
    return secret;
  }

  /** A secret that is not deleted: a deleted one is `InvalidRequestException`, as on AWS. */
  #live(secretId: string): Secret {
    const secret = this.#find(secretId);
    if (secret.deletionMs !== undefined) {
      throw new AwsError(
        'InvalidRequestException',
        "You can't perform this operation on the secret because it was marked for deletion.",
      );
    }
    return secret;
  }

  #get(name: string): Secret | undefined {
    this.#purge();
    return this.#secrets.get(name);
  }

  /** Forgets secrets whose recovery window has passed. */
  #purge(): void {
    const now = this.#now();
    for (const [name, secret] of this.#secrets) {
      if (secret.deletionMs !== undefined && secret.deletionMs <= now) this.#secrets.delete(name);
    }
  }

  /** By name, by full ARN, or by partial ARN (without the six random characters AWS appends). */
  #resolve(secretId: string): Secret | undefined {
    const byName = this.#get(secretId);
    if (byName !== undefined) return byName;
    if (!secretId.startsWith('arn:')) return undefined;
    for (const secret of this.#secrets.values()) {
      if (secret.arn === secretId || secret.arn.slice(0, -7) === secretId) return secret;
    }
    return undefined;
  }

  /** `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>`; stable per name. */
  #arn(name: string): string {
    const suffix = createHash('sha256').update(name).digest('base64url').replace(/[-_]/g, 'x').slice(0, 6);
    return `arn:aws:secretsmanager:${this.#region}:${LOCAL_ACCOUNT_ID}:secret:${name}-${suffix}`;
  }
}

function wireValue(value: SecretValue): Input {
  return 'string' in value
    ? { SecretString: value.string }
    : { SecretBinary: value.binary.toString('base64') };
}

function sameValue(a: SecretValue, b: SecretValue): boolean {
  if ('string' in a) return 'string' in b && a.string === b.string;
  return 'binary' in b && a.binary.equals(b.binary);
}

/** `SecretString` or `SecretBinary` (base64), at most 64 KiB, never both. */
function secretValue(input: Input): SecretValue | undefined {
  const text = optionalString(input, 'SecretString');
  const base64 = optionalString(input, 'SecretBinary');
  if (text !== undefined && base64 !== undefined) {
    throw new AwsError(
      'InvalidParameterException',
      "You can't specify both a binary secret value and a string secret value in the same secret.",
    );
  }
  if (text !== undefined) {
    if (Buffer.byteLength(text, 'utf8') > MAX_SECRET_BYTES) {
      throw validationError(
        '***',
        'secretString',
        `Member must have length less than or equal to ${MAX_SECRET_BYTES}`,
      );
    }
    return { string: text };
  }
  if (base64 === undefined) return undefined;
  if (base64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) {
    throw new AwsError('SerializationException', 'SecretBinary must be base64');
  }
  const binary = Buffer.from(base64, 'base64');
  if (binary.length > MAX_SECRET_BYTES) {
    throw validationError(
      '***',
      'secretBinary',
      `Member must have length less than or equal to ${MAX_SECRET_BYTES}`,
    );
  }
  return { binary };
}

function versionToken(input: Input): string | undefined {
  const token = optionalString(input, 'ClientRequestToken');
  if (token !== undefined) checkVersionId(token, 'clientRequestToken');
  return token;
}

function checkVersionId(id: string, field: string): void {
  if (id.length < VERSION_ID_LENGTH.min || id.length > VERSION_ID_LENGTH.max) {
    throw validationError(
      id,
      field,
      `Member must have length ${id.length < VERSION_ID_LENGTH.min ? `greater than or equal to ${VERSION_ID_LENGTH.min}` : `less than or equal to ${VERSION_ID_LENGTH.max}`}`,
    );
  }
}

function checkStages(stages: readonly string[]): void {
  if (stages.length < 1 || stages.length > MAX_STAGES_PER_VERSION) {
    throw validationError(
      `[${stages.join(', ')}]`,
      'versionStages',
      `Member must have length ${stages.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${MAX_STAGES_PER_VERSION}`}`,
    );
  }
  for (const stage of stages) {
    if (stage.length < 1 || stage.length > MAX_STAGE_LENGTH) {
      throw validationError(
        stage,
        'versionStage',
        `Member must have length between 1 and ${MAX_STAGE_LENGTH}`,
      );
    }
  }
}

/** `AutomaticallyAfterDays` (1..1000) or `ScheduleExpression` `rate(N days|hours)`. */
function rotationInterval(rules: Input): number {
  const days = optionalInteger(rules, 'AutomaticallyAfterDays');
  const schedule = optionalString(rules, 'ScheduleExpression');
  if (days !== undefined && schedule !== undefined) {
    throw new AwsError(
      'InvalidParameterException',
      'You can specify either AutomaticallyAfterDays or ScheduleExpression, but not both.',
    );
  }
  if (days !== undefined) {
    if (days < ROTATION_DAYS.min || days > ROTATION_DAYS.max) {
      throw validationError(
        String(days),
        'rotationRules.automaticallyAfterDays',
        `Member must have value between ${ROTATION_DAYS.min} and ${ROTATION_DAYS.max}`,
      );
    }
    return days * DAY_MS;
  }
  const rate = schedule === undefined ? null : /^rate\((\d+) (hours?|days?)\)$/.exec(schedule);
  if (rate?.[1] === undefined || rate[2] === undefined) {
    throw new AwsError(
      'InvalidParameterException',
      `The local backend supports AutomaticallyAfterDays and ScheduleExpression rate(N days) or rate(N hours); got ${schedule ?? 'neither'}.`,
    );
  }
  return Number(rate[1]) * (rate[2].startsWith('hour') ? HOUR_MS : DAY_MS);
}

/**
 * The `Filters` of BatchGetSecretValue: `name` (prefix, case-sensitive) and `description` (prefix,
 * not case-sensitive); a value starting with `!` negates. Values of one filter are alternatives,
 * filters all apply.
 */
function secretFilter(filters: Input[]): (secret: Secret) => boolean {
  if (filters.length < 1 || filters.length > MAX_FILTERS) {
    throw validationError(
      `${filters.length} filters`,
      'filters',
      `Member must have length between 1 and ${MAX_FILTERS}`,
    );
  }
  const tests = filters.map((filter) => {
    const key = optionalString(filter, 'Key');
    const values = optionalStringList(filter, 'Values') ?? [];
    if (values.length < 1 || values.length > MAX_FILTER_VALUES) {
      throw validationError(
        `[${values.join(', ')}]`,
        'filters.member.values',
        `Member must have length between 1 and ${MAX_FILTER_VALUES}`,
      );
    }
    for (const value of values) {
      if (value.length > 512 || !FILTER_VALUE_PATTERN.test(value)) {
        throw validationError(
          value,
          'filters.member.values.member',
          'Member must satisfy regular expression pattern: ^\\!?[a-zA-Z0-9 :_@\\/\\+\\=\\.\\-\\!]*$',
        );
      }
    }
    let field: (secret: Secret) => string;
    let fold = false;
    if (key === 'name') {
      field = (secret) => secret.name;
    } else if (key === 'description') {
      field = (secret) => secret.description ?? '';
      fold = true;
    } else {
      throw new AwsError(
        'InvalidParameterException',
        `Filter key ${key ?? 'null'} is not supported by the local backend; use name or description.`,
      );
    }
    const norm = (text: string) => (fold ? text.toLowerCase() : text);
    return (secret: Secret): boolean =>
      values.some((value) =>
        value.startsWith('!')
          ? !norm(field(secret)).startsWith(norm(value.slice(1)))
          : norm(field(secret)).startsWith(norm(value)),
      );
  });
  return (secret) => tests.every((test) => test(secret));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function encodeToken(after: string): string {
  return Buffer.from(JSON.stringify({ after }), 'utf8').toString('base64url');
}

function decodeToken(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    const after = (parsed as { after?: unknown }).after;
    if (typeof after === 'string') return after;
  } catch {
    // fall through
  }
  throw new AwsError('InvalidNextTokenException', 'The NextToken value is not valid.');
}

/** The operation table the HTTP endpoint dispatches to. */
export function secretsManagerOperations(
  store: SecretStore,
): Record<string, (input: Record<string, unknown>) => unknown> {
  return {
    GetSecretValue: (input) => store.getValue(input),
    BatchGetSecretValue: (input) => store.batchGetValue(input),
    DescribeSecret: (input) => store.describe(input),
    CreateSecret: (input) => store.create(input),
    PutSecretValue: (input) => store.putValue(input),
    UpdateSecretVersionStage: (input) => store.updateVersionStage(input),
    RotateSecret: (input) => store.rotateSecret(input),
    DeleteSecret: (input) => store.deleteSecret(input),
    RestoreSecret: (input) => store.restoreSecret(input),
  };
}
