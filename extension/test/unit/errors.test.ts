import { KeyError, RouteError } from '@lambda-cache/shared';
import { describe, expect, it } from 'vitest';
import { AwsConfigError, AwsCredentialsError, AwsTransportError } from '../../src/aws/index.js';
import {
  errorCode,
  HttpError,
  isNotFound,
  KeySchemaMismatchError,
  NotFoundError,
  toHttpError,
  UnprocessedKeysError,
  UnreadableAnswerError,
  WaitTimeoutError,
} from '../../src/errors.js';
import { serviceError } from './support/fake-aws.js';

const THROTTLING = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
]);

/** An AWS error answer as the lean client throws it. */
function awsError(name: string, status = 400) {
  return serviceError(name, { status, throttling: THROTTLING.has(name) });
}

function netError(code: string): AwsTransportError {
  return new AwsTransportError(`connect ${code}`, { reason: 'network', phase: 'connect', sysCode: code });
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

  it('returns 429 Throttled when DynamoDB left keys unprocessed through every round', () => {
    expect(toHttpError(new UnprocessedKeysError('left')).status).toBe(429);
  });

  it('returns 504 UpstreamTimeout when a wait or an AWS call times out', () => {
    const waited = toHttpError(new WaitTimeoutError('k', 5000));
    expect(waited.code).toBe('UpstreamTimeout');
    // The extension's own wait is not an AWS error: no awsCode.
    expect(waited.awsCode).toBeUndefined();
    const deadline = new AwsTransportError('timed out', { reason: 'timeout', phase: 'response' });
    expect(toHttpError(deadline).status).toBe(504);
    expect(toHttpError(deadline).cause).toBe(deadline);
    expect(toHttpError(awsError('RequestTimeoutException')).status).toBe(504);
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

  it.each(['ECONNREFUSED', 'ECONNRESET'])(
    'returns 502 UpstreamError when the connection fails with %s',
    (code) => {
      const mapped = toHttpError(netError(code));
      expect(mapped.status).toBe(502);
      expect(mapped.awsCode).toBe(code);
    },
  );

  it('returns 502 UpstreamError when no credentials can be found', () => {
    const mapped = toHttpError(new AwsCredentialsError('no credentials in the environment'));
    expect(mapped.envelope()).toEqual({
      code: 'UpstreamError',
      message: 'no AWS credentials are available to the extension',
    });
  });

  it('returns 502 UpstreamError naming the setting when the AWS settings are invalid', () => {
    const mapped = toHttpError(new AwsConfigError('AWS_REGION is not set'));
    expect(mapped.status).toBe(502);
    expect(mapped.message).toContain('AWS_REGION');
  });

  it('returns 400 BadRequest with the AWS code when the backend rejects the input', () => {
    const mapped = toHttpError(awsError('ValidationException'));
    expect(mapped.status).toBe(400);
    expect(mapped.awsCode).toBe('ValidationException');
  });

  it('returns 400 BadRequest naming the table and the expected key when a key does not match', () => {
    const refused = new KeySchemaMismatchError('Orders', 'ValidationException').expecting({ id: 'N' });
    expect(toHttpError(refused).envelope()).toEqual({
      code: 'BadRequest',
      message: 'the key does not match the key schema of table Orders (expected id of type N)',
      awsCode: 'ValidationException',
      table: 'Orders',
      expectedKey: { id: 'N' },
    });
    expect(toHttpError(new KeySchemaMismatchError('T', 'ValidationException')).envelope()).toEqual({
      code: 'BadRequest',
      message: 'the key does not match the key schema of table T',
      awsCode: 'ValidationException',
      table: 'T',
    });
  });

  it('returns 500 InternalFailure without the detail when the error is unknown', () => {
    const mapped = toHttpError(new TypeError('cannot read properties of undefined (secret-ish detail)'));
    expect(mapped.status).toBe(500);
    expect(mapped.code).toBe('InternalFailure');
    expect(mapped.message).not.toContain('secret-ish');
    expect(toHttpError('a string').code).toBe('InternalFailure');
  });

  it.each([
    [
      'a body that is not JSON',
      new AwsTransportError('not JSON', { reason: 'unreadable', phase: 'response' }),
    ],
    ['an item that is not DynamoDB JSON', new UnreadableAnswerError('not DynamoDB JSON')],
  ])('returns 502 UpstreamError without an awsCode when the backend sends %s', (_, err) => {
    const mapped = toHttpError(err);
    expect(mapped.envelope()).toEqual({ code: 'UpstreamError', message: expect.any(String) });
    expect(mapped.status).toBe(502);
  });

  it('passes an HttpError through unchanged', () => {
    const err = HttpError.of('ServiceUnavailable', 'stopping');
    expect(toHttpError(err)).toBe(err);
    expect(err.status).toBe(503);
  });

  it('does not tell errors apart by message text or name', () => {
    expect(toHttpError(new Error('ParameterNotFound: ThrottlingException')).code).toBe('InternalFailure');
    const named = Object.assign(new Error('x'), { name: 'ThrottlingException' });
    expect(toHttpError(named).code).toBe('InternalFailure');
  });
});

describe('isNotFound', () => {
  it('is true for an absent value and for AWS answers that something does not exist', () => {
    expect(isNotFound(new NotFoundError('x'))).toBe(true);
    expect(isNotFound(awsError('ParameterVersionNotFound'))).toBe(true);
    expect(isNotFound(awsError('ResourceNotFoundException'))).toBe(true);
    expect(isNotFound(awsError('AccessDeniedException'))).toBe(false);
    expect(isNotFound(netError('ECONNRESET'))).toBe(false);
  });
});

describe('errorCode', () => {
  it('names the code, then the name, of an error', () => {
    expect(errorCode(netError('ECONNRESET'))).toBe('ECONNRESET');
    expect(errorCode(awsError('AccessDeniedException'))).toBe('AccessDeniedException');
    expect(errorCode(42)).toBe('number');
  });
});
