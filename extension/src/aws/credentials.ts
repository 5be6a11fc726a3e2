/**
 * Credentials as the SDK finds them on Lambda: the environment (`AWS_ACCESS_KEY_ID`, …), else the
 * container credentials endpoint (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` / `_FULL_URI`, used by
 * SnapStart, ECS and EKS Pod Identity). Outside Lambda, where neither is set, the SDK's whole chain
 * (profiles, SSO, IMDS, …) is loaded on first use from a module of its own, so the Lambda path never
 * pays for it. Fetched credentials are cached and refreshed before they expire.
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-container-credentials.html
 */
import { fs } from '../builtins.js';
import { AwsCredentialsError, AwsTransportError } from './errors.js';
import type { Credentials } from './signer.js';
import { type HttpResponse, Transport } from './transport.js';

export type CredentialProvider = () => Promise<Credentials>;
type Env = Readonly<Record<string, string | undefined>>;
type Warn = (msg: string, fields?: Record<string, unknown>) => void;

/** Refresh this long before expiry, as the SDK does. */
export const REFRESH_BEFORE_MS = 5 * 60 * 1000;
/** After a failed refresh, keep the still-valid credentials this long before trying again. */
export const REFRESH_RETRY_MS = 10 * 1000;
const CONTAINER_HOST = '169.254.170.2';
const CONTAINER_TIMEOUT_MS = 1000;
const CONTAINER_ATTEMPTS = 3;
/** The hosts the SDK accepts in an http `AWS_CONTAINER_CREDENTIALS_FULL_URI`. */
const ALLOWED_HTTP_HOSTS = new Set([
  '169.254.170.2',
  '169.254.170.23',
  '[fd00:ec2::23]',
  'localhost',
  '[::1]',
]);

export interface CredentialOptions {
  env: Env;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  warn: Warn;
}

/** Picks the source from the environment once; each call returns valid credentials or throws. */
export function createCredentialProvider(options: CredentialOptions): CredentialProvider {
  const { env } = options;
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    const expiration = env.AWS_CREDENTIAL_EXPIRATION ? new Date(env.AWS_CREDENTIAL_EXPIRATION) : undefined;
    const credentials: Credentials = {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      sessionToken: env.AWS_SESSION_TOKEN || undefined,
      expiration: expiration && !Number.isNaN(expiration.getTime()) ? expiration : undefined,
    };
    return async () => credentials;
  }
  if (env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI || env.AWS_CONTAINER_CREDENTIALS_FULL_URI) {
    return refreshing(containerProvider(options), options);
  }
  if (!env.AWS_LAMBDA_RUNTIME_API) {
    return refreshing(async () => {
      const { sdkCredentials } = await import('./sdk-credentials.js');
      return sdkCredentials();
    }, options);
  }
  return async () => {
    throw new AwsCredentialsError(
      'no AWS credentials: neither AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY nor a container credentials endpoint is set',
    );
  };
}

/**
 * Caches what `fetch` returns until five minutes before its expiry; one refresh at a time; a failed
 * refresh keeps the current credentials while they are still valid.
 */
export function refreshing(
  fetch: CredentialProvider,
  options: Pick<CredentialOptions, 'now' | 'warn'>,
): CredentialProvider {
  let current: Credentials | undefined;
  let inflight: Promise<Credentials> | undefined;
  let retryAfter = 0;
  const { now, warn } = options;
  const valid = (c: Credentials): boolean => c.expiration === undefined || now() < c.expiration.getTime();
  const fresh = (c: Credentials): boolean =>
    c.expiration === undefined || now() < c.expiration.getTime() - REFRESH_BEFORE_MS;

  return async () => {
    if (current && (fresh(current) || (valid(current) && now() < retryAfter))) return current;
    inflight ??= fetch().finally(() => {
      inflight = undefined;
    });
    try {
      current = await inflight;
      return current;
    } catch (error) {
      if (current && valid(current)) {
        retryAfter = now() + REFRESH_RETRY_MS;
        warn('aws credentials refresh failed; using the current ones until they expire', {
          error: error instanceof Error ? ((error as { code?: string }).code ?? error.name) : typeof error,
          expiresInMs: (current.expiration?.getTime() ?? now()) - now(),
        });
        return current;
      }
      throw error instanceof AwsCredentialsError
        ? error
        : new AwsCredentialsError('no AWS credentials could be loaded', { cause: error });
    }
  };
}

/** Where the container credentials are, checked as the SDK checks it. */
export function containerUrl(env: Env): URL {
  const relative = env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI;
  if (relative) return new URL(relative, `http://${CONTAINER_HOST}`);
  const full = env.AWS_CONTAINER_CREDENTIALS_FULL_URI ?? '';
  let url: URL;
  try {
    url = new URL(full);
  } catch {
    throw new AwsCredentialsError('AWS_CONTAINER_CREDENTIALS_FULL_URI is not a URL');
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol !== 'http:') {
    throw new AwsCredentialsError('AWS_CONTAINER_CREDENTIALS_FULL_URI must be an http or https URL');
  }
  if (!ALLOWED_HTTP_HOSTS.has(url.hostname) && !/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(url.hostname)) {
    throw new AwsCredentialsError(
      'AWS_CONTAINER_CREDENTIALS_FULL_URI over http must name a loopback address, 169.254.170.2, 169.254.170.23 or fd00:ec2::23',
    );
  }
  return url;
}

/** The `Authorization` header: the token file (read at each fetch, it is rotated) wins over the token. */
async function containerAuthorization(env: Env): Promise<string | undefined> {
  const file = env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE;
  if (file) {
    try {
      return (await fs.promises.readFile(file, 'utf8')).trim();
    } catch (error) {
      throw new AwsCredentialsError(
        `cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
        { cause: error },
      );
    }
  }
  return env.AWS_CONTAINER_AUTHORIZATION_TOKEN || undefined;
}

function containerProvider(options: CredentialOptions): CredentialProvider {
  const { env, sleep } = options;
  return async () => {
    const url = containerUrl(env);
    const transport = new Transport({ keepAlive: false, maxSockets: 1 });
    try {
      let lastError: unknown;
      for (let attempt = 1; attempt <= CONTAINER_ATTEMPTS; attempt++) {
        const authorization = await containerAuthorization(env);
        const headers: Record<string, string> = { accept: 'application/json' };
        if (authorization) headers.authorization = authorization;
        let response: HttpResponse;
        try {
          response = await transport.send(
            { url, method: 'GET', path: `${url.pathname}${url.search}`, headers },
            { connectMs: CONTAINER_TIMEOUT_MS, attemptMs: CONTAINER_TIMEOUT_MS, maxBodyBytes: 64 * 1024 },
          );
        } catch (error) {
          lastError = new AwsCredentialsError(
            `the container credentials endpoint did not answer (${error instanceof AwsTransportError ? error.reason : 'error'})`,
            { cause: error },
          );
          if (attempt < CONTAINER_ATTEMPTS) await sleep(100 * attempt);
          continue;
        }
        if (response.status >= 500 && attempt < CONTAINER_ATTEMPTS) {
          lastError = new AwsCredentialsError(
            `the container credentials endpoint answered HTTP ${response.status}`,
          );
          await sleep(100 * attempt);
          continue;
        }
        if (response.status !== 200) {
          throw new AwsCredentialsError(
            `the container credentials endpoint answered HTTP ${response.status}`,
          );
        }
        return parseContainerCredentials(response.body);
      }
      throw lastError;
    } finally {
      transport.destroy();
    }
  };
}

function parseContainerCredentials(body: Buffer): Credentials {
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new AwsCredentialsError('the container credentials endpoint sent an answer that is not JSON', {
      cause: error,
    });
  }
  const { AccessKeyId, SecretAccessKey, Token, Expiration } = data ?? {};
  if (
    typeof AccessKeyId !== 'string' ||
    typeof SecretAccessKey !== 'string' ||
    !AccessKeyId ||
    !SecretAccessKey
  ) {
    throw new AwsCredentialsError(
      'the container credentials endpoint sent no AccessKeyId and SecretAccessKey',
    );
  }
  const expiration = typeof Expiration === 'string' ? new Date(Expiration) : undefined;
  if (expiration && Number.isNaN(expiration.getTime())) {
    throw new AwsCredentialsError('the container credentials endpoint sent an Expiration that is not a date');
  }
  return {
    accessKeyId: AccessKeyId,
    secretAccessKey: SecretAccessKey,
    sessionToken: typeof Token === 'string' && Token ? Token : undefined,
    expiration,
  };
}
