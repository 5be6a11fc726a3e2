/**
 * Environment variable names, defaults and strict parsers, read by both the extension and the client.
 * Empty means unset; every parser throws {@link EnvError} naming the variable and the valid values.
 */

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
  /** Set by Lambda; its value is the token every v1 request must carry. */
  sessionToken: 'AWS_SESSION_TOKEN',
  /** Set by Lambda inside the execution environment; unset means "run as a standalone local server". */
  runtimeApi: 'AWS_LAMBDA_RUNTIME_API',
  /** `JSON` switches log lines to JSON objects, as Lambda's advanced logging controls do. */
  logFormat: 'AWS_LAMBDA_LOG_FORMAT',
  region: 'AWS_REGION',
} as const;

export const DEFAULTS = {
  port: 3000,
  ttlMs: 5 * 60_000,
  initStartup: true,
  configPath: '/var/task/config.yaml',
  logLevel: 'info',
  maxEntries: 10_000,
  maxBytes: 64 * 1024 * 1024,
  legacyRoutes: false,
} as const;

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
  /** Default freshness of an entry, from `CACHE_EXTENSION_TTL`, else `CACHE_TIMEOUT_IN_MINUTES`, else 5m. */
  readonly ttlMs: number;
  readonly initStartup: boolean;
  readonly configPath: string;
  readonly logLevel: LogLevel;
  readonly logFormat: 'text' | 'json';
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly legacyRoutes: boolean;
  /** Expected `X-Aws-Parameters-Secrets-Token`; `undefined` turns the check off (local runs). */
  readonly sessionToken: string | undefined;
  /** `host:port` of the Lambda Runtime API; `undefined` outside Lambda. */
  readonly runtimeApi: string | undefined;
  readonly region: string | undefined;
}

/** Parses every extension setting; the first bad variable throws an {@link EnvError}. */
export function parseExtensionSettings(env: Env): ExtensionSettings {
  const ttlMs =
    readParsed(env, ENV.ttl, parseDuration) ??
    readParsed(env, ENV.legacyTimeoutMinutes, parseLegacyTimeout) ??
    DEFAULTS.ttlMs;
  const format = readVar(env, ENV.logFormat);
  return Object.freeze({
    port: readPort(env),
    ttlMs,
    initStartup: readParsed(env, ENV.initStartup, parseBoolean) ?? DEFAULTS.initStartup,
    configPath: readVar(env, ENV.config) ?? DEFAULTS.configPath,
    logLevel: readParsed(env, ENV.logLevel, parseLogLevel) ?? DEFAULTS.logLevel,
    logFormat: format?.toUpperCase() === 'JSON' ? 'json' : 'text',
    maxEntries: readParsed(env, ENV.maxEntries, (t) => parseInteger(t, 1, 10_000_000)) ?? DEFAULTS.maxEntries,
    maxBytes:
      readParsed(env, ENV.maxBytes, (t) => parseInteger(t, 1024, 8 * 1024 * 1024 * 1024)) ??
      DEFAULTS.maxBytes,
    legacyRoutes: readParsed(env, ENV.legacyRoutes, parseBoolean) ?? DEFAULTS.legacyRoutes,
    sessionToken: env[ENV.sessionToken] || undefined,
    runtimeApi: readVar(env, ENV.runtimeApi),
    region: readVar(env, ENV.region),
  });
}
