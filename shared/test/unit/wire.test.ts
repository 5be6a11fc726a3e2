import { describe, expect, it } from 'vitest';
import { HEADERS } from '../../src/headers.js';
import { ERROR_STATUS, isErrorEnvelope } from '../../src/wire.js';

describe('ERROR_STATUS', () => {
  it('sends each error code with the status the contract names', () => {
    expect(ERROR_STATUS).toEqual({
      BadRequest: 400,
      Forbidden: 403,
      NotFound: 404,
      MethodNotAllowed: 405,
      Throttled: 429,
      InternalFailure: 500,
      UpstreamError: 502,
      ServiceUnavailable: 503,
      UpstreamTimeout: 504,
    });
  });
});

describe('isErrorEnvelope', () => {
  it('accepts a body with a string code and message', () => {
    expect(isErrorEnvelope({ code: 'NotFound', message: 'no such parameter' })).toBe(true);
    expect(isErrorEnvelope({ code: 'UpstreamError', message: 'x', awsCode: 'AccessDeniedException' })).toBe(
      true,
    );
  });

  it.each([
    ['null', null],
    ['a string', 'NotFound'],
    ['a payload', { name: '/a', value: 'v' }],
    ['a numeric code', { code: 404, message: 'x' }],
    ['no message', { code: 'NotFound' }],
  ])('rejects %s', (_label, body) => {
    expect(isErrorEnvelope(body)).toBe(false);
  });
});

describe('HEADERS', () => {
  it('names every header in lower case, as node:http and undici present them', () => {
    for (const name of Object.values(HEADERS)) expect(name).toBe(name.toLowerCase());
  });
});
