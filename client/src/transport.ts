/**
 * The one way the client talks to the extension: GET over an undici `Pool` to 127.0.0.1, with p-retry
 * and a narrow policy. Retried: connection refused (the extension is still starting or restarting), a
 * reset socket (a keep-alive connection that died while Lambda froze the environment; GET is
 * idempotent), a connect timeout, and 503/429 answers. Never retried: any other 4xx, 500, 502, 504, or a
 * timeout waiting for an answer (the extension is already working on that request).
 */
import { ERROR_STATUS, type ErrorEnvelope, HEADERS, isErrorEnvelope } from '@lambda-cache/shared';
import pRetry from 'p-retry';
import { type Dispatcher, Pool } from 'undici';
import {
  AbortError,
  BadRequestError,
  type CacheClientError,
  ExtensionError,
  ExtensionUnavailableError,
  ForbiddenError,
  InvalidOptionError,
  NotFoundError,
  ThrottledError,
  TimeoutError,
  UpstreamError,
  UpstreamTimeoutError,
} from './errors.js';
import { currentToken, type ResolvedOptions } from './options.js';

/** A successful (200) answer. */
export interface Reply {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: unknown;
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND', 'EADDRNOTAVAIL']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED']);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Errors worth another attempt; one set for all calls (an error object belongs to one call only). */
const retryable = new WeakSet<object>();

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function unavailableMessage(port: number, detail: string): string {
  return (
    `lambda-cache extension not reachable on 127.0.0.1:${port} (${detail}). Attach the lambda-cache layer ` +
    'to this function, and check that CACHE_EXTENSION_PORT is the same for the extension and the client.'
  );
}

/** The error for a non-200 answer. Status decides; the envelope only adds detail. */
export function errorForStatus(status: number, body: unknown, port: number): CacheClientError {
  const envelope: ErrorEnvelope | undefined = isErrorEnvelope(body) ? body : undefined;
  const message = envelope?.message ?? `the extension answered HTTP ${status}`;
  const options = { status };
  switch (status) {
    case ERROR_STATUS.BadRequest:
      return new BadRequestError(message, options);
    case ERROR_STATUS.Forbidden:
      return new ForbiddenError(
        `${message} (the extension checks X-Aws-Parameters-Secrets-Token against its AWS_SESSION_TOKEN)`,
        options,
      );
    case ERROR_STATUS.NotFound:
      return new NotFoundError(message, options);
    case ERROR_STATUS.Throttled:
      return new ThrottledError(message, options);
    case ERROR_STATUS.UpstreamError:
      return new UpstreamError(message, { ...options, awsCode: envelope?.awsCode });
    case ERROR_STATUS.UpstreamTimeout:
      return new UpstreamTimeoutError(message, options);
    case ERROR_STATUS.ServiceUnavailable:
      return new ExtensionUnavailableError(unavailableMessage(port, `HTTP 503: ${message}`), options);
    default:
      return new ExtensionError(message, { ...options, extensionCode: envelope?.code });
  }
}

export class Transport {
  readonly #options: ResolvedOptions;
  readonly #env: NodeJS.ProcessEnv;
  readonly #origin: string;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  #closed = false;
  #headersToken: string | undefined;
  #headersObject: Record<string, string> = { accept: 'application/json' };

  constructor(options: ResolvedOptions, env: NodeJS.ProcessEnv) {
    this.#options = options;
    this.#env = env;
    this.#origin = `http://127.0.0.1:${options.port}`;
    this.#ownsDispatcher = options.dispatcher === undefined;
    this.#dispatcher =
      options.dispatcher ??
      new Pool(this.#origin, {
        connections: options.connections,
        pipelining: 1,
        connect: { timeout: options.connectTimeoutMs },
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
        // Below Node's 5 s server keep-alive so the client, not the server, closes idle sockets.
        keepAliveTimeout: 4000,
      });
  }

  /**
   * GET `path`; resolves with a 200 answer, rejects with a {@link CacheClientError}. The first attempt is
   * made directly: p-retry (and its per-call setup) is entered only after a failure worth retrying, with
   * the same policy and the same total bound, counted from the first attempt.
   */
  async get(path: string, signal?: AbortSignal): Promise<Reply> {
    if (this.#closed) {
      throw new ExtensionUnavailableError('this lambda-cache client was closed; create a new one');
    }
    if (signal?.aborted) throw new AbortError('the request was aborted', { cause: signal.reason });
    const started = performance.now();
    try {
      return await this.#attempt(path, signal);
    } catch (err) {
      if (!retryable.has(err as object) || signal?.aborted) throw err;
      return this.#retry(path, signal, err, started);
    }
  }

  async #retry(
    path: string,
    signal: AbortSignal | undefined,
    first: unknown,
    started: number,
  ): Promise<Reply> {
    const { retry } = this.#options;
    try {
      // Attempt 1 already failed with `first`: replaying it lets p-retry apply its delays from the start.
      return await pRetry(
        (attempt) => (attempt === 1 ? Promise.reject(first) : this.#attempt(path, signal)),
        {
          retries: retry.retries,
          factor: 2,
          minTimeout: retry.minTimeout,
          maxTimeout: retry.maxTimeout,
          maxRetryTime: Math.max(0, retry.maxRetryTime - (performance.now() - started)),
          randomize: false,
          ...(signal ? { signal } : {}),
          shouldRetry: ({ error }) => retryable.has(error),
        },
      );
    } catch (err) {
      if (signal?.aborted) throw new AbortError('the request was aborted', { cause: signal.reason });
      throw err;
    }
  }

  /** The request headers; one object reused while the token stays the same. */
  #headers(): Record<string, string> {
    const token = currentToken(this.#options, this.#env);
    if (token !== this.#headersToken) {
      this.#headersToken = token;
      this.#headersObject =
        token === undefined
          ? { accept: 'application/json' }
          : { accept: 'application/json', [HEADERS.token]: token };
    }
    return this.#headersObject;
  }

  async #attempt(path: string, signal: AbortSignal | undefined): Promise<Reply> {
    let response: Dispatcher.ResponseData;
    try {
      response = await this.#dispatcher.request({
        origin: this.#origin,
        path,
        method: 'GET',
        headers: this.#headers(),
        headersTimeout: this.#options.timeoutMs,
        bodyTimeout: this.#options.timeoutMs,
        signal,
      });
    } catch (err) {
      throw this.#transportError(err, signal);
    }
    let text: string;
    try {
      text = await response.body.text();
    } catch (err) {
      throw this.#transportError(err, signal);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (response.statusCode === 200) {
      if (typeof body !== 'object' || body === null) {
        throw new ExtensionError('the extension answered 200 without a JSON object', { status: 200 });
      }
      return { headers: response.headers, body };
    }
    const error = errorForStatus(response.statusCode, body, this.#options.port);
    if (
      response.statusCode === ERROR_STATUS.ServiceUnavailable ||
      response.statusCode === ERROR_STATUS.Throttled
    ) {
      retryable.add(error);
    }
    throw error;
  }

  #transportError(err: unknown, signal: AbortSignal | undefined): Error {
    if (signal?.aborted) return new AbortError('the request was aborted', { cause: signal.reason });
    const code = codeOf(err);
    if (code !== undefined && TIMEOUT_CODES.has(code)) {
      return new TimeoutError(
        `the extension did not answer within ${this.#options.timeoutMs} ms (timeoutMs); it may still be waiting for AWS`,
        { cause: err },
      );
    }
    if (code !== undefined && (CONNECTION_CODES.has(code) || RESET_CODES.has(code))) {
      const error = new ExtensionUnavailableError(unavailableMessage(this.#options.port, code), {
        cause: err,
      });
      retryable.add(error);
      return error;
    }
    if (code === 'UND_ERR_INVALID_ARG') {
      return new InvalidOptionError(
        'the request could not be sent: the token (option or AWS_SESSION_TOKEN) is not a valid header value',
        { cause: err },
      );
    }
    if (code === 'UND_ERR_CLOSED' || code === 'UND_ERR_DESTROYED') {
      return new ExtensionUnavailableError('this lambda-cache client was closed; create a new one', {
        cause: err,
      });
    }
    return new ExtensionUnavailableError(unavailableMessage(this.#options.port, code ?? String(err)), {
      cause: err,
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }
}
