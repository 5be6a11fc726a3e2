import { KeyError, RouteError } from '@lambda-cache/shared';
import { describe, expect, it } from 'vitest';
import { WaitTimeoutError } from '../../src/cache.js';
import { errorCode, HttpError, NotFoundError, toHttpError } from '../../src/errors.js';

/** An error shaped as the AWS SDK v3 throws service errors. */
function awsError(name: string, status = 400): Error {
  const err = new Error(`${name} happened`);
  Object.assign(err, {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
  return err;
}

function netError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });
}

describe('toHttpError', () => {
  it('returns 400 BadRequest when a route or key is malformed', () => {
    expect(toHttpError(new RouteError('name is required')).envelope()).toEqual({
      code: 'BadRequest',
      message: 'name is required',
    });
    expect(toHttpError(new KeyError('bad key')).status).toBe(400);
  });

  it.each([
    ['NotFoundError', new NotFoundError('parameter x was not found'), undefined],
    ['ParameterNotFound', awsError('ParameterNotFound'), 'ParameterNotFound'],
    ['ParameterVersionNotFound', awsError('ParameterVersionNotFound'), 'ParameterVersionNotFound'],
    ['ResourceNotFoundException', awsError('ResourceNotFoundException'), 'ResourceNotFoundException'],
  ])('returns 404 NotFound when the backend says %s', (_, err, awsCode) => {
    const mapped = toHttpError(err);
    expect(mapped.status).toBe(404);
    expect(mapped.code).toBe('NotFound');
    expect(mapped.awsCode).toBe(awsCode);
  });

  it.each(['ThrottlingException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded'])(
    'returns 429 Throttled when the backend throttles with %s',
    (name) => {
      const mapped = toHttpError(awsError(name));
      expect(mapped.status).toBe(429);
      expect(mapped.envelope()).toMatchObject({ code: 'Throttled', awsCode: name });
    },
  );

  it('returns 504 UpstreamTimeout when a wait or the SDK times out', () => {
    const waited = toHttpError(new WaitTimeoutError('k', 5000));
    expect(waited.code).toBe('UpstreamTimeout');
    // The extension's own wait is not an AWS error: no awsCode.
    expect(waited.awsCode).toBeUndefined();
    const sdkTimeout = Object.assign(new Error('socket timed out'), { name: 'TimeoutError' });
    expect(toHttpError(sdkTimeout).status).toBe(504);
    expect(toHttpError(netError('ETIMEDOUT')).status).toBe(504);
  });

  it('returns 502 UpstreamError with the AWS code when access is denied', () => {
    const mapped = toHttpError(awsError('AccessDeniedException'));
    expect(mapped.status).toBe(502);
    expect(mapped.envelope()).toEqual({
      code: 'UpstreamError',
      message: expect.stringContaining('AccessDeniedException'),
      awsCode: 'AccessDeniedException',
    });
    expect(toHttpError(awsError('InternalServerError', 500)).code).toBe('UpstreamError');
  });

  it('returns 502 UpstreamError when the endpoint cannot be reached', () => {
    const mapped = toHttpError(netError('ECONNREFUSED'));
    expect(mapped.status).toBe(502);
    expect(mapped.awsCode).toBe('ECONNREFUSED');
  });

  it('returns 502 UpstreamError when the SDK finds no credentials', () => {
    const err = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    expect(toHttpError(err).envelope()).toMatchObject({
      code: 'UpstreamError',
      awsCode: 'CredentialsProviderError',
    });
  });

  it('returns 400 BadRequest with the AWS code when the backend rejects the input', () => {
    const mapped = toHttpError(awsError('ValidationException'));
    expect(mapped.status).toBe(400);
    expect(mapped.awsCode).toBe('ValidationException');
  });

  it('returns 500 InternalFailure without the detail when the error is unknown', () => {
    const mapped = toHttpError(new TypeError('cannot read properties of undefined (secret-ish detail)'));
    expect(mapped.status).toBe(500);
    expect(mapped.code).toBe('InternalFailure');
    expect(mapped.message).not.toContain('secret-ish');
    expect(toHttpError('a string').code).toBe('InternalFailure');
  });

  it('returns 502 UpstreamError without an awsCode when the backend answer cannot be read', () => {
    // What the SDK throws for a truncated or non-JSON body: a SyntaxError carrying $metadata, no $fault.
    const unreadable = Object.assign(new SyntaxError('Unexpected end of JSON input'), {
      $metadata: { httpStatusCode: 200 },
    });
    const mapped = toHttpError(unreadable);
    expect(mapped.envelope()).toEqual({ code: 'UpstreamError', message: expect.any(String) });
    expect(mapped.status).toBe(502);
  });

  it('passes an HttpError through unchanged', () => {
    const err = HttpError.of('ServiceUnavailable', 'stopping');
    expect(toHttpError(err)).toBe(err);
    expect(err.status).toBe(503);
  });

  it('does not tell errors apart by message text', () => {
    expect(toHttpError(new Error('ParameterNotFound: ThrottlingException')).code).toBe('InternalFailure');
  });
});

describe('errorCode', () => {
  it('names the code, then the name, of an error', () => {
    expect(errorCode(netError('ECONNRESET'))).toBe('ECONNRESET');
    expect(errorCode(awsError('AccessDeniedException'))).toBe('AccessDeniedException');
    expect(errorCode(42)).toBe('number');
  });
});
