/**
 * The one error type the server answers with, and the one place that turns any thrown value into it.
 * Errors are told apart by `name`, `code` and `$metadata` — never by message text, which AWS may reword.
 */
import { ERROR_STATUS, type ErrorCode, type ErrorEnvelope } from '@lambda-cache/shared';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly awsCode?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  static of(code: ErrorCode, message: string, awsCode?: string): HttpError {
    return new HttpError(ERROR_STATUS[code], code, message, awsCode);
  }

  /** The JSON body of the answer; holds no cached value, only what went wrong. */
  envelope(): ErrorEnvelope {
    return this.awsCode === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, awsCode: this.awsCode };
  }
}

/**
 * A parameter or item that the backend says does not exist. Sources throw it (or put it in a batch result)
 * so the cache can remember the absence briefly and the server can answer 404.
 */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  readonly code = 'NotFound';
}

const NOT_FOUND = new Set([
  'NotFoundError',
  'ParameterNotFound',
  'ParameterVersionNotFound',
  'ParameterVersionLabelNotFound',
  'ResourceNotFoundException',
]);

// https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html lists the throttling codes.
const THROTTLED = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'TransactionInProgressException',
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'EC2ThrottledException',
  'PriorRequestNotComplete',
]);

const TIMEOUT_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'WaitTimeoutError',
]);
const TIMEOUT_CODES = new Set([
  'WaitTimeout',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'TimeoutError',
  'RequestTimeout',
]);

/** Socket-level failures reaching AWS: the endpoint is down or unreachable. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EPROTO',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

/** The SDK found no credentials to sign with: the function's role or the local profile is the problem. */
const CREDENTIAL_ERRORS = new Set(['CredentialsProviderError', 'TokenProviderError']);

/** Caller mistakes the backend caught (a malformed parameter name, a key that does not match the schema). */
const CALLER_ERRORS = new Set(['ValidationException', 'InvalidKeyId', 'SerializationException']);

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: number };
  $fault?: unknown;
  $retryable?: { throttling?: boolean };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Maps anything thrown while answering a request to the response it gets. Unknown errors become a 500
 * whose message says nothing internal; the caller logs the detail (`logDetail`).
 */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as ErrorLike;
  const name = text(e.name);
  const code = text(e.code);
  const message = err instanceof Error ? err.message : String(err);

  if (name === 'RouteError' || name === 'KeyError') return HttpError.of('BadRequest', message);
  if ((name !== undefined && NOT_FOUND.has(name)) || code === 'NotFound') {
    return HttpError.of('NotFound', message || 'not found', name === 'NotFoundError' ? undefined : name);
  }
  if ((name !== undefined && THROTTLED.has(name)) || e.$retryable?.throttling === true) {
    return HttpError.of('Throttled', 'the backend is throttling requests; retry later', name);
  }
  if (e.$metadata?.httpStatusCode === 429) {
    return HttpError.of('Throttled', 'the backend is throttling requests; retry later', name);
  }
  if ((name !== undefined && TIMEOUT_NAMES.has(name)) || (code !== undefined && TIMEOUT_CODES.has(code))) {
    // Only a timeout AWS itself reported has an AWS code; our own waits and socket timeouts do not.
    const awsCode = e.$fault !== undefined ? name : undefined;
    return HttpError.of('UpstreamTimeout', 'the backend did not answer in time', awsCode);
  }
  if (code !== undefined && NETWORK_CODES.has(code)) {
    return HttpError.of('UpstreamError', `the backend could not be reached (${code})`, code);
  }
  if (name !== undefined && CREDENTIAL_ERRORS.has(name)) {
    return HttpError.of('UpstreamError', 'no AWS credentials are available to the extension', name);
  }
  if (e.$fault !== undefined) {
    // An AWS service error: its name is the AWS error code (AccessDeniedException, KMS…).
    const awsCode = name ?? 'UnknownError';
    if (CALLER_ERRORS.has(awsCode)) return HttpError.of('BadRequest', message, awsCode);
    return HttpError.of('UpstreamError', `the backend refused the request (${awsCode})`, awsCode);
  }
  if (e.$metadata !== undefined) {
    // The SDK got an answer it could not read (truncated or not JSON): not an AWS error code, but upstream.
    return HttpError.of('UpstreamError', 'the backend sent an answer that could not be read');
  }
  return HttpError.of('InternalFailure', 'internal failure; the extension log has the detail');
}

/** What to log about an error: its name and code, never its message when it might quote a value. */
export function errorCode(err: unknown): string {
  const e = (typeof err === 'object' && err !== null ? err : {}) as ErrorLike;
  return text(e.code) ?? text(e.name) ?? typeof err;
}
