/**
 * Environment variable names, defaults and strict parsers, read by both the extension and the client.
 * Empty means unset; every parser throws {@link EnvError} naming the variable and the valid values.
 */
import { parseAppConfigAgentPath, RouteError } from './routes.js';

export const ENV = {
  port: 'CACHE_EXTENSION_PORT',
  ttl: 'CACHE_EXTENSION_TTL',
  legacyTimeoutMinutes: 'CACHE_TIMEOUT_IN_MINUTES',
  initStartup: 'CACHE_EXTENSION_INIT_STARTUP',
  config: 'CACHE_EXTENSION_CONFIG',
  logLevel: 'CACHE_EXTENSION_LOG_LEVEL',
  maxEntries: 'CACHE_EXTENSION_MAX_ENTRIES',
  maxBytes: 'CACHE_EXTENSION_MAX_BYTES',
  legacyRoutes: 'CACHE_EXTENSION_LEGACY_ROUTES',
  /**
   * The names of AWS's Parameters and Secrets Lambda extension, read as aliases so a function written for it
   * runs unchanged; where one of lambda-cache's own names means the same thing and is set, that one wins.
   * https://docs.aws.amazon.com/systems-manager/latest/userguide/ps-integration-lambda-extensions.html
   */
  awsPort: 'PARAMETERS_SECRETS_EXTENSION_HTTP_PORT',
  awsParameterTtl: 'SSM_PARAMETER_STORE_TTL',
  awsSecretTtl: 'SECRETS_MANAGER_TTL',
  awsCacheSize: 'PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE',
  awsCacheEnabled: 'PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED',
  awsLogLevel: 'PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL',
  awsParameterTimeout: 'SSM_PARAMETER_STORE_TIMEOUT_MILLIS',
  awsSecretTimeout: 'SECRETS_MANAGER_TIMEOUT_MILLIS',
  awsMaxConnections: 'PARAMETERS_SECRETS_EXTENSION_MAX_CONNECTIONS',
  /**
   * The names of AWS's AppConfig Agent Lambda extension, read as aliases so a function written for it runs
   * unchanged (defaults as that extension documents them):
   * https://docs.aws.amazon.com/appconfig/latest/userguide/appconfig-integration-lambda-extensions-config.html
   */
  appconfigPrefetchList: 'AWS_APPCONFIG_EXTENSION_PREFETCH_LIST',
  appconfigPollInterval: 'AWS_APPCONFIG_EXTENSION_POLL_INTERVAL_SECONDS',
  appconfigPollTimeout: 'AWS_APPCONFIG_EXTENSION_POLL_TIMEOUT_MILLIS',
  appconfigPort: 'AWS_APPCONFIG_EXTENSION_HTTP_PORT',
  /** Set by Lambda; its value is the token every v1 request must carry. */
  sessionToken: 'AWS_SESSION_TOKEN',
  /** The token the Secrets Manager Agent expects where the environment has no session token (containers). */
  containerToken: 'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  /** Set by Lambda inside the execution environment; unset means "run as a standalone local server". */
  runtimeApi: 'AWS_LAMBDA_RUNTIME_API',
  /** `JSON` switches log lines to JSON objects, as Lambda's advanced logging controls do. */
  logFormat: 'AWS_LAMBDA_LOG_FORMAT',
  region: 'AWS_REGION',
} as const;

/**
 * The longest the extension keeps one request waiting before it answers: for its store while it starts
 * (then `503`, which the client retries) and for a load still running (then `504`, or the stale value).
 * Shorter than the client's attempt timeout, so a caller gets the extension's answer, not its own timeout.
 */
export const EXTENSION_REQUEST_WAIT_MS = 4500;
/** The client's default attempt timeout: the extension's longest wait and half a second for the answer. */
export const CLIENT_ATTEMPT_TIMEOUT_MS = EXTENSION_REQUEST_WAIT_MS + 500;

export const DEFAULTS = {
  port: 3000,
  ttlMs: 5 * 60_000,
  initStartup: true,
  configPath: '/var/task/config.yaml',
  logLevel: 'info',
  maxEntries: 10_000,
  maxBytes: 64 * 1024 * 1024,
  legacyRoutes: false,
  /** The port of AWS's Parameters and Secrets extension, where code written for it sends its requests. */
  awsPort: 2773,
  /** The port of AWS's AppConfig extension, where code written for it sends its requests. */
  appconfigPort: 2772,
  /** How often AWS's AppConfig extension polls AppConfig by default. */
  appconfigPollIntervalSeconds: 45,
  /** How long AWS's AppConfig extension waits for AppConfig by default. */
  appconfigPollTimeoutMs: 3000,
} as const;

/** AWS's extension caches for at most 5 minutes; its TTL variables are whole seconds from 0 to 300. */
const AWS_MAX_TTL_SECONDS = 300;
/** AWS's extension holds at most 1000 entries; 0 turns its cache off. */
const AWS_MAX_CACHE_SIZE = 1000;
/**
 * Longest AWS call deadline accepted from `SSM_PARAMETER_STORE_TIMEOUT_MILLIS`: a request waits for its
 * load a second longer than the deadline, and a function waiting longer than this on a read is better
 * served by an error.
 */
export const MAX_AWS_TIMEOUT_MS = 30_000;

/**
 * `RequiredMinimumPollIntervalInSeconds` of AppConfigData's `StartConfigurationSession`: 15 to 86 400.
 * https://docs.aws.amazon.com/appconfig/2019-10-09/APIReference/API_appconfigdata_StartConfigurationSession.html
 */
export const APPCONFIG_POLL_INTERVAL_SECONDS = Object.freeze({ min: 15, max: 86_400 });

/** Lambda's Runtime API listens on 9001 inside the execution environment. */
export const RESERVED_PORTS: readonly number[] = [9001];

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'none'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type Env = Readonly<Record<string, string | undefined>>;

export class EnvError extends Error {
  override readonly name = 'EnvError';
  readonly code = 'EnvInvalid';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

/** The variable's value, trimmed, or `undefined` when unset or empty. */
export function readVar(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  return trimmed === '' ? undefined : trimmed;
}

const DECIMAL = /^[0-9]+$/;

/** A non-negative decimal integer, no sign, no exponent, no hex; throws a message stating the range. */
export function parseInteger(text: string, min: number, max: number): number {
  if (!DECIMAL.test(text))
    throw new RangeError(`"${text}" is not a whole decimal number (expected ${min} to ${max})`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new RangeError(`${text} is out of range (expected ${min} to ${max})`);
  }
  return n;
}

/** A TCP port for the extension: 0 (pick a free one) to 65535, never a reserved port. */
export function parsePort(text: string): number {
  const port = parseInteger(text, 0, 65535);
  if (RESERVED_PORTS.includes(port)) {
    throw new RangeError(`${port} is reserved by the Lambda Runtime API (expected 0 to 65535, not 9001)`);
  }
  return port;
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(?:([0-9]+(?:\.[0-9]+)?)(ms|s|m|h))+$/;
const DURATION_PART = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g;
/** Longest accepted duration: a day. A longer TTL is almost certainly a unit mistake. */
export const MAX_DURATION_MS = 24 * 3_600_000;

/**
 * A Go-style duration (`500ms`, `30s`, `5m`, `1h30m`) in milliseconds, `0` allowed (`0s`: never fresh).
 * A bare number is refused: `5` could mean seconds or minutes.
 */
export function parseDuration(text: string): number {
  if (text === '0') return 0;
  if (!DURATION.test(text)) {
    throw new RangeError(
      `"${text}" is not a duration (expected a number with a unit: ms, s, m or h, e.g. 30s, 5m, 1h)`,
    );
  }
  let ms = 0;
  for (const match of text.matchAll(DURATION_PART)) {
    ms += Number(match[1]) * (DURATION_UNITS[match[2] as string] as number);
  }
  ms = Math.round(ms);
  if (ms > MAX_DURATION_MS) {
    throw new RangeError(
      `"${text}" is longer than the maximum of 24h (expected a duration from 0s to 24h, e.g. 30s, 5m, 1h)`,
    );
  }
  return ms;
}

/** Milliseconds as the shortest Go-style duration (`300000` → `5m`), for logs and messages. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}

const TRUE_WORDS: readonly string[] = ['true', 'yes', '1'];
const FALSE_WORDS: readonly string[] = ['false', 'no', '0'];

/** `true`/`false`, also `yes`/`no` and `1`/`0`, in any case; the message lists every one of them. */
export function parseBoolean(text: string): boolean {
  const t = text.toLowerCase();
  if (TRUE_WORDS.includes(t)) return true;
  if (FALSE_WORDS.includes(t)) return false;
  throw new RangeError(`"${text}" is not a boolean (expected true, false, yes, no, 1 or 0, in any case)`);
}

export function parseLogLevel(text: string): LogLevel {
  const t = text.toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(t)) return t as LogLevel;
  throw new RangeError(
    `"${text}" is not a log level (expected one of ${LOG_LEVELS.join(', ')}, in any case)`,
  );
}

/**
 * The seed's `CACHE_TIMEOUT_IN_MINUTES`: whole minutes (`10`), as its name says, or a Go duration (`10m`),
 * which is what the seed actually parsed it as (`time.ParseDuration`), so values set for the seed keep working.
 */
export function parseLegacyTimeout(text: string): number {
  const expected = '(expected whole minutes from 0 to 1440, or a duration from 0s to 24h such as 10m)';
  if (DECIMAL.test(text)) {
    const minutes = Number(text);
    if (minutes > MAX_DURATION_MS / 60_000)
      throw new RangeError(`${text} minutes is out of range ${expected}`);
    return minutes * 60_000;
  }
  if (!DURATION.test(text)) {
    throw new RangeError(`"${text}" is neither whole minutes nor a duration ${expected}`);
  }
  try {
    return parseDuration(text);
  } catch {
    // A well-formed duration fails only by being too long.
    throw new RangeError(`"${text}" is longer than the maximum of 24h ${expected}`);
  }
}

/** A whole number of `unit`s from `min` to `max`; the message names the unit and the range. */
function parseCount(text: string, min: number, max: number, unit: string): number {
  const expected = `(expected whole ${unit} from ${min} to ${max})`;
  if (!DECIMAL.test(text)) throw new RangeError(`"${text}" is not a whole number of ${unit} ${expected}`);
  const n = Number(text);
  if (n < min || n > max) throw new RangeError(`${text} ${unit} is out of range ${expected}`);
  return n;
}

/** Whole seconds as AWS's extension reads its TTLs (`0` to `300`, `0`: no caching), in milliseconds. */
export function parseAwsTtlSeconds(text: string): number {
  return parseCount(text, 0, AWS_MAX_TTL_SECONDS, 'seconds') * 1000;
}

/**
 * Milliseconds as AWS's extension reads its `…_TIMEOUT_MILLIS`, where `0` means "no timeout of its own":
 * `undefined` then, so lambda-cache's default deadlines apply (a load is never unbounded).
 */
export function parseAwsTimeoutMillis(text: string): number | undefined {
  const ms = parseCount(text, 0, MAX_AWS_TIMEOUT_MS, 'milliseconds');
  return ms === 0 ? undefined : ms;
}

/**
 * Whole seconds between AppConfig polls, as `AWS_APPCONFIG_EXTENSION_POLL_INTERVAL_SECONDS` gives them, in
 * milliseconds. A value below AppConfig's minimum of 15 is raised to it (AppConfigData refuses a session that
 * asks for less), so a function configured for AWS's extension with a shorter interval still starts; the
 * start log shows the interval in effect.
 */
export function parseAppConfigPollIntervalSeconds(text: string): number {
  const { min, max } = APPCONFIG_POLL_INTERVAL_SECONDS;
  return Math.max(min, parseCount(text, 0, max, 'seconds')) * 1000;
}

/** A configuration named by application, environment and profile (names or ids), as AWS's AppConfig extension lists them. */
export interface AppConfigRef {
  readonly application: string;
  readonly environment: string;
  readonly profile: string;
}

/**
 * `AWS_APPCONFIG_EXTENSION_PREFETCH_LIST`: comma-separated
 * `/applications/{application}/environments/{environment}/configurations/{profile}` paths (as AWS's
 * extension reads them: a name holding a comma is given by its id), each listed once. Spaces around an
 * item are ignored; an empty item (`a,,b`, a trailing comma) or any other form is refused, naming the item.
 */
export function parseAppConfigPrefetchList(text: string): readonly AppConfigRef[] {
  const out: AppConfigRef[] = [];
  const seen = new Set<string>();
  const items = text.split(',');
  for (const [index, raw] of items.entries()) {
    const item = raw.trim();
    const which = `item ${index + 1} of ${items.length}`;
    const expected =
      'a comma-separated list of /applications/{application}/environments/{environment}/configurations/{profile}';
    if (item === '') throw new RangeError(`${which} is empty (expected ${expected})`);
    let ref: AppConfigRef;
    try {
      const q = parseAppConfigAgentPath(item, new URLSearchParams());
      ref = { application: q.application, environment: q.environment, profile: q.profile };
    } catch (err) {
      if (!(err instanceof RouteError)) throw err;
      const shown = JSON.stringify(item.length > 64 ? `${item.slice(0, 64)}…` : item);
      throw new RangeError(`${which}, ${shown}: ${err.message} (expected ${expected})`);
    }
    const id = JSON.stringify([ref.application, ref.environment, ref.profile]);
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(Object.freeze(ref));
  }
  return Object.freeze(out);
}

/** Reads one variable with a parser, wrapping parser errors in an {@link EnvError} that names it. */
export function readParsed<T>(env: Env, name: string, parse: (text: string) => T): T | undefined {
  const text = readVar(env, name);
  if (text === undefined) return undefined;
  try {
    return parse(text);
  } catch (err) {
    throw new EnvError(name, (err as Error).message);
  }
}

/** The port the extension listens on and the client connects to. */
export function readPort(env: Env): number {
  return readParsed(env, ENV.port, parsePort) ?? DEFAULTS.port;
}

/** Every setting the extension takes from its environment, validated. */
export interface ExtensionSettings {
  readonly port: number;
  /**
   * Where the routes of AWS's Parameters and Secrets extension are served too, from
   * `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`; default 2773, or 0 (a free port) when `port` is 0. Equal to a
   * non-zero `port`, one listener serves both.
   */
  readonly awsPort: number;
  /**
   * Default freshness of an entry: `CACHE_EXTENSION_TTL`, else `CACHE_TIMEOUT_IN_MINUTES`, else `0` when
   * caching is off, else `SSM_PARAMETER_STORE_TTL`, else 5m.
   */
  readonly ttlMs: number;
  /**
   * Default freshness of a secret from the Secrets Manager source: as `ttlMs`, with `SECRETS_MANAGER_TTL`
   * in place of `SSM_PARAMETER_STORE_TTL`.
   */
  readonly secretTtlMs: number;
  /**
   * `false` when `PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED` is false or `PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE`
   * is 0: the default TTLs are then 0 (every read goes to AWS) unless lambda-cache's own TTL variables are set.
   */
  readonly cacheEnabled: boolean;
  readonly initStartup: boolean;
  readonly configPath: string;
  readonly logLevel: LogLevel;
  readonly logFormat: 'text' | 'json';
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly legacyRoutes: boolean;
  /**
   * Deadline of an AWS call, all attempts included, from `SSM_PARAMETER_STORE_TIMEOUT_MILLIS`;
   * `undefined`: lambda-cache's default.
   */
  readonly awsTimeoutMs: number | undefined;
  /** `SECRETS_MANAGER_TIMEOUT_MILLIS`, for the Secrets Manager source; `undefined`: the default. */
  readonly secretTimeoutMs: number | undefined;
  /**
   * `PARAMETERS_SECRETS_EXTENSION_MAX_CONNECTIONS`, accepted so a function configured for AWS's extension
   * starts; lambda-cache's AWS client sizes its own pool (calls are batched), so nothing reads it.
   */
  readonly awsMaxConnections: number | undefined;
  /**
   * Where the route of AWS's AppConfig extension is served too, from `AWS_APPCONFIG_EXTENSION_HTTP_PORT`;
   * default 2772, or 0 (a free port) when `port` is 0.
   */
  readonly appconfigPort: number;
  /** `AWS_APPCONFIG_EXTENSION_PREFETCH_LIST`: configurations prefetched besides `config.yaml`'s `appconfig:`. */
  readonly appconfigPrefetch: readonly AppConfigRef[];
  /**
   * `AWS_APPCONFIG_EXTENSION_POLL_INTERVAL_SECONDS` (15 to 86 400 s, default 45 s): how often a
   * configuration is polled, and its freshness, unless its `appconfig:` entry says otherwise.
   */
  readonly appconfigPollIntervalMs: number;
  /**
   * `AWS_APPCONFIG_EXTENSION_POLL_TIMEOUT_MILLIS` (1 to 30 000 ms, default 3000; `0`, which AWS's extension
   * does not define, is the default): the bound on each AppConfigData call.
   */
  readonly appconfigPollTimeoutMs: number;
  /**
   * Expected `X-Aws-Parameters-Secrets-Token`: `AWS_SESSION_TOKEN`, or `AWS_CONTAINER_AUTHORIZATION_TOKEN`
   * where there is none (as the Secrets Manager Agent takes them); `undefined` turns the check off (local runs).
   */
  readonly sessionToken: string | undefined;
  /** `host:port` of the Lambda Runtime API; `undefined` outside Lambda. */
  readonly runtimeApi: string | undefined;
  readonly region: string | undefined;
}

/** Parses every extension setting; the first bad variable throws an {@link EnvError}. */
export function parseExtensionSettings(env: Env): ExtensionSettings {
  const ownTtlMs =
    readParsed(env, ENV.ttl, parseDuration) ?? readParsed(env, ENV.legacyTimeoutMinutes, parseLegacyTimeout);
  const cacheSize = readParsed(env, ENV.awsCacheSize, (t) => parseInteger(t, 0, AWS_MAX_CACHE_SIZE));
  const cacheEnabled = (readParsed(env, ENV.awsCacheEnabled, parseBoolean) ?? true) && cacheSize !== 0;
  // AWS's extension with its cache off asks AWS on every read: a TTL of 0 does that (concurrent reads of
  // one name still share one call). lambda-cache's own TTL, set too, says otherwise and wins.
  const awsTtl = (name: string): number | undefined => {
    const ms = readParsed(env, name, parseAwsTtlSeconds);
    return cacheEnabled ? ms : 0;
  };
  const parameterTtlMs = awsTtl(ENV.awsParameterTtl);
  const secretTtlMs = awsTtl(ENV.awsSecretTtl);
  const port = readPort(env);
  const format = readVar(env, ENV.logFormat);
  return Object.freeze({
    port,
    // Port 0 is for tests and local runs, which must never take a fixed port behind the caller's back.
    awsPort: readParsed(env, ENV.awsPort, parsePort) ?? (port === 0 ? 0 : DEFAULTS.awsPort),
    ttlMs: ownTtlMs ?? parameterTtlMs ?? DEFAULTS.ttlMs,
    secretTtlMs: ownTtlMs ?? secretTtlMs ?? DEFAULTS.ttlMs,
    cacheEnabled,
    initStartup: readParsed(env, ENV.initStartup, parseBoolean) ?? DEFAULTS.initStartup,
    configPath: readVar(env, ENV.config) ?? DEFAULTS.configPath,
    logLevel:
      readParsed(env, ENV.logLevel, parseLogLevel) ??
      readParsed(env, ENV.awsLogLevel, parseLogLevel) ??
      DEFAULTS.logLevel,
    logFormat: format?.toUpperCase() === 'JSON' ? 'json' : 'text',
    // A cache size of 0 turns caching off (above) rather than holding nothing.
    maxEntries:
      readParsed(env, ENV.maxEntries, (t) => parseInteger(t, 1, 10_000_000)) ??
      (cacheSize === 0 ? undefined : cacheSize) ??
      DEFAULTS.maxEntries,
    maxBytes:
      readParsed(env, ENV.maxBytes, (t) => parseInteger(t, 1024, 8 * 1024 * 1024 * 1024)) ??
      DEFAULTS.maxBytes,
    legacyRoutes: readParsed(env, ENV.legacyRoutes, parseBoolean) ?? DEFAULTS.legacyRoutes,
    awsTimeoutMs: readParsed(env, ENV.awsParameterTimeout, parseAwsTimeoutMillis),
    secretTimeoutMs: readParsed(env, ENV.awsSecretTimeout, parseAwsTimeoutMillis),
    awsMaxConnections: readParsed(env, ENV.awsMaxConnections, (t) => parseInteger(t, 1, 1_000_000)),
    appconfigPort: readParsed(env, ENV.appconfigPort, parsePort) ?? (port === 0 ? 0 : DEFAULTS.appconfigPort),
    appconfigPrefetch: readParsed(env, ENV.appconfigPrefetchList, parseAppConfigPrefetchList) ?? [],
    appconfigPollIntervalMs:
      readParsed(env, ENV.appconfigPollInterval, parseAppConfigPollIntervalSeconds) ??
      DEFAULTS.appconfigPollIntervalSeconds * 1000,
    appconfigPollTimeoutMs:
      readParsed(env, ENV.appconfigPollTimeout, parseAwsTimeoutMillis) ?? DEFAULTS.appconfigPollTimeoutMs,
    sessionToken: env[ENV.sessionToken] || env[ENV.containerToken] || undefined,
    runtimeApi: readVar(env, ENV.runtimeApi),
    region: readVar(env, ENV.region),
  });
}
