/**
 * SigV4 signing, done by `aws4` (not by hand). Chosen by load cost, measured on Node 20 with each
 * library bundled by esbuild (`--bundle --minify --platform=node`, ESM) and imported once by a fresh
 * process, median of 11 runs, next to a bundle that imports nothing:
 *
 * | library                  | bundle  | CPU, import | heap, import | CPU, import + 1st sign | RSS then |
 * | ------------------------ | ------- | ----------- | ------------ | ---------------------- | -------- |
 * | (nothing)                | 0.1 KiB | 1.8 ms      | 0.36 MiB     | 1.8 ms                 | 42 MiB   |
 * | aws4 1.13                | 9.2 KiB | 4.4 ms      | 0.89 MiB     | 5.8 ms                 | 44 MiB   |
 * | aws4fetch 1.0            | 6.6 KiB | 2.0 ms      | 0.36 MiB     | 22.6 ms (WebCrypto)    | 53 MiB   |
 * | @smithy/signature-v4 5.7 | 141 KiB | 15.4 ms     | 1.87 MiB     | 16.9 ms                | 47 MiB   |
 *
 * Most of aws4's import is `node:crypto`, which hashing needs anyway; aws4fetch is cheap to import but
 * its first signature starts WebCrypto (+17 ms, +9 MiB). The unit test checks the headers against
 * `@smithy/signature-v4`, the signer of the SDK.
 */
import aws4 from 'aws4';
import { crypto } from '../builtins.js';

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
  /** When they stop working; undefined for long-term keys. */
  readonly expiration?: Date | undefined;
}

export interface SignInput {
  method: 'GET' | 'POST';
  /** `host[:port]` as sent in the `Host` header. */
  host: string;
  /** Path and query, already percent-encoded. */
  path: string;
  /** With `content-type` and `content-length` when there is a body: aws4 would add its own otherwise. */
  headers: Record<string, string>;
  body: Buffer;
  service: string;
  region: string;
  /** The request time (aws4 signs with the `x-amz-date` header set from it). */
  date: Date;
}

/** `20150830T123600Z`, the form of `X-Amz-Date`. */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/[:-]|\.\d{3}/g, '');
}

/**
 * Returns the headers to send (lower-case names): the input's, plus `host`, `x-amz-date`,
 * `x-amz-content-sha256`, `x-amz-security-token` when there is a session token, and `authorization`.
 * Returns the path too, in the canonical encoding of its query that was signed.
 */
export function sign(
  input: SignInput,
  credentials: Credentials,
): { headers: Record<string, string>; path: string } {
  const headers: Record<string, string> = {
    ...input.headers,
    host: input.host,
    'x-amz-date': amzDate(input.date),
    // The SDK sends the payload hash as a header on every request; so do we.
    'x-amz-content-sha256': crypto().createHash('sha256').update(input.body).digest('hex'),
  };
  if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;
  const request = {
    host: input.host,
    method: input.method,
    path: input.path,
    service: input.service,
    region: input.region,
    headers,
    // aws4 adds a form content type to any body without one; a GET has no body at all.
    body: input.body.length > 0 ? input.body : undefined,
  };
  const signed = aws4.sign(request, {
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
  });
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers ?? {})) {
    if (value !== undefined) out[name.toLowerCase()] = String(value);
  }
  return { headers: out, path: signed.path ?? input.path };
}
