/**
 * One HTTP exchange over `node:http` / `node:https`, bounded from end to end. The SDK's Node handler
 * bounds only the connection and socket inactivity, so a backend that trickles bytes, or a request
 * queued behind a full socket pool, held a call for as long as it liked. Here one deadline covers the
 * whole attempt, from the request's start to the last byte of the body, and another the connection;
 * when either passes, or the signal aborts, the socket is destroyed so that no pool slot stays taken.
 */
import type { Agent } from 'node:http';
import https from 'node:https';
import { http } from '../builtins.js';
import { AwsTransportError, type TransportPhase } from './errors.js';

export interface HttpRequest {
  url: URL;
  method: 'GET' | 'POST';
  /** Path and query as sent. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer | undefined;
}

export interface HttpResponse {
  status: number;
  /** Lower-case names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface AttemptLimits {
  /** Until the connection (and TLS handshake) is made. */
  connectMs: number;
  /** From the start of the request to the last byte of the answer. */
  attemptMs: number;
  /** A larger answer is `unreadable`. */
  maxBodyBytes: number;
}

/** AWS answers of the calls made here are far smaller (a DynamoDB batch is at most 16 MiB). */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** A keep-alive pool per protocol. */
export class Transport {
  private readonly httpAgent: Agent;
  private readonly httpsAgent: https.Agent;

  constructor(options: { maxSockets?: number; keepAlive?: boolean } = {}) {
    const agentOptions = { keepAlive: options.keepAlive ?? true, maxSockets: options.maxSockets ?? 16 };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent(agentOptions);
  }

  /** Resolves with any status; rejects with {@link AwsTransportError}, or the signal's reason on abort. */
  send(req: HttpRequest, limits: AttemptLimits, signal?: AbortSignal): Promise<HttpResponse> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<HttpResponse>((resolve, reject) => {
      const secure = req.url.protocol === 'https:';
      let phase: TransportPhase = 'connect';
      let settled = false;
      let connectTimer: NodeJS.Timeout | undefined;

      const settle = (error: unknown, response?: HttpResponse): void => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        clearTimeout(attemptTimer);
        signal?.removeEventListener('abort', onAbort);
        if (response) resolve(response);
        else reject(error);
      };
      /** Ends the attempt with `error` and destroys the socket, so the server sees it close. */
      const fail = (error: unknown): void => {
        if (settled) return;
        settle(error);
        outgoing.destroy();
      };
      const timeout = (which: 'connect' | 'attempt', ms: number): AwsTransportError =>
        new AwsTransportError(
          which === 'connect'
            ? `no connection within ${ms} ms`
            : `no complete answer within ${ms} ms (${phase === 'connect' ? 'while connecting' : 'after connecting'})`,
          { reason: 'timeout', phase: which === 'connect' ? 'connect' : phase },
        );
      const onAbort = (): void => fail(signal?.reason);

      const outgoing = (secure ? https : http).request({
        protocol: req.url.protocol,
        // URL keeps the brackets of an IPv6 literal; the socket wants the bare address.
        hostname: req.url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: req.url.port || (secure ? 443 : 80),
        method: req.method,
        path: req.path,
        headers: req.headers,
        agent: secure ? this.httpsAgent : this.httpAgent,
      });
      const attemptTimer = setTimeout(() => fail(timeout('attempt', limits.attemptMs)), limits.attemptMs);
      signal?.addEventListener('abort', onAbort, { once: true });

      outgoing.on('socket', (socket) => {
        if (!socket.connecting) {
          phase = 'response'; // a kept-alive socket
          return;
        }
        connectTimer = setTimeout(() => fail(timeout('connect', limits.connectMs)), limits.connectMs);
        socket.once(secure ? 'secureConnect' : 'connect', () => {
          clearTimeout(connectTimer);
          phase = 'response';
        });
      });
      outgoing.on('error', (error: NodeJS.ErrnoException) => {
        fail(
          new AwsTransportError(
            `the connection failed ${phase === 'connect' ? 'while connecting' : 'before the answer ended'} (${error.code ?? 'no code'})`,
            { reason: 'network', phase, sysCode: error.code },
            { cause: error },
          ),
        );
      });
      outgoing.on('response', (incoming) => {
        phase = 'response';
        const chunks: Buffer[] = [];
        let size = 0;
        incoming.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > limits.maxBodyBytes) {
            fail(
              new AwsTransportError(`the answer is larger than ${limits.maxBodyBytes} bytes`, {
                reason: 'unreadable',
                phase: 'response',
              }),
            );
            return;
          }
          chunks.push(chunk);
        });
        incoming.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(incoming.headers)) {
            if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
          }
          // An answer in one read is not copied: it is parsed and dropped, and what the store keeps of
          // it gets a buffer of its own (`own`). The copy was one more malloc per call, freed between
          // the bodies that stay: after 10 000 entries, 1.3–3.7 MiB more of malloc's arena stayed resident.
          settle(undefined, {
            status: incoming.statusCode ?? 0,
            headers,
            body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size),
          });
        });
        incoming.on('error', (error: NodeJS.ErrnoException) => {
          fail(
            new AwsTransportError(
              `the connection closed before the answer ended (${error.code ?? 'no code'})`,
              { reason: 'network', phase: 'response', sysCode: error.code },
              { cause: error },
            ),
          );
        });
        incoming.on('close', () => {
          if (!incoming.complete) {
            fail(
              new AwsTransportError('the connection closed before the answer ended', {
                reason: 'network',
                phase: 'response',
              }),
            );
          }
        });
      });
      outgoing.end(req.body);
    });
  }

  /** Closes the kept-alive sockets. */
  destroy(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
