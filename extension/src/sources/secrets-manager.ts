/**
 * Secrets Manager as a source: the `secrets:` section, `BatchGetSecretValue` for prefetch and coalesced
 * misses (20 ids a call, one secret's error never the others'), `GetSecretValue` for a single secret or a
 * version other than `AWSCURRENT`, and revalidation with `DescribeSecret`, which carries no value: a
 * cached secret whose stage is still on the version it holds is {@link UNCHANGED}.
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_BatchGetSecretValue.html
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html
 *
 * Rotation: `NextRotationDate` is learned from the `DescribeSecret` of each revalidation (no value read
 * carries it, and asking for it at every load would double the prefetch's calls) and kept with the
 * stored value; from then on the value is not served past that date ({@link Source.notAfter}). A
 * rotation is late by seconds while its function runs: a date already passed is re-checked every
 * {@link ROTATION_RECHECK_MS} for {@link ROTATION_SETTLE_MS}, then only the TTL bounds the value again
 * (a rotation that keeps failing must not turn every read into a call). Before the first revalidation
 * of a value (one TTL after it was loaded) its rotation date is not known: a rotation in that window is
 * seen at that revalidation.
 *
 * A target by `versionId` is one immutable version: it revalidates as unchanged while `DescribeSecret`
 * lists the version and the secret is not deleted; a version no longer listed (it lost its last label)
 * is read again with `GetSecretValue`, which answers it or says it is gone. Its value never rotates, so
 * it has no rotation bound.
 */
import type { AwsGetSecretValuePayload, SecretPayload } from '@lambda-cache/shared';
import { type AwsClient, AwsServiceError, AwsTransportError } from '../aws/index.js';
import { type CacheConfig, sectionOf } from '../config.js';
import { isCallerError, isResourceMissing, NotFoundError, UnreadableAnswerError } from '../errors.js';
import type { Logger } from '../log.js';
import { chunk, Limiter, MAX_CALLS_IN_FLIGHT } from './batching.js';
import { arnRegion, type SecretEntry, secretsSection } from './secrets-config.js';
import {
  CURRENT_STAGE,
  decodeSecretTarget,
  encodeSecretTarget,
  type SecretTarget,
  secretRoutes,
  secretTarget,
} from './secrets-routes.js';
import {
  type Body,
  type ConfiguredTarget,
  type LoadResult,
  type Source,
  type SourceDeps,
  type SourceEntry,
  type Stored,
  UNCHANGED,
} from './source.js';

export type { SecretTarget } from './secrets-routes.js';

/** `BatchGetSecretValue` takes at most 20 ids a call. */
const BATCH_GET_SECRETS = 20;
/** How often a rotation date that has passed is checked again while the rotation may still be running. */
export const ROTATION_RECHECK_MS = 30_000;
/** How long after a rotation date it is still checked every {@link ROTATION_RECHECK_MS}. */
export const ROTATION_SETTLE_MS = 5 * 60_000;

/** A secret value as the JSON protocol sends it (dates are epoch seconds, binary is base64). */
interface WireSecret {
  ARN?: string;
  Name?: string;
  VersionId?: string;
  SecretString?: string;
  SecretBinary?: string;
  VersionStages?: string[];
  CreatedDate?: number;
}

interface BatchGetOutput {
  SecretValues?: WireSecret[];
  Errors?: Array<{ SecretId?: string; ErrorCode?: string; Message?: string }>;
}

interface DescribeOutput {
  DeletedDate?: number;
  RotationEnabled?: boolean;
  NextRotationDate?: number;
  VersionIdsToStages?: Record<string, string[]>;
}

/** What one load gives a target: the `/v1/secrets` body and the rotation date, when it is known. */
export interface SecretLoad {
  readonly secret: SecretPayload;
  /** The epoch ms the value must not be served past; `undefined`: only its TTL bounds it. */
  readonly notAfterMs: number | undefined;
}

/**
 * What the cache keeps besides the body: the version the value is (for revalidation) and the rotation
 * bound, which a revalidation that finds the value unchanged moves on in place.
 */
export class SecretMeta {
  constructor(
    readonly versionId: string,
    public notAfterMs: number | undefined,
  ) {}
}

/**
 * One secret's error in a `BatchGetSecretValue` answer, as the AWS error it is: AWS's own code and text,
 * and the status `GetSecretValue` answers that code with (the batch call itself succeeded).
 */
function batchError(id: string, code: string | undefined, message: string | undefined): Error {
  const awsCode = code || 'UnknownError';
  return asLoadError(
    id,
    new AwsServiceError({
      service: 'secretsmanager',
      operation: 'BatchGetSecretValue',
      awsCode,
      status: awsCode === 'InternalServiceError' ? 500 : 400,
      throttling: false,
      message: (message || `Secrets Manager refused secret ${id} (${awsCode})`).slice(0, 512),
    }),
  );
}

/** A "does not exist" answer becomes the store's {@link NotFoundError}; anything else stays itself. */
function asLoadError(id: string, err: unknown): Error {
  if (isResourceMissing(err)) return new NotFoundError(`secret ${id} was not found`, { cause: err });
  return err instanceof Error ? err : new Error(String(err));
}

/** Whether a value in an answer is the secret asked for by `id` (a name, a full ARN or a partial one). */
function answers(id: string, w: WireSecret): boolean {
  if (w.Name === id || w.ARN === id) return true;
  // A partial ARN leaves out the `-` and six random characters Secrets Manager appends.
  return (
    id.startsWith('arn:') &&
    w.ARN !== undefined &&
    w.ARN.length === id.length + 7 &&
    w.ARN.startsWith(`${id}-`)
  );
}

function payloadOf(id: string, w: WireSecret): SecretPayload {
  if (typeof w.ARN !== 'string' || typeof w.Name !== 'string' || typeof w.VersionId !== 'string') {
    throw new UnreadableAnswerError(
      `Secrets Manager answered secret ${id} without its ARN, name or version id`,
    );
  }
  const stages = Array.isArray(w.VersionStages) ? w.VersionStages.filter((s) => typeof s === 'string') : [];
  const created =
    typeof w.CreatedDate === 'number' && Number.isFinite(w.CreatedDate)
      ? new Date(Math.round(w.CreatedDate * 1000)).toISOString()
      : null;
  const base = {
    arn: w.ARN,
    name: w.Name,
    versionId: w.VersionId,
    versionStages: stages,
    createdDate: created,
  };
  if (typeof w.SecretString === 'string') return { ...base, secretString: w.SecretString };
  if (typeof w.SecretBinary === 'string') return { ...base, secretBinary: w.SecretBinary };
  throw new UnreadableAnswerError(
    `Secrets Manager answered secret ${id} with neither SecretString nor SecretBinary`,
  );
}

/** `json: true`: the value must be JSON text. The message never quotes the value, nor JSON.parse's (which does). */
function checkJson(id: string, secret: SecretPayload): void {
  if (secret.secretString === undefined) {
    throw new UnreadableAnswerError(`secret ${id} is binary, but the config reads it with json: true`);
  }
  try {
    JSON.parse(secret.secretString);
  } catch {
    throw new UnreadableAnswerError(`secret ${id} is not JSON text, but the config reads it with json: true`);
  }
}

/**
 * Epoch seconds with their fraction, as text, the way the Secrets Manager Agent writes `CreatedDate`
 * (`"1700000000.123"`, `"1700000000"` for a whole second).
 */
export function epochSecondsText(iso: string | null): string | null {
  if (iso === null) return null;
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return null;
  const seconds = Math.floor(ms / 1000);
  const fraction = ms - seconds * 1000;
  if (fraction === 0) return String(seconds);
  return `${seconds}.${String(fraction).padStart(3, '0').replace(/0+$/, '')}`;
}

/** The `GetSecretValue` output as AWS's Parameters and Secrets extension and the Secrets Manager Agent send it. */
function awsSecretBody(secret: SecretPayload): AwsGetSecretValuePayload {
  return {
    ARN: secret.arn,
    Name: secret.name,
    VersionId: secret.versionId,
    ...(secret.secretString !== undefined ? { SecretString: secret.secretString } : {}),
    ...(secret.secretBinary !== undefined ? { SecretBinary: secret.secretBinary } : {}),
    VersionStages: secret.versionStages,
    CreatedDate: epochSecondsText(secret.createdDate),
  };
}

/** The bound a `DescribeSecret` answer gives a value of the current (or a staged) version. */
function rotationBound(d: DescribeOutput, now: number): number | undefined {
  if (d.RotationEnabled === false || typeof d.NextRotationDate !== 'number') return undefined;
  const next = Math.round(d.NextRotationDate * 1000);
  if (!Number.isFinite(next)) return undefined;
  if (next > now) return next;
  if (now - next < ROTATION_SETTLE_MS) return now + ROTATION_RECHECK_MS;
  return undefined;
}

const JSON_TYPE = 'application/json';

export interface SecretsManagerSourceOptions {
  readonly aws: AwsClient;
  readonly entries: readonly SecretEntry[];
  /** Region of a secret configured without one (and not an ARN); `undefined` lets the client decide. */
  readonly region: string | undefined;
  /** TTL of a secret the config gives none (`SECRETS_MANAGER_TTL`, else the default TTL). */
  readonly defaultTtlMs: number;
  /** Bound of each call (`SECRETS_MANAGER_TIMEOUT_MILLIS`); `undefined`: the client's own deadlines only. */
  readonly timeoutMs: number | undefined;
  readonly now: () => number;
  /** Calls sent at once; the others wait their turn. @default MAX_CALLS_IN_FLIGHT */
  readonly maxInFlight?: number;
  /** Where the one notice goes that batching is not allowed; names and codes only. */
  readonly logger?: Pick<Logger, 'warn'>;
}

/** The Secrets Manager source. Build it with {@link secretsManagerEntry} (or directly in tests). */
export function createSecretsManagerSource(
  opts: SecretsManagerSourceOptions,
): Source<SecretTarget, SecretLoad, SecretMeta> {
  const limiter = new Limiter(opts.maxInFlight ?? MAX_CALLS_IN_FLIGHT);
  /** Set once the role turns out not to allow `BatchGetSecretValue`. */
  let batchDenied = false;
  const regionOf = (entry: { id: string; region: string | undefined }) =>
    entry.region ?? arnRegion(entry.id) ?? opts.region;
  const targetOfEntry = (e: SecretEntry) => secretTarget(e.id, regionOf(e), e.versionId, e.versionStage);
  /** Configured entries by cache key, for their TTL and `json`; and the region of each configured id. */
  const byKey = new Map<string, SecretEntry>();
  const regionById = new Map<string, string | undefined>();
  for (const e of opts.entries) {
    byKey.set(encodeSecretTarget(targetOfEntry(e)), e);
    if (!regionById.has(e.id)) regionById.set(e.id, regionOf(e));
  }

  async function call<T>(region: string | undefined, operation: string, input: object): Promise<T> {
    return limiter.run(async () => {
      const timeoutMs = opts.timeoutMs;
      if (timeoutMs === undefined) return opts.aws.json<T>('secretsmanager', region, operation, input);
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(), timeoutMs);
      try {
        return await opts.aws.json<T>('secretsmanager', region, operation, input, {
          signal: deadline.signal,
        });
      } catch (err) {
        if (!deadline.signal.aborted) throw err;
        throw new AwsTransportError(
          `secretsmanager ${operation} did not answer within ${timeoutMs} ms (SECRETS_MANAGER_TIMEOUT_MILLIS)`,
          { reason: 'timeout', phase: 'response' },
          { cause: err },
        );
      } finally {
        clearTimeout(timer);
      }
    });
  }

  /** A wire value as the target's load result: its payload, or the `json: true` error. */
  function result(t: SecretTarget, w: WireSecret, notAfterMs: number | undefined): SecretLoad {
    const secret = payloadOf(t.id, w);
    if (byKey.get(encodeSecretTarget(t))?.json) checkJson(t.id, secret);
    return { secret, notAfterMs };
  }

  async function getOne(
    region: string | undefined,
    t: SecretTarget,
    notAfterMs?: number,
  ): Promise<LoadResult<SecretLoad>> {
    try {
      const w = await call<WireSecret>(region, 'GetSecretValue', {
        SecretId: t.id,
        ...(t.versionId !== undefined ? { VersionId: t.versionId } : {}),
        ...(t.versionStage !== undefined ? { VersionStage: t.versionStage } : {}),
      });
      return result(t, w, notAfterMs);
    } catch (err) {
      return asLoadError(t.id, err);
    }
  }

  /** One `BatchGetSecretValue` of up to 20 current versions; ids it does not answer are read alone. */
  async function batch(
    region: string | undefined,
    targets: readonly SecretTarget[],
  ): Promise<Array<LoadResult<SecretLoad>>> {
    if (batchDenied) return Promise.all(targets.map((t) => getOne(region, t)));
    const ids = [...new Set(targets.map((t) => t.id))];
    let out: BatchGetOutput;
    try {
      out = await call<BatchGetOutput>(region, 'BatchGetSecretValue', { SecretIdList: ids });
    } catch (err) {
      // One malformed id fails the whole call: ask for each alone, so the others are not punished with it.
      if (isCallerError(err) && targets.length > 1) return Promise.all(targets.map((t) => getOne(region, t)));
      // A role written for AWS's own extension allows GetSecretValue only; the call itself is denied (a
      // secret the role may not read is denied in `Errors` instead). Read one at a time from then on.
      if (err instanceof AwsServiceError && err.awsCode === 'AccessDeniedException') {
        if (!batchDenied) {
          opts.logger?.warn('BatchGetSecretValue is not allowed; reading secrets one at a time', {
            awsCode: err.awsCode,
            fix: 'allow secretsmanager:BatchGetSecretValue to batch them',
          });
        }
        batchDenied = true;
        return Promise.all(targets.map((t) => getOne(region, t)));
      }
      return targets.map((t) => asLoadError(t.id, err));
    }
    const values = Array.isArray(out.SecretValues) ? out.SecretValues : [];
    const errors = new Map<string, Error>();
    for (const e of Array.isArray(out.Errors) ? out.Errors : []) {
      if (typeof e.SecretId === 'string')
        errors.set(e.SecretId, batchError(e.SecretId, e.ErrorCode, e.Message));
    }
    return Promise.all(
      targets.map(async (t) => {
        const w = values.find((v) => answers(t.id, v));
        if (w !== undefined) {
          try {
            return result(t, w, undefined);
          } catch (err) {
            return asLoadError(t.id, err);
          }
        }
        // An id answered neither way (an answer cut short) is asked for alone rather than guessed at.
        return errors.get(t.id) ?? getOne(region, t);
      }),
    );
  }

  async function revalidate(
    region: string | undefined,
    t: SecretTarget,
    previous: Stored<SecretMeta>,
  ): Promise<LoadResult<SecretLoad>> {
    let d: DescribeOutput;
    try {
      d = await call<DescribeOutput>(region, 'DescribeSecret', { SecretId: t.id });
    } catch (err) {
      return asLoadError(t.id, err);
    }
    const stages =
      d.VersionIdsToStages !== null && typeof d.VersionIdsToStages === 'object' ? d.VersionIdsToStages : {};
    if (t.versionId !== undefined) {
      if (d.DeletedDate === undefined && Object.hasOwn(stages, t.versionId)) return UNCHANGED;
      return getOne(region, t);
    }
    const bound = rotationBound(d, opts.now());
    const stage = t.versionStage ?? CURRENT_STAGE;
    const holder = Object.keys(stages).find((v) => Array.isArray(stages[v]) && stages[v].includes(stage));
    if (d.DeletedDate === undefined && holder !== undefined && holder === previous.meta.versionId) {
      previous.meta.notAfterMs = bound;
      return UNCHANGED;
    }
    // Moved, gone or deleted: the value read says which (a new value, or the error GetSecretValue gives).
    return getOne(region, t, bound);
  }

  return {
    tag: 'sm',
    label: 'secrets',
    service: 'secretsmanager',
    maxBatch: BATCH_GET_SECRETS,
    encode: encodeSecretTarget,
    decode: decodeSecretTarget,
    group: (t) => t.region ?? '',

    async load(group, targets, previous) {
      const region = group === '' ? undefined : group;
      const results: Array<LoadResult<SecretLoad>> = new Array(targets.length);
      const pending: Array<Promise<void>> = [];
      const current: number[] = [];
      const into =
        (i: number) =>
        (r: LoadResult<SecretLoad>): void => {
          results[i] = r;
        };
      targets.forEach((t, i) => {
        const before = previous[i];
        if (before !== undefined) {
          pending.push(revalidate(region, t, before).then(into(i)));
        } else if (t.versionId !== undefined || t.versionStage !== undefined) {
          pending.push(getOne(region, t).then(into(i)));
        } else {
          current.push(i);
        }
      });
      if (current.length === 1) {
        const i = current[0] as number;
        pending.push(getOne(region, targets[i] as SecretTarget).then(into(i)));
      } else {
        for (const indexes of chunk(current, BATCH_GET_SECRETS)) {
          const batchTargets = indexes.map((i) => targets[i] as SecretTarget);
          pending.push(
            batch(region, batchTargets).then((rs) => {
              indexes.forEach((i, n) => {
                results[i] = rs[n] as LoadResult<SecretLoad>;
              });
            }),
          );
        }
      }
      await Promise.all(pending);
      return results;
    },

    store(load) {
      return {
        body: Buffer.from(JSON.stringify(load.secret)),
        contentType: JSON_TYPE,
        meta: new SecretMeta(load.secret.versionId, load.notAfterMs),
      };
    },

    form(stored, form): Body | undefined {
      if (form === 'main') return { body: stored.body, contentType: stored.contentType };
      if (form !== 'aws') return undefined;
      const secret = JSON.parse(stored.body.toString('utf8')) as SecretPayload;
      return { body: Buffer.from(JSON.stringify(awsSecretBody(secret))), contentType: JSON_TYPE };
    },

    notAfter: (stored) => stored.meta.notAfterMs,

    *configured(config: CacheConfig): Iterable<ConfiguredTarget<SecretTarget>> {
      for (const e of sectionOf(config, secretsSection)) {
        yield { target: targetOfEntry(e), ttlMs: e.ttlMs ?? opts.defaultTtlMs };
      }
    },

    ttlOf: (t) => byKey.get(encodeSecretTarget(t))?.ttlMs ?? opts.defaultTtlMs,

    describe: (t) => ({
      secret: t.id,
      ...(t.versionId !== undefined ? { versionId: t.versionId } : {}),
      ...(t.versionStage !== undefined ? { versionStage: t.versionStage } : {}),
    }),

    routes: secretRoutes((id) => (regionById.has(id) ? regionById.get(id) : (arnRegion(id) ?? opts.region))),
  };
}

/** The registry's entry: `SOURCES` lists it next to SSM's and DynamoDB's. */
export const secretsManagerEntry: SourceEntry = {
  section: secretsSection,
  create: (deps: SourceDeps) =>
    createSecretsManagerSource({
      aws: deps.aws,
      entries: sectionOf(deps.config, secretsSection),
      region: deps.region,
      defaultTtlMs: deps.settings.secretTtlMs,
      timeoutMs: deps.settings.secretTimeoutMs,
      now: () => deps.clock.now(),
      logger: deps.logger,
    }),
};
