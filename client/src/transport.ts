/**
 * The one way the client talks to the extension: GET over a keep-alive `node:http` Agent to 127.0.0.1,
 * with p-retry and a narrow policy. Retried: connection refused (the extension is still starting or
 * restarting), a reset socket (a keep-alive connection that died while Lambda froze the environment; GET
 * is idempotent), a connect timeout, and 503/429 answers. Never retried: any other 4xx, 500, 502, 504, or
 * a timeout (the extension is already working on that request).
 *
 * `node:http` rather than undici: it is already part of Node, so importing the client costs the function's
 * init next to nothing; undici's index took ≈ 70 ms of CPU to import (see the README's figures).
 *
 * Every attempt has one deadline, from sending the request to the last byte of the answer: a body that
 * trickles in a byte at a time cannot stretch an attempt past `timeoutMs`, as an idle timer reset by each
 * byte would. The call as a whole, retries included, has another: the larger of `timeoutMs` and
 * `retry.maxRetryTime`, counted from the first attempt.
 */
import type { Agent, IncomingMessage } from 'node:http';
import { ERROR_STATUS, type ErrorEnvelope, HEADERS, isErrorEnvelope } from '@lambda-cache/shared';
import pRetry from 'p-retry';
import {
  AbortError,
  BadRequestError,
  type CacheClientError,
  type CacheClientErrorOptions,
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
import type { RequestDispatcher } from './options.js';
import { currentToken, type ResolvedOptions } from './resolved-options.js';

// Not `import … from 'node:http'`: on Node 22 and later that import reads every export of the module,
// and three of them load Node's bundled undici, about 28 ms of CPU in the function's init.
const http = process.getBuiltinModule('node:http');

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** A successful (200) JSON answer. */
export interface Reply {
  readonly headers: Headers;
  readonly body: unknown;
}

/** A successful (200) answer whose body is kept as the bytes that came (an AppConfig configuration). */
export interface RawReply {
  readonly headers: Headers;
  readonly bytes: Buffer;
}

/** Any answer, read to its last byte. */
interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly bytes: Buffer;
}

/** Codes of the client's own failures, set on plain errors so one mapping serves both transports. */
const CONNECT_TIMEOUT = 'LAMBDA_CACHE_CONNECT_TIMEOUT';
const ATTEMPT_TIMEOUT = 'LAMBDA_CACHE_ATTEMPT_TIMEOUT';
const CALL_TIMEOUT = 'LAMBDA_CACHE_CALL_TIMEOUT';
const BODY_CUT = 'ECONNRESET';

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  CONNECT_TIMEOUT,
  'UND_ERR_CONNECT_TIMEOUT',
  'ENOTFOUND',
  'EADDRNOTAVAIL',
]);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED']);
const TIMEOUT_CODES = new Set([
  ATTEMPT_TIMEOUT,
  CALL_TIMEOUT,
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
/** A header value Node (`ERR_INVALID_CHAR`) or undici (`UND_ERR_INVALID_ARG`) refused to send. */
const INVALID_HEADER_CODES = new Set(['ERR_INVALID_CHAR', 'ERR_INVALID_HTTP_TOKEN', 'UND_ERR_INVALID_ARG']);

/** Errors worth another attempt; one set for all calls (an error object belongs to one call only). */
const retryable = new WeakSet<object>();

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function failure(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function unavailableMessage(port: number, detail: string): string {
  return (
    `lambda-cache extension not reachable on 127.0.0.1:${port} (${detail}). Attach the lambda-cache layer ` +
    'to this function, and check that CACHE_EXTENSION_PORT is the same for the extension and the client.'
  );
}

/** The error for a non-200 answer. Status decides the class; the envelope adds its codes and message. */
export function errorForStatus(status: number, body: unknown, port: number): CacheClientError {
  const envelope: ErrorEnvelope | undefined = isErrorEnvelope(body) ? body : undefined;
  const message = envelope?.message ?? `the extension answered HTTP ${status}`;
  const options: CacheClientErrorOptions = {
    status,
    ...(envelope?.awsCode === undefined ? {} : { awsCode: envelope.awsCode }),
    ...(envelope === undefined ? {} : { extensionCode: envelope.code }),
  };
  switch (status) {
    case ERROR_STATUS.BadRequest:
      return new BadRequestError(message, {
        ...options,
        ...(typeof envelope?.table === 'string' ? { table: envelope.table } : {}),
        ...(envelope?.expectedKey !== undefined ? { expectedKey: envelope.expectedKey } : {}),
      });
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
      return new UpstreamError(message, options);
    case ERROR_STATUS.UpstreamTimeout:
      return new UpstreamTimeoutError(message, options);
    case ERROR_STATUS.ServiceUnavailable:
      return new ExtensionUnavailableError(unavailableMessage(port, `HTTP 503: ${message}`), options);
    default:
      return new ExtensionError(message, options);
  }
}

export class Transport {
  readonly #options: ResolvedOptions;
  readonly #env: NodeJS.ProcessEnv;
  readonly #origin: string;
  readonly #dispatcher: RequestDispatcher | undefined;
  readonly #agent: Agent | undefined;
  /** Attempts in flight on the client's own agent; `close()` lets them finish. */
  readonly #inflight = new Set<Promise<unknown>>();
  #closed = false;
  #headersToken: string | undefined;
  #headersObject: Record<string, string> = { accept: 'application/json' };

  constructor(options: ResolvedOptions, env: NodeJS.ProcessEnv) {
    this.#options = options;
    this.#env = env;
    this.#origin = `http://127.0.0.1:${options.port}`;
    this.#dispatcher = options.dispatcher;
    this.#agent =
      options.dispatcher === undefined
        ? new http.Agent({
            keepAlive: true,
            maxSockets: options.connections,
            // Idle sockets closed after 4 s, below Node's 5 s server keep-alive, so the client, not the
            // server, closes them (the Agent would also follow a shorter `Keep-Alive: timeout` hint).
            timeout: 4000,
          })
        : undefined;
  }

  /**
   * GET `path`; resolves with a 200 answer, rejects with a {@link CacheClientError}. The first attempt is
   * made directly: p-retry (and its per-call setup) is entered only after a failure worth retrying, with
   * the same policy and the same total bound, counted from the first attempt.
   */
  get(path: string, signal?: AbortSignal): Promise<Reply> {
    return this.#call(path, signal, false) as Promise<Reply>;
  }

  /**
   * GET `path` whose 200 body is not JSON but bytes to keep as they are (an AppConfig configuration in its
   * own content type); errors and retries exactly as {@link get}.
   */
  getRaw(path: string, signal?: AbortSignal): Promise<RawReply> {
    return this.#call(path, signal, true) as Promise<RawReply>;
  }

  async #call(path: string, signal: AbortSignal | undefined, raw: boolean): Promise<Reply | RawReply> {
    if (this.#closed) {
      throw new ExtensionUnavailableError('this lambda-cache client was closed; create a new one');
    }
    if (signal?.aborted) throw new AbortError('the request was aborted', { cause: signal.reason });
    const started = performance.now();
    const deadline = started + Math.max(this.#options.timeoutMs, this.#options.retry.maxRetryTime);
    try {
      return await this.#attempt(path, signal, deadline, raw);
    } catch (err) {
      if (!retryable.has(err as object) || signal?.aborted) throw err;
      return this.#retry(path, signal, err, started, deadline, raw);
    }
  }

  async #retry(
    path: string,
    signal: AbortSignal | undefined,
    first: unknown,
    started: number,
    deadline: number,
    raw: boolean,
  ): Promise<Reply | RawReply> {
    const { retry } = this.#options;
    try {
      // Attempt 1 already failed with `first`: replaying it lets p-retry apply its delays from the start.
      return await pRetry(
        (attempt) => (attempt === 1 ? Promise.reject(first) : this.#attempt(path, signal, deadline, raw)),
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

  async #attempt(
    path: string,
    signal: AbortSignal | undefined,
    deadline: number,
    raw: boolean,
  ): Promise<Reply | RawReply> {
    // A retry due after close(): the agent would open a new socket that nothing closes any more.
    if (this.#closed) {
      throw new ExtensionUnavailableError('this lambda-cache client was closed; create a new one');
    }
    const { timeoutMs } = this.#options;
    const left = deadline - performance.now();
    const [budgetMs, timeoutCode] =
      left < timeoutMs ? [Math.max(0, Math.floor(left)), CALL_TIMEOUT] : [timeoutMs, ATTEMPT_TIMEOUT];
    let answer: Answer;
    try {
      if (budgetMs <= 0) throw failure(CALL_TIMEOUT, 'no time left for another attempt');
      answer = await (this.#agent === undefined
        ? this.#viaDispatcher(this.#dispatcher as RequestDispatcher, path, signal, budgetMs, timeoutCode)
        : this.#tracked(this.#viaAgent(this.#agent, path, signal, budgetMs, timeoutCode)));
    } catch (err) {
      throw this.#transportError(err, signal);
    }
    if (raw && answer.status === 200) return { headers: answer.headers, bytes: answer.bytes };
    let body: unknown;
    try {
      body = JSON.parse(answer.bytes.toString('utf8'));
    } catch {
      body = undefined;
    }
    if (answer.status === 200) {
      if (typeof body !== 'object' || body === null) {
        throw new ExtensionError('the extension answered 200 without a JSON object', { status: 200 });
      }
      return { headers: answer.headers, body };
    }
    const error = errorForStatus(answer.status, body, this.#options.port);
    if (answer.status === ERROR_STATUS.ServiceUnavailable || answer.status === ERROR_STATUS.Throttled) {
      retryable.add(error);
    }
    throw error;
  }

  #tracked<T>(attempt: Promise<T>): Promise<T> {
    this.#inflight.add(attempt);
    const forget = () => this.#inflight.delete(attempt);
    attempt.then(forget, forget);
    return attempt;
  }

  /** One request on the client's own agent, read to the end, within `budgetMs` from now. */
  #viaAgent(
    agent: Agent,
    path: string,
    signal: AbortSignal | undefined,
    budgetMs: number,
    timeoutCode: string,
  ): Promise<Answer> {
    const { port, connectTimeoutMs } = this.#options;
    const headers = this.#headers();
    return new Promise<Answer>((resolve, reject) => {
      let settled = false;
      let deadline: NodeJS.Timeout | undefined;
      let connecting: NodeJS.Timeout | undefined;
      const settle = (err: unknown, answer?: Answer): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        clearTimeout(connecting);
        signal?.removeEventListener('abort', onAbort);
        if (answer === undefined) reject(err);
        else resolve(answer);
      };
      // Destroying the request also destroys its socket, so no half-read answer is left on a pooled one.
      const stop = (err: Error): void => {
        settle(err);
        req.destroy();
      };
      const onAbort = (): void => stop(failure('ABORT_ERR', 'aborted'));
      let req: ReturnType<typeof http.request>;
      try {
        req = http.request({ agent, host: '127.0.0.1', port, path, method: 'GET', headers }, (res) =>
          readAnswer(res, settle),
        );
      } catch (err) {
        // Node validates header values before anything is sent (ERR_INVALID_CHAR).
        reject(err);
        return;
      }
      req.on('error', settle);
      req.on('socket', (socket) => {
        if (!socket.connecting) return;
        connecting = setTimeout(
          () => stop(failure(CONNECT_TIMEOUT, `connect timeout after ${connectTimeoutMs} ms`)),
          connectTimeoutMs,
        );
        socket.once('connect', () => clearTimeout(connecting));
      });
      deadline = setTimeout(() => stop(failure(timeoutCode, `no full answer in ${budgetMs} ms`)), budgetMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      req.end();
    });
  }

  /** One request through a caller's undici dispatcher, bounded by one signal for the whole attempt. */
  async #viaDispatcher(
    dispatcher: RequestDispatcher,
    path: string,
    signal: AbortSignal | undefined,
    budgetMs: number,
    timeoutCode: string,
  ): Promise<Answer> {
    const controller = new AbortController();
    const expired = failure(timeoutCode, `no full answer in ${budgetMs} ms`);
    const deadline = setTimeout(() => controller.abort(expired), budgetMs);
    const onAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await dispatcher.request({
        origin: this.#origin,
        path,
        method: 'GET',
        headers: this.#headers(),
        headersTimeout: budgetMs,
        bodyTimeout: budgetMs,
        signal: controller.signal,
      });
      // Bytes when the dispatcher can give them (undici's body can); a text-only one is read as UTF-8.
      const bytes =
        response.body.arrayBuffer === undefined
          ? Buffer.from(await response.body.text(), 'utf8')
          : Buffer.from(await response.body.arrayBuffer());
      return { status: response.statusCode, headers: response.headers, bytes };
    } catch (err) {
      throw controller.signal.reason === expired ? expired : err;
    } finally {
      clearTimeout(deadline);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  #transportError(err: unknown, signal: AbortSignal | undefined): Error {
    if (signal?.aborted) return new AbortError('the request was aborted', { cause: signal.reason });
    const code = codeOf(err);
    const { port, timeoutMs, retry } = this.#options;
    if (code === CALL_TIMEOUT) {
      return new TimeoutError(
        `the call did not complete within ${Math.max(timeoutMs, retry.maxRetryTime)} ms, retries included ` +
          '(the larger of timeoutMs and retry.maxRetryTime)',
        { cause: err },
      );
    }
    if (code !== undefined && TIMEOUT_CODES.has(code)) {
      return new TimeoutError(
        `the extension did not answer in full within ${timeoutMs} ms (timeoutMs); it may still be waiting for AWS`,
        { cause: err },
      );
    }
    if (code !== undefined && (CONNECTION_CODES.has(code) || RESET_CODES.has(code))) {
      const error = new ExtensionUnavailableError(unavailableMessage(port, code), { cause: err });
      retryable.add(error);
      return error;
    }
    if (code !== undefined && INVALID_HEADER_CODES.has(code)) {
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
    return new ExtensionUnavailableError(unavailableMessage(port, code ?? String(err)), { cause: err });
  }

  /** Lets attempts in flight finish (each is bounded by `timeoutMs`), then closes every socket. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#agent === undefined) return;
    await Promise.allSettled([...this.#inflight]);
    this.#agent.destroy();
  }
}

/** Reads an answer to its last byte; a connection cut before then is a reset, as Node reports it. */
function readAnswer(res: IncomingMessage, settle: (err: unknown, answer?: Answer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
  });
  res.on('end', () => {
    const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    settle(undefined, { status: res.statusCode ?? 0, headers: res.headers, bytes });
  });
  res.on('error', settle);
  res.on('close', () => {
    if (!res.complete) settle(failure(BODY_CUT, 'the connection closed before the answer ended'));
  });
}
