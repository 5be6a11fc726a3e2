/**
 * AWS AppConfig, through AppConfigData's restJson1 API and the lean AWS client: a configuration (or a
 * feature-flag profile) per application, environment and profile.
 *
 * AppConfigData is polled through sessions, held here per target: `StartConfigurationSession` once, then
 * `GetLatestConfiguration` with the `NextPollConfigurationToken` of the call before. An empty answer means
 * "the session already has the latest": {@link UNCHANGED}, so the cache keeps its value and extends its
 * freshness. A token is good for one call and 24 hours; a `BadRequestException` (used, expired or corrupted
 * token, or a poll before the interval) starts one new session. No call is made before the
 * `NextPollIntervalInSeconds` AppConfig asked for: a load asked earlier answers {@link UNCHANGED} at once.
 * https://docs.aws.amazon.com/appconfig/2019-10-09/APIReference/API_appconfigdata_GetLatestConfiguration.html
 *
 * The execution environment is frozen between invokes, so nothing here runs on a timer: polls happen when
 * the store refreshes (on INVOKE, and on a read of a stale value), and the TTL is the poll interval, so
 * freshness and polling agree.
 */
import {
  type AppConfigQuery,
  HEADERS,
  parseAppConfigAgentPath,
  parseAppConfigQuery,
  ROUTES,
  RouteError,
} from '@lambda-cache/shared';
import { type AwsClient, AwsServiceError, AwsTransportError, type RestRequest } from '../aws/index.js';
import { type CacheConfig, sectionOf } from '../config.js';
import { NotFoundError, UnreadableAnswerError } from '../errors.js';
import type { Logger } from '../log.js';
import { type AppConfigEntry, appconfigSection } from './appconfig-config.js';
import { Limiter, MAX_CALLS_IN_FLIGHT } from './batching.js';
import {
  type Body,
  type ConfiguredTarget,
  type LoadResult,
  type Read,
  type Source,
  type SourceDeps,
  type SourceEntry,
  type SourceRoute,
  type Stored,
  UNCHANGED,
} from './source.js';

/** One configuration: names or ids, as AppConfigData accepts them, and the region it lives in. */
export interface AppConfigTarget {
  /** `undefined` only when the function has no region either: the client then decides. */
  readonly region: string | undefined;
  readonly application: string;
  readonly environment: string;
  readonly profile: string;
}

/** What `GetLatestConfiguration` gave: the configuration's bytes as they came, and what it said of them. */
export interface AppConfigPayload {
  readonly content: Buffer;
  readonly contentType: string;
  /** `Version-Label`, when the version has one. */
  readonly versionLabel: string | undefined;
}

export interface AppConfigMeta {
  readonly contentType: string;
  /** Sent as `Configuration-Version`; `undefined`: the header is left out. */
  readonly version: string | undefined;
}

/** The type of a configuration without a `Content-Type` (AppConfig always sends one). */
const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
/** Sessions held at most, the oldest forgotten first: a forgotten session costs one new `StartConfigurationSession`. */
const MAX_SESSIONS = 1000;
const MIN_POLL_SECONDS = 15;

interface Session {
  readonly token: string;
  /** Epoch ms before which AppConfig must not be asked again. */
  readonly nextPollAt: number;
}

interface Poll {
  readonly body: Buffer;
  readonly contentType: string | undefined;
  readonly versionLabel: string | undefined;
  readonly nextToken: string | undefined;
  readonly nextIntervalSeconds: number | undefined;
}

export interface AppConfigSourceOptions {
  readonly aws: AwsClient;
  readonly clock: { now(): number };
  /** Configured entries (the `appconfig:` section, then the prefetch list), region filled in. */
  readonly entries: readonly AppConfigEntry[];
  /** Region of a target that names none. */
  readonly region: string | undefined;
  /** Poll interval (and TTL) of a target whose entry gives none. */
  readonly pollIntervalMs: number;
  /** Bound on each AppConfigData call. */
  readonly pollTimeoutMs: number;
  readonly logger?: Logger;
  /** Targets loaded at once. @default MAX_CALLS_IN_FLIGHT */
  readonly maxInFlight?: number;
}

/** The cache-key text of a target: a JSON array, so no two targets share one and every string round-trips. */
export function encodeTarget(t: AppConfigTarget): string {
  return JSON.stringify([t.region ?? null, t.application, t.environment, t.profile]);
}

export function decodeTarget(text: string): AppConfigTarget {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new RangeError('not an AppConfig cache key: not JSON', { cause: err });
  }
  if (!Array.isArray(value) || value.length !== 4) {
    throw new RangeError('not an AppConfig cache key: expected [region, application, environment, profile]');
  }
  const [region, application, environment, profile] = value as unknown[];
  const names = [application, environment, profile];
  if (
    (region !== null && typeof region !== 'string') ||
    !names.every((n) => typeof n === 'string' && n !== '')
  ) {
    throw new RangeError('not an AppConfig cache key: expected strings');
  }
  return {
    region: region ?? undefined,
    application: application as string,
    environment: environment as string,
    profile: profile as string,
  };
}

/** The key of a configuration whatever its region: how a read finds the configured entry it means. */
const nameKey = (application: string, environment: string, profile: string): string =>
  JSON.stringify([application, environment, profile]);

const label = (t: AppConfigTarget): string => `${t.application}/${t.environment}/${t.profile}`;

/** The configuration as a JSON object, for flag filters; a `RouteError` (400) when it is not one. */
function parsedObject(stored: Stored<AppConfigMeta>): Record<string, unknown> {
  let value: unknown = null;
  try {
    value = JSON.parse(stored.body.toString('utf8'));
  } catch {
    // Not JSON: refused below, like JSON that is not an object.
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RouteError(
      `flag filters feature flags, and this configuration is not a JSON object (its content type is ${stored.contentType}); read it without flag`,
    );
  }
  return value as Record<string, unknown>;
}

export class AppConfigSource implements Source<AppConfigTarget, AppConfigPayload, AppConfigMeta> {
  readonly tag = 'appconfig';
  readonly label = 'configurations';
  readonly service = 'appconfig';
  /** AppConfig refuses a poll before the interval, and the interval is the TTL: polled once expired. */
  readonly refreshAhead = false;
  /** No batch API: each target of a call is polled on its own, at most `maxInFlight` at once. */
  readonly maxBatch = MAX_CALLS_IN_FLIGHT;
  readonly routes: ReadonlyArray<SourceRoute<AppConfigTarget>>;

  readonly #opts: AppConfigSourceOptions;
  readonly #limiter: Limiter;
  readonly #sessions = new Map<string, Session>();
  /** A poll of a target still running: a second one like it waits for that one rather than spend its token. */
  readonly #polling = new Map<string, Promise<LoadResult<AppConfigPayload>>>();
  /** Configured poll interval by target key. */
  readonly #intervals = new Map<string, number | undefined>();
  /** Configured regions by application, environment and profile. */
  readonly #regions = new Map<string, Array<string | undefined>>();
  readonly #configured: ReadonlyArray<ConfiguredTarget<AppConfigTarget>>;

  constructor(opts: AppConfigSourceOptions) {
    this.#opts = opts;
    this.#limiter = new Limiter(opts.maxInFlight ?? MAX_CALLS_IN_FLIGHT);
    const configured: Array<ConfiguredTarget<AppConfigTarget>> = [];
    for (const entry of opts.entries) {
      const target = this.#target(entry.region, entry.application, entry.environment, entry.profile);
      const key = encodeTarget(target);
      if (this.#intervals.has(key)) continue;
      this.#intervals.set(key, entry.pollIntervalMs);
      const names = nameKey(entry.application, entry.environment, entry.profile);
      const regions = this.#regions.get(names) ?? [];
      regions.push(target.region);
      this.#regions.set(names, regions);
      configured.push({ target, ttlMs: this.ttlOf(target) });
    }
    this.#configured = configured;
    this.routes = [
      {
        path: ROUTES.appconfig,
        token: true,
        parse: (query) => this.#read(parseAppConfigQuery(new URLSearchParams(query)), 'map'),
      },
      {
        path: ROUTES.appconfigAgent,
        prefix: true,
        // As AWS's AppConfig extension: no token, on its own port and on the main one.
        token: false,
        listeners: ['main', 'appconfig'],
        parse: (query, path) =>
          this.#read(parseAppConfigAgentPath(path, new URLSearchParams(query)), 'agent'),
      },
    ];
  }

  encode(target: AppConfigTarget): string {
    return encodeTarget(target);
  }

  decode(text: string): AppConfigTarget {
    return decodeTarget(text);
  }

  group(target: AppConfigTarget): string {
    return JSON.stringify(target.region ?? null);
  }

  async load(
    _group: string,
    targets: readonly AppConfigTarget[],
    previous: ReadonlyArray<Stored<AppConfigMeta> | undefined>,
  ): Promise<Array<LoadResult<AppConfigPayload>>> {
    return Promise.all(
      targets.map((target, i) =>
        this.#once(target, previous[i]).catch((err: unknown) =>
          err instanceof Error ? err : new Error(String(err)),
        ),
      ),
    );
  }

  store(payload: AppConfigPayload): Stored<AppConfigMeta> {
    const contentType = payload.contentType || DEFAULT_CONTENT_TYPE;
    const version = payload.versionLabel;
    return {
      body: payload.content,
      contentType,
      meta: { contentType, version },
      ...(version === undefined ? {} : { headers: [HEADERS.configurationVersion, version] }),
    };
  }

  /**
   * `main`: the configuration as it came, with its `Configuration-Version`. `flags:a,b`: a JSON map of those
   * flags, in that order. `flag:a`: that flag's own value (AWS's AppConfig extension's answer to one `flag`).
   * An unknown flag is a {@link NotFoundError} naming it; flags of a configuration that is not a JSON object
   * are a `RouteError` (400).
   */
  form(stored: Stored<AppConfigMeta>, form: string): Body | undefined {
    const single = form.startsWith('flag:');
    if (!single && !form.startsWith('flags:')) return undefined;
    const flags = form.slice(single ? 'flag:'.length : 'flags:'.length).split(',');
    const config = parsedObject(stored);
    const missing = flags.filter((f) => !Object.hasOwn(config, f));
    if (missing.length > 0) {
      const which = missing.length === 1 ? `flag ${missing[0]} is` : `flags ${missing.join(', ')} are`;
      throw new NotFoundError(`${which} not in the configuration`);
    }
    const picked: Record<string, unknown> = {};
    for (const f of flags) picked[f] = config[f];
    return {
      body: Buffer.from(JSON.stringify(single ? config[flags[0] as string] : picked), 'utf8'),
      contentType: 'application/json',
      ...(stored.headers === undefined ? {} : { headers: stored.headers }),
    };
  }

  /**
   * The `appconfig:` entries and `AWS_APPCONFIG_EXTENSION_PREFETCH_LIST`'s, once each, as the source was
   * built with them (from `SourceDeps.config`, the config the store passes here too).
   */
  configured(_config: CacheConfig): Iterable<ConfiguredTarget<AppConfigTarget>> {
    return this.#configured;
  }

  /** The poll interval: freshness and polling agree. */
  ttlOf(target: AppConfigTarget): number {
    return this.#intervals.get(encodeTarget(target)) ?? this.#opts.pollIntervalMs;
  }

  describe(target: AppConfigTarget): Readonly<Record<string, string>> {
    return { application: target.application, environment: target.environment, profile: target.profile };
  }

  #target(
    region: string | undefined,
    application: string,
    environment: string,
    profile: string,
  ): AppConfigTarget {
    return { region: region ?? this.#opts.region, application, environment, profile };
  }

  /** A read's target: in the region the config gives the configuration, when it gives it exactly one. */
  #read(q: AppConfigQuery, style: 'map' | 'agent'): Read<AppConfigTarget> {
    const regions = this.#regions.get(nameKey(q.application, q.environment, q.profile));
    const region = regions?.length === 1 ? regions[0] : undefined;
    const target = this.#target(region, q.application, q.environment, q.profile);
    const flags = q.flags;
    let form = 'main';
    if (flags !== undefined) {
      const unique = [...new Set(flags)];
      form = style === 'agent' && unique.length === 1 ? `flag:${unique[0]}` : `flags:${unique.join(',')}`;
    }
    return { target, form, refresh: q.refresh };
  }

  /**
   * One poll of a target at a time. A load without a value must get content, so it never shares the
   * answer of a revalidation, which may be UNCHANGED.
   */
  #once(
    target: AppConfigTarget,
    previous: Stored<AppConfigMeta> | undefined,
  ): Promise<LoadResult<AppConfigPayload>> {
    const key = encodeTarget(target);
    const slot = `${previous ? 'revalidate' : 'load'}:${key}`;
    const running = this.#polling.get(slot);
    if (running) return running;
    const poll = this.#limiter
      .run(() => this.#poll(key, target, previous))
      .finally(() => this.#polling.delete(slot));
    this.#polling.set(slot, poll);
    return poll;
  }

  async #poll(
    key: string,
    target: AppConfigTarget,
    previous: Stored<AppConfigMeta> | undefined,
  ): Promise<LoadResult<AppConfigPayload>> {
    let session = this.#sessions.get(key);
    // Without the value, the session's "nothing changed" would leave nothing to serve: start anew for the content.
    if (session && previous === undefined) {
      this.#sessions.delete(key);
      session = undefined;
    }
    if (session && previous && this.#opts.clock.now() < session.nextPollAt) return UNCHANGED;
    let fresh = session === undefined;
    let poll: Poll;
    try {
      poll = await this.#latest(target, session?.token ?? (await this.#start(target)));
    } catch (err) {
      this.#sessions.delete(key);
      if (fresh || !(err instanceof AwsServiceError && err.awsCode === 'BadRequestException')) throw err;
      // A used, expired or corrupted token (or a poll AppConfig found too early): one new session.
      this.#opts.logger?.debug('appconfig session restarted', {
        ...this.describe(target),
        awsCode: err.awsCode,
      });
      fresh = true;
      poll = await this.#latest(target, await this.#start(target));
    }
    this.#keep(key, target, poll);
    if (!fresh && poll.body.length === 0) return UNCHANGED;
    const payload: AppConfigPayload = {
      content: poll.body,
      contentType: poll.contentType || DEFAULT_CONTENT_TYPE,
      versionLabel: poll.versionLabel,
    };
    // A new session sends the whole configuration again; the same bytes are still no new body.
    if (previous && same(previous, payload)) return UNCHANGED;
    return payload;
  }

  #keep(key: string, target: AppConfigTarget, poll: Poll): void {
    this.#sessions.delete(key);
    if (poll.nextToken === undefined) return;
    const seconds = poll.nextIntervalSeconds ?? this.#pollSeconds(target);
    this.#sessions.set(key, { token: poll.nextToken, nextPollAt: this.#opts.clock.now() + seconds * 1000 });
    if (this.#sessions.size > MAX_SESSIONS) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest !== undefined) this.#sessions.delete(oldest);
    }
  }

  #pollSeconds(target: AppConfigTarget): number {
    return Math.max(MIN_POLL_SECONDS, Math.round(this.ttlOf(target) / 1000));
  }

  async #start(target: AppConfigTarget): Promise<string> {
    const res = await this.#call(target, {
      method: 'POST',
      path: '/configurationsessions',
      body: {
        ApplicationIdentifier: target.application,
        EnvironmentIdentifier: target.environment,
        ConfigurationProfileIdentifier: target.profile,
        RequiredMinimumPollIntervalInSeconds: this.#pollSeconds(target),
      },
    });
    let token: unknown;
    try {
      token = (JSON.parse(res.body.toString('utf8')) as { InitialConfigurationToken?: unknown })
        .InitialConfigurationToken;
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string' || token === '') {
      throw new UnreadableAnswerError(
        `appconfigdata StartConfigurationSession for ${label(target)} sent no InitialConfigurationToken`,
      );
    }
    return token;
  }

  async #latest(target: AppConfigTarget, token: string): Promise<Poll> {
    const res = await this.#call(target, {
      method: 'GET',
      path: '/configuration',
      query: { configuration_token: token },
    });
    const h = res.headers;
    const interval = Number(h['next-poll-interval-in-seconds']);
    return {
      body: res.body,
      contentType: h['content-type'] || undefined,
      versionLabel: h['version-label'] || undefined,
      nextToken: h['next-poll-configuration-token'] || undefined,
      nextIntervalSeconds: Number.isFinite(interval) && interval > 0 ? interval : undefined,
    };
  }

  /**
   * One AppConfigData call, bounded by the poll timeout (`AWS_APPCONFIG_EXTENSION_POLL_TIMEOUT_MILLIS`): a
   * bound of the client's, not an abort, so a silent AppConfigData counts as failing in `/v1/health`.
   */
  async #call(target: AppConfigTarget, req: RestRequest) {
    const ms = this.#opts.pollTimeoutMs;
    try {
      return await this.#opts.aws.rest('appconfigdata', target.region, req, { timeoutMs: ms });
    } catch (err) {
      if (!(err instanceof AwsTransportError && err.reason === 'timeout')) throw err;
      throw new AwsTransportError(
        `appconfigdata did not answer within ${ms} ms`,
        { reason: 'timeout', phase: err.phase },
        { cause: err },
      );
    }
  }
}

function same(stored: Stored<AppConfigMeta>, payload: AppConfigPayload): boolean {
  return (
    stored.meta.contentType === payload.contentType &&
    stored.meta.version === payload.versionLabel &&
    stored.body.equals(payload.content)
  );
}

/** The configured entries: the `appconfig:` section, then `AWS_APPCONFIG_EXTENSION_PREFETCH_LIST`'s. */
function entriesOf(config: CacheConfig, deps: SourceDeps): AppConfigEntry[] {
  const prefetch = deps.settings.appconfigPrefetch.map((ref) => ({
    ...ref,
    region: undefined,
    pollIntervalMs: undefined,
  }));
  return [...sectionOf(config, appconfigSection), ...prefetch];
}

/** The AppConfig source, as `sources/index.ts` registers it. */
export const appconfigEntry: SourceEntry = {
  section: appconfigSection as SourceEntry['section'],
  create(deps: SourceDeps): AppConfigSource {
    return new AppConfigSource({
      aws: deps.aws,
      clock: deps.clock,
      entries: entriesOf(deps.config, deps),
      region: deps.region,
      pollIntervalMs: deps.settings.appconfigPollIntervalMs,
      pollTimeoutMs: deps.settings.appconfigPollTimeoutMs,
      logger: deps.logger,
    });
  },
};
