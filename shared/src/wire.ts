/**
 * Payloads and the error envelope, as they travel between the extension and its clients.
 * Every body is JSON built with `JSON.stringify`.
 */
import type { KeyAttributes } from './keys.js';

export type ParameterType = 'String' | 'StringList' | 'SecureString';

/** `GET /v1/parameters` answer. */
export interface ParameterPayload {
  /** The name as asked, including any `:version` or `:label` selector. */
  readonly name: string;
  readonly type: ParameterType;
  /** Decrypted unless `decrypt=false` was asked for a `SecureString`. */
  readonly value: string;
  readonly version: number;
  /** ISO 8601, or `null` when the backend did not say. */
  readonly lastModified: string | null;
  readonly arn?: string;
  readonly dataType?: string;
  readonly selector?: string;
  readonly sourceResult?: string;
}

/** DynamoDB JSON: every attribute value keeps its type, so numbers, sets and binary survive intact. */
export type AttributeValueJson =
  | { readonly S: string }
  | { readonly N: string }
  | { readonly B: string }
  | { readonly BOOL: boolean }
  | { readonly NULL: true }
  | { readonly SS: readonly string[] }
  | { readonly NS: readonly string[] }
  | { readonly BS: readonly string[] }
  | { readonly L: readonly AttributeValueJson[] }
  | { readonly M: Readonly<Record<string, AttributeValueJson>> };
export type ItemJson = Readonly<Record<string, AttributeValueJson>>;

/** `GET /v1/dynamodb` answer. Binary values (`B`, `BS`) are base64. */
export interface DynamoDbPayload {
  readonly table: string;
  /** The canonical key. */
  readonly key: KeyAttributes;
  readonly item: ItemJson;
}

/** Error codes and the HTTP status each one is sent with. */
export const ERROR_STATUS = {
  BadRequest: 400,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  Throttled: 429,
  InternalFailure: 500,
  UpstreamError: 502,
  /** Shutting down, or more connections than the extension accepts. */
  ServiceUnavailable: 503,
  UpstreamTimeout: 504,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;

/** Every error answer. */
export interface ErrorEnvelope {
  readonly code: ErrorCode;
  /** For people; never parsed. Never holds a cached value. */
  readonly message: string;
  /** The AWS error name behind an upstream failure, e.g. `AccessDeniedException`. */
  readonly awsCode?: string;
  /** The table, when a DynamoDB key does not match the table's key schema. */
  readonly table?: string;
  /** The key attributes and types the config declares for that table, when it does. */
  readonly expectedKey?: Readonly<Record<string, 'S' | 'N' | 'B'>>;
}

export function isErrorEnvelope(body: unknown): body is ErrorEnvelope {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as ErrorEnvelope).code === 'string' &&
    typeof (body as ErrorEnvelope).message === 'string'
  );
}

/** One source's AWS calls, in `/v1/health`. */
export interface SourceStatus {
  /** `failing` from the first failed call after a success until the next call that succeeds. */
  readonly status: 'ok' | 'failing';
  /** While failing: the latest failure's AWS error code or system code (`ThrottlingException`, `ECONNRESET`, `timeout:response`). */
  readonly lastError?: string;
  /** While failing: when the current run of failures began, ISO-8601. */
  readonly since?: string;
}

/** `GET /v1/health`. */
export interface HealthPayload {
  /**
   * `starting` while prefetch runs, then `ready`, or `degraded` while a source is failing; `stopping` after
   * SHUTDOWN.
   */
  readonly status: 'starting' | 'ready' | 'degraded' | 'stopping';
  readonly entries: number;
  /** Configured items whose last load failed. */
  readonly failed: number;
  readonly uptimeMs: number;
  /** By source (`ssm`, `dynamodb`); absent until the configuration has loaded. */
  readonly sources?: Readonly<Record<string, SourceStatus>>;
}

/** `GET /v1/stats`: counters since start. */
export interface StatsPayload {
  readonly entries: number;
  readonly bytes: number;
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly hits: number;
  readonly misses: number;
  readonly staleServes: number;
  readonly negativeHits: number;
  readonly evictions: number;
  readonly refreshes: number;
  /** Calls made to AWS, by service operation, e.g. `{ "ssm:GetParameters": 3 }`. */
  readonly backendCalls: Readonly<Record<string, number>>;
  readonly errors: number;
}

/** `GET /systemsmanager/parameters/get`: the same body as SSM's `GetParameter`, as AWS's extension sends it. */
export interface AwsGetParameterPayload {
  readonly Parameter: {
    readonly Name: string;
    readonly Type: ParameterType;
    readonly Value: string;
    readonly Version: number;
    /** ISO-8601, as AWS's extension writes it (not the SSM wire's epoch seconds); `null` when unknown. */
    readonly LastModifiedDate: string | null;
    readonly ARN?: string;
    /** `null` where SSM has no value, as AWS's extension sends it. */
    readonly DataType: string | null;
    readonly Selector: string | null;
    readonly SourceResult: string | null;
  };
  readonly ResultMetadata: Record<string, never>;
}

/** `GET /v1/secrets` answer. Exactly one of `secretString` and `secretBinary` is present. */
export interface SecretPayload {
  readonly arn: string;
  readonly name: string;
  readonly versionId: string;
  readonly versionStages: readonly string[];
  /** When this version was created, ISO 8601; `null` when Secrets Manager did not say. */
  readonly createdDate: string | null;
  readonly secretString?: string;
  /** The bytes of a binary secret, base64. */
  readonly secretBinary?: string;
}

/**
 * `GET /secretsmanager/get`: the body of Secrets Manager's `GetSecretValue`, as AWS's Parameters and Secrets
 * extension and the Secrets Manager Agent send it: these members, in this order, exactly one of
 * `SecretString` and `SecretBinary`.
 */
export interface AwsGetSecretValuePayload {
  readonly ARN: string;
  readonly Name: string;
  readonly VersionId: string;
  readonly SecretString?: string;
  /** Base64. */
  readonly SecretBinary?: string;
  readonly VersionStages: readonly string[];
  /**
   * Epoch seconds with their fraction, as a string (`"1700000000.123"`; `"1700000000"` for a whole second),
   * the form the Secrets Manager Agent writes; `null` when Secrets Manager did not say. Not the number of
   * Secrets Manager's own wire, nor ISO 8601.
   */
  readonly CreatedDate: string | null;
}

/** The error body of the AWS-compatible secret route, as AWS's agents write it. */
export interface AwsErrorBody {
  readonly __type: string;
  readonly message: string;
}
