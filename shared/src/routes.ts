/**
 * Routes: builders for clients, parsers for the server. A client never concatenates a URL by hand and the
 * server never reads a query parameter the builders do not write.
 */
import { decodeKey, encodeKey, type KeyAttributes, KeyError } from './keys.js';

export const ROUTES = {
  parameters: '/v1/parameters',
  dynamodb: '/v1/dynamodb',
  ping: '/ping',
  health: '/v1/health',
  stats: '/v1/stats',
  /** AWS Parameters and Secrets Lambda extension compatible. */
  awsParameter: '/systemsmanager/parameters/get',
  secrets: '/v1/secrets',
  /** AWS Parameters and Secrets Lambda extension and Secrets Manager Agent compatible. */
  awsSecret: '/secretsmanager/get',
  appconfig: '/v1/appconfig',
  /**
   * AWS AppConfig Lambda extension compatible: `/applications/{app}/environments/{env}/configurations/{profile}`,
   * served without a token, as AWS's extension serves it.
   */
  appconfigAgent: '/applications/',
} as const;

/**
 * The seed's routes, served only with `CACHE_EXTENSION_LEGACY_ROUTES=true`, without a token, and only for
 * what `config.yaml` covers: a parameter it names or one under a configured `path` (a direct child unless
 * `recursive`), an item it names. Anything else is a `404` pointing to the v1 route, which needs the token.
 *
 * An item's id is `TABLE-HASH[-SORT]` built from its configured key, in either order of the two values
 * (the config does not record which attribute is the partition key), and compared whole: a `-` in a table
 * name or a value needs no escaping. An id that two configured items spell (`T-a-b-c` for `a-b`/`c` and
 * `a`/`b-c`, or two items that swap their values) serves neither and is a `400`; use `/v1/dynamodb`.
 */
export const LEGACY_ROUTES = {
  /** `/parameters/NAME` and `/parameters?name=NAME`. */
  parameters: '/parameters',
  /** `/dynamodb/TABLE-HASH[-SORT]` and `/dynamodb?name=TABLE-HASH[-SORT]`. */
  dynamodb: '/dynamodb',
} as const;

/** SSM's limit on a parameter name, including a `:version` or `:label` selector. */
export const MAX_PARAMETER_NAME_LENGTH = 2048;
/** DynamoDB table names are 3–255 characters; an ARN may be longer. */
export const MAX_TABLE_NAME_LENGTH = 1024;

export class RouteError extends Error {
  override readonly name = 'RouteError';
  readonly code = 'BadRequest';
}

export interface ParameterQuery {
  readonly name: string;
  /** Default `true`: `SecureString` values are decrypted. */
  readonly decrypt: boolean;
  /** Ask the extension to fetch from the backend now rather than serve from memory. */
  readonly refresh: boolean;
}

export interface DynamoDbQuery {
  readonly table: string;
  readonly key: KeyAttributes;
  readonly refresh: boolean;
}

function query(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) search.set(k, v);
  return search.toString().replace(/\+/g, '%20');
}

/** Path and query of a parameter read: `/v1/parameters?name=...`. */
export function parameterPath(name: string, opts: { decrypt?: boolean; refresh?: boolean } = {}): string {
  checkParameterName(name);
  return `${ROUTES.parameters}?${query({
    name,
    decrypt: opts.decrypt === false ? 'false' : undefined,
    refresh: opts.refresh ? 'true' : undefined,
  })}`;
}

/** Path and query of an item read: `/v1/dynamodb?table=...&key=<canonical key>`. */
export function dynamodbPath(table: string, key: KeyAttributes, opts: { refresh?: boolean } = {}): string {
  checkTableName(table);
  return `${ROUTES.dynamodb}?${query({ table, key: encodeKey(key), refresh: opts.refresh ? 'true' : undefined })}`;
}

function checkParameterName(name: string): void {
  if (name.length === 0) throw new RouteError('name is required: the parameter name, e.g. /app/prod/db-url');
  if (name.length > MAX_PARAMETER_NAME_LENGTH) {
    throw new RouteError(
      `name is ${name.length} characters; SSM allows at most ${MAX_PARAMETER_NAME_LENGTH}`,
    );
  }
}

function checkTableName(table: string): void {
  if (table.length === 0) throw new RouteError('table is required: the DynamoDB table name');
  if (table.length > MAX_TABLE_NAME_LENGTH) {
    throw new RouteError(`table is ${table.length} characters; at most ${MAX_TABLE_NAME_LENGTH} are allowed`);
  }
}

function single(search: URLSearchParams, name: string): string | undefined {
  const all = search.getAll(name);
  if (all.length > 1) throw new RouteError(`${name} is given ${all.length} times; give it once`);
  return all[0];
}

function flag(search: URLSearchParams, name: string, fallback: boolean): boolean {
  const v = single(search, name);
  if (v === undefined || v === '') return fallback;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new RouteError(`${name} must be true or false, not "${v.slice(0, 40)}"`);
}

function only(search: URLSearchParams, allowed: readonly string[]): void {
  for (const k of search.keys()) {
    if (!allowed.includes(k)) {
      throw new RouteError(`unknown query parameter "${k.slice(0, 64)}" (expected ${allowed.join(', ')})`);
    }
  }
}

/** Parses the query of `GET /v1/parameters`. Throws {@link RouteError} with a message for the caller. */
export function parseParameterQuery(search: URLSearchParams): ParameterQuery {
  only(search, ['name', 'decrypt', 'refresh']);
  const name = single(search, 'name') ?? '';
  checkParameterName(name);
  return { name, decrypt: flag(search, 'decrypt', true), refresh: flag(search, 'refresh', false) };
}

/** Parses the query of `GET /v1/dynamodb`. Throws {@link RouteError} with a message for the caller. */
export function parseDynamoDbQuery(search: URLSearchParams): DynamoDbQuery {
  only(search, ['table', 'key', 'refresh']);
  const table = single(search, 'table') ?? '';
  checkTableName(table);
  const keyText = single(search, 'key');
  if (keyText === undefined || keyText === '') {
    throw new RouteError('key is required: the item key in DynamoDB JSON, e.g. {"pKey":{"S":"pKey1"}}');
  }
  try {
    return { table, key: decodeKey(keyText), refresh: flag(search, 'refresh', false) };
  } catch (err) {
    if (err instanceof KeyError) throw new RouteError(`key: ${err.message}`);
    throw err;
  }
}

const AWS_PARAMETER_KEYS = ['name', 'version', 'label', 'withDecryption'] as const;

/**
 * Parses the query of `GET /systemsmanager/parameters/get`, the route of AWS's Parameters and Secrets
 * extension: `name` (required), `version` or `label` (not both; either becomes the `:selector` of the
 * name), `withDecryption` (`true` or `false` in any case, default `false`). A repeated parameter counts
 * once, by its first value, as AWS's extension reads it. Throws {@link RouteError}.
 */
export function parseAwsParameterQuery(search: URLSearchParams): ParameterQuery {
  only(search, AWS_PARAMETER_KEYS);
  const name = search.get('name') ?? '';
  if (name === '') throw new RouteError('name is required');
  const version = search.get('version');
  const label = search.get('label');
  if (version && label) throw new RouteError('give version or label, not both');
  if (version && !/^[0-9]{1,10}$/.test(version)) throw new RouteError('version must be a whole number');
  const selector = version ? `:${version}` : label ? `:${label}` : '';
  const decryptText = (search.get('withDecryption') ?? 'false').toLowerCase();
  if (decryptText !== 'true' && decryptText !== 'false') {
    throw new RouteError('withDecryption must be true or false');
  }
  return { name: `${name}${selector}`, decrypt: decryptText === 'true', refresh: false };
}

/**
 * The `name` of the seed's `GET /parameters?name=NAME` and `GET /dynamodb?name=TABLE-HASH[-SORT]`: the
 * first `name`, other parameters ignored, as the seed read it. Throws {@link RouteError} when it is missing.
 */
export function parseLegacyQuery(search: URLSearchParams): string {
  const name = search.get('name') ?? '';
  if (name === '') {
    throw new RouteError('name is required: a parameter name, or TABLE-HASH[-SORT] for /dynamodb');
  }
  return name;
}

/**
 * The `NAME` of the seed's `GET /parameters/NAME` and `GET /dynamodb/TABLE-HASH[-SORT]`: the path segment
 * after the route, percent-decoded (so a name may hold `/` as `%2F`, or as itself). Throws
 * {@link RouteError} when it is not valid percent-encoding of UTF-8.
 */
export function parseLegacyPathName(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new RouteError('the path is not valid percent-encoding');
  }
}

/** Secrets Manager's limit on a secret id (a name or an ARN). */
export const MAX_SECRET_ID_LENGTH = 2048;
/** Version ids are 32 to 64 characters; staging labels 1 to 256. */
const VERSION_ID = /^[A-Za-z0-9-]{32,64}$/;
const MAX_STAGE_LENGTH = 256;
/** AppConfig identifiers (a name or an id) are 1 to 128 characters; flag keys start with a letter. */
export const MAX_APPCONFIG_IDENTIFIER_LENGTH = 128;
const FLAG_KEY = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
/** Flags one request may filter by. */
export const MAX_FLAGS_PER_REQUEST = 100;

export interface SecretQuery {
  /** The secret's name or ARN. */
  readonly id: string;
  /** At most one of `versionId` and `versionStage`; neither means `AWSCURRENT`. */
  readonly versionId?: string;
  readonly versionStage?: string;
  readonly refresh: boolean;
}

export interface AppConfigQuery {
  /** Names or ids, as AppConfigData accepts them. */
  readonly application: string;
  readonly environment: string;
  readonly profile: string;
  /** Only these flags of a feature-flag profile, in this order; `undefined`: the whole configuration. */
  readonly flags?: readonly string[];
  readonly refresh: boolean;
}

function checkSecretId(id: string, param: string): void {
  if (id.length === 0) throw new RouteError(`${param} is required: the secret's name or ARN`);
  if (id.length > MAX_SECRET_ID_LENGTH) {
    throw new RouteError(
      `${param} is ${id.length} characters; Secrets Manager allows at most ${MAX_SECRET_ID_LENGTH}`,
    );
  }
}

function checkVersion(versionId: string | undefined, versionStage: string | undefined): void {
  if (versionId !== undefined && versionStage !== undefined) {
    throw new RouteError('give versionId or versionStage, not both');
  }
  if (versionId !== undefined && !VERSION_ID.test(versionId)) {
    throw new RouteError(
      'versionId must be 32 to 64 letters, digits or hyphens (a version id such as a UUID)',
    );
  }
  if (versionStage !== undefined && (versionStage.length === 0 || versionStage.length > MAX_STAGE_LENGTH)) {
    throw new RouteError(`versionStage must be 1 to ${MAX_STAGE_LENGTH} characters, e.g. AWSCURRENT`);
  }
}

function secretQuery(
  id: string,
  versionId: string | undefined,
  versionStage: string | undefined,
  refresh: boolean,
): SecretQuery {
  return {
    id,
    ...(versionId !== undefined ? { versionId } : {}),
    ...(versionStage !== undefined ? { versionStage } : {}),
    refresh,
  };
}

/** Path and query of a secret read: `/v1/secrets?id=…[&versionId=…|&versionStage=…]`. */
export function secretPath(
  id: string,
  opts: { versionId?: string; versionStage?: string; refresh?: boolean } = {},
): string {
  checkSecretId(id, 'id');
  checkVersion(opts.versionId, opts.versionStage);
  return `${ROUTES.secrets}?${query({
    id,
    versionId: opts.versionId,
    versionStage: opts.versionStage,
    refresh: opts.refresh ? 'true' : undefined,
  })}`;
}

/** Parses the query of `GET /v1/secrets`. Throws {@link RouteError} with a message for the caller. */
export function parseSecretQuery(search: URLSearchParams): SecretQuery {
  // `refreshNow` too: the name AWS's Secrets Manager Agent gives it, as DESIGN.md writes the route.
  only(search, ['id', 'versionId', 'versionStage', 'refresh', 'refreshNow']);
  const id = single(search, 'id') ?? '';
  checkSecretId(id, 'id');
  const versionId = single(search, 'versionId') || undefined;
  const versionStage = single(search, 'versionStage') || undefined;
  checkVersion(versionId, versionStage);
  const refresh = flag(search, 'refresh', false) || flag(search, 'refreshNow', false);
  return secretQuery(id, versionId, versionStage, refresh);
}

const AWS_SECRET_KEYS = ['secretId', 'versionId', 'versionStage', 'refreshNow'] as const;

/**
 * Parses the query of `GET /secretsmanager/get`, the route of AWS's Parameters and Secrets extension and
 * of the Secrets Manager Agent: `secretId` (required), `versionId` or `versionStage`, and the agent's
 * `refreshNow` (`true` or `false` in any case). A repeated parameter counts by its first value, as AWS's
 * extension reads it. Throws {@link RouteError}.
 */
export function parseAwsSecretQuery(search: URLSearchParams): SecretQuery {
  only(search, AWS_SECRET_KEYS);
  const id = search.get('secretId') ?? '';
  checkSecretId(id, 'secretId');
  const versionId = search.get('versionId') || undefined;
  const versionStage = search.get('versionStage') || undefined;
  checkVersion(versionId, versionStage);
  const refreshText = (search.get('refreshNow') ?? 'false').toLowerCase();
  if (refreshText !== 'true' && refreshText !== 'false')
    throw new RouteError('refreshNow must be true or false');
  return secretQuery(id, versionId, versionStage, refreshText === 'true');
}

function checkIdentifier(value: string, param: string): void {
  if (value.length === 0) throw new RouteError(`${param} is required: its name or id`);
  if (value.length > MAX_APPCONFIG_IDENTIFIER_LENGTH) {
    throw new RouteError(
      `${param} is ${value.length} characters; AppConfig allows at most ${MAX_APPCONFIG_IDENTIFIER_LENGTH}`,
    );
  }
}

function checkFlags(flags: readonly string[]): readonly string[] | undefined {
  if (flags.length === 0) return undefined;
  if (flags.length > MAX_FLAGS_PER_REQUEST) {
    throw new RouteError(
      `flag is given ${flags.length} times; at most ${MAX_FLAGS_PER_REQUEST} flags a request`,
    );
  }
  for (const f of flags) {
    if (!FLAG_KEY.test(f)) {
      throw new RouteError(
        `flag "${f.slice(0, 64)}" is not a flag key (a letter, then up to 63 letters, digits, _ or -)`,
      );
    }
  }
  return flags;
}

function appConfigQuery(
  application: string,
  environment: string,
  profile: string,
  flags: readonly string[] | undefined,
  refresh: boolean,
): AppConfigQuery {
  return { application, environment, profile, ...(flags !== undefined ? { flags } : {}), refresh };
}

/** Path and query of a configuration read: `/v1/appconfig?application=…&environment=…&profile=…[&flag=…]`. */
export function appConfigPath(
  application: string,
  environment: string,
  profile: string,
  opts: { flags?: readonly string[]; refresh?: boolean } = {},
): string {
  checkIdentifier(application, 'application');
  checkIdentifier(environment, 'environment');
  checkIdentifier(profile, 'profile');
  const flags = checkFlags(opts.flags ?? []);
  const base = query({ application, environment, profile, refresh: opts.refresh ? 'true' : undefined });
  const extra = (flags ?? []).map((f) => `&flag=${encodeURIComponent(f)}`).join('');
  return `${ROUTES.appconfig}?${base}${extra}`;
}

/** Parses the query of `GET /v1/appconfig`. Throws {@link RouteError} with a message for the caller. */
export function parseAppConfigQuery(search: URLSearchParams): AppConfigQuery {
  only(search, ['application', 'environment', 'profile', 'flag', 'refresh']);
  const application = single(search, 'application') ?? '';
  const environment = single(search, 'environment') ?? '';
  const profile = single(search, 'profile') ?? '';
  checkIdentifier(application, 'application');
  checkIdentifier(environment, 'environment');
  checkIdentifier(profile, 'profile');
  return appConfigQuery(
    application,
    environment,
    profile,
    checkFlags(search.getAll('flag')),
    flag(search, 'refresh', false),
  );
}

const AGENT_PATH = /^\/applications\/([^/]+)\/environments\/([^/]+)\/configurations\/([^/]+)$/;

function segment(text: string, param: string): string {
  let value: string;
  try {
    value = decodeURIComponent(text);
  } catch {
    throw new RouteError(`the ${param} in the path is not valid percent-encoding`);
  }
  checkIdentifier(value, param);
  return value;
}

/**
 * Parses `GET /applications/{app}/environments/{env}/configurations/{profile}[?flag=a&flag=b]`, the route of
 * AWS's AppConfig Lambda extension (each segment percent-decoded; other query parameters are refused).
 * Throws {@link RouteError}.
 */
export function parseAppConfigAgentPath(path: string, search: URLSearchParams): AppConfigQuery {
  const m = AGENT_PATH.exec(path);
  if (m === null) {
    throw new RouteError(
      'expected /applications/{application}/environments/{environment}/configurations/{profile}',
    );
  }
  only(search, ['flag']);
  return appConfigQuery(
    segment(m[1] as string, 'application'),
    segment(m[2] as string, 'environment'),
    segment(m[3] as string, 'profile'),
    checkFlags(search.getAll('flag')),
    false,
  );
}
