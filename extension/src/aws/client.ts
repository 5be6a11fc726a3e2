/**
 * A small AWS client for the calls the extension makes: the awsJson protocols of SSM, DynamoDB and
 * Secrets Manager, and AppConfigData's restJson1. Importing it costs a few milliseconds, where the
 * SDK's clients cost ~90 ms of CPU and 16 MiB at every cold start, and every attempt has deadlines.
 */
import { type CredentialProvider, createCredentialProvider } from './credentials.js';
import {
  type AwsService,
  type JsonService,
  type ResolvedEndpoint,
  resolveEndpoint,
  resolveRegion,
  SERVICES,
} from './endpoints.js';
import { AwsCredentialsError, AwsServiceError, AwsTransportError } from './errors.js';
import {
  backoffDelay,
  classify,
  parseRetryAfter,
  RetryQuota,
  THROTTLING_CODES,
  withRetryAfter,
} from './retry.js';
import { type Credentials, sign } from './signer.js';
import { type HttpResponse, MAX_BODY_BYTES, Transport } from './transport.js';

export interface AwsCallOptions {
  /** Ends the call at once (the socket is destroyed); the call rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Bounds the whole call (attempts and the waits between them) below the client's own total: past it the
   * call fails as the client's own timeout does, with an `AwsTransportError` (a failure of the service,
   * where an aborted call says nothing about it). @default the client's `timeouts.totalMs`
   */
  timeoutMs?: number;
}

export interface RestRequest {
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string>;
  body?: object;
}

export interface RestResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface AwsTimeouts {
  /** Until a connection is made. */
  connectMs: number;
  /** One attempt, from its start to the last byte of the answer. */
  attemptMs: number;
  /** All attempts and the waits between them. */
  totalMs: number;
}

export const DEFAULT_TIMEOUTS: AwsTimeouts = Object.freeze({
  connectMs: 1000,
  attemptMs: 3000,
  totalMs: 5000,
});

export interface AwsClientOptions {
  /** `process.env` or a test's. */
  env: Readonly<Record<string, string | undefined>>;
  logger?: {
    warn(msg: string, fields?: Record<string, unknown>): void;
    debug?(msg: string, fields?: Record<string, unknown>): void;
  };
  /** Called once per attempt with `service:Operation`, e.g. `ssm:GetParameters`. */
  count?: (operation: string) => void;
  /** @default DEFAULT_TIMEOUTS */
  timeouts?: Partial<AwsTimeouts>;
  /** Attempts per call, the first included. @default 3 (the SDK's standard mode) */
  maxAttempts?: number;
  /** The wait between attempts. @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /** The clock for credential expiry and request dates, in epoch ms. @default Date.now */
  now?: () => number;
  /** The source of the backoff's jitter, in [0, 1). @default Math.random */
  random?: () => number;
}

export interface AwsClient {
  /** awsJson 1.0 (dynamodb) / 1.1 (ssm, secretsmanager): POST / with X-Amz-Target; resolves with the parsed JSON output. */
  json<T = Record<string, unknown>>(
    service: JsonService,
    region: string | undefined,
    operation: string,
    input: object,
    opts?: AwsCallOptions,
  ): Promise<T>;
  /** restJson1 (AppConfigData: POST /configurationsessions, GET /configuration?configuration_token=…). */
  rest(
    service: 'appconfigdata',
    region: string | undefined,
    req: RestRequest,
    opts?: AwsCallOptions,
  ): Promise<RestResponse>;
  /** Closes keep-alive sockets. */
  destroy(): void;
}

const USER_AGENT = 'lambda-cache';
const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What one call sends, before signing. */
interface Call {
  service: AwsService;
  /** `service:Operation`, for counting and logs. */
  label: string;
  operation: string;
  region: string | undefined;
  method: 'GET' | 'POST';
  /** Path below the endpoint's own path, and query, unencoded. */
  path: string;
  query?: Record<string, string> | undefined;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Creates a client. It holds a keep-alive pool per protocol and the credentials; call `destroy()` when
 * done.
 *
 * @example
 * const aws = createAwsClient({ env: process.env });
 * const out = await aws.json('ssm', 'eu-west-1', 'GetParameters', { Names: ['/app/url'], WithDecryption: true });
 */
export function createAwsClient(opts: AwsClientOptions): AwsClient {
  const timeouts: AwsTimeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  for (const [name, ms] of Object.entries(timeouts)) {
    if (!Number.isFinite(ms) || ms < 1) throw new RangeError(`timeouts.${name} must be a number of ms ≥ 1`);
  }
  const maxAttempts = opts.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError('maxAttempts must be an integer ≥ 1');
  }
  const sleep = opts.sleep ?? defaultSleep;
  const now = opts.now ?? Date.now;
  const warn = (msg: string, fields?: Record<string, unknown>): void => opts.logger?.warn(msg, fields);
  const debug = (msg: string, fields?: Record<string, unknown>): void => opts.logger?.debug?.(msg, fields);
  const transport = new Transport({ maxSockets: 16 });
  const quota = new RetryQuota();
  let credentials: CredentialProvider | undefined;
  const getCredentials = async (): Promise<Credentials> => {
    credentials ??= createCredentialProvider({ env: opts.env, now, sleep, warn });
    return credentials();
  };

  async function attempt(
    call: Call,
    endpoint: ResolvedEndpoint,
    limits: { connectMs: number; attemptMs: number },
    signal?: AbortSignal,
  ): Promise<HttpResponse> {
    const creds = await getCredentials();
    // An endpoint URL with a path keeps it, as the SDK joins them.
    const base = endpoint.url.pathname.replace(/\/+$/, '');
    const query = call.query ? new URLSearchParams(call.query).toString() : '';
    const headers: Record<string, string> = { ...call.headers };
    if (call.body.length > 0) headers['content-length'] = String(call.body.length);
    const signed = sign(
      {
        method: call.method,
        host: endpoint.url.host,
        path: `${base}${call.path}${query ? `?${query}` : ''}`,
        headers,
        body: call.body,
        service: SERVICES[call.service].signingName,
        region: endpoint.signingRegion,
        date: new Date(now()),
      },
      creds,
    );
    // Not signed: proxies may rewrite it, and the SDK leaves it out of the signature too.
    signed.headers['user-agent'] = USER_AGENT;
    opts.count?.(call.label);
    return transport.send(
      { url: endpoint.url, method: call.method, path: signed.path, headers: signed.headers, body: call.body },
      { ...limits, maxBodyBytes: MAX_BODY_BYTES },
      signal,
    );
  }

  async function execute(call: Call, callOpts: AwsCallOptions = {}): Promise<HttpResponse> {
    const { signal } = callOpts;
    // Settings errors (no region, a bad endpoint variable) are thrown before anything is sent or counted.
    const endpoint = resolveEndpoint(call.service, resolveRegion(call.region, opts.env), opts.env);
    const started = performance.now();
    const deadline = started + Math.min(timeouts.totalMs, callOpts.timeoutMs ?? Number.POSITIVE_INFINITY);
    let lastCost: number | undefined;
    let lastError: unknown;
    for (let n = 1; ; n++) {
      if (signal?.aborted) throw signal.reason;
      const remaining = Math.floor(deadline - performance.now());
      // Only after a backoff that overslept: the previous attempt's error is the answer.
      if (remaining < 1) throw lastError;
      const attemptMs = Math.min(timeouts.attemptMs, remaining);
      const attemptStart = performance.now();
      let error: unknown;
      let retryAfterMs: number | undefined;
      try {
        const connectMs = Math.min(timeouts.connectMs, attemptMs);
        const response = await attempt(call, endpoint, { connectMs, attemptMs }, signal);
        if (response.status >= 200 && response.status < 300) {
          quota.release(lastCost);
          return response;
        }
        error = serviceError(call, response);
        retryAfterMs = parseRetryAfter(response.headers['retry-after'], Date.now());
      } catch (caught) {
        if (signal?.aborted || !(caught instanceof AwsTransportError)) throw caught;
        error = caught;
      }

      const kind = classify(error);
      const fields = {
        service: call.service,
        operation: call.operation,
        attempt: n,
        durationMs: Math.round(performance.now() - attemptStart),
        ...describe(error),
      };
      if (error instanceof AwsTransportError || (error instanceof AwsServiceError && error.status >= 500)) {
        warn('aws attempt failed', fields);
      } else if (kind === 'throttling') {
        debug('aws attempt throttled', fields);
      }
      if (kind === 'final' || n >= maxAttempts) throw error;
      const delay = withRetryAfter(backoffDelay(kind, n - 1, opts.random), retryAfterMs);
      // A retry that could not start before the deadline would only turn this answer into a timeout.
      if (deadline - performance.now() - delay < 1) throw error;
      const cost = quota.acquire(kind);
      if (cost === undefined) throw error;
      lastCost = cost;
      lastError = error;
      await abortable(sleep(delay), signal);
    }
  }

  return {
    async json<T>(
      service: JsonService,
      region: string | undefined,
      operation: string,
      input: object,
      opts2?: AwsCallOptions,
    ) {
      const info = SERVICES[service].json;
      if (!info) throw new TypeError(`${service} does not speak awsJson`);
      const response = await execute(
        {
          service,
          label: `${service}:${operation}`,
          operation,
          region,
          method: 'POST',
          path: '/',
          headers: { 'content-type': info.contentType, 'x-amz-target': `${info.targetPrefix}${operation}` },
          body: Buffer.from(JSON.stringify(input)),
        },
        opts2,
      );
      return parseJson(service, operation, response) as T;
    },

    async rest(
      service: 'appconfigdata',
      region: string | undefined,
      req: RestRequest,
      opts2?: AwsCallOptions,
    ) {
      const operation = restOperation(req);
      const body = req.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(req.body));
      const headers: Record<string, string> = {};
      if (body.length > 0) headers['content-type'] = 'application/json';
      const response = await execute(
        {
          service,
          label: `${service}:${operation}`,
          operation,
          region,
          method: req.method,
          path: req.path.startsWith('/') ? req.path : `/${req.path}`,
          query: req.query,
          headers,
          body,
        },
        opts2,
      );
      return { status: response.status, headers: response.headers, body: response.body };
    },

    destroy() {
      transport.destroy();
    },
  };
}

/** The AppConfigData operation a request is, for counts and logs. */
function restOperation(req: RestRequest): string {
  const path = req.path.replace(/\/+$/, '');
  if (req.method === 'POST' && path === '/configurationsessions') return 'StartConfigurationSession';
  if (req.method === 'GET' && path === '/configuration') return 'GetLatestConfiguration';
  return `${req.method} ${path}`;
}

/** Waits, unless the signal aborts first. */
function abortable(wait: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return wait;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    wait.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** The log fields of a failed attempt: what kind of failure, never a value. */
function describe(error: unknown): Record<string, unknown> {
  if (error instanceof AwsTransportError) {
    return { reason: error.reason, phase: error.phase, ...(error.sysCode ? { sysCode: error.sysCode } : {}) };
  }
  if (error instanceof AwsServiceError) {
    return { phase: 'response', status: error.status, awsCode: error.awsCode };
  }
  return { error: error instanceof AwsCredentialsError ? error.code : typeof error };
}

/**
 * `x-amzn-ErrorType`, else the body's `__type` or `code`, stripped of a `namespace#` prefix and a
 * `:suffix` (the SDK's sanitizeErrorCode).
 */
export function errorCodeOf(
  headers: Record<string, string>,
  body: Record<string, unknown>,
): string | undefined {
  const raw = [headers['x-amzn-errortype'], body.__type, body.code, body.Code].find(
    (v): v is string => typeof v === 'string' && v !== '',
  );
  if (raw === undefined) return undefined;
  let code = raw.split(',')[0] ?? raw;
  code = code.split(':')[0] ?? code;
  if (code.includes('#')) code = code.split('#')[1] ?? code;
  return code || undefined;
}

function serviceError(call: Call, response: HttpResponse): AwsServiceError {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = response.body.length > 0 ? JSON.parse(response.body.toString('utf8')) : {};
    if (parsed !== null && typeof parsed === 'object') body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's HTML page): the status alone tells what happened.
  }
  const awsCode =
    errorCodeOf(response.headers, body) ??
    (response.status === 429 ? 'TooManyRequestsException' : 'UnknownError');
  const message = [body.message, body.Message].find((v): v is string => typeof v === 'string' && v !== '');
  const requestId = response.headers['x-amzn-requestid'] ?? response.headers['x-amz-request-id'];
  return new AwsServiceError({
    service: call.service,
    operation: call.operation,
    awsCode,
    status: response.status,
    throttling: response.status === 429 || THROTTLING_CODES.has(awsCode),
    ...(requestId ? { requestId } : {}),
    // AWS's own text names the failed constraint; it is kept short for the logs.
    ...(message ? { message: message.slice(0, 512) } : {}),
  });
}

function parseJson(service: string, operation: string, response: HttpResponse): unknown {
  if (response.body.length === 0) return {};
  try {
    return JSON.parse(response.body.toString('utf8'));
  } catch (error) {
    throw new AwsTransportError(
      `${service} ${operation} sent an answer that is not JSON`,
      { reason: 'unreadable', phase: 'response' },
      { cause: error },
    );
  }
}
