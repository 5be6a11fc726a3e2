/** A stand-in extension for unit tests: a node:http server on 127.0.0.1, port 0, answering as told. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
}

export interface Answer {
  readonly status?: number;
  /** A string or bytes are sent as they are; anything else as JSON. */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** Never answer (for timeouts). */
  readonly hang?: boolean;
  /** Destroy the socket without answering (for resets). */
  readonly reset?: boolean;
  /** Send the headers at once, then the body in this many pieces, one every `intervalMs`. */
  readonly trickle?: { readonly pieces: number; readonly intervalMs: number };
}

export type Handler = (url: URL, req: http.IncomingMessage, index: number) => Answer;

export interface FakeExtension {
  readonly port: number;
  readonly requests: SeenRequest[];
  handler: Handler;
  close(): Promise<void>;
}

/** Listens on `port` (0: any free port) and answers every GET with `handler`. */
export async function startFakeExtension(handler: Handler, port = 0): Promise<FakeExtension> {
  const requests: SeenRequest[] = [];
  const hanging = new Set<http.ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();
  const fake = { handler } as { handler: Handler };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const index = requests.length;
    requests.push({ path: req.url ?? '/', headers: req.headers });
    const answer = fake.handler(url, req, index);
    if (answer.reset) {
      req.socket.destroy();
      return;
    }
    if (answer.hang) {
      hanging.add(res);
      return;
    }
    const text: string | Buffer =
      typeof answer.body === 'string' || Buffer.isBuffer(answer.body)
        ? answer.body
        : JSON.stringify(answer.body ?? {});
    res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
    if (answer.trickle === undefined) {
      res.end(text);
      return;
    }
    res.flushHeaders();
    const size = Math.ceil(text.length / answer.trickle.pieces);
    let sent = 0;
    const stop = () => {
      clearInterval(timer);
      timers.delete(timer);
    };
    const timer = setInterval(() => {
      const piece = text.slice(sent, sent + size);
      sent += size;
      if (sent < text.length) {
        res.write(piece);
        return;
      }
      stop();
      res.end(piece);
    }, answer.trickle.intervalMs);
    timers.add(timer);
    // The client gave up (timeout, abort): stop writing to a closed connection.
    res.once('close', stop);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return Object.assign(fake, {
    port: (server.address() as AddressInfo).port,
    requests,
    close: async () => {
      for (const timer of timers) clearInterval(timer);
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

/** A port that nothing listens on right now: the OS picks it for port 0, then it is released. */
export async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A `SecretPayload` as the extension sends it: a string secret, or with `binary` a binary one. */
export function secretBody(
  name: string,
  value: string | Uint8Array,
  versionStages: readonly string[] = ['AWSCURRENT'],
): Record<string, unknown> {
  return {
    arn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`,
    name,
    versionId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111',
    versionStages,
    createdDate: '2024-05-01T10:00:00.000Z',
    ...(typeof value === 'string'
      ? { secretString: value }
      : { secretBinary: Buffer.from(value).toString('base64') }),
  };
}

/** A `ParameterPayload` as the extension sends it. */
export function parameterBody(name: string, value: string, type = 'String'): Record<string, unknown> {
  return { name, type, value, version: 3, lastModified: '2024-05-01T10:00:00.000Z' };
}
