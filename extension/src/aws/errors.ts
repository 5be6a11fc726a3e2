/**
 * What the AWS client throws. Each class has a literal `code`, so `err.code === 'AwsServiceError'` or
 * `instanceof` narrows it, and the native `cause`. No message quotes a request's input or a response's
 * values: a message names the service, the operation and what went wrong, never a parameter's value.
 */

/** AWS answered with an error (4xx or 5xx) after the retries the error allowed. */
export class AwsServiceError extends Error {
  override readonly name = 'AwsServiceError';
  readonly code = 'AwsServiceError';
  /** The AWS error code, without its `namespace#` prefix (e.g. `ParameterNotFound`, `ThrottlingException`). */
  readonly awsCode: string;
  readonly status: number;
  /** HTTP 429 or one of the SDK's throttling codes: retrying later may succeed. */
  readonly throttling: boolean;
  readonly requestId?: string;
  readonly service: string;
  readonly operation: string;

  constructor(init: {
    service: string;
    operation: string;
    awsCode: string;
    status: number;
    throttling: boolean;
    requestId?: string;
    message?: string;
  }) {
    super(init.message || `${init.service} ${init.operation} failed: ${init.awsCode} (HTTP ${init.status})`);
    this.service = init.service;
    this.operation = init.operation;
    this.awsCode = init.awsCode;
    this.status = init.status;
    this.throttling = init.throttling;
    if (init.requestId !== undefined) this.requestId = init.requestId;
  }
}

/** Why an attempt got no usable answer. */
export type TransportReason = 'timeout' | 'network' | 'unreadable';
/** `connect`: no connection was made; `response`: connected, but the whole answer did not arrive. */
export type TransportPhase = 'connect' | 'response';

/** No usable answer: a deadline passed, the connection failed, or the answer could not be read. */
export class AwsTransportError extends Error {
  override readonly name = 'AwsTransportError';
  readonly code = 'AwsTransportError';
  readonly reason: TransportReason;
  readonly phase: TransportPhase;
  /** The socket's error code (`ECONNRESET`, `ECONNREFUSED`, …) when the system gave one. */
  readonly sysCode?: string;

  constructor(
    message: string,
    init: { reason: TransportReason; phase: TransportPhase; sysCode?: string | undefined },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.reason = init.reason;
    this.phase = init.phase;
    if (init.sysCode !== undefined) this.sysCode = init.sysCode;
  }
}

/** No credentials could be found or fetched to sign the request with. */
export class AwsCredentialsError extends Error {
  override readonly name = 'AwsCredentialsError';
  readonly code = 'AwsCredentialsError';
}

/** The client's settings (region, endpoint variables) are invalid; nothing was sent. */
export class AwsConfigError extends Error {
  override readonly name = 'AwsConfigError';
  readonly code = 'AwsConfigError';
}
