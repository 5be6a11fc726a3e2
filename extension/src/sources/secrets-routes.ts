/**
 * What the Secrets Manager source's routes need, apart from the source itself: its target, the cache-key
 * codec and the routes. Light on purpose (shared's parsers only), so a route table can be built before
 * the source's loader code is.
 */
import { parseAwsSecretQuery, parseSecretQuery, ROUTES, type SecretQuery } from '@lambda-cache/shared';
import type { Read, SourceRoute } from './source.js';

/** One secret version as the cache knows it. Neither `versionId` nor `versionStage`: `AWSCURRENT`. */
export interface SecretTarget {
  /** `undefined`: the client's region (the function's). */
  readonly region: string | undefined;
  /** A name or an ARN, as asked. */
  readonly id: string;
  readonly versionId?: string;
  /** Never `AWSCURRENT`: that is the target without a stage, so both spellings share one entry. */
  readonly versionStage?: string;
}

export const CURRENT_STAGE = 'AWSCURRENT';

/** The target of a read, with `AWSCURRENT` written as no stage. */
export function secretTarget(
  id: string,
  region: string | undefined,
  versionId?: string,
  versionStage?: string,
): SecretTarget {
  return {
    region,
    id,
    ...(versionId !== undefined ? { versionId } : {}),
    ...(versionStage !== undefined && versionStage !== CURRENT_STAGE ? { versionStage } : {}),
  };
}

/**
 * The cache-key text of a target: a JSON array, since an id, a stage and (in principle) a region may hold
 * any character a separator would use; `null` for an absent part.
 */
export function encodeSecretTarget(t: SecretTarget): string {
  return JSON.stringify([t.region ?? null, t.id, t.versionId ?? null, t.versionStage ?? null]);
}

/** The target of a key {@link encodeSecretTarget} wrote. Throws `TypeError` on anything else. */
export function decodeSecretTarget(text: string): SecretTarget {
  let parts: unknown;
  try {
    parts = JSON.parse(text);
  } catch {
    parts = undefined;
  }
  if (!Array.isArray(parts) || parts.length !== 4) throw new TypeError('not a secret cache key');
  const [region, id, versionId, versionStage] = parts as unknown[];
  const optional = (v: unknown): v is string | null => v === null || typeof v === 'string';
  if (typeof id !== 'string' || !optional(region) || !optional(versionId) || !optional(versionStage)) {
    throw new TypeError('not a secret cache key');
  }
  return {
    region: region ?? undefined,
    id,
    ...(versionId !== null ? { versionId } : {}),
    ...(versionStage !== null ? { versionStage } : {}),
  };
}

/**
 * `GET /v1/secrets` (form `main`) and `GET /secretsmanager/get` (form `aws`, on the AWS-compatible port
 * too, with the agents' error shape). `regionOf` gives the region an id is read from: a configured
 * secret's, an ARN's own, or the function's.
 */
export function secretRoutes(
  regionOf: (id: string) => string | undefined,
): ReadonlyArray<SourceRoute<SecretTarget>> {
  const read = (q: SecretQuery, form: string): Read<SecretTarget> => ({
    target: secretTarget(q.id, regionOf(q.id), q.versionId, q.versionStage),
    form,
    refresh: q.refresh,
  });
  return [
    {
      path: ROUTES.secrets,
      token: true,
      parse: (query) => read(parseSecretQuery(new URLSearchParams(query)), 'main'),
    },
    {
      path: ROUTES.awsSecret,
      token: true,
      listeners: ['main', 'aws'],
      errors: 'aws',
      parse: (query) => read(parseAwsSecretQuery(new URLSearchParams(query)), 'aws'),
    },
  ];
}
