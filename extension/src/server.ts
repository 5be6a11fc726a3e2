/**
 * The local HTTP API (DESIGN.md "HTTP API (v1)") on `node:http`, no framework. GET only, bounded in
 * connections, header size and time; every answer is either bytes the store kept or a small error envelope.
 */
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  type DynamoDbQuery,
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

/** Distinct query strings whose parsed form is remembered, per route; past this the memo starts over. */
const QUERY_MEMO_SIZE = 1024;

/**
 * Remembers the parsed query of each query string, so a function asking for the same parameter or item
 * again skips `URLSearchParams` and key decoding. Parsing is a pure function of the query string, so the
 * remembered object is exactly what parsing again would give; queries that fail to parse are not kept.
 */
class QueryMemo<Q> {
  private readonly parsed = new Map<string, Q>();

  constructor(private readonly parse: (search: URLSearchParams) => Q) {}

  get(query: string): Q {
    let q = this.parsed.get(query);
    if (q === undefined) {
      q = this.parse(new URLSearchParams(query));
      // Many distinct keys (read-through) only churn the memo; clearing keeps it bounded and cheap.
      if (this.parsed.size >= QUERY_MEMO_SIZE) this.parsed.clear();
      this.parsed.set(query, q);
    }
    return q;
  }
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
  const expected = opts.sessionToken === undefined ? undefined : Buffer.from(opts.sessionToken, 'utf8');
  const tokenScratch = Buffer.alloc(expected?.length ?? 0);
  const debug = logger.isEnabled('debug');
  const parameterQueries = new QueryMemo<ParameterQuery>(parseParameterQuery);
  const itemQueries = new QueryMemo<DynamoDbQuery>(parseDynamoDbQuery);
  const overCap = new WeakSet<Socket>();
  /** Cache status of each answer, for the debug request line only. */
  const cacheStatus = new WeakMap<http.ServerResponse, string>();
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
      if (debug) {
        const started = performance.now();
        res.once('finish', () => {
          // The path names what was asked (a parameter name, a table and key), never a value.
          logger.debug('request', {
            path: (req.url ?? '').slice(0, 300),
            status: res.statusCode,
            cache: cacheStatus.get(res),
            ms: Math.round((performance.now() - started) * 100) / 100,
          });
        });
      }
      const failed = (err: unknown): void => {
        logger.error('request handler failed', { error: errorCode(err) });
        if (!res.headersSent) sendError(res, HttpError.of('InternalFailure', 'internal failure'));
        else res.destroy();
      };
      try {
        const pending = handle(req, res);
        if (pending instanceof Promise) pending.catch(failed);
      } catch (err) {
        failed(err);
      }
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
    if (debug) cacheStatus.set(res, reply.cache);
    // A flat [name, value, …] array: Node writes it as is, without the per-name bookkeeping of an object.
    res.writeHead(200, [
      'content-type',
      reply.contentType,
      'content-length',
      String(reply.body.length),
      'cache-control',
      `max-age=${Math.max(0, Math.floor(reply.ttlLeftMs / 1000))}`,
      HEADERS.age,
      String(Math.max(0, Math.floor(reply.ageMs / 1000))),
      HEADERS.cache,
      reply.cache,
    ]);
    res.end(reply.body);
  }

  /** Sends a store answer: at once when it is one (a fresh hit), else when it resolves. */
  function send(res: http.ServerResponse, reply: Reply | Promise<Reply>): void | Promise<void> {
    if (!(reply instanceof Promise)) return sendReply(res, reply);
    return reply.then((r) => sendReply(res, r));
  }

  function tokenOk(req: http.IncomingMessage): boolean {
    if (expected === undefined) return true;
    const given = req.headers[HEADERS.token];
    if (typeof given !== 'string') return false;
    // Only the length can differ in time (session tokens are not secret in length); the bytes are compared
    // in constant time, copied into one buffer kept for this so a request allocates nothing here.
    if (Buffer.byteLength(given, 'utf8') !== expected.length) return false;
    tokenScratch.write(given, 0, 'utf8');
    return timingSafeEqual(tokenScratch, expected);
  }

  function legacy(path: string, search: URLSearchParams): Reply | Promise<Reply> | undefined {
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

  /** Answers `req`; returns a promise only when the answer is not ready at once (anything but a hit). */
  function handle(req: http.IncomingMessage, res: http.ServerResponse): void | Promise<void> {
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
    const query = q === -1 ? '' : url.slice(q + 1);
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
        const search = new URLSearchParams(query);
        const legacyReply = legacy(path, search);
        if (legacyReply !== undefined) return answer(res, path, legacyReply);
      }
      if (!tokenOk(req)) {
        return sendError(res, HttpError.of('Forbidden', `missing or wrong ${HEADERS.token} header`));
      }
      switch (path) {
        case ROUTES.parameters:
          return answer(res, path, store.parameter(parameterQueries.get(query), 'v1'));
        case ROUTES.dynamodb:
          return answer(res, path, store.item(itemQueries.get(query), 'v1'));
        case ROUTES.awsParameter:
          return answer(res, path, store.parameter(awsParameterQuery(new URLSearchParams(query)), 'aws'));
        case ROUTES.health:
          return sendJson(res, store.health());
        case ROUTES.stats:
          return sendJson(res, store.stats());
        default:
          return sendError(res, HttpError.of('NotFound', `no route ${path.slice(0, 100)}`));
      }
    } catch (err) {
      return fail(res, path, err);
    }
  }

  /** Sends a store answer, or the error it failed with. */
  function answer(
    res: http.ServerResponse,
    path: string,
    reply: Reply | Promise<Reply>,
  ): void | Promise<void> {
    const sent = send(res, reply);
    return sent === undefined ? undefined : sent.catch((err: unknown) => fail(res, path, err));
  }

  /** The one place a thrown value becomes a response. */
  function fail(res: http.ServerResponse, path: string, err: unknown): void {
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
    sendError(res, httpErr);
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
