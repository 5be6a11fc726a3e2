/** Header names used on the wire, lower-case as node:http and undici present them. */
export const HEADERS = {
  /** Same header and convention as AWS's Parameters and Secrets Lambda extension. */
  token: 'x-aws-parameters-secrets-token',
  /** `hit`, `miss` or `stale`: how the extension answered. */
  cache: 'x-cache',
  cacheControl: 'cache-control',
  age: 'age',
  /** An AppConfig configuration's version, passed through as AWS's AppConfig extension does. */
  configurationVersion: 'configuration-version',
  /** Refused: the extension is for the function on this host only, never behind a proxy. */
  forwardedFor: 'x-forwarded-for',
  /** Lambda Extensions API. */
  extensionName: 'lambda-extension-name',
  extensionIdentifier: 'lambda-extension-identifier',
  extensionErrorType: 'lambda-extension-function-error-type',
  extensionAcceptFeature: 'lambda-extension-accept-feature',
} as const;

export type CacheStatus = 'hit' | 'miss' | 'stale';
