/**
 * A client of the Lambda Extensions API over `node:http`: small enough to load before `register` without
 * adding to the cold start. https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html
 */
import type { IncomingHttpHeaders } from 'node:http';
import { HEADERS } from '@lambda-cache/shared';
import { http } from './builtins.js';

const BASE = '/2020-01-01/extension';

export interface RegisterResult {
  /** The `Lambda-Extension-Identifier` every later call carries. */
  readonly identifier: string;
  readonly functionName?: string;
  readonly functionVersion?: string;
  readonly handler?: string;
}

export type ExtensionEvent =
  | { readonly eventType: 'INVOKE'; readonly deadlineMs: number; readonly requestId: string }
  | { readonly eventType: 'SHUTDOWN'; readonly deadlineMs: number; readonly shutdownReason: string };

export class ExtensionsApiError extends Error {
  override readonly name = 'ExtensionsApiError';
  readonly code = 'ExtensionsApi';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface ExtensionsApiOptions {
  /** `host:port` from `AWS_LAMBDA_RUNTIME_API`. */
  runtimeApi: string;
  /** Sent as `Lambda-Extension-Name`; must be the launcher's file name. */
  name: string;
}

export class ExtensionsApi {
  private readonly host: string;
  private readonly port: number;
  private identifier: string | undefined;
  // One connection, reused: the API is local and a new socket per call only adds latency.
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  constructor(private readonly opts: ExtensionsApiOptions) {
    const colon = opts.runtimeApi.lastIndexOf(':');
    this.host = colon === -1 ? opts.runtimeApi : opts.runtimeApi.slice(0, colon);
    this.port = colon === -1 ? 80 : Number(opts.runtimeApi.slice(colon + 1));
  }

  private call(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: unknown,
    signal?: AbortSignal,
  ): Promise<Response> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.host,
          port: this.port,
          method,
          path: `${BASE}${path}`,
          agent: this.agent,
          headers: {
            ...headers,
            ...(payload
              ? { 'content-type': 'application/json', 'content-length': String(payload.length) }
              : {}),
          },
          ...(signal ? { signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString(),
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  private idHeaders(): Record<string, string> {
    if (this.identifier === undefined) throw new ExtensionsApiError('not registered');
    return { [HEADERS.extensionIdentifier]: this.identifier };
  }

  /** `POST /register` for INVOKE and SHUTDOWN. */
  async register(): Promise<RegisterResult> {
    const res = await this.call(
      'POST',
      '/register',
      { [HEADERS.extensionName]: this.opts.name },
      {
        events: ['INVOKE', 'SHUTDOWN'],
      },
    );
    const id = res.headers[HEADERS.extensionIdentifier];
    if (res.status !== 200 || typeof id !== 'string' || id === '') {
      throw new ExtensionsApiError(`register answered ${res.status}: ${res.body.slice(0, 200)}`, res.status);
    }
    this.identifier = id;
    let info: Partial<RegisterResult> = {};
    try {
      info = JSON.parse(res.body) as Partial<RegisterResult>;
    } catch {
      // The body is informational; the identifier is all that matters.
    }
    return {
      identifier: id,
      ...(typeof info.functionName === 'string' ? { functionName: info.functionName } : {}),
      ...(typeof info.functionVersion === 'string' ? { functionVersion: info.functionVersion } : {}),
      ...(typeof info.handler === 'string' ? { handler: info.handler } : {}),
    };
  }

  /** `GET /event/next`: blocks until the next INVOKE or SHUTDOWN (the environment may freeze meanwhile). */
  async next(signal?: AbortSignal): Promise<ExtensionEvent> {
    const res = await this.call('GET', '/event/next', this.idHeaders(), undefined, signal);
    if (res.status !== 200) {
      throw new ExtensionsApiError(
        `event/next answered ${res.status}: ${res.body.slice(0, 200)}`,
        res.status,
      );
    }
    const event = JSON.parse(res.body) as Record<string, unknown>;
    const type = String(event.eventType ?? '').toUpperCase();
    const deadlineMs = typeof event.deadlineMs === 'number' ? event.deadlineMs : Date.now() + 2000;
    if (type === 'SHUTDOWN') {
      return { eventType: 'SHUTDOWN', deadlineMs, shutdownReason: String(event.shutdownReason ?? '') };
    }
    if (type === 'INVOKE')
      return { eventType: 'INVOKE', deadlineMs, requestId: String(event.requestId ?? '') };
    throw new ExtensionsApiError(`event/next sent an unknown event type "${type.slice(0, 40)}"`);
  }

  /** `POST /init/error`: Lambda fails the init with this error type and message. */
  initError(errorType: string, message: string): Promise<void> {
    return this.report('/init/error', errorType, message);
  }

  /** `POST /exit/error`: reported before the extension exits because of an error. */
  exitError(errorType: string, message: string): Promise<void> {
    return this.report('/exit/error', errorType, message);
  }

  private async report(path: string, errorType: string, message: string): Promise<void> {
    const res = await this.call(
      'POST',
      path,
      { ...this.idHeaders(), [HEADERS.extensionErrorType]: errorType },
      { errorMessage: message, errorType, stackTrace: [] },
    );
    if (res.status !== 202 && res.status !== 200) {
      throw new ExtensionsApiError(`${path.slice(1)} answered ${res.status}`, res.status);
    }
  }

  /** Frees the kept-alive socket so the process can end. */
  close(): void {
    this.agent.destroy();
  }
}
