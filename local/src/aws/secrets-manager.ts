/**
 * Secrets Manager, in memory, speaking its JSON 1.1 protocol (`X-Amz-Target: secretsmanager.<Op>`).
 * Operations: GetSecretValue, BatchGetSecretValue, DescribeSecret, CreateSecret, PutSecretValue.
 * Shapes and limits follow the API reference:
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_Operations.html
 */
import { createHash, randomUUID } from 'node:crypto';
import { AwsError, validationError } from './errors.js';
import {
  epochSeconds,
  type Input,
  optionalInteger,
  optionalObjectList,
  optionalString,
  optionalStringList,
  requiredString,
} from './input.js';

/** The account every local ARN names. */
export const LOCAL_ACCOUNT_ID = '123456789012';

const CURRENT = 'AWSCURRENT';
const PREVIOUS = 'AWSPREVIOUS';
/** BatchGetSecretValue: at most 20 ids, and MaxResults 1..20 with Filters. */
const BATCH_LIMIT = 20;
const NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const MAX_SECRET_BYTES = 65_536;

interface SecretVersion {
  readonly id: string;
  readonly value: string;
  readonly createdMs: number;
  readonly stages: Set<string>;
}

interface Secret {
  readonly name: string;
  readonly arn: string;
  readonly createdMs: number;
  description: string | undefined;
  lastChangedMs: number;
  readonly versions: SecretVersion[];
}

/** The `GetSecretValue` answer shape; also what SSM puts in `SourceResult` for a secret reference. */
export interface SecretValueJson {
  ARN: string;
  Name: string;
  VersionId: string;
  SecretString: string;
  VersionStages: string[];
  CreatedDate: number;
}

export class SecretStore {
  readonly #secrets = new Map<string, Secret>();
  readonly #region: string;
  readonly #now: () => number;

  constructor(region: string, now: () => number) {
    this.#region = region;
    this.#now = now;
  }

  /** Creates a secret, or adds a new current version when it exists. */
  put(name: string, value: string): void {
    if (this.#secrets.has(name)) this.putValue({ SecretId: name, SecretString: value });
    else this.create({ Name: name, SecretString: value });
  }

  create(input: Input): unknown {
    const name = requiredString(input, 'Name');
    if (!NAME_PATTERN.test(name)) {
      throw new AwsError(
        'ValidationException',
        'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
      );
    }
    if (this.#secrets.has(name)) {
      throw new AwsError(
        'ResourceExistsException',
        `The operation failed because the secret ${name} already exists.`,
      );
    }
    const value = secretString(input);
    const now = this.#now();
    const secret: Secret = {
      name,
      arn: this.#arn(name),
      createdMs: now,
      description: optionalString(input, 'Description'),
      lastChangedMs: now,
      versions: [],
    };
    this.#secrets.set(name, secret);
    if (value === undefined) return { ARN: secret.arn, Name: name };
    const version = this.#addVersion(secret, value, optionalString(input, 'ClientRequestToken'));
    return { ARN: secret.arn, Name: name, VersionId: version.id };
  }

  putValue(input: Input): unknown {
    const secret = this.#find(requiredString(input, 'SecretId'));
    const value = secretString(input);
    if (value === undefined) {
      throw new AwsError(
        'InvalidParameterException',
        'You must provide either SecretString or SecretBinary.',
      );
    }
    const stages = optionalStringList(input, 'VersionStages') ?? [CURRENT];
    const version = this.#addVersion(secret, value, optionalString(input, 'ClientRequestToken'), stages);
    return { ARN: secret.arn, Name: secret.name, VersionId: version.id, VersionStages: [...version.stages] };
  }

  getValue(input: Input): SecretValueJson {
    const secretId = requiredString(input, 'SecretId');
    return this.#value(
      this.#find(secretId),
      optionalString(input, 'VersionId'),
      optionalString(input, 'VersionStage'),
    );
  }

  /** `GetSecretValue` by id, or `undefined` when there is no such secret (for SSM references). */
  lookup(secretId: string): SecretValueJson | undefined {
    const secret = this.#resolve(secretId);
    if (secret === undefined) return undefined;
    try {
      return this.#value(secret, undefined, undefined);
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
          SecretValues.push(this.#value(this.#find(id), undefined, undefined));
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
        `Member must have value less than or equal to ${BATCH_LIMIT}`,
      );
    }
    const prefixes = namePrefixes(filters ?? []);
    const after = decodeToken(optionalString(input, 'NextToken'));
    const matching = [...this.#secrets.values()]
      .filter((secret) => prefixes.some((prefix) => secret.name.startsWith(prefix)))
      .sort((a, b) => compare(a.name, b.name))
      .filter((secret) => after === undefined || compare(secret.name, after) > 0);
    const page = matching.slice(0, limit);
    const last = page.at(-1);
    return {
      SecretValues: page.map((secret) => this.#value(secret, undefined, undefined)),
      Errors: [],
      ...(matching.length > limit && last ? { NextToken: encodeToken(last.name) } : {}),
    };
  }

  describe(input: Input): unknown {
    const secret = this.#find(requiredString(input, 'SecretId'));
    const VersionIdsToStages: Record<string, string[]> = {};
    for (const version of secret.versions) {
      if (version.stages.size > 0) VersionIdsToStages[version.id] = [...version.stages];
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      ...(secret.description === undefined ? {} : { Description: secret.description }),
      CreatedDate: epochSeconds(secret.createdMs),
      LastChangedDate: epochSeconds(secret.lastChangedMs),
      VersionIdsToStages,
    };
  }

  #value(secret: Secret, versionId: string | undefined, stage: string | undefined): SecretValueJson {
    let version: SecretVersion | undefined;
    if (versionId !== undefined) {
      version = secret.versions.find((candidate) => candidate.id === versionId);
      if (version === undefined || (stage !== undefined && !version.stages.has(stage))) {
        throw new AwsError(
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`,
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
      SecretString: version.value,
      VersionStages: [...version.stages],
      CreatedDate: epochSeconds(version.createdMs),
    };
  }

  #addVersion(secret: Secret, value: string, token: string | undefined, stages = [CURRENT]): SecretVersion {
    const id = token ?? randomUUID();
    const existing = secret.versions.find((version) => version.id === id);
    if (existing !== undefined) {
      // A repeated ClientRequestToken with the same value is an idempotent retry.
      if (existing.value === value) return existing;
      throw new AwsError(
        'ResourceExistsException',
        'You can’t modify an existing version, you can only create a new version.',
      );
    }
    for (const stage of stages) {
      for (const other of secret.versions) {
        if (!other.stages.delete(stage)) continue;
        if (stage === CURRENT) {
          for (const older of secret.versions) older.stages.delete(PREVIOUS);
          other.stages.add(PREVIOUS);
        }
      }
    }
    const now = this.#now();
    const version: SecretVersion = { id, value, createdMs: now, stages: new Set(stages) };
    secret.versions.push(version);
    secret.lastChangedMs = now;
    return version;
  }

  #find(secretId: string): Secret {
    const secret = this.#resolve(secretId);
    if (secret === undefined) {
      throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    }
    return secret;
  }

  /** By name, by full ARN, or by partial ARN (without the six random characters AWS appends). */
  #resolve(secretId: string): Secret | undefined {
    const byName = this.#secrets.get(secretId);
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

function secretString(input: Input): string | undefined {
  const value = optionalString(input, 'SecretString');
  if (value === undefined) {
    if (input.SecretBinary !== undefined) {
      throw new AwsError('InvalidParameterException', 'SecretBinary is not supported by the local backend.');
    }
    return undefined;
  }
  if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_BYTES) {
    throw validationError(
      '***',
      'secretString',
      `Member must have length less than or equal to ${MAX_SECRET_BYTES}`,
    );
  }
  return value;
}

function namePrefixes(filters: Input[]): string[] {
  const prefixes: string[] = [];
  for (const filter of filters) {
    const key = optionalString(filter, 'Key');
    if (key !== 'name') {
      throw new AwsError(
        'InvalidParameterException',
        `Filter key ${key ?? 'null'} is not supported locally; use name.`,
      );
    }
    prefixes.push(...(optionalStringList(filter, 'Values') ?? []));
  }
  return prefixes;
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
  };
}
