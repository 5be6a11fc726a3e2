/**
 * The AWS SDK's full credential chain (profiles, SSO, web identity, process, IMDS), for runs outside
 * Lambda only. It is reached only through `await import('./sdk-credentials.js')`, and the packager
 * bundles it as a file of its own, so Lambda never loads it.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { Credentials } from './signer.js';

let provider: ReturnType<typeof defaultProvider> | undefined;

export async function sdkCredentials(): Promise<Credentials> {
  provider ??= defaultProvider();
  const c = await provider();
  return {
    accessKeyId: c.accessKeyId,
    secretAccessKey: c.secretAccessKey,
    sessionToken: c.sessionToken,
    expiration: c.expiration,
  };
}
