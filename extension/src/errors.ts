/**
 * The extension's errors and the one place that turns any thrown value into an answer. Errors are told
 * apart by class (`instanceof`) and by the AWS error code the lean client kept, never by message text
 * (AWS may reword it) or by `name` strings.
 */
import {
  type AwsErrorBody,
  ERROR_STATUS,
  type ErrorCode,
  type ErrorEnvelope,
  KeyError,
  RouteError,
} from '@lambda-cache/shared';
// The lean client's error classes only: this module is in the part of the layer loaded before register.
import { AwsConfigError, AwsCredentialsError, AwsServiceError, AwsTransportError } from './aws/errors.js';

/** What an answer may say about the key of a DynamoDB read that did not match its table. */
type KeyDetail = Pick<ErrorEnvelope, 'table' | 'expectedKey'>;

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly awsCode?: string,
    options?: { cause?: unknown },
    readonly detail: KeyDetail = {},
  ) {
    super(message, options);
  }

  static of(code: ErrorCode, message: string, awsCode?: string, cause?: unknown): HttpError {
    return new HttpError(ERROR_STATUS[code], code, message, awsCode, cause === undefined ? {} : { cause });
  }

  /**
   * The body as AWS's agents write errors (the Secrets Manager Agent, AWS's Parameters and Secrets
   * extension), for the routes that speak their protocol: the AWS error code when AWS gave one (e.g.
   * `AccessDeniedException`), else the name of the same kind of error in Secrets Manager's API; the status
   * is the same as the envelope's.
   */
  awsBody(): AwsErrorBody {
    return { __type: this.awsCode ?? AWS_ERROR_TYPES[this.code], message: this.message };
  }

  /** The JSON body of the answer; holds no cached value, only what went wrong. */
  envelope(): ErrorEnvelope {
    return {
      code: this.code,
      message: this.message,
      ...(this.awsCode === undefined ? {} : { awsCode: this.awsCode }),
      ...this.detail,
    };
  }
}

/** Each error code as the AWS-style `__type` of {@link HttpError.awsBody}. */
const AWS_ERROR_TYPES: Readonly<Record<ErrorCode, string>> = {
  BadRequest: 'InvalidRequestException',
  Forbidden: 'AccessDeniedException',
  NotFound: 'ResourceNotFoundException',
  MethodNotAllowed: 'InvalidRequestException',
  Throttled: 'ThrottlingException',
  InternalFailure: 'InternalServiceError',
  UpstreamError: 'InternalServiceError',
  ServiceUnavailable: 'ServiceUnavailableException',
  UpstreamTimeout: 'RequestTimeoutException',
};

/**
 * A parameter or item that the backend says does not exist. Sources throw it (or put it in a batch result)
 * so the cache can remember the absence briefly and the server can answer 404.
 */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  readonly code = 'NotFound';
}

/** The backend kept throttling the read through every retry its source allows: answered 429. */
export class ThrottledError extends Error {
  override readonly name: string = 'ThrottledError';
  readonly code: 'Throttled' | 'UnprocessedKeys' = 'Throttled';
}

/** Keys DynamoDB still left unprocessed after every retry round: it was throttling them. */
export class UnprocessedKeysError extends ThrottledError {
  override readonly name = 'UnprocessedKeysError';
  override readonly code = 'UnprocessedKeys';
}

/**
 * A read the caller got wrong in a way only the store or a source can tell (an id two configured items
 * spell, a feature flag asked of a configuration that is not JSON): answered 400 with the message.
 */
export class BadRequestError extends Error {
  override readonly name = 'BadRequestError';
  readonly code = 'BadRequest';
}

/**
 * The configuration (`config.yaml` or the environment) cannot be used: reported to Lambda as
 * `Extension.ConfigInvalid`. The config loader's `ConfigError` is one; the class lives here so the part of
 * the layer loaded before register can tell it by `instanceof` without loading the config parser.
 */
export class ConfigInvalidError extends Error {
  override readonly name: string = 'ConfigInvalidError';
  readonly code = 'ConfigInvalid';
}

/**
 * DynamoDB refused a read because the key does not match the table's key schema (a wrong attribute name
 * or type). The answer names the table and, where the config declares it, the key the table expects.
 */
export class KeySchemaMismatchError extends Error {
  override readonly name = 'KeySchemaMismatchError';
  readonly code = 'KeySchemaMismatch';
  constructor(
    readonly table: string,
    readonly awsCode: string,
    readonly expectedKey?: Readonly<Record<string, 'S' | 'N' | 'B'>>,
    options?: { cause?: unknown },
  ) {
    const expected =
      expectedKey === undefined
        ? ''
        : ` (expected ${Object.entries(expectedKey)
            .map(([name, type]) => `${name} of type ${type}`)
            .join(' and ')})`;
    super(`the key does not match the key schema of table ${table}${expected}`, options);
  }

  /** The same error, saying which key the config declares for the table. */
  expecting(expectedKey: Readonly<Record<string, 'S' | 'N' | 'B'>>): KeySchemaMismatchError {
    return new KeySchemaMismatchError(this.table, this.awsCode, expectedKey, { cause: this.cause });
  }
}

/**
 * A backend's answer that cannot be used: not the shape its API documents, or not what the config says it
 * holds (a `json: true` secret that is not JSON). Its message says what was read and what was wrong with
 * it (`secret X is not JSON text…`) and goes to the caller as it is: it never quotes the answer.
 */
export class UnreadableAnswerError extends Error {
  override readonly name = 'UnreadableAnswerError';
  readonly code = 'UnreadableAnswer';
}

/** A `get()` gave up after waiting `waitMs` for a load; the load itself goes on and will be cached. */
export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
  readonly code = 'WaitTimeout';
  constructor(
    readonly key: string,
    readonly waitMs: number,
  ) {
    super(`gave up waiting ${waitMs} ms for a load of ${key}; the load goes on`);
  }
}

/** The AWS error codes that mean "this does not exist": one list, for the store and for the answer. */
const NOT_FOUND_CODES = new Set([
  'ParameterNotFound',
  'ParameterVersionNotFound',
  'ParameterVersionLabelNotFound',
  'ResourceNotFoundException',
]);

/** Caller mistakes the backend caught (a malformed parameter name, a key that does not match the schema). */
const CALLER_CODES = new Set(['ValidationException', 'InvalidKeyId', 'SerializationException']);

/** Timeouts AWS itself reported (as opposed to our own deadlines, which are transport errors). */
const TIMEOUT_CODES = new Set(['RequestTimeout', 'RequestTimeoutException']);

/** The backend says the parameter, item, table or version does not exist. */
export function isNotFound(err: unknown): boolean {
  return err instanceof NotFoundError || isResourceMissing(err);
}

/** An AWS "does not exist" answer (a table, a parameter version), as opposed to an absent item. */
export function isResourceMissing(err: unknown): err is AwsServiceError {
  return err instanceof AwsServiceError && NOT_FOUND_CODES.has(err.awsCode);
}

export function isThrottling(err: unknown): boolean {
  return (err instanceof AwsServiceError && err.throttling) || err instanceof ThrottledError;
}

export function isCallerError(err: unknown): err is AwsServiceError {
  return err instanceof AwsServiceError && CALLER_CODES.has(err.awsCode);
}

const THROTTLED_MESSAGE = 'the backend is throttling requests; retry later';

function fromAws(err: AwsServiceError): HttpError {
  const code = err.awsCode;
  if (NOT_FOUND_CODES.has(code)) return HttpError.of('NotFound', err.message || 'not found', code, err);
  if (err.throttling) return HttpError.of('Throttled', THROTTLED_MESSAGE, code, err);
  if (CALLER_CODES.has(code)) return HttpError.of('BadRequest', err.message, code, err);
  if (TIMEOUT_CODES.has(code)) {
    return HttpError.of('UpstreamTimeout', 'the backend did not answer in time', code, err);
  }
  return HttpError.of('UpstreamError', `the backend refused the request (${code})`, code, err);
}

function fromTransport(err: AwsTransportError): HttpError {
  if (err.reason === 'timeout') {
    return HttpError.of('UpstreamTimeout', 'the backend did not answer in time', undefined, err);
  }
  if (err.reason === 'unreadable') {
    return HttpError.of('UpstreamError', 'the backend sent an answer that could not be read', undefined, err);
  }
  const sys = err.sysCode ?? 'network error';
  return HttpError.of('UpstreamError', `the backend could not be reached (${sys})`, err.sysCode, err);
}

/**
 * Maps anything thrown while answering a request to the response it gets, keeping the original as
 * `cause`. Unknown errors become a 500 whose message says nothing internal; the caller logs the detail.
 */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof RouteError || err instanceof KeyError) {
    return HttpError.of('BadRequest', err.message, undefined, err);
  }
  if (err instanceof NotFoundError)
    return HttpError.of('NotFound', err.message || 'not found', undefined, err);
  if (err instanceof KeySchemaMismatchError) {
    const detail = { table: err.table, ...(err.expectedKey ? { expectedKey: err.expectedKey } : {}) };
    return new HttpError(
      ERROR_STATUS.BadRequest,
      'BadRequest',
      err.message,
      err.awsCode,
      { cause: err },
      detail,
    );
  }
  if (err instanceof AwsServiceError) return fromAws(err);
  if (err instanceof ThrottledError) return HttpError.of('Throttled', THROTTLED_MESSAGE, undefined, err);
  if (err instanceof BadRequestError) return HttpError.of('BadRequest', err.message, undefined, err);
  if (err instanceof AwsTransportError) return fromTransport(err);
  if (err instanceof WaitTimeoutError) {
    return HttpError.of('UpstreamTimeout', 'the backend did not answer in time', undefined, err);
  }
  if (err instanceof AwsCredentialsError) {
    return HttpError.of('UpstreamError', 'no AWS credentials are available to the extension', undefined, err);
  }
  if (err instanceof AwsConfigError) {
    // Region or endpoint settings of the function's environment: its message names the variable.
    return HttpError.of('UpstreamError', `the extension cannot call AWS: ${err.message}`, undefined, err);
  }
  if (err instanceof UnreadableAnswerError) {
    // Its messages are the sources' own and name what was read, never a value (see the class).
    return HttpError.of(
      'UpstreamError',
      `the backend's answer could not be used: ${err.message}`,
      undefined,
      err,
    );
  }
  return HttpError.of(
    'InternalFailure',
    'internal failure; the extension log has the detail',
    undefined,
    err,
  );
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** What to log about an error: its AWS or system code, or its class's code — never its message. */
export function errorCode(err: unknown): string {
  if (err instanceof AwsServiceError) return err.awsCode;
  if (err instanceof AwsTransportError) return err.sysCode ?? `${err.reason}:${err.phase}`;
  const e = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; name?: unknown };
  return text(e.code) ?? text(e.name) ?? typeof err;
}
