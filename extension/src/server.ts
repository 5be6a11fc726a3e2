/**
 * The local HTTP API (DESIGN.md "HTTP API (v1)") on `node:http`, no framework. It reads as a list: the
 * connection's slot, then named checks in order (limits, host, forwarded headers, method), then a route
 * table whose entries say whether they need the token. Every answer is either bytes the store kept or a
 * small error envelope; whatever ends a connection (a timeout, a malformed request) destroys it.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { HEADERS, ROUTES } from '@lambda-cache/shared';
import { crypto, http, net } from './builtins.js';
import { errorCode, HttpError, toHttpError } from './errors.js';
import type { Logger } from './log.js';
import type { ErrorShape, Listener, Read } from './sources/source.js';
import type { Reply, SourceRoutes, Store } from './store.js';

export interface ServerOptions {
  store: Store;
  /** Expected `X-Aws-Parameters-Secrets-Token`; `undefined` turns the check off (no session token locally). */
  sessionToken: string | undefined;
  /** Serve the seed's `/parameters/…` and `/dynamodb/…` routes (the routes marked `legacy`: no token, raw bodies). */
  legacyRoutes: boolean;
  logger: Logger;
  /**
   * Connections served at once. At the cap a new one takes the slot of the connection idle the longest
   * (kept alive, no request in flight); when none is idle it gets a 503 and is closed. @default 256
   */
  maxConnections?: number;
  /** Time allowed for a request's headers to arrive. @default 5000 */
  headersTimeoutMs?: number;
  /** Idle time before a keep-alive connection is closed. @default 5000 */
  keepAliveTimeoutMs?: number;
  /** Largest accepted request header block, in bytes. @default 16384 */
  maxHeaderSize?: number;
  /** Milliseconds clock: how long connections have been idle, log rate limits. @default performance.now */
  now?: () => number;
}

export interface ListenOptions {
  /**
   * `all`: the main listener, every route. `aws`: only the routes that list it (AWS's Parameters and Secrets
   * extension's, and `/ping`), for its port (`PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`). `appconfig`: only
   * the routes that list it (AWS's AppConfig extension's, and `/ping`), for its port
   * (`AWS_APPCONFIG_EXTENSION_HTTP_PORT`). The same checks and the same connection cap apply to every
   * listener. @default 'all'
   */
  routes?: 'all' | Exclude<Listener, 'main'>;
}

export interface CacheServer {
  /**
   * Listens on `127.0.0.1:port` (`0` picks a free port) and resolves with the port it got. The first call
   * must be the `all` listener; an `aws` or `appconfig` one on that listener's (non-zero) port is that
   * listener.
   *
   * @example
   * const port = await server.listen(3000);
   * const awsPort = await server.listen(2773, { routes: 'aws' });
   */
  listen(port: number, opts?: ListenOptions): Promise<number>;
  /** Stops accepting on every listener, closes idle keep-alive connections and drops the rest after `graceMs`. */
  close(graceMs?: number): Promise<void>;
  readonly server: Server;
}

const JSON_TYPE = 'application/json';
const ALLOW = 'GET';

/** Distinct query strings whose parsed form is remembered, per route; past this the memo starts over. */
const QUERY_MEMO_SIZE = 1024;

/**
 * How long a connection we answered and ended may still drain what its peer sends before it is destroyed:
 * long enough for the peer to read the answer, short enough that a peer that never reads holds nothing.
 */
const LINGER_MS = 1000;

/**
 * How long a kept-alive connection must have been idle before a newcomer at the cap may take its place.
 * A connection's arrival is seen only when the server accepts it, which can be after connections that
 * came later were served; a threshold in time, unlike arrival order, does not depend on that.
 */
const MIN_IDLE_MS = 1000;

/** Rejected-token lines per second; past this they are counted and the count goes out with the next one. */
const TOKEN_LOG_PER_SECOND = 10;

/**
 * Headers that say a proxy forwarded the request (RFC 7239 and the two de facto ones). The API is for the
 * function on this host only; a request relayed from elsewhere is refused whatever the value.
 */
const PROXY_HEADERS = [HEADERS.forwardedFor, 'forwarded', 'x-real-ip'] as const;

/**
 * Remembers what a route's `parse` made of each text (its query string; its path and query for a prefix
 * route), so a function asking for the same parameter or item again skips parsing and key decoding, and
 * the store gets the same read object (whose cache key it remembers). Parsing is a pure function of the
 * text, so the remembered object is exactly what parsing again would give; texts that fail to parse are
 * not kept.
 */
class Memo<Q> {
  private readonly parsed = new Map<string, Q>();

  constructor(private readonly parse: (query: string, path: string) => Q) {}

  get(text: string, query: string, path: string): Q {
    let q = this.parsed.get(text);
    if (q === undefined) {
      q = this.parse(query, path);
      // Many distinct keys (read-through) only churn the memo; clearing keeps it bounded and cheap.
      if (this.parsed.size >= QUERY_MEMO_SIZE) this.parsed.clear();
      this.parsed.set(text, q);
    }
    return q;
  }
}

function jsonBody(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** A whole error answer as bytes, for sockets `node:http` no longer handles (client errors, CONNECT). */
function rawErrorAnswer(status: number, message: string, extra = ''): string {
  const code = status === 405 ? 'MethodNotAllowed' : 'BadRequest';
  const body = JSON.stringify({ code, message });
  return `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: ${JSON_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\n${extra}connection: close\r\n\r\n${body}`;
}

/** `name` equals `host.slice(0, end)`, ASCII letters compared case-insensitively, without a copy. */
function sameName(host: string, end: number, name: string): boolean {
  if (end !== name.length) return false;
  for (let i = 0; i < end; i++) {
    let c = host.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== name.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * `127.0.0.1`, `localhost` or `[::1]`, in any letter case, optionally with `:port` (up to 5 digits).
 * Checked by character codes: it runs on every request and allocates nothing.
 */
export function isLoopbackHost(host: string): boolean {
  let end = host.length;
  // An optional :port, found from the end: "[::1]" has colons of its own but ends in "]".
  for (let i = host.length - 1, digits = 0; i >= 0 && digits <= 5; i--, digits++) {
    const c = host.charCodeAt(i);
    if (c === 58) {
      end = i;
      break;
    }
    if (c < 48 || c > 57) break;
  }
  return sameName(host, end, '127.0.0.1') || sameName(host, end, 'localhost') || sameName(host, end, '[::1]');
}

/** Why a request is not served: the error it gets, and what else goes with it. */
interface Refusal {
  readonly error: HttpError;
  readonly headers?: Readonly<Record<string, string>>;
  /** Close the connection after the answer. */
  readonly close?: boolean;
}

/** One entry of the route table. */
interface Route {
  /** Needs `X-Aws-Parameters-Secrets-Token` (when the environment has a session token). */
  readonly token: boolean;
  /** How its errors are written. */
  readonly errors: ErrorShape;
  /** Answers; returns a promise only when the answer is not ready at once (anything but a hit). */
  serve(res: ServerResponse, query: string, path: string): void | Promise<void>;
}

/** The routes one listener serves: exact paths, then path prefixes in the order they were added. */
interface Table {
  readonly exact: Map<string, Route>;
  readonly prefixes: Array<[prefix: string, route: Route]>;
}

const LISTENERS: readonly Listener[] = ['main', 'aws', 'appconfig'];

/** A connection's claim on the cap: made once per connection, updated in place per request. */
interface Slot {
  readonly socket: Socket;
  /** The listener it came in on: only the routes that list it are served to it. */
  readonly listener: Listener;
  /** Counts against the cap. */
  admitted: boolean;
  /** Requests received and not answered yet (more than one when pipelined). */
  inFlight: number;
  /** When its last answer left nothing in flight (`now()`); -1 before its first answer. */
  idleSince: number;
}

/** Listens on `127.0.0.1:port` and resolves with the port it got, or rejects with the listen error. */
function listenOn(listener: NetServer, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    listener.once('error', onError);
    listener.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      listener.off('error', onError);
      resolve((listener.address() as AddressInfo).port);
    });
  });
}

export function createServer(opts: ServerOptions): CacheServer {
  const { store, logger } = opts;
  // Room for the 200 concurrent keep-alive connections a busy function may hold, with margin.
  const maxConnections = opts.maxConnections ?? 256;
  const headersTimeout = opts.headersTimeoutMs ?? 5000;
  const now = opts.now ?? (() => performance.now());
  const expected = opts.sessionToken === undefined ? undefined : Buffer.from(opts.sessionToken, 'utf8');
  const tokenScratch = Buffer.alloc(expected?.length ?? 0);
  const debug = logger.isEnabled('debug');
  /** Cache status of each answer, for the debug request line only. */
  const cacheStatus = new WeakMap<ServerResponse, string>();
  const slots = new Map<Socket, Slot>();
  /** Sockets accepted by an `aws` or `appconfig` listener, until the server's `connection` handler has seen them. */
  const socketListeners = new WeakMap<Socket, Listener>();
  /** The `aws` and `appconfig` listeners on ports of their own; the `all` one is `server` itself. */
  const extraListeners: NetServer[] = [];
  let admitted = 0;
  let stopping = false;

  const server = http.createServer(
    {
      maxHeaderSize: opts.maxHeaderSize ?? 16_384,
      headersTimeout,
      // Covers receiving a whole request; a GET has no body, so this only bounds slow senders.
      requestTimeout: headersTimeout + 1000,
      keepAliveTimeout: opts.keepAliveTimeoutMs ?? 5000,
      // Node checks the two timeouts above only this often (default 30 s): a connection that never sends
      // a byte would hold one of the capped slots for 30 s instead of the headers timeout.
      connectionsCheckingInterval: Math.min(1000, headersTimeout),
      // checkHost answers a missing Host with the JSON envelope; Node's own answer is a bare 400.
      requireHostHeader: false,
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

  // ---- connection slots ----

  function release(slot: Slot): void {
    if (!slot.admitted) return;
    slot.admitted = false;
    admitted--;
  }

  /**
   * Gives `slot` a place under the cap, if need be by closing the connection idle the longest. Only one
   * idle for {@link MIN_IDLE_MS} or more is displaced: a crowd that arrives while every connection is in
   * use, or has just been answered, is refused instead of taking the places of connections in use.
   */
  function admit(slot: Slot): boolean {
    if (slot.admitted) return true;
    if (admitted >= maxConnections) {
      const idleBefore = now() - MIN_IDLE_MS;
      let oldest: Slot | undefined;
      for (const s of slots.values()) {
        if (!s.admitted || s.inFlight > 0 || s.idleSince < 0 || s.idleSince > idleBefore) continue;
        if (oldest === undefined || s.idleSince < oldest.idleSince) oldest = s;
      }
      if (oldest === undefined) return false;
      release(oldest);
      oldest.socket.destroy();
    }
    slot.admitted = true;
    admitted++;
    return true;
  }

  /** Called once per answer sent, when it has been handed to the socket. */
  function answered(res: ServerResponse): void {
    const slot = slots.get(res.req.socket);
    if (slot === undefined) return;
    slot.inFlight--;
    if (slot.inFlight === 0) slot.idleSince = now();
  }

  /** Ends a connection `node:http` gave up on: answer, drain briefly so the answer is not reset, destroy. */
  function endConnection(socket: Socket, answer: string): void {
    const slot = slots.get(socket);
    if (slot !== undefined) release(slot);
    socket.end(answer);
    socket.resume();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }

  server.on('connection', (socket: Socket) => {
    const slot: Slot = {
      socket,
      listener: socketListeners.get(socket) ?? 'main',
      admitted: false,
      inFlight: 0,
      idleSince: -1,
    };
    slots.set(socket, slot);
    // Refused now or at its first request, whichever finds no room (closes may free some in between).
    admit(slot);
    // The peer has gone: its place is free now, not only once the socket has finished closing.
    socket.once('end', () => {
      if (slot.inFlight === 0) release(slot);
    });
    socket.once('close', () => {
      release(slot);
      slots.delete(socket);
    });
  });

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const slot = slots.get(socket);
    // Unwritable, or an answer already under way on it: there is no clean way to say anything more.
    if (!socket.writable || (slot !== undefined && slot.inFlight > 0)) return socket.destroy();
    const status =
      err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    endConnection(socket, rawErrorAnswer(status, `malformed request (${err.code ?? 'unknown'})`));
  });

  // Without a listener Node closes a CONNECT's socket without a word.
  server.on('connect', (req: IncomingMessage, socket: Socket) => {
    endConnection(
      socket,
      rawErrorAnswer(405, `${req.method} is not allowed; use GET`, `allow: ${ALLOW}\r\n`),
    );
  });

  // ---- answers ----

  function sendError(
    res: ServerResponse,
    err: HttpError,
    extra: Record<string, string> = {},
    shape: ErrorShape = 'envelope',
  ): void {
    const body = jsonBody(shape === 'aws' ? err.awsBody() : err.envelope());
    res.writeHead(err.status, {
      'content-type': JSON_TYPE,
      'content-length': body.length,
      'cache-control': 'no-store',
      ...extra,
    });
    res.end(body);
    answered(res);
  }

  function sendJson(res: ServerResponse, value: unknown): void {
    const body = jsonBody(value);
    res.writeHead(200, {
      'content-type': JSON_TYPE,
      'content-length': body.length,
      'cache-control': 'no-store',
    });
    res.end(body);
    answered(res);
  }

  function sendPong(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 4, 'cache-control': 'no-store' });
    res.end('pong');
    answered(res);
  }

  function sendReply(res: ServerResponse, reply: Reply): void {
    if (debug) cacheStatus.set(res, reply.cache);
    // A flat [name, value, …] array: Node writes it as is, without the per-name bookkeeping of an object.
    const headers = [
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
    ];
    if (reply.headers !== undefined) for (const h of reply.headers) headers.push(h);
    res.writeHead(200, headers);
    res.end(reply.body);
    answered(res);
  }

  /** Sends a store answer, at once when it is one (a fresh hit), else when it resolves, or its error. */
  function answer(
    res: ServerResponse,
    path: string,
    reply: Reply | Promise<Reply>,
    shape: ErrorShape,
  ): void | Promise<void> {
    if (!(reply instanceof Promise)) return sendReply(res, reply);
    return reply.then(
      (r) => sendReply(res, r),
      (err: unknown) => fail(res, path, err, shape),
    );
  }

  /** The one place a thrown value becomes a response. */
  function fail(res: ServerResponse, path: string, err: unknown, shape: ErrorShape = 'envelope'): void {
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
    sendError(res, httpErr, {}, shape);
  }

  // ---- checks, in the order they run; each returns a refusal or `undefined` ----

  const shuttingDown: Refusal = {
    error: HttpError.of('ServiceUnavailable', 'the extension is shutting down'),
    headers: { connection: 'close' },
    close: true,
  };
  const overCap: Refusal = {
    error: HttpError.of('ServiceUnavailable', 'too many open connections'),
    headers: { connection: 'close' },
    close: true,
  };
  const noHost: Refusal = { error: HttpError.of('BadRequest', 'the Host header is required') };
  const foreignHost: Refusal = {
    error: HttpError.of('BadRequest', 'Host must be 127.0.0.1, localhost or [::1] (with or without a port)'),
  };
  const proxied: Refusal = {
    error: HttpError.of(
      'BadRequest',
      'requests through a proxy (X-Forwarded-For, Forwarded, X-Real-IP) are refused',
    ),
  };
  const badToken: Refusal = { error: HttpError.of('Forbidden', `missing or wrong ${HEADERS.token} header`) };

  /** Shutting down, or no room under the connection cap. */
  function checkLimits(slot: Slot | undefined): Refusal | undefined {
    if (stopping) return shuttingDown;
    if (slot !== undefined && !admit(slot)) return overCap;
    return undefined;
  }

  /**
   * Only loopback names, in every mode: a page that rebinds its own name to 127.0.0.1 sends its name as
   * Host, so this is what keeps a browser on the same machine out (it matters most without a token).
   * HTTP/1.0 may omit Host (no browser does); HTTP/1.1 must send it (RFC 9112 §3.2).
   */
  function checkHost(req: IncomingMessage): Refusal | undefined {
    const host = req.headers.host;
    if (host === undefined)
      return req.httpVersionMajor === 1 && req.httpVersionMinor === 0 ? undefined : noHost;
    return isLoopbackHost(host) ? undefined : foreignHost;
  }

  function checkForwarded(req: IncomingMessage): Refusal | undefined {
    const h = req.headers;
    for (let i = 0; i < PROXY_HEADERS.length; i++) {
      if (h[PROXY_HEADERS[i] as string] !== undefined) return proxied;
    }
    return undefined;
  }

  function checkMethod(req: IncomingMessage): Refusal | undefined {
    if (req.method === 'GET') return undefined;
    return {
      error: HttpError.of('MethodNotAllowed', `${req.method} is not allowed; use GET`),
      headers: { allow: ALLOW },
    };
  }

  let tokenLogWindow = 0;
  let tokenLogged = 0;
  let tokenUnlogged = 0;

  /** Logs a refused token at info, at most {@link TOKEN_LOG_PER_SECOND} lines a second; never the token. */
  function logRejectedToken(path: string, reason: 'missing' | 'mismatch'): void {
    const t = now();
    if (t - tokenLogWindow >= 1000) {
      tokenLogWindow = t;
      tokenLogged = 0;
    }
    if (tokenLogged >= TOKEN_LOG_PER_SECOND) {
      tokenUnlogged++;
      return;
    }
    tokenLogged++;
    logger.info(`request refused: ${reason === 'missing' ? 'no' : 'wrong'} ${HEADERS.token}`, {
      path: path.slice(0, 100),
      reason,
      ...(tokenUnlogged > 0 ? { unlogged: tokenUnlogged } : {}),
    });
    tokenUnlogged = 0;
  }

  function checkToken(req: IncomingMessage, path: string): Refusal | undefined {
    if (expected === undefined) return undefined;
    const given = req.headers[HEADERS.token];
    if (typeof given !== 'string') {
      logRejectedToken(path, 'missing');
      return badToken;
    }
    // Only the length can differ in time (session tokens are not secret in length); the bytes are compared
    // in constant time, copied into one buffer kept for this so a request allocates nothing here.
    if (Buffer.byteLength(given, 'utf8') === expected.length) {
      tokenScratch.write(given, 0, 'utf8');
      if (crypto().timingSafeEqual(tokenScratch, expected)) return undefined;
    }
    logRejectedToken(path, 'mismatch');
    return badToken;
  }

  // ---- route table ----

  const tables = new Map<Listener, Table>(LISTENERS.map((l) => [l, { exact: new Map(), prefixes: [] }]));

  function addRoute(path: string, prefix: boolean, listeners: readonly Listener[], route: Route): void {
    for (const l of listeners) {
      const table = tables.get(l) as Table;
      if (prefix) table.prefixes.push([path, route]);
      else if (!table.exact.has(path)) table.exact.set(path, route);
    }
  }

  addRoute(ROUTES.ping, false, LISTENERS, {
    token: false,
    errors: 'envelope',
    serve: (res) => sendPong(res),
  });
  addRoute(ROUTES.health, false, ['main'], {
    token: true,
    errors: 'envelope',
    serve: (res) => sendJson(res, store.health()),
  });
  addRoute(ROUTES.stats, false, ['main'], {
    token: true,
    errors: 'envelope',
    serve: (res) => sendJson(res, store.stats()),
  });

  /** Whether the sources' routes are in the table; until then an unknown path waits for them. */
  let sourcesRouted = false;

  /**
   * Adds every source's routes (the seed's only when they are on). What a route parses is remembered per
   * text, so a repeated read goes from the URL to the stored body without parsing or building anything.
   */
  function addSourceRoutes(sets: readonly SourceRoutes[]): void {
    if (sourcesRouted) return;
    sourcesRouted = true;
    for (const { source, routes } of sets) {
      for (const r of routes) {
        if (r.legacy && !opts.legacyRoutes) continue;
        const memo = new Memo<Read<unknown>>((query, path) => r.parse(query, path));
        const prefix = r.prefix === true;
        const shape = r.errors ?? 'envelope';
        addRoute(r.path, prefix, r.listeners ?? ['main'], {
          token: r.token,
          errors: shape,
          serve: (res, query, path) => {
            const text = !prefix ? query : query === '' ? path : `${path}?${query}`;
            return answer(res, path, store.read(source, memo.get(text, query, path)), shape);
          },
        });
      }
    }
  }

  const known = store.routes();
  /** The sources' routes, while the store is still being built; requests for other paths wait for it. */
  let pendingRoutes: Promise<void> | undefined;
  if (Array.isArray(known)) addSourceRoutes(known);
  else {
    pendingRoutes = Promise.resolve(known).then(addSourceRoutes, () => undefined);
  }

  function routeOf(listener: Listener, path: string): Route | undefined {
    const table = tables.get(listener) as Table;
    const exact = table.exact.get(path);
    if (exact !== undefined) return exact;
    for (const [prefix, route] of table.prefixes) {
      if (path.length > prefix.length && path.startsWith(prefix)) return route;
    }
    return undefined;
  }

  function refuse(res: ServerResponse, refusal: Refusal): void {
    if (refusal.close) res.shouldKeepAlive = false;
    sendError(res, refusal.error, refusal.headers);
  }

  /** Answers `req`; returns a promise only when the answer is not ready at once (anything but a hit). */
  function handle(req: IncomingMessage, res: ServerResponse): void | Promise<void> {
    const slot = slots.get(req.socket);
    if (slot !== undefined) slot.inFlight++;
    const refused = checkLimits(slot) ?? checkHost(req) ?? checkForwarded(req) ?? checkMethod(req);
    if (refused !== undefined) return refuse(res, refused);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q + 1);
    const listener = slot?.listener ?? 'main';
    const route = routeOf(listener, path);
    if (route === undefined && !sourcesRouted) {
      // The sources' routes come with the store (after register): wait for it, as a read of a route
      // already known waits for the store, bounded, rather than answer 404 too soon.
      return waitForRoutes().then(
        () => serve(req, res, routeOf(listener, path), path, query),
        (err: unknown) => fail(res, path, err),
      );
    }
    return serve(req, res, route, path, query);
  }

  /** The sources' routes, once the store has them; rejects (a 503) when it cannot be built in time. */
  function waitForRoutes(): Promise<void> {
    return Promise.resolve(store.routes()).then((sets) => {
      addSourceRoutes(sets);
      return pendingRoutes;
    });
  }

  function serve(
    req: IncomingMessage,
    res: ServerResponse,
    route: Route | undefined,
    path: string,
    query: string,
  ): void | Promise<void> {
    // An unknown path needs the token too, so a caller without it learns nothing about the routes.
    if (route === undefined || route.token) {
      const badToken = checkToken(req, path);
      if (badToken !== undefined) {
        if (route?.errors === 'aws') return sendError(res, badToken.error, {}, 'aws');
        return refuse(res, badToken);
      }
    }
    if (route === undefined)
      return sendError(res, HttpError.of('NotFound', `no route ${path.slice(0, 100)}`));
    try {
      return route.serve(res, query, path);
    } catch (err) {
      return fail(res, path, err, route.errors);
    }
  }

  return {
    server,
    listen(port, { routes: which = 'all' } = {}) {
      if (which !== 'all') {
        if (!server.listening) return Promise.reject(new Error('listen with every route first'));
        const mainPort = (server.address() as AddressInfo).port;
        if (port !== 0 && port === mainPort) return Promise.resolve(mainPort);
        // Its connections are handed to the one HTTP server, so they share its checks, timeouts and cap.
        const listener = net.createServer({ noDelay: true }, (socket) => {
          socketListeners.set(socket, which);
          server.emit('connection', socket);
        });
        return listenOn(listener, port).then((bound) => {
          extraListeners.push(listener);
          return bound;
        });
      }
      return listenOn(server, port);
    },
    close(graceMs = 300) {
      stopping = true;
      const closing = extraListeners.map(
        (listener) => new Promise<void>((resolve) => listener.close(() => resolve())),
      );
      return new Promise((resolve) => {
        if (!server.listening) return resolve();
        // After the grace, every connection the HTTP server handles is dropped, the other listeners' included.
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        timer.unref();
        closing.push(new Promise<void>((closed) => server.close(() => closed())));
        void Promise.all(closing).then(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}
