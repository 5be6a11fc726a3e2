import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeKey, type KeyAttributes } from '../../src/keys.js';
import {
  dynamodbPath,
  MAX_PARAMETER_NAME_LENGTH,
  MAX_TABLE_NAME_LENGTH,
  parameterPath,
  parseAwsParameterQuery,
  parseDynamoDbQuery,
  parseLegacyPathName,
  parseLegacyQuery,
  parseParameterQuery,
  ROUTES,
  RouteError,
} from '../../src/routes.js';

/** What the server sees: the path and query of a request, as node:http hands it over. */
function request(pathAndQuery: string): { pathname: string; search: URLSearchParams } {
  const url = new URL(pathAndQuery, 'http://127.0.0.1');
  return { pathname: url.pathname, search: url.searchParams };
}

/** Names with the characters that break hand-built URLs: `/ : & = + % # ?`, spaces and unicode. */
const awkwardName = fc
  .array(
    fc.oneof(
      fc.constantFrom('/', ':', ' ', '&', '=', '+', '%', '#', '?', '%20', 'é', '日本', '🔑', '\t'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }),
    ),
    { minLength: 1, maxLength: 12 },
  )
  .map((parts) => parts.join(''));

const keyArb: fc.Arbitrary<KeyAttributes> = fc.oneof(
  awkwardName.map((S) => ({ pKey: { S } })),
  fc.tuple(awkwardName, fc.integer()).map(([S, n]) => ({ pKey: { S }, sKey: { N: String(n) } })),
  fc
    .uint8Array({ minLength: 1, maxLength: 16 })
    .map((b) => ({ id: { B: Buffer.from(b).toString('base64') } })),
);

describe('parameterPath and parseParameterQuery', () => {
  it('round-trips any name and flags', () => {
    fc.assert(
      fc.property(awkwardName, fc.boolean(), fc.boolean(), (name, decrypt, refresh) => {
        const { pathname, search } = request(parameterPath(name, { decrypt, refresh }));
        expect(pathname).toBe(ROUTES.parameters);
        expect(parseParameterQuery(search)).toEqual({ name, decrypt, refresh });
      }),
    );
  });

  it('writes only what differs from the defaults', () => {
    expect(parameterPath('/app/db url')).toBe('/v1/parameters?name=%2Fapp%2Fdb%20url');
    expect(parameterPath('a+b', { decrypt: false, refresh: true })).toBe(
      '/v1/parameters?name=a%2Bb&decrypt=false&refresh=true',
    );
  });

  it('keeps a version or label selector as part of the name', () => {
    expect(parseParameterQuery(request(parameterPath('/app/url:3')).search).name).toBe('/app/url:3');
  });

  it.each([
    ['', /name is required/],
    ['name=', /name is required/],
    ['name=a&name=b', /name is given 2 times/],
    ['name=a&decrypt=true&decrypt=false', /decrypt is given 2 times/],
    ['name=a&decrypt=maybe', /decrypt must be true or false/],
    ['name=a&refresh=1', /refresh must be true or false/],
    [
      'name=a&withDecryption=true',
      /unknown query parameter "withDecryption" \(expected name, decrypt, refresh\)/,
    ],
    [`name=${'a'.repeat(MAX_PARAMETER_NAME_LENGTH + 1)}`, /at most 2048/],
  ])('throws RouteError when the query is %j', (query, message) => {
    expect(() => parseParameterQuery(new URLSearchParams(query))).toThrow(RouteError);
    expect(() => parseParameterQuery(new URLSearchParams(query))).toThrow(message);
  });

  it('refuses to build a path when the name is empty or too long', () => {
    expect(() => parameterPath('')).toThrow(RouteError);
    expect(() => parameterPath('a'.repeat(MAX_PARAMETER_NAME_LENGTH + 1))).toThrow(RouteError);
    expect(parameterPath('a'.repeat(MAX_PARAMETER_NAME_LENGTH))).toContain('name=a');
  });
});

describe('dynamodbPath and parseDynamoDbQuery', () => {
  it('round-trips any table and key, handing back the canonical key', () => {
    fc.assert(
      fc.property(awkwardName, keyArb, fc.boolean(), (table, key, refresh) => {
        const { pathname, search } = request(dynamodbPath(table, key, { refresh }));
        expect(pathname).toBe(ROUTES.dynamodb);
        const parsed = parseDynamoDbQuery(search);
        expect(parsed.table).toBe(table);
        expect(parsed.refresh).toBe(refresh);
        expect(encodeKey(parsed.key)).toBe(encodeKey(key));
      }),
    );
  });

  it('writes the same URL for two spellings of one key', () => {
    const a = dynamodbPath('T', { sKey: { N: '1.50' }, pKey: { S: 'x' } });
    const b = dynamodbPath('T', { pKey: { S: 'x' }, sKey: { N: '+1.5' } });
    expect(a).toBe(b);
  });

  it.each([
    ['key={"id":{"S":"a"}}', /table is required/],
    ['table=T', /key is required/],
    ['table=T&key=', /key is required/],
    ['table=T&key={id}', /^key: the key is not valid JSON/],
    ['table=T&key={"id":{"S":""}}', /^key: key attribute "id" is an empty string/],
    ['table=T&table=U&key={"id":{"S":"a"}}', /table is given 2 times/],
    ['table=T&key={"id":{"S":"a"}}&key={"id":{"S":"b"}}', /key is given 2 times/],
    ['table=T&key={"id":{"S":"a"}}&consistent=true', /unknown query parameter "consistent"/],
    ['table=T&key={"id":{"S":"a"}}&refresh=yes', /refresh must be true or false/],
    [`table=${'t'.repeat(MAX_TABLE_NAME_LENGTH + 1)}&key={"id":{"S":"a"}}`, /at most 1024/],
  ])('throws RouteError when the query is %j', (query, message) => {
    const search = new URLSearchParams(query);
    expect(() => parseDynamoDbQuery(search)).toThrow(RouteError);
    expect(() => parseDynamoDbQuery(search)).toThrow(message);
  });

  it('refuses to build a path when the key is invalid', () => {
    expect(() => dynamodbPath('T', { id: { S: '' } })).toThrow(/empty string/);
    expect(() => dynamodbPath('', { id: { S: 'a' } })).toThrow(RouteError);
  });
});

describe('parseAwsParameterQuery', () => {
  it.each([
    ['name=%2Fapp%2Fx', { name: '/app/x', decrypt: false, refresh: false }],
    ['name=p&version=3&withDecryption=true', { name: 'p:3', decrypt: true, refresh: false }],
    ['name=p&label=prod&withDecryption=FALSE', { name: 'p:prod', decrypt: false, refresh: false }],
    ['name=p&withDecryption=True', { name: 'p', decrypt: true, refresh: false }],
    ['name=a&name=b', { name: 'a', decrypt: false, refresh: false }],
    ['name=p&version=', { name: 'p', decrypt: false, refresh: false }],
  ])('reads %j as AWS’s extension does', (query, expected) => {
    expect(parseAwsParameterQuery(new URLSearchParams(query))).toEqual(expected);
  });

  it.each([
    ['', /name is required/],
    ['name=', /name is required/],
    ['name=p&version=1&label=x', /version or label, not both/],
    ['name=p&version=1.5', /whole number/],
    ['name=p&version=12345678901', /whole number/],
    ['name=p&withDecryption=yes', /withDecryption must be true or false/],
    [
      'name=p&decrypt=true',
      /unknown query parameter "decrypt" \(expected name, version, label, withDecryption\)/,
    ],
  ])('throws RouteError when the query is %j', (query, message) => {
    const search = new URLSearchParams(query);
    expect(() => parseAwsParameterQuery(search)).toThrow(RouteError);
    expect(() => parseAwsParameterQuery(search)).toThrow(message);
  });
});

describe('parseLegacyQuery and parseLegacyPathName', () => {
  it('reads the first name and ignores anything else, as the seed did', () => {
    expect(parseLegacyQuery(new URLSearchParams('name=%2Fapp%2Fx'))).toBe('/app/x');
    expect(parseLegacyQuery(new URLSearchParams('name=a&name=b&color=red'))).toBe('a');
    expect(() => parseLegacyQuery(new URLSearchParams(''))).toThrow(RouteError);
    expect(() => parseLegacyQuery(new URLSearchParams('name='))).toThrow(/name is required/);
    expect(() => parseLegacyQuery(new URLSearchParams('color=red'))).toThrow(/TABLE-HASH\[-SORT\]/);
  });

  it('percent-decodes the path segment, slashes kept either way', () => {
    expect(parseLegacyPathName('CacheExtensions_Parameter1')).toBe('CacheExtensions_Parameter1');
    expect(parseLegacyPathName('app%2Fprod/db%20url')).toBe('app/prod/db url');
    expect(parseLegacyPathName('DynamoDbTable-pKey1-sKey1')).toBe('DynamoDbTable-pKey1-sKey1');
  });

  it.each(['%', '%zz', '%ff', '%c3%28'])('throws RouteError when the segment is %j', (segment) => {
    expect(() => parseLegacyPathName(segment)).toThrow(RouteError);
    expect(() => parseLegacyPathName(segment)).toThrow(/not valid percent-encoding/);
  });

  it('decodes what encodeURIComponent wrote, for any name', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), (name) => {
        expect(parseLegacyPathName(encodeURIComponent(name))).toBe(name);
      }),
    );
  });
});
