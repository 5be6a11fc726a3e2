/**
 * The seam between the store and what it caches. A source is one kind of thing (SSM parameters, DynamoDB
 * items, Secrets Manager secrets, AppConfig configurations) and owns everything that depends on the kind:
 * its `config.yaml` section, its cache-key codec, how targets group into batches, how a batch loads (and
 * revalidates), the bodies its routes serve and the routes themselves. The store is generic over sources:
 * one loader path for read-through, prefetch and refresh-ahead, one cache, one health and stats view.
 *
 * Adding a source is its own file(s) plus one line in `sources/index.ts`.
 */
import type { Env, ExtensionSettings } from '@lambda-cache/shared';
import type { AwsClient } from '../aws/index.js';
import type { Clock } from '../clock.js';
import type { CacheConfig, ConfigSection } from '../config.js';
import type { Logger } from '../log.js';

/** A load's answer for a target that had a value: still the same, keep it and extend its freshness. */
export const UNCHANGED: unique symbol = Symbol('unchanged');
export type Unchanged = typeof UNCHANGED;

/** What a load gives one target: a payload, {@link UNCHANGED} (only when it was given a previous value) or the error of its read. */
export type LoadResult<P> = P | Unchanged | Error;

/**
 * What the cache keeps of a loaded payload: the body of the source's main form (sent as it is on a hit)
 * and the few facts a hit or a later revalidation needs (a parameter's type, a secret's version id and
 * rotation date, a configuration's content type and version). Nothing else of a load is retained.
 */
export interface Stored<M> {
  readonly body: Buffer;
  readonly contentType: string;
  readonly meta: M;
  /** Extra answer headers of the main form, as a flat `[name, value, …]` list (AppConfig's `Configuration-Version`). */
  readonly headers?: readonly string[];
}

/** A body in another form than the main one, built on first use from what was stored. */
export interface Body {
  readonly body: Buffer;
  readonly contentType: string;
  /** Extra answer headers as a flat `[name, value, …]` list (AppConfig's `Configuration-Version`). */
  readonly headers?: readonly string[];
}

/**
 * Why the store loads: `read`, a request is waiting (read-through, a forced refresh, a stale value's
 * background refresh); `prefetch`, the configured targets at start; `refresh`, refresh-ahead on INVOKE.
 */
export type LoadReason = 'read' | 'prefetch' | 'refresh';

/** A prefetched target, with its own TTL when the config gives one. */
export interface ConfiguredTarget<T> {
  readonly target: T;
  /** `undefined`: the source's default TTL. */
  readonly ttlMs: number | undefined;
}

/**
 * Prefetch targets that only AWS can list (the parameters under an SSM path): found and loaded in one go,
 * so each comes with its payload.
 */
export interface Discovery<T, P> {
  /** What was asked, for logs (a path), never a value. */
  readonly what: Readonly<Record<string, string>>;
  /** Rejects when the listing failed: one failure in the prefetch report; its targets load on demand. */
  readonly found: Promise<ReadonlyArray<ConfiguredTarget<T> & { readonly payload: P }>>;
}

/** What a route asks the store for. */
export interface Read<T> {
  readonly target: T;
  /** `main`, or one of the source's other forms (`aws`, `legacy`, `flags:a,b`, …). */
  readonly form: string;
  /** Bypass the cache: load now; a failed refresh leaves the cached value untouched and returns the error. */
  readonly refresh: boolean;
}

/** The listeners a route is served on besides the main port. */
export type Listener = 'main' | 'aws' | 'appconfig';

/** How a route's errors are written: the v1 envelope, or the `{"__type","message"}` of AWS's agents. */
export type ErrorShape = 'envelope' | 'aws';

export interface SourceRoute<T> {
  /** The exact path, or, with `prefix`, what the path starts with. */
  readonly path: string;
  readonly prefix?: boolean;
  /** Needs `X-Aws-Parameters-Secrets-Token` (when the environment has a session token). */
  readonly token: boolean;
  /** Where it is served. @default ['main'] */
  readonly listeners?: readonly Listener[];
  /** Served only with `CACHE_EXTENSION_LEGACY_ROUTES=true` (the seed's routes). */
  readonly legacy?: boolean;
  /** @default 'envelope' */
  readonly errors?: ErrorShape;
  /**
   * The read a request asks for, from its query string (after `?`, not decoded) and path. Pure: the
   * server remembers its answers per text. Throws `RouteError` (a 400) with a message for the caller.
   */
  parse(query: string, path: string): Read<T>;
}

export interface Source<T, P, M = unknown> {
  /** Short, unique among sources: the first part of every cache key of this source's entries. */
  readonly tag: string;
  /** The AWS service it calls, as `/v1/health` names it (`ssm`, `dynamodb`, `secretsmanager`, `appconfig`). */
  readonly service: string;
  /** Targets one `load` call takes at most (read-through misses are coalesced up to this). */
  readonly maxBatch: number;
  /** What the prefetch report counts this source's entries as (`parameters`, `items`). @default tag */
  readonly label?: string;
  /**
   * `false`: an entry is not refreshed ahead of its expiry, only by the INVOKE or read after it (AppConfig may
   * not be polled before the interval that is its TTL: a refresh ahead could only answer {@link UNCHANGED}
   * without asking, and would make the value fresh for another interval unchecked). @default true
   */
  readonly refreshAhead?: boolean;

  /** The cache-key text of a target (without the tag); `decode(encode(t))` gives `t` back. */
  encode(target: T): string;
  decode(text: string): T;
  /** Targets of one group can be loaded in one call (same region, same decryption, …). */
  group(target: T): string;
  /**
   * Loads targets of one group, in as few calls as the API allows. `previous[i]` is what the cache holds
   * for `targets[i]` (a refresh or revalidation), so a source that can tell "unchanged" cheaply answers
   * {@link UNCHANGED}. One result per target, in order; one target's failure is its own result, not the
   * batch's. A rejection fails every target of the call. `reason` says who asked (a source may pick
   * another call for a lone read, as DynamoDB's `GetItem`).
   */
  load(
    group: string,
    targets: readonly T[],
    previous: ReadonlyArray<Stored<M> | undefined>,
    reason?: LoadReason,
  ): Promise<Array<LoadResult<P>>>;
  /** What the cache keeps of a payload. */
  store(payload: P): Stored<M>;
  /** Another form of a stored value, for routes that ask for one; `undefined` when the form is unknown. */
  form(stored: Stored<M>, form: string): Body | undefined;
  /**
   * The epoch ms after which a stored value must not be served even if fresh (a secret's
   * `NextRotationDate`); `undefined`: only its TTL bounds it.
   */
  notAfter?(stored: Stored<M>): number | undefined;

  /**
   * Another target whose stored value answers a read of `target` that has none of its own (an SSM `String`
   * parameter read without decryption answers a read with it); `peek` gives what the cache holds for a
   * target, whatever its freshness. Asked only on a miss.
   */
  alias?(target: T, peek: (other: T) => Stored<M> | undefined): T | undefined;

  /** What the config asks to prefetch (the source's own section). */
  configured(config: CacheConfig): Iterable<ConfiguredTarget<T>>;
  /** Prefetch targets listed by AWS (SSM's `GetParametersByPath`), loaded as they are found. */
  discover?(): Iterable<Discovery<T, P>>;
  /** The TTL the config gives a read-through target (a configured name, a path it is under); `undefined`: the default. */
  ttlOf(target: T): number | undefined;
  /** Names for logs (a parameter name, a table and key), never a value. */
  describe(target: T): Readonly<Record<string, string>>;
  readonly routes: ReadonlyArray<SourceRoute<T>>;
}

/** What a source is built with. */
export interface SourceDeps {
  readonly aws: AwsClient;
  readonly config: CacheConfig;
  readonly settings: ExtensionSettings;
  /** The process environment (a source's own aliases, e.g. AWS's AppConfig extension's variables). */
  readonly env: Env;
  /** Region of anything not configured with one; `undefined` lets the client decide. */
  readonly region: string | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** How `sources/index.ts` lists a source: its config section (if it has one) and how to build it. */
export interface SourceEntry {
  readonly section?: ConfigSection<unknown>;
  // biome-ignore lint/suspicious/noExplicitAny: the registry holds sources of every target and payload type
  create(deps: SourceDeps): Source<any, any, any>;
}
