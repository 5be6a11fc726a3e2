/**
 * AppConfigData, in memory, speaking its restJson1 protocol:
 * `POST /configurationsessions` (StartConfigurationSession) and
 * `GET /configuration?configuration_token=…` (GetLatestConfiguration). Applications, environments
 * and configuration profiles are made by deploying to them ({@link AppConfigStore.deploy}); the
 * control plane (the `appconfig` service) is not emulated.
 *
 * Sessions follow the API reference
 * (https://docs.aws.amazon.com/appconfig/2019-10-09/APIReference/API_Operations_AWS_AppConfig_Data.html):
 * a token serves one call and lives 24 hours, a session is not polled more often than its
 * `RequiredMinimumPollIntervalInSeconds`, and the configuration comes back only when it changed
 * since the session last got it. A feature-flag profile answers in the retrieval-time format
 * (`{"flag": {"enabled": true, "attribute": …}}`, `application/json`), as GetLatestConfiguration
 * returns it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { AwsError } from './errors.js';
import type { Call, RawAnswer } from './http.js';
import { lowerFirst } from './input.js';

export const APPCONFIG_OPERATIONS = ['StartConfigurationSession', 'GetLatestConfiguration'];

/** Identifiers are 1 to 128 characters. */
const MAX_IDENTIFIER = 128;
/** `RequiredMinimumPollIntervalInSeconds`: 15 to 86 400, 60 when absent. */
const POLL_INTERVAL = { min: 15, max: 86_400, default: 60 };
/** "To support long poll use cases, the tokens are valid for up to 24 hours." */
const TOKEN_LIFETIME_MS = 24 * 3_600_000;
/** Tokens remembered at most, oldest forgotten first (a forgotten token reads as corrupted). */
const MAX_TOKENS = 100_000;
/** AppConfig's default limit for a hosted configuration version. */
const MAX_CONTENT_BYTES = 2 * 1024 * 1024;
/** Flag and attribute keys of `AWS.AppConfig.FeatureFlags`. */
const FLAG_KEY = /^[a-z][a-zA-Z\d_-]{0,63}$/;
const MAX_FLAG_ATTRIBUTES = 25;

export type ProfileType = 'AWS.Freeform' | 'AWS.AppConfig.FeatureFlags';

/** Feature flags in the retrieval-time format: each flag's `enabled` and its attribute values. */
export type FeatureFlags = Record<string, { enabled: boolean; [attribute: string]: unknown }>;

/** A configuration version to deploy to one environment of an application. */
export interface DeployInput {
  application: string;
  environment: string;
  profile: string;
  /**
   * Freeform content: a string as its text, bytes as they are, any other JSON value as its JSON text.
   * Give this or `flags`.
   */
  content?: unknown;
  /** Makes (or must match) a feature-flag profile; answered as JSON. */
  flags?: FeatureFlags;
  /** @default `application/json` for flags and JSON values, `text/plain` for text, `application/octet-stream` for bytes */
  contentType?: string;
  /** Answered as `Version-Label`. */
  versionLabel?: string;
}

/** An AppConfigData error with the members its shape carries besides `Message`. */
export class AppConfigDataError extends AwsError {
  constructor(
    code: string,
    message: string,
    status: number,
    readonly members: Readonly<Record<string, unknown>> = {},
  ) {
    super(code, message, status);
  }
}

interface HostedVersion {
  readonly number: number;
  readonly label: string | undefined;
  readonly contentType: string;
  readonly content: Buffer;
}

interface Profile {
  readonly id: string;
  readonly name: string;
  readonly type: ProfileType;
  readonly versions: HostedVersion[];
}

interface Environment {
  readonly id: string;
  readonly name: string;
  /** By profile id: the version deployed to this environment. */
  readonly deployed: Map<string, HostedVersion>;
}

interface Application {
  readonly id: string;
  readonly name: string;
  readonly environments: Map<string, Environment>;
  readonly profiles: Map<string, Profile>;
}

interface Session {
  readonly environment: Environment;
  readonly profile: Profile;
  readonly intervalSeconds: number;
  lastPollMs: number | undefined;
  /** What the session last received: an unchanged configuration is answered with an empty body. */
  lastVersion: HostedVersion | undefined;
}

interface TokenState {
  readonly session: Session;
  readonly issuedMs: number;
  used: boolean;
  /** Set by {@link AppConfigStore.expireTokens}: answered as a token past its 24 hours. */
  expired: boolean;
}

export class AppConfigStore {
  readonly #applications = new Map<string, Application>();
  readonly #tokens = new Map<string, TokenState>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Adds a hosted configuration version and deploys it, making the application, environment and profile when new. */
  deploy(input: DeployInput): { versionNumber: number } {
    for (const member of ['application', 'environment', 'profile'] as const) {
      const value = input[member];
      if (typeof value !== 'string' || value.length < 1 || value.length > MAX_IDENTIFIER) {
        throw new RangeError(`${member} must be a name of 1 to ${MAX_IDENTIFIER} characters`);
      }
    }
    if ((input.content === undefined) === (input.flags === undefined)) {
      throw new RangeError('deploy takes content or flags, one of them');
    }
    const type: ProfileType = input.flags === undefined ? 'AWS.Freeform' : 'AWS.AppConfig.FeatureFlags';
    const { content, contentType } =
      input.flags === undefined
        ? freeform(input.content)
        : { content: flagsContent(input.flags), contentType: 'application/json' };
    if (content.length > MAX_CONTENT_BYTES) {
      throw new RangeError(
        `the configuration is ${content.length} bytes; AppConfig hosts at most ${MAX_CONTENT_BYTES}`,
      );
    }
    const application = ensure(
      this.#applications,
      input.application,
      (id) => ({
        id,
        name: input.application,
        environments: new Map(),
        profiles: new Map(),
      }),
      resourceId('application', input.application),
    );
    const environment = ensure(
      application.environments,
      input.environment,
      (id) => ({
        id,
        name: input.environment,
        deployed: new Map(),
      }),
      resourceId('environment', application.id, input.environment),
    );
    const profile = ensure(
      application.profiles,
      input.profile,
      (id) => ({
        id,
        name: input.profile,
        type,
        versions: [],
      }),
      resourceId('profile', application.id, input.profile),
    );
    if (profile.type !== type) {
      throw new RangeError(
        `profile ${input.profile} is ${profile.type}; deploy ${profile.type === 'AWS.Freeform' ? 'content' : 'flags'} to it`,
      );
    }
    const version: HostedVersion = {
      number: profile.versions.length + 1,
      label: input.versionLabel,
      contentType: input.contentType ?? contentType,
      content,
    };
    profile.versions.push(version);
    environment.deployed.set(profile.id, version);
    return { versionNumber: version.number };
  }

  /** The ids AppConfig would have given an application, one of its environments and one of its profiles. */
  ids(
    application: string,
    environment?: string,
    profile?: string,
  ): { applicationId: string; environmentId?: string; profileId?: string } {
    const app = find(this.#applications, application);
    if (app === undefined) throw new RangeError(`no application ${application}`);
    const env = environment === undefined ? undefined : find(app.environments, environment);
    const prof = profile === undefined ? undefined : find(app.profiles, profile);
    if (environment !== undefined && env === undefined) throw new RangeError(`no environment ${environment}`);
    if (profile !== undefined && prof === undefined) throw new RangeError(`no profile ${profile}`);
    return {
      applicationId: app.id,
      ...(env ? { environmentId: env.id } : {}),
      ...(prof ? { profileId: prof.id } : {}),
    };
  }

  /**
   * Makes every token given so far read as expired, as if 24 hours had passed for them (and for nothing
   * else: sessions started afterwards are unaffected). For tests that run on the real clock.
   * @returns how many unused tokens it expired
   */
  expireTokens(): number {
    let expired = 0;
    for (const state of this.#tokens.values()) {
      if (!state.used && !state.expired) expired++;
      state.expired = true;
    }
    return expired;
  }

  /** The HTTP handler: one call in, one answer out; throws {@link AwsError} for error answers. */
  async handle(call: Call): Promise<RawAnswer> {
    if (call.operation === 'StartConfigurationSession') return this.#start(call.rawBody);
    const url = new URL(call.request.url ?? '/', 'http://localhost');
    return this.#latest(url.searchParams.get('configuration_token'));
  }

  #start(rawBody: Buffer): RawAnswer {
    let input: unknown;
    try {
      input = JSON.parse(rawBody.toString('utf8') || '{}');
    } catch {
      throw badRequest('The request body is not valid JSON.');
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw badRequest('The request body must be a JSON object.');
    }
    const body = input as Record<string, unknown>;
    const identifier = (member: string): string => {
      const value = body[member];
      if (typeof value !== 'string' || value.length < 1 || value.length > MAX_IDENTIFIER) {
        throw badRequest(
          `1 validation error detected: Value at '${lowerFirst(member)}' failed to satisfy constraint: Member must not be null and must have length between 1 and ${MAX_IDENTIFIER}`,
        );
      }
      return value;
    };
    const applicationId = identifier('ApplicationIdentifier');
    const environmentId = identifier('EnvironmentIdentifier');
    const profileId = identifier('ConfigurationProfileIdentifier');
    const interval = body.RequiredMinimumPollIntervalInSeconds ?? POLL_INTERVAL.default;
    if (
      typeof interval !== 'number' ||
      !Number.isInteger(interval) ||
      interval < POLL_INTERVAL.min ||
      interval > POLL_INTERVAL.max
    ) {
      throw badRequest(
        `1 validation error detected: Value '${String(interval)}' at 'requiredMinimumPollIntervalInSeconds' failed to satisfy constraint: Member must have value between ${POLL_INTERVAL.min} and ${POLL_INTERVAL.max}`,
      );
    }
    const application = find(this.#applications, applicationId);
    if (application === undefined) throw notFound('Application', 'ApplicationIdentifier', applicationId);
    const environment = find(application.environments, environmentId);
    if (environment === undefined) throw notFound('Environment', 'EnvironmentIdentifier', environmentId);
    const profile = find(application.profiles, profileId);
    if (profile === undefined) {
      throw notFound('ConfigurationProfile', 'ConfigurationProfileIdentifier', profileId);
    }
    if (!environment.deployed.has(profile.id)) {
      throw new AppConfigDataError(
        'ResourceNotFoundException',
        `No configuration of profile ${profile.name} is deployed to environment ${environment.name}.`,
        404,
        {
          ResourceType: 'Deployment',
          ReferencedBy: { EnvironmentIdentifier: environmentId, ConfigurationProfileIdentifier: profileId },
        },
      );
    }
    const session: Session = {
      environment,
      profile,
      intervalSeconds: interval,
      lastPollMs: undefined,
      lastVersion: undefined,
    };
    const body201 = { InitialConfigurationToken: this.#issue(session) };
    return { status: 201, body: Buffer.from(JSON.stringify(body201), 'utf8') };
  }

  #latest(token: string | null): RawAnswer {
    if (token === null || token.length === 0) {
      throw badRequest(
        "1 validation error detected: Value at 'configurationToken' failed to satisfy constraint: Member must not be null",
      );
    }
    const state = this.#tokens.get(token);
    if (state === undefined) throw tokenProblem('Corrupted', 'The configuration token is not valid.');
    const now = this.#now();
    if (state.expired || now - state.issuedMs >= TOKEN_LIFETIME_MS) {
      throw tokenProblem('Expired', 'The configuration token has expired: tokens are valid for 24 hours.');
    }
    if (state.used) {
      throw new AppConfigDataError(
        'BadRequestException',
        'The configuration token was already used: each token is valid for one call; use the NextPollConfigurationToken of that call.',
        400,
        { Reason: 'InvalidParameters' },
      );
    }
    const { session } = state;
    if (session.lastPollMs !== undefined && now < session.lastPollMs + session.intervalSeconds * 1000) {
      // The token stays unused: the caller may try it again once the interval has passed.
      throw tokenProblem('PollIntervalNotSatisfied', 'Request too early');
    }
    const current = session.environment.deployed.get(session.profile.id);
    if (current === undefined) {
      throw new AppConfigDataError('ResourceNotFoundException', 'The deployment no longer exists.', 404, {
        ResourceType: 'Deployment',
      });
    }
    state.used = true;
    session.lastPollMs = now;
    const changed = session.lastVersion !== current;
    session.lastVersion = current;
    const headers: Record<string, string> = {
      'next-poll-configuration-token': this.#issue(session),
      'next-poll-interval-in-seconds': String(session.intervalSeconds),
      'content-type': current.contentType,
    };
    if (changed && current.label !== undefined) headers['version-label'] = current.label;
    return { status: 200, headers, body: changed ? current.content : Buffer.alloc(0) };
  }

  #issue(session: Session): string {
    const token = randomBytes(48).toString('base64url');
    this.#tokens.set(token, { session, issuedMs: this.#now(), used: false, expired: false });
    if (this.#tokens.size > MAX_TOKENS) {
      const oldest = this.#tokens.keys().next().value;
      if (oldest !== undefined) this.#tokens.delete(oldest);
    }
    return token;
  }
}

/** The restJson1 routes: which operation a method and path name. */
export function appConfigRoute(method: string, path: string): string | undefined {
  if (method === 'POST' && path === '/configurationsessions') return 'StartConfigurationSession';
  if (method === 'GET' && path === '/configuration') return 'GetLatestConfiguration';
  return undefined;
}

/** The restJson1 error body: `Message` plus the members of the error's shape. */
export function appConfigErrorBody(error: AwsError): Record<string, unknown> {
  return { Message: error.message, ...(error instanceof AppConfigDataError ? error.members : {}) };
}

/**
 * Checks feature flags in the retrieval-time format and returns them as the JSON AppConfig answers.
 * Throws `RangeError` naming the flag at fault.
 */
export function flagsContent(flags: unknown): Buffer {
  if (typeof flags !== 'object' || flags === null || Array.isArray(flags)) {
    throw new RangeError('flags must be a mapping of flag names to { enabled, …attributes }');
  }
  for (const [name, flag] of Object.entries(flags)) {
    if (!FLAG_KEY.test(name)) {
      throw new RangeError(
        `flag ${name}: a flag name is a lowercase letter then up to 63 of a-z A-Z 0-9 _ -`,
      );
    }
    if (typeof flag !== 'object' || flag === null || Array.isArray(flag)) {
      throw new RangeError(`flag ${name} must be a mapping with enabled: true or false`);
    }
    const { enabled, ...attributes } = flag as Record<string, unknown>;
    if (typeof enabled !== 'boolean') throw new RangeError(`flag ${name}: enabled must be true or false`);
    const keys = Object.keys(attributes);
    if (keys.length > MAX_FLAG_ATTRIBUTES) {
      throw new RangeError(`flag ${name} has ${keys.length} attributes; at most ${MAX_FLAG_ATTRIBUTES}`);
    }
    for (const key of keys) {
      if (!FLAG_KEY.test(key)) {
        throw new RangeError(
          `flag ${name}: attribute ${key} must be a lowercase letter then up to 63 of a-z A-Z 0-9 _ -`,
        );
      }
    }
  }
  return Buffer.from(JSON.stringify(flags), 'utf8');
}

function freeform(content: unknown): { content: Buffer; contentType: string } {
  if (typeof content === 'string')
    return { content: Buffer.from(content, 'utf8'), contentType: 'text/plain' };
  if (content instanceof Uint8Array)
    return { content: Buffer.from(content), contentType: 'application/octet-stream' };
  const json = JSON.stringify(content);
  if (json === undefined) throw new RangeError('content must be text, bytes or a JSON value');
  return { content: Buffer.from(json, 'utf8'), contentType: 'application/json' };
}

/** By id, else by name: "The application ID or the application name." */
function find<T extends { readonly id: string; readonly name: string }>(
  map: Map<string, T>,
  identifier: string,
): T | undefined {
  const byId = map.get(identifier);
  if (byId !== undefined) return byId;
  for (const item of map.values()) if (item.name === identifier) return item;
  return undefined;
}

function ensure<T extends { readonly id: string; readonly name: string }>(
  map: Map<string, T>,
  name: string,
  make: (id: string) => T,
  id: string,
): T {
  for (const item of map.values()) if (item.name === name) return item;
  const item = make(id);
  map.set(id, item);
  return item;
}

/** A stable 7-character id of lowercase letters and digits, the form AppConfig's ids take. */
function resourceId(kind: string, ...names: string[]): string {
  const digest = createHash('sha256')
    .update([kind, ...names].join('\u0000'))
    .digest();
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(digest.subarray(0, 7), (byte) => alphabet[byte % alphabet.length]).join('');
}

function badRequest(message: string): AppConfigDataError {
  return new AppConfigDataError('BadRequestException', message, 400, { Reason: 'InvalidParameters' });
}

function tokenProblem(
  problem: 'Corrupted' | 'Expired' | 'PollIntervalNotSatisfied',
  message: string,
): AppConfigDataError {
  return new AppConfigDataError('BadRequestException', message, 400, {
    Reason: 'InvalidParameters',
    Details: { InvalidParameters: { ConfigurationToken: { Problem: problem } } },
  });
}

function notFound(resourceType: string, member: string, identifier: string): AppConfigDataError {
  return new AppConfigDataError(
    'ResourceNotFoundException',
    `${resourceType} ${identifier} was not found.`,
    404,
    { ResourceType: resourceType, ReferencedBy: { [member]: identifier } },
  );
}
