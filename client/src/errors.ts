/**
 * The client's error hierarchy. Every class carries a stable `code` and the native `cause`.
 *
 * `instanceof` works across two copies of this package (an ESM and a CommonJS copy, or two versions in
 * one bundle): each instance carries a `Symbol.for` brand naming its class, and every class answers
 * `instanceof` by that brand rather than by prototype identity, as undici's errors do.
 */

const BRAND: unique symbol = Symbol.for('lambda-cache.client.error') as never;

/** Stable `code` of every error the client throws. */
export type CacheClientErrorCode =
  | 'NotFound'
  | 'TableNotFound'
  | 'BadRequest'
  | 'Forbidden'
  | 'Throttled'
  | 'UpstreamError'
  | 'UpstreamTimeout'
  | 'ExtensionUnavailable'
  | 'ExtensionError'
  | 'Timeout'
  | 'Aborted'
  | 'TransformFailed'
  | 'InvalidOption';

export interface CacheClientErrorOptions {
  readonly cause?: unknown;
  /** HTTP status of the extension's answer, when there was one. */
  readonly status?: number;
  /** `awsCode` of the extension's error envelope: the AWS error behind the answer. */
  readonly awsCode?: string | undefined;
  /** `code` of the extension's error envelope, e.g. `InternalFailure`. */
  readonly extensionCode?: string | undefined;
}

/** Base of every error thrown by the client. */
export class CacheClientError extends Error {
  /** The class's brand; instances carry the same string under a `Symbol.for` key. */
  static readonly kind: string = 'CacheClientError';

  static override [Symbol.hasInstance]<T>(
    this: abstract new (
      ...args: never[]
    ) => T,
    value: unknown,
  ): value is T {
    if (typeof value !== 'object' || value === null) return false;
    const kind = (value as { [BRAND]?: unknown })[BRAND];
    if (typeof kind !== 'string') return false;
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class on the right of `instanceof`.
    const own = (this as unknown as { kind: string }).kind;
    return own === 'CacheClientError' || own === kind;
  }

  /** Stable identifier of the failure; branch on this (or `instanceof`), never on `message`. */
  readonly code: CacheClientErrorCode;
  /** HTTP status of the extension's answer, when there was one. */
  readonly status: number | undefined;
  /**
   * The AWS error name the extension reported with its answer (e.g. `ValidationException` behind a 400,
   * `AccessDeniedException` behind a 502), when it reported one.
   */
  readonly awsCode: string | undefined;
  /** The `code` of the extension's error envelope (e.g. `BadRequest`, `InternalFailure`), when it sent one. */
  readonly extensionCode: string | undefined;

  constructor(code: CacheClientErrorCode, message: string, options: CacheClientErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.awsCode = options.awsCode;
    this.extensionCode = options.extensionCode;
    const kind = (new.target as unknown as { kind: string }).kind;
    this.name = kind;
    Object.defineProperty(this, BRAND, { value: kind, enumerable: false });
  }
}

/** The parameter does not exist (HTTP 404). `getItem` returns `undefined` instead of throwing it. */
export class NotFoundError extends CacheClientError {
  static override readonly kind: string = 'NotFoundError';
  constructor(message: string, options?: CacheClientErrorOptions) {
    super('NotFound', message, options);
  }
}

/**
 * `getItem` named a table that does not exist in the extension's region (a typo, or another region):
 * DynamoDB's `ResourceNotFoundException`, answered 404. Unlike a missing item, which is `undefined`.
 */
export class TableNotFoundError extends CacheClientError {
  static override readonly kind: string = 'TableNotFoundError';
  /** The table as named in the call. */
  readonly table: string;
  constructor(table: string, message: string, options?: CacheClientErrorOptions) {
    super('TableNotFound', message, options);
    this.table = table;
  }
}

/** The request was refused as malformed (HTTP 400), or the client refused to send it (bad name or key). */
export class BadRequestError extends CacheClientError {
  static override readonly kind: string = 'BadRequestError';
  /** The table, when DynamoDB refused the key of a `getItem` (`awsCode` `ValidationException`). */
  readonly table: string | undefined;
  /** The key attributes and types the extension's config declares for that table, when it does. */
  readonly expectedKey: Readonly<Record<string, 'S' | 'N' | 'B'>> | undefined;

  constructor(
    message: string,
    options?: CacheClientErrorOptions & {
      readonly table?: string | undefined;
      readonly expectedKey?: Readonly<Record<string, 'S' | 'N' | 'B'>> | undefined;
    },
  ) {
    super('BadRequest', message, options);
    this.table = options?.table;
    this.expectedKey = options?.expectedKey;
  }
}

/** The session token was refused (HTTP 403): `AWS_SESSION_TOKEN` differs from the extension's. */
export class ForbiddenError extends CacheClientError {
  static override readonly kind: string = 'ForbiddenError';
  constructor(message: string, options?: CacheClientErrorOptions) {
    super('Forbidden', message, options);
  }
}

/** AWS throttled the extension's backend call and retries did not get through (HTTP 429). */
export class ThrottledError extends CacheClientError {
  static override readonly kind: string = 'ThrottledError';
  constructor(message: string, options?: CacheClientErrorOptions) {
    super('Throttled', message, options);
  }
}

/** The backend call failed (HTTP 502); `awsCode` names the AWS error, e.g. `AccessDeniedException`. */
export class UpstreamError extends CacheClientError {
  static override readonly kind: string = 'UpstreamError';
  constructor(message: string, options?: CacheClientErrorOptions) {
    super('UpstreamError', message, options);
  }
}

/** The backend did not answer the extension in time (HTTP 504). */
export class UpstreamTimeoutError extends CacheClientError {
  static override readonly kind: string = 'UpstreamTimeoutError';
  constructor(message: string, options?: CacheClientErrorOptions) {
    super('UpstreamTimeout', message, options);
  }
}

/** Nothing answered on the extension's port within the retry budget (or it kept answering 503). */
export class ExtensionUnavailableError extends CacheClientError {
  static override readonly kind: string = 'ExtensionUnavailableError';
  constructor(message: string, options?: CacheClientErrorOptions) {
    super('ExtensionUnavailable', message, options);
  }
}

/** The extension answered with an error the client has no narrower class for (500, an unreadable body). */
export class ExtensionError extends CacheClientError {
  static override readonly kind: string = 'ExtensionError';
  constructor(message: string, options?: CacheClientErrorOptions) {
    super('ExtensionError', message, options);
  }
}

/**
 * An attempt took longer than `timeoutMs` from sending the request to the last byte of the answer, or
 * the call as a whole outlasted its bound (see `timeoutMs`). Not retried: the extension is busy with this
 * very request.
 */
export class TimeoutError extends CacheClientError {
  static override readonly kind: string = 'TimeoutError';
  constructor(message: string, options?: CacheClientErrorOptions) {
    super('Timeout', message, options);
  }
}

/** The caller's `AbortSignal` fired; `cause` is the signal's reason. */
export class AbortError extends CacheClientError {
  static override readonly kind: string = 'AbortError';
  constructor(message: string, options?: CacheClientErrorOptions) {
    super('Aborted', message, options);
  }
}

/**
 * A `transform` could not be applied (the value is not valid JSON). The message names the parameter but
 * never quotes the value, and there is deliberately no `cause`: V8's `SyntaxError` quotes the input.
 */
export class TransformError extends CacheClientError {
  static override readonly kind: string = 'TransformError';
  /** The transform that failed. */
  readonly transform: string;
  constructor(transform: string, message: string) {
    super('TransformFailed', message);
    this.transform = transform;
  }
}

/**
 * An option passed to the client (or an environment variable it reads) is invalid; also an option of
 * `lambda-cache-types` (a `--name` that is not a type name).
 */
export class InvalidOptionError extends CacheClientError {
  static override readonly kind: string = 'InvalidOptionError';
  constructor(message: string, options?: CacheClientErrorOptions) {
    super('InvalidOption', message, options);
  }
}
