/**
 * The HTTP side shared by every local backend: an AWS JSON-protocol endpoint (`POST /` with
 * `X-Amz-Target: <Service>.<Operation>`), or a restJson1 one (the operation named by method and
 * path), that counts calls by operation, keeps a bounded call log, injects faults, and closes every
 * socket it ever accepted.
 *
 * Signatures are accepted unverified: these backends exist to be talked to by the real SDK with
 * dummy credentials.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { AwsError } from './errors.js';
import { corruptBody, type Faults, faultsApply, normalizeFaults } from './faults.js';

/** What tests and benchmarks see of one backend. */
export interface BackendControl {
  /** `http://127.0.0.1:<port>`, for `endpoint` in an SDK client or `AWS_ENDPOINT_URL_*`. */
  readonly endpoint: string;
  /** Calls received, by operation name (e.g. `{ GetParameters: 3 }`), faulted ones included. */
  readonly calls: Readonly<Record<string, number>>;
  /** The last {@link CALL_LOG_LIMIT} calls, oldest first. Values being written are redacted. */
  readonly callLog: ReadonlyArray<CallRecord>;
  /** Forgets `calls` and `callLog`. */
  resetCalls(): void;
  /** Replaces the active faults; `setFaults({})` clears them. Throws `RangeError` on a bad value. */
  setFaults(faults: Faults): void;
}

export interface CallRecord {
  readonly operation: string;
  /** Epoch milliseconds from the backend's clock. */
  readonly at: number;
  /** The parsed JSON request (`undefined` when it was not JSON). */
  readonly request: unknown;
}

export const CALL_LOG_LIMIT = 10_000;

/** An answer before it is written: status, extra headers, body bytes. */
export interface RawAnswer {
  status: number;
  headers?: Record<string, string>;
  body: Buffer;
}

export interface Call {
  readonly operation: string;
  readonly rawBody: Buffer;
  readonly request: IncomingMessage;
}

export interface JsonProtocolOptions {
  /** `'1.0'` (DynamoDB) or `'1.1'` (SSM, Secrets Manager); unused with {@link route}. */
  readonly version?: '1.0' | '1.1';
  /** The `X-Amz-Target` prefix, e.g. `AmazonSSM`; unused with {@link route}. */
  readonly targetPrefix?: string;
  /**
   * restJson1: names the operation of a method and path (`undefined`: no such route, a 404).
   * Without it the operation is the `X-Amz-Target` one.
   */
  readonly route?: (method: string, path: string) => string | undefined;
  /** `Content-Type` of answers that set none. @default `application/x-amz-json-<version>` */
  readonly contentType?: string;
  /** The body of an error answer. @default `{ __type, <messageMember> }` */
  readonly errorBody?: (error: AwsError) => Record<string, unknown>;
  /** Prefix of `__type` in error bodies (DynamoDB uses `com.amazonaws.dynamodb.v20120810#`). */
  readonly errorTypePrefix?: string;
  /** Member name of the message in error bodies (`message` for most, `Message` for Secrets Manager). */
  readonly messageMember?: 'message' | 'Message';
  /** The error answered for `throttleRate`; `status` defaults to 400 (restJson1 services use 429). */
  readonly throttle: { code: string; message: string; status?: number };
  /** The error answered for `failRate`. */
  readonly internalError: { code: string; message: string };
  /** Requests larger than this are refused with 413. */
  readonly maxBodyBytes: number;
  /** Turns one call into an answer; throw {@link AwsError} for an AWS error answer. */
  readonly handle: (call: Call) => Promise<RawAnswer>;
  /** Removes values from a request before it goes into the call log. */
  readonly redact?: (operation: string, request: unknown) => unknown;
  readonly random: () => number;
  readonly now: () => number;
  /** The operations this backend answers; `Faults.operations` may only name these. */
  readonly operations?: readonly string[];
  /** @default CALL_LOG_LIMIT */
  readonly callLogLimit?: number;
}

/** An AWS JSON-protocol endpoint with counting and fault injection. Start it with {@link listen}. */
export class JsonProtocolServer implements BackendControl {
  #endpoint = '';
  #calls: Record<string, number> = Object.create(null);
  #log: CallRecord[] = [];
  #logStart = 0;
  #faults: Readonly<Faults> = Object.freeze({});
  readonly #sockets = new Set<Socket>();
  readonly #releases = new Set<() => void>();
  readonly #server: Server;
  readonly #options: JsonProtocolOptions;
  #closing: Promise<void> | undefined;

  constructor(options: JsonProtocolOptions) {
    this.#options = options;
    this.#server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
      this.#onRequest(req, res).catch((error: unknown) => {
        // A bug here must not leave the caller hanging: answer 500 if the answer has not started.
        if (!res.headersSent) {
          this.#send(res, errorAnswer(this.#options, new AwsError('InternalFailure', String(error), 500)));
        } else {
          res.destroy();
        }
      });
    });
    this.#server.on('connection', (socket: Socket) => {
      if (this.#faults.down) {
        socket.resetAndDestroy();
        return;
      }
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    // A client that resets mid-request is not the server's problem.
    this.#server.on('clientError', (_error, socket: Socket) => socket.destroy());
  }

  /** Listens on `host`, port 0. */
  async listen(host: string): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const { port } = this.#server.address() as AddressInfo;
    this.#endpoint = `http://${host}:${port}`;
    return this;
  }

  get endpoint(): string {
    return this.#endpoint;
  }

  /** The active faults. */
  get faults(): Readonly<Faults> {
    return this.#faults;
  }

  get calls(): Readonly<Record<string, number>> {
    return Object.freeze({ ...this.#calls });
  }

  get callLog(): ReadonlyArray<CallRecord> {
    return Object.freeze([...this.#log.slice(this.#logStart), ...this.#log.slice(0, this.#logStart)]);
  }

  resetCalls(): void {
    this.#calls = Object.create(null);
    this.#log = [];
    this.#logStart = 0;
  }

  setFaults(faults: Faults): void {
    this.#faults = normalizeFaults(faults, this.#options.operations);
    // Requests held by an earlier latency or hang go on to be answered under the new faults.
    for (const release of this.#releases) release();
    if (this.#faults.down) {
      for (const socket of this.#sockets) socket.resetAndDestroy();
    }
  }

  /** Stops listening, releases held requests and destroys every socket. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      for (const release of this.#releases) release();
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
      for (const socket of this.#sockets) socket.destroy();
    });
    return this.#closing;
  }

  async #onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.#faults.down) {
      req.socket.resetAndDestroy();
      return;
    }
    const rawBody = await readBody(req, this.#options.maxBodyBytes);
    if (rawBody === undefined) {
      res.shouldKeepAlive = false;
      this.#send(
        res,
        errorAnswer(this.#options, new AwsError('RequestEntityTooLarge', 'Request too large', 413)),
      );
      return;
    }
    const { operation, refusal } = this.#operation(req);
    this.#record(operation, rawBody);

    const held = this.#faults;
    if (faultsApply(held, operation)) {
      if (held.latencyMs) await this.#hold(held.latencyMs, res);
      if (held.hangMs && this.#faults === held) await this.#hold(held.hangMs, res);
    }
    if (this.#closing !== undefined || res.destroyed) return;
    // Faults may have changed while the request was held: the answer follows the current ones.
    const faults = this.#faults;
    const active = faultsApply(faults, operation);

    let answer: RawAnswer;
    if (refusal !== undefined) {
      answer = errorAnswer(this.#options, refusal);
    } else if (active && faults.throttleRate && this.#options.random() < faults.throttleRate) {
      const { code, message, status = 400 } = this.#options.throttle;
      answer = errorAnswer(this.#options, new AwsError(code, message, status));
    } else if (active && faults.failRate && this.#options.random() < faults.failRate) {
      const { code, message } = this.#options.internalError;
      answer = errorAnswer(this.#options, new AwsError(code, message, 500));
    } else {
      try {
        answer = await this.#options.handle({ operation, rawBody, request: req });
      } catch (error) {
        if (!(error instanceof AwsError)) throw error;
        answer = errorAnswer(this.#options, error);
      }
      if (active && faults.malformed && answer.status >= 200 && answer.status < 300) {
        const headers = { ...answer.headers };
        // A checksum of the original body would be a different failure than the one asked for.
        delete headers['x-amz-crc32'];
        answer = { status: answer.status, headers, body: corruptBody(answer.body, faults.malformed) };
      }
    }
    if (this.#faults.down) {
      req.socket.resetAndDestroy();
      return;
    }
    this.#send(res, answer);
  }

  /** The operation a request names, and the error that refuses it when it names none this backend answers. */
  #operation(req: IncomingMessage): { operation: string; refusal?: AwsError } {
    const { route } = this.#options;
    if (route !== undefined) {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const operation = route(req.method ?? 'GET', path);
      if (operation !== undefined) return { operation };
      return {
        operation: 'Unknown',
        refusal: new AwsError('UnknownOperationException', `No operation at ${req.method} ${path}`, 404),
      };
    }
    const target = header(req, 'x-amz-target') ?? '';
    const dot = target.indexOf('.');
    const prefixOk = dot > 0 && target.slice(0, dot) === this.#options.targetPrefix;
    const operation = prefixOk ? target.slice(dot + 1) : target || 'Unknown';
    if (req.method !== 'POST') {
      return { operation, refusal: new AwsError('MethodNotAllowed', `${req.method} is not supported`, 405) };
    }
    if (!prefixOk) {
      return {
        operation,
        refusal: new AwsError('UnknownOperationException', `Unknown operation ${JSON.stringify(target)}`),
      };
    }
    return { operation };
  }

  #record(operation: string, rawBody: Buffer): void {
    this.#calls[operation] = (this.#calls[operation] ?? 0) + 1;
    let request: unknown;
    try {
      request = rawBody.length === 0 ? undefined : JSON.parse(rawBody.toString('utf8'));
    } catch {
      request = undefined;
    }
    if (request !== undefined && this.#options.redact) request = this.#options.redact(operation, request);
    const entry: CallRecord = Object.freeze({ operation, at: this.#options.now(), request });
    const limit = this.#options.callLogLimit ?? CALL_LOG_LIMIT;
    if (this.#log.length < limit) {
      this.#log.push(entry);
    } else {
      this.#log[this.#logStart] = entry;
      this.#logStart = (this.#logStart + 1) % limit;
    }
  }

  /** Waits `ms`, or less when the caller goes away, the faults change or the server closes. */
  #hold(ms: number, res: ServerResponse): Promise<void> {
    if (this.#closing !== undefined || res.destroyed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const release = (): void => {
        clearTimeout(timer);
        res.off('close', release);
        this.#releases.delete(release);
        resolve();
      };
      const timer = setTimeout(release, ms);
      res.once('close', release);
      this.#releases.add(release);
    });
  }

  #send(res: ServerResponse, answer: RawAnswer): void {
    if (res.destroyed) return;
    res.statusCode = answer.status;
    res.setHeader(
      'content-type',
      this.#options.contentType ?? `application/x-amz-json-${this.#options.version ?? '1.1'}`,
    );
    res.setHeader('x-amzn-requestid', randomUUID());
    for (const [name, value] of Object.entries(answer.headers ?? {})) res.setHeader(name, value);
    res.setHeader('content-length', answer.body.length);
    res.end(answer.body);
  }
}

/** An AWS JSON-protocol error answer: `{"__type": ..., "message": ...}` plus `x-amzn-ErrorType`. */
export function errorAnswer(options: JsonProtocolOptions, error: AwsError): RawAnswer {
  const type = `${options.errorTypePrefix ?? ''}${error.code}`;
  const body = options.errorBody?.(error) ?? {
    __type: type,
    [options.messageMember ?? 'message']: error.message,
  };
  return {
    status: error.status,
    headers: { 'x-amzn-errortype': error.code },
    body: Buffer.from(JSON.stringify(body), 'utf8'),
  };
}

/** A 200 answer with a JSON body. */
export function jsonAnswer(value: unknown): RawAnswer {
  return { status: 200, body: Buffer.from(JSON.stringify(value), 'utf8') };
}

/**
 * Adapts an operation table to {@link JsonProtocolOptions.handle}: parses the body (malformed JSON is
 * AWS's `SerializationException`), finds the operation, serialises what it returns.
 */
export function operationTable(
  operations: Record<string, (input: Record<string, unknown>) => unknown>,
): (call: Call) => Promise<RawAnswer> {
  return async ({ operation, rawBody }) => {
    const run = Object.hasOwn(operations, operation) ? operations[operation] : undefined;
    if (run === undefined) {
      throw new AwsError('UnknownOperationException', `Operation ${operation} is not supported`);
    }
    let input: unknown;
    try {
      input = rawBody.length === 0 ? {} : JSON.parse(rawBody.toString('utf8'));
    } catch {
      throw new AwsError('SerializationException', 'The request body is not valid JSON');
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new AwsError('SerializationException', 'The request body must be a JSON object');
    }
    return jsonAnswer(await run(input as Record<string, unknown>));
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Reads the whole body, or `undefined` once it passes `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      over = true;
      chunks.length = 0;
      resolve(undefined);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks, size));
    });
    req.on('error', reject);
  });
}
