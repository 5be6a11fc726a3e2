/**
 * The local HTTP API (DESIGN.md "HTTP API (v1)") on `node:http`, no framework. GET only, bounded in
 * connections, header size and time; every answer is either bytes the store kept or a small error envelope.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  HEADERS,
  LEGACY_ROUTES,
  type ParameterQuery,
  parseDynamoDbQuery,
  parseParameterQuery,
  ROUTES,
  RouteError,
} from '@lambda-cache/shared';
import { errorCode, HttpError, toHttpError } from './errors.js';
import type { Logger } from './log.js';
import type { Reply, Store } from './store.js';

export interface ServerOptions {
  store: Store;
  /** Expected `X-Aws-Parameters-Secrets-Token`; `undefined` turns the check off (no session token locally). */
  sessionToken: string | undefined;
  /** Serve the seed's `/parameters/…` and `/dynamodb/…` routes (no token, raw bodies). */
  legacyRoutes: boolean;
  logger: Logger;
  /** Open connections beyond this get a 503 and are closed. @default 256 */
  maxConnections?: number;
  /** Time allowed for a request's headers to arrive. @default 5000 */
  headersTimeoutMs?: number;
  /** Idle time before a keep-alive connection is closed. @default 5000 */
  keepAliveTimeoutMs?: number;
  /** Largest accepted request header block, in bytes. @default 16384 */
  maxHeaderSize?: number;
}

export interface CacheServer {
  /** Listens on `127.0.0.1:port` (`0` picks a free port) and resolves with the port it got. */
  listen(port: number): Promise<number>;
  /** Stops accepting, closes idle keep-alive connections and drops the rest after `graceMs`. */
  close(graceMs?: number): Promise<void>;
  readonly server: http.Server;
}

const JSON_TYPE = 'application/json';
const ALLOW = 'GET';

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function jsonBody(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new RouteError('the path is not valid percent-encoding');
  }
}

/** `?name=&version=&label=&withDecryption=` of AWS's extension; `version` and `label` become the selector. */
function awsParameterQuery(search: URLSearchParams): ParameterQuery {
  for (const k of search.keys()) {
    if (!['name', 'version', 'label', 'withDecryption'].includes(k)) {
      throw new RouteError(
        `unknown query parameter "${k.slice(0, 64)}" (expected name, version, label, withDecryption)`,
      );
    }
  }
  const name = search.get('name') ?? '';
  if (name === '') throw new RouteError('name is required');
  const version = search.get('version');
  const label = search.get('label');
  if (version && label) throw new RouteError('give version or label, not both');
  if (version && !/^[0-9]{1,10}$/.test(version)) throw new RouteError('version must be a whole number');
  const selector = version ? `:${version}` : label ? `:${label}` : '';
  const decryptText = (search.get('withDecryption') ?? 'false').toLowerCase();
  if (decryptText !== 'true' && decryptText !== 'false')
    throw new RouteError('withDecryption must be true or false');
  return { name: `${name}${selector}`, decrypt: decryptText === 'true', refresh: false };
}

function legacyName(search: URLSearchParams): string {
  const name = search.get('name') ?? '';
  if (name === '') throw new RouteError('name is required');
  return name;
}

export function createServer(opts: ServerOptions): CacheServer {
  const { store, logger } = opts;
  // Room for the 200 concurrent keep-alive connections a busy function may hold, with margin.
  const maxConnections = opts.maxConnections ?? 256;
  const expected = opts.sessionToken === undefined ? undefined : digest(opts.sessionToken);
  const overCap = new WeakSet<Socket>();
  let open = 0;
  let stopping = false;

  const server = http.createServer(
    {
      maxHeaderSize: opts.maxHeaderSize ?? 16_384,
      headersTimeout: opts.headersTimeoutMs ?? 5000,
      // Covers receiving a whole request; a GET has no body, so this only bounds slow senders.
      requestTimeout: (opts.headersTimeoutMs ?? 5000) + 1000,
      keepAliveTimeout: opts.keepAliveTimeoutMs ?? 5000,
      // Node checks the two timeouts above only this often (default 30 s): a connection that never sends
      // a byte would hold one of the capped slots for 30 s instead of the headers timeout.
      connectionsCheckingInterval: 1000,
      noDelay: true,
    },
    (req, res) => {
      if (logger.isEnabled('debug')) {
        const started = performance.now();
        res.once('finish', () => {
          // The path names what was asked (a parameter name, a table and key), never a value.
          logger.debug('request', {
            path: (req.url ?? '').slice(0, 300),
            status: res.statusCode,
            cache: res.getHeader(HEADERS.cache) as string | undefined,
            ms: Math.round((performance.now() - started) * 100) / 100,
          });
        });
      }
      handle(req, res).catch((err: unknown) => {
        logger.error('request handler failed', { error: errorCode(err) });
        if (!res.headersSent) sendError(res, HttpError.of('InternalFailure', 'internal failure'));
        else res.destroy();
      });
    },
  );

  server.on('connection', (socket: Socket) => {
    open++;
    if (open > maxConnections) overCap.add(socket);
    socket.once('close', () => {
      open--;
    });
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) return socket.destroy();
    const status =
      err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const body = jsonBody({ code: 'BadRequest', message: `malformed request (${err.code ?? 'unknown'})` });
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: ${JSON_TYPE}\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body.toString()}`,
    );
  });

  function sendError(res: http.ServerResponse, err: HttpError, extra: Record<string, string> = {}): void {
    const body = jsonBody(err.envelope());
    res.writeHead(err.status, {
      'content-type': JSON_TYPE,
      'content-length': body.length,
      'cache-control': 'no-store',
      ...extra,
    });
    res.end(body);
  }

  function sendJson(res: http.ServerResponse, value: unknown): void {
    const body = jsonBody(value);
    res.writeHead(200, {
      'content-type': JSON_TYPE,
      'content-length': body.length,
      'cache-control': 'no-store',
    });
    res.end(body);
  }

  function sendReply(res: http.ServerResponse, reply: Reply): void {
    res.writeHead(200, {
      'content-type': reply.contentType,
      'content-length': reply.body.length,
      'cache-control': `max-age=${Math.max(0, Math.floor(reply.ttlLeftMs / 1000))}`,
      [HEADERS.age]: String(Math.max(0, Math.floor(reply.ageMs / 1000))),
      [HEADERS.cache]: reply.cache,
    });
    res.end(reply.body);
  }

  function tokenOk(req: http.IncomingMessage): boolean {
    if (expected === undefined) return true;
    const given = req.headers[HEADERS.token];
    if (typeof given !== 'string') return false;
    // Hashing first gives equal lengths, so the comparison time says nothing about the token.
    return timingSafeEqual(digest(given), expected);
  }

  async function legacy(path: string, search: URLSearchParams): Promise<Reply | undefined> {
    const p = LEGACY_ROUTES.parameters;
    const d = LEGACY_ROUTES.dynamodb;
    if (path === p)
      return store.parameter({ name: legacyName(search), decrypt: true, refresh: false }, 'legacy');
    if (path.startsWith(`${p}/`) && path.length > p.length + 1) {
      const name = percentDecode(path.slice(p.length + 1));
      return store.parameter({ name, decrypt: true, refresh: false }, 'legacy');
    }
    if (path === d) return store.legacyItem(legacyName(search));
    if (path.startsWith(`${d}/`) && path.length > d.length + 1) {
      return store.legacyItem(percentDecode(path.slice(d.length + 1)));
    }
    return undefined;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (stopping || overCap.has(req.socket)) {
      res.shouldKeepAlive = false;
      const why = stopping ? 'the extension is shutting down' : 'too many open connections';
      return sendError(res, HttpError.of('ServiceUnavailable', why), { connection: 'close' });
    }
    if (req.headers[HEADERS.forwardedFor] !== undefined) {
      return sendError(
        res,
        HttpError.of('BadRequest', 'requests through a proxy (X-Forwarded-For) are refused'),
      );
    }
    if (req.method !== 'GET') {
      return sendError(res, HttpError.of('MethodNotAllowed', `${req.method} is not allowed; use GET`), {
        allow: ALLOW,
      });
    }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const search = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
    try {
      if (path === ROUTES.ping) {
        res.writeHead(200, {
          'content-type': 'text/plain',
          'content-length': 4,
          'cache-control': 'no-store',
        });
        return void res.end('pong');
      }
      if (opts.legacyRoutes) {
        const reply = await legacy(path, search);
        if (reply) return sendReply(res, reply);
      }
      if (!tokenOk(req)) {
        return sendError(res, HttpError.of('Forbidden', `missing or wrong ${HEADERS.token} header`));
      }
      switch (path) {
        case ROUTES.parameters:
          return sendReply(res, await store.parameter(parseParameterQuery(search), 'v1'));
        case ROUTES.dynamodb:
          return sendReply(res, await store.item(parseDynamoDbQuery(search), 'v1'));
        case ROUTES.awsParameter:
          return sendReply(res, await store.parameter(awsParameterQuery(search), 'aws'));
        case ROUTES.health:
          return sendJson(res, store.health());
        case ROUTES.stats:
          return sendJson(res, store.stats());
        default:
          return sendError(res, HttpError.of('NotFound', `no route ${path.slice(0, 100)}`));
      }
    } catch (err) {
      const httpErr = toHttpError(err);
      if (httpErr.status >= 500) {
        logger.warn('request failed', {
          path,
          status: httpErr.status,
          code: httpErr.code,
          error: errorCode(err),
          ...(httpErr.code === 'InternalFailure' && err instanceof Error
            ? { detail: err.stack ?? err.message }
            : {}),
        });
      }
      return sendError(res, httpErr);
    }
  }

  return {
    server,
    listen(port) {
      return new Promise((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        server.once('error', onError);
        server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
          server.off('error', onError);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    close(graceMs = 300) {
      stopping = true;
      return new Promise((resolve) => {
        if (!server.listening) return resolve();
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}
