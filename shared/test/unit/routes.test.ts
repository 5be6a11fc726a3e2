import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeKey, type KeyAttributes } from '../../src/keys.js';
import {
  appConfigPath,
  dynamodbPath,
  MAX_APPCONFIG_IDENTIFIER_LENGTH,
  MAX_FLAGS_PER_REQUEST,
  MAX_PARAMETER_NAME_LENGTH,
  MAX_SECRET_ID_LENGTH,
  MAX_TABLE_NAME_LENGTH,
  parameterPath,
  parseAppConfigAgentPath,
  parseAppConfigQuery,
  parseAwsParameterQuery,
  parseAwsSecretQuery,
  parseDynamoDbQuery,
  parseLegacyPathName,
  parseLegacyQuery,
  parseParameterQuery,
  parseSecretQuery,
  ROUTES,
  RouteError,
  secretPath,
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

/** A version id as Secrets Manager makes them: a UUID. */
const versionId = fc.uuid();
// At most 10 graphemes: even the longest stay within AppConfig's 128 characters.
const identifier = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 });
const flagKey = fc.stringMatching(/^[a-z][a-zA-Z0-9_-]{0,20}$/);

describe('secretPath and parseSecretQuery', () => {
  it('reads back every id, version and refresh the builder writes', () => {
    fc.assert(
      fc.property(
        awkwardName,
        fc.option(fc.oneof(fc.record({ versionId }), fc.record({ versionStage: identifier })), {
          nil: undefined,
        }),
        fc.boolean(),
        (id, version, refresh) => {
          const { pathname, search } = request(secretPath(id, { ...version, refresh }));
          expect(pathname).toBe(ROUTES.secrets);
          expect(parseSecretQuery(search)).toStrictEqual({ id, ...version, refresh });
        },
      ),
    );
  });

  it("takes refreshNow, the name AWS's agent gives it, as refresh", () => {
    expect(parseSecretQuery(request('/v1/secrets?id=a&refreshNow=true').search).refresh).toBe(true);
  });

  it.each([
    ['/v1/secrets', 'id is required'],
    [`/v1/secrets?id=${'x'.repeat(MAX_SECRET_ID_LENGTH + 1)}`, `at most ${MAX_SECRET_ID_LENGTH}`],
    ['/v1/secrets?id=a&id=b', 'id is given 2 times'],
    ['/v1/secrets?id=a&versionId=short', 'versionId must be 32 to 64'],
    [
      '/v1/secrets?id=a&versionStage=AWSCURRENT&versionId=01234567-89ab-cdef-0123-456789abcdef',
      'versionId or versionStage, not both',
    ],
    ['/v1/secrets?id=a&secretId=b', 'unknown query parameter "secretId"'],
    ['/v1/secrets?id=a&refresh=yes', 'refresh must be true or false'],
  ])('refuses %s: %s', (url, message) => {
    expect(() => parseSecretQuery(request(url).search)).toThrow(RouteError);
    expect(() => parseSecretQuery(request(url).search)).toThrow(message);
  });
});

describe('parseAwsSecretQuery', () => {
  it("reads the query AWS's extension and agent take", () => {
    const v = '01234567-89ab-cdef-0123-456789abcdef';
    expect(
      parseAwsSecretQuery(request(`/secretsmanager/get?secretId=db%2Fpass&versionId=${v}`).search),
    ).toStrictEqual({ id: 'db/pass', versionId: v, refresh: false });
    expect(
      parseAwsSecretQuery(
        request('/secretsmanager/get?secretId=a&versionStage=AWSPREVIOUS&refreshNow=TRUE').search,
      ),
    ).toStrictEqual({ id: 'a', versionStage: 'AWSPREVIOUS', refresh: true });
    // A repeated parameter counts by its first value, as AWS's extension reads it.
    expect(parseAwsSecretQuery(request('/secretsmanager/get?secretId=a&secretId=b').search).id).toBe('a');
  });

  it.each([
    ['/secretsmanager/get', 'secretId is required'],
    ['/secretsmanager/get?id=a', 'unknown query parameter "id"'],
    ['/secretsmanager/get?secretId=a&refreshNow=1', 'refreshNow must be true or false'],
  ])('refuses %s: %s', (url, message) => {
    expect(() => parseAwsSecretQuery(request(url).search)).toThrow(message);
  });
});

describe('appConfigPath, parseAppConfigQuery and parseAppConfigAgentPath', () => {
  it('reads back every identifier and flag list the builder writes', () => {
    fc.assert(
      fc.property(
        identifier,
        identifier,
        identifier,
        fc.array(flagKey, { maxLength: 5 }),
        fc.boolean(),
        (application, environment, profile, flags, refresh) => {
          const { pathname, search } = request(
            appConfigPath(application, environment, profile, { flags, refresh }),
          );
          expect(pathname).toBe(ROUTES.appconfig);
          expect(parseAppConfigQuery(search)).toStrictEqual({
            application,
            environment,
            profile,
            ...(flags.length > 0 ? { flags } : {}),
            refresh,
          });
        },
      ),
    );
  });

  it("reads the path of AWS's AppConfig extension, each segment percent-decoded", () => {
    const url = request('/applications/my%20app/environments/prod/configurations/flags%2Fv2?flag=a&flag=b_2');
    expect(parseAppConfigAgentPath(url.pathname, url.search)).toStrictEqual({
      application: 'my app',
      environment: 'prod',
      profile: 'flags/v2',
      flags: ['a', 'b_2'],
      refresh: false,
    });
  });

  it.each([
    ['/v1/appconfig?environment=e&profile=p', 'application is required'],
    [
      `/v1/appconfig?application=${'a'.repeat(MAX_APPCONFIG_IDENTIFIER_LENGTH + 1)}&environment=e&profile=p`,
      'at most 128',
    ],
    ['/v1/appconfig?application=a&environment=e&profile=p&flag=9lives', 'is not a flag key'],
    [
      `/v1/appconfig?application=a&environment=e&profile=p${'&flag=f'.repeat(MAX_FLAGS_PER_REQUEST + 1)}`,
      `at most ${MAX_FLAGS_PER_REQUEST} flags`,
    ],
    ['/v1/appconfig?application=a&environment=e&profile=p&version=1', 'unknown query parameter "version"'],
  ])('refuses %s: %s', (url, message) => {
    expect(() => parseAppConfigQuery(request(url).search)).toThrow(message);
  });

  it.each([
    ['/applications/a/environments/e', 'expected /applications/{application}'],
    ['/applications/a/environments/e/configurations/p/extra', 'expected /applications/{application}'],
    ['/applications/%E0%A4%A/environments/e/configurations/p', 'not valid percent-encoding'],
    ['/applications/a/environments/e/configurations/p?other=1', 'unknown query parameter "other"'],
  ])('refuses the agent path %s: %s', (url, message) => {
    const { pathname, search } = request(url);
    expect(() => parseAppConfigAgentPath(pathname, search)).toThrow(message);
  });
});
