import { describe, expect, it } from 'vitest';
import {
  DEFAULTS,
  ENV,
  EnvError,
  formatDuration,
  parseBoolean,
  parseDuration,
  parseExtensionSettings,
  parseInteger,
  parseLogLevel,
  parsePort,
  readPort,
  readVar,
} from '../../src/env.js';

describe('readVar', () => {
  it('returns undefined when the variable is missing, empty or blank', () => {
    expect(readVar({}, 'X')).toBeUndefined();
    expect(readVar({ X: '' }, 'X')).toBeUndefined();
    expect(readVar({ X: '  \t' }, 'X')).toBeUndefined();
  });

  it('trims the value when it is set', () => {
    expect(readVar({ X: ' 5m ' }, 'X')).toBe('5m');
  });
});

describe('parseInteger', () => {
  it.each(['0x10', '-1', '+1', '1e3', '1.5', '', ' 1', 'one', '١٢'])('rejects %j', (text) => {
    expect(() => parseInteger(text, 0, 100)).toThrow(/is not a whole decimal number \(expected 0 to 100\)/);
  });

  it('rejects values outside the range and names the range', () => {
    expect(() => parseInteger('101', 0, 100)).toThrow('101 is out of range (expected 0 to 100)');
    expect(() => parseInteger('4', 5, 100)).toThrow('(expected 5 to 100)');
    expect(() => parseInteger('9'.repeat(20), 0, Number.MAX_SAFE_INTEGER)).toThrow(/out of range/);
  });

  it('accepts decimal digits within the range', () => {
    expect(parseInteger('0', 0, 100)).toBe(0);
    expect(parseInteger('100', 0, 100)).toBe(100);
    expect(parseInteger('007', 0, 100)).toBe(7);
  });
});

describe('parsePort', () => {
  it.each(['9001', '65536', '-1', '0x10', '1e3', '3000.0', '80 80'])('rejects %j', (text) => {
    expect(() => parsePort(text)).toThrow(RangeError);
  });

  it('names the reserved port and the valid range when given 9001', () => {
    expect(() => parsePort('9001')).toThrow(
      '9001 is reserved by the Lambda Runtime API (expected 0 to 65535, not 9001)',
    );
  });

  it('accepts 0 and ordinary ports', () => {
    expect(parsePort('0')).toBe(0);
    expect(parsePort('3000')).toBe(3000);
    expect(parsePort('65535')).toBe(65535);
  });
});

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['0s', 0],
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1_500],
    ['2m30s500ms', 150_500],
    ['24h', 86_400_000],
  ])('reads %j as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['5', '', '-1s', '1e3s', '1d', 'ms', '5 m', '5M', '0x10s', '1h 30m', '.5s', 'five minutes'])(
    'rejects %j and names the valid units',
    (text) => {
      expect(() => parseDuration(text)).toThrow(
        /is not a duration \(expected a number with a unit: ms, s, m or h/,
      );
    },
  );

  it('rejects durations longer than a day and names the valid range', () => {
    expect(() => parseDuration('25h')).toThrow(
      '"25h" is longer than the maximum of 24h (expected a duration from 0s to 24h, e.g. 30s, 5m, 1h)',
    );
    expect(() => parseDuration('24h1ms')).toThrow(RangeError);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [500, '500ms'],
    [1_500, '1s500ms'],
    [300_000, '5m'],
    [5_400_000, '1h30m'],
  ])('writes %d ms as %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('writes text that parses back to the same duration', () => {
    for (const ms of [1, 999, 1_000, 61_001, 3_599_999, 86_400_000]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});

describe('parseBoolean', () => {
  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['False', false],
    ['0', false],
    ['no', false],
  ])('reads %j as %s', (text, value) => {
    expect(parseBoolean(text)).toBe(value);
  });

  it.each(['maybe', '2', 'on', 'y', ''])('rejects %j and lists every accepted spelling', (text) => {
    expect(() => parseBoolean(text)).toThrow(
      `"${text}" is not a boolean (expected true, false, yes, no, 1 or 0, in any case)`,
    );
  });
});

describe('parseLogLevel', () => {
  it('accepts every level in any case', () => {
    expect(parseLogLevel('DEBUG')).toBe('debug');
    expect(parseLogLevel('none')).toBe('none');
  });

  it('rejects unknown levels and lists the valid ones', () => {
    expect(() => parseLogLevel('verbose')).toThrow(
      '"verbose" is not a log level (expected one of debug, info, warn, error, none, in any case)',
    );
  });
});

describe('readPort', () => {
  it('returns the default when the variable is missing or empty', () => {
    expect(readPort({})).toBe(3000);
    expect(readPort({ [ENV.port]: '' })).toBe(3000);
  });

  it('throws EnvError naming the variable when the value is malformed', () => {
    expect(() => readPort({ [ENV.port]: '0x10' })).toThrow(EnvError);
    expect(() => readPort({ [ENV.port]: '65536' })).toThrow(/^CACHE_EXTENSION_PORT: 65536 is out of range/);
  });
});

describe('parseExtensionSettings', () => {
  it('returns every default when the environment is empty', () => {
    const settings = parseExtensionSettings({});
    expect(settings).toEqual({
      port: DEFAULTS.port,
      awsPort: 2773,
      ttlMs: DEFAULTS.ttlMs,
      secretTtlMs: DEFAULTS.ttlMs,
      cacheEnabled: true,
      initStartup: true,
      configPath: '/var/task/config.yaml',
      logLevel: 'info',
      logFormat: 'text',
      maxEntries: DEFAULTS.maxEntries,
      maxBytes: DEFAULTS.maxBytes,
      legacyRoutes: false,
      awsTimeoutMs: undefined,
      secretTimeoutMs: undefined,
      awsMaxConnections: undefined,
      appconfigPort: 2772,
      appconfigPrefetch: [],
      appconfigPollIntervalMs: 45_000,
      appconfigPollTimeoutMs: 3000,
      sessionToken: undefined,
      runtimeApi: undefined,
      region: undefined,
    });
    expect(Object.isFrozen(settings)).toBe(true);
  });

  it('reads every variable when all are set', () => {
    const settings = parseExtensionSettings({
      CACHE_EXTENSION_PORT: '0',
      CACHE_EXTENSION_TTL: '30s',
      CACHE_EXTENSION_INIT_STARTUP: 'false',
      CACHE_EXTENSION_CONFIG: '/opt/config.yaml',
      CACHE_EXTENSION_LOG_LEVEL: 'DEBUG',
      CACHE_EXTENSION_MAX_ENTRIES: '10',
      CACHE_EXTENSION_MAX_BYTES: '1048576',
      CACHE_EXTENSION_LEGACY_ROUTES: 'true',
      AWS_LAMBDA_LOG_FORMAT: 'json',
      AWS_SESSION_TOKEN: 'token',
      AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
      AWS_REGION: 'eu-west-1',
    });
    expect(settings).toEqual({
      port: 0,
      awsPort: 0,
      ttlMs: 30_000,
      secretTtlMs: 30_000,
      cacheEnabled: true,
      initStartup: false,
      configPath: '/opt/config.yaml',
      logLevel: 'debug',
      logFormat: 'json',
      maxEntries: 10,
      maxBytes: 1_048_576,
      legacyRoutes: true,
      awsTimeoutMs: undefined,
      secretTimeoutMs: undefined,
      awsMaxConnections: undefined,
      appconfigPort: 0,
      appconfigPrefetch: [],
      appconfigPollIntervalMs: 45_000,
      appconfigPollTimeoutMs: 3000,
      sessionToken: 'token',
      runtimeApi: '127.0.0.1:9001',
      region: 'eu-west-1',
    });
  });

  it('prefers CACHE_EXTENSION_TTL over CACHE_TIMEOUT_IN_MINUTES when both are set', () => {
    expect(parseExtensionSettings({ CACHE_EXTENSION_TTL: '45s', CACHE_TIMEOUT_IN_MINUTES: '10' }).ttlMs).toBe(
      45_000,
    );
  });

  it('uses CACHE_TIMEOUT_IN_MINUTES when CACHE_EXTENSION_TTL is unset or empty', () => {
    expect(parseExtensionSettings({ CACHE_TIMEOUT_IN_MINUTES: '10' }).ttlMs).toBe(600_000);
    expect(parseExtensionSettings({ CACHE_EXTENSION_TTL: '', CACHE_TIMEOUT_IN_MINUTES: '1' }).ttlMs).toBe(
      60_000,
    );
    expect(parseExtensionSettings({ CACHE_TIMEOUT_IN_MINUTES: '1440' }).ttlMs).toBe(86_400_000);
  });

  it('reads CACHE_TIMEOUT_IN_MINUTES as a duration when it has a unit, as the seed did', () => {
    expect(parseExtensionSettings({ CACHE_TIMEOUT_IN_MINUTES: '10m' }).ttlMs).toBe(600_000);
    expect(parseExtensionSettings({ CACHE_TIMEOUT_IN_MINUTES: '90s' }).ttlMs).toBe(90_000);
    expect(parseExtensionSettings({ CACHE_TIMEOUT_IN_MINUTES: '0' }).ttlMs).toBe(0);
  });

  it('does not fall back to the older variable when CACHE_EXTENSION_TTL is malformed', () => {
    expect(() =>
      parseExtensionSettings({ CACHE_EXTENSION_TTL: '5', CACHE_TIMEOUT_IN_MINUTES: '10' }),
    ).toThrow(/^CACHE_EXTENSION_TTL: "5" is not a duration/);
  });

  it.each([
    [
      'CACHE_TIMEOUT_IN_MINUTES',
      '1441',
      /1441 minutes is out of range \(expected whole minutes from 0 to 1440/,
    ],
    [
      'CACHE_TIMEOUT_IN_MINUTES',
      '5x',
      /neither whole minutes nor a duration \(expected whole minutes from 0 to 1440/,
    ],
    ['CACHE_TIMEOUT_IN_MINUTES', '25h', /"25h" is longer than the maximum of 24h \(expected whole minutes/],
    ['CACHE_EXTENSION_PORT', '9001', /reserved/],
    ['CACHE_EXTENSION_INIT_STARTUP', 'sometimes', /expected true, false, yes, no, 1 or 0/],
    ['CACHE_EXTENSION_LOG_LEVEL', 'trace', /expected one of/],
    ['CACHE_EXTENSION_MAX_ENTRIES', '0', /expected 1 to 10000000/],
    ['CACHE_EXTENSION_MAX_ENTRIES', '1e3', /not a whole decimal number/],
    ['CACHE_EXTENSION_MAX_BYTES', '1023', /expected 1024 to/],
    ['CACHE_EXTENSION_LEGACY_ROUTES', 'enabled', /expected true, false, yes, no, 1 or 0/],
    ['PARAMETERS_SECRETS_EXTENSION_HTTP_PORT', '65536', /expected 0 to 65535/],
    ['PARAMETERS_SECRETS_EXTENSION_HTTP_PORT', '9001', /reserved/],
    [
      'SSM_PARAMETER_STORE_TTL',
      '301',
      /301 seconds is out of range \(expected whole seconds from 0 to 300\)/,
    ],
    ['SSM_PARAMETER_STORE_TTL', '5m', /"5m" is not a whole number of seconds \(expected whole seconds/],
    ['SECRETS_MANAGER_TTL', '-1', /expected whole seconds from 0 to 300/],
    ['PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE', '1001', /expected 0 to 1000/],
    ['PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED', 'maybe', /expected true, false, yes, no, 1 or 0/],
    ['PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL', 'verbose', /expected one of debug, info, warn, error, none/],
    ['SSM_PARAMETER_STORE_TIMEOUT_MILLIS', '30001', /expected whole milliseconds from 0 to 30000/],
    ['SECRETS_MANAGER_TIMEOUT_MILLIS', '1.5', /not a whole number of milliseconds/],
    ['PARAMETERS_SECRETS_EXTENSION_MAX_CONNECTIONS', '0', /expected 1 to 1000000/],
  ])('throws EnvError naming %s when it is %j', (variable, value, message) => {
    let caught: unknown;
    try {
      parseExtensionSettings({ [variable]: value });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(EnvError);
    expect(caught).toMatchObject({ variable, code: 'EnvInvalid' });
    expect((caught as EnvError).message).toMatch(new RegExp(`^${variable}: `));
    expect((caught as EnvError).message).toMatch(message);
  });

  it('treats an empty session token as no token', () => {
    expect(parseExtensionSettings({ AWS_SESSION_TOKEN: '' }).sessionToken).toBeUndefined();
  });

  it('expects the container authorization token where there is no session token, as the Secrets Manager Agent does', () => {
    expect(parseExtensionSettings({ AWS_CONTAINER_AUTHORIZATION_TOKEN: 'c' }).sessionToken).toBe('c');
    expect(
      parseExtensionSettings({ AWS_SESSION_TOKEN: 's', AWS_CONTAINER_AUTHORIZATION_TOKEN: 'c' }).sessionToken,
    ).toBe('s');
    expect(
      parseExtensionSettings({ AWS_SESSION_TOKEN: '', AWS_CONTAINER_AUTHORIZATION_TOKEN: 'c' }).sessionToken,
    ).toBe('c');
  });
});

describe("parseExtensionSettings (AWS's Parameters and Secrets extension variables)", () => {
  it('serves the AWS routes on 2773 by default, and on a free port when the main port is 0', () => {
    expect(parseExtensionSettings({}).awsPort).toBe(2773);
    expect(parseExtensionSettings({ CACHE_EXTENSION_PORT: '4000' }).awsPort).toBe(2773);
    expect(parseExtensionSettings({ CACHE_EXTENSION_PORT: '0' }).awsPort).toBe(0);
    expect(parseExtensionSettings({ PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: '2800' }).awsPort).toBe(2800);
    expect(
      parseExtensionSettings({ CACHE_EXTENSION_PORT: '0', PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: '2800' })
        .awsPort,
    ).toBe(2800);
  });

  it('reads SSM_PARAMETER_STORE_TTL in seconds as the default TTL when no TTL of its own is set', () => {
    expect(parseExtensionSettings({ SSM_PARAMETER_STORE_TTL: '120' }).ttlMs).toBe(120_000);
    expect(parseExtensionSettings({ SSM_PARAMETER_STORE_TTL: '0' }).ttlMs).toBe(0);
    expect(parseExtensionSettings({ SSM_PARAMETER_STORE_TTL: '300' }).ttlMs).toBe(300_000);
  });

  it('prefers CACHE_EXTENSION_TTL and CACHE_TIMEOUT_IN_MINUTES over SSM_PARAMETER_STORE_TTL', () => {
    expect(parseExtensionSettings({ SSM_PARAMETER_STORE_TTL: '120', CACHE_EXTENSION_TTL: '10s' }).ttlMs).toBe(
      10_000,
    );
    expect(
      parseExtensionSettings({ SSM_PARAMETER_STORE_TTL: '120', CACHE_TIMEOUT_IN_MINUTES: '10' }).ttlMs,
    ).toBe(600_000);
  });

  it('validates SSM_PARAMETER_STORE_TTL even when CACHE_EXTENSION_TTL wins', () => {
    expect(() =>
      parseExtensionSettings({ SSM_PARAMETER_STORE_TTL: '3600', CACHE_EXTENSION_TTL: '10s' }),
    ).toThrow(
      /^SSM_PARAMETER_STORE_TTL: 3600 seconds is out of range \(expected whole seconds from 0 to 300\)/,
    );
  });

  it('reads SECRETS_MANAGER_TTL as the secrets TTL without changing the parameters TTL', () => {
    const s = parseExtensionSettings({ SECRETS_MANAGER_TTL: '60', SSM_PARAMETER_STORE_TTL: '30' });
    expect(s.secretTtlMs).toBe(60_000);
    expect(s.ttlMs).toBe(30_000);
    expect(
      parseExtensionSettings({ SECRETS_MANAGER_TTL: '60', CACHE_EXTENSION_TTL: '1m30s' }).secretTtlMs,
    ).toBe(90_000);
  });

  it('turns caching off when PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED is false or the cache size is 0', () => {
    for (const env of [
      { PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED: 'false' },
      { PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED: 'FALSE', SSM_PARAMETER_STORE_TTL: '300' },
      { PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE: '0' },
    ]) {
      const s = parseExtensionSettings(env);
      expect(s.cacheEnabled).toBe(false);
      expect(s.ttlMs).toBe(0);
      expect(s.secretTtlMs).toBe(0);
      expect(s.maxEntries).toBe(DEFAULTS.maxEntries);
    }
    expect(parseExtensionSettings({ PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED: 'true' }).cacheEnabled).toBe(
      true,
    );
  });

  it("keeps lambda-cache's own TTL when caching is off by AWS's variable and both are set", () => {
    const s = parseExtensionSettings({
      PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED: 'false',
      CACHE_EXTENSION_TTL: '1m',
    });
    expect(s.cacheEnabled).toBe(false);
    expect(s.ttlMs).toBe(60_000);
  });

  it('reads PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE as the entry bound unless CACHE_EXTENSION_MAX_ENTRIES is set', () => {
    expect(parseExtensionSettings({ PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE: '500' }).maxEntries).toBe(500);
    expect(
      parseExtensionSettings({
        PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE: '500',
        CACHE_EXTENSION_MAX_ENTRIES: '20',
      }).maxEntries,
    ).toBe(20);
  });

  it('reads PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL unless CACHE_EXTENSION_LOG_LEVEL is set', () => {
    expect(parseExtensionSettings({ PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL: 'none' }).logLevel).toBe('none');
    expect(parseExtensionSettings({ PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL: 'WARN' }).logLevel).toBe('warn');
    expect(
      parseExtensionSettings({
        PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL: 'none',
        CACHE_EXTENSION_LOG_LEVEL: 'debug',
      }).logLevel,
    ).toBe('debug');
  });

  it('reads the timeouts in milliseconds, 0 meaning the default deadline', () => {
    const s = parseExtensionSettings({
      SSM_PARAMETER_STORE_TIMEOUT_MILLIS: '2500',
      SECRETS_MANAGER_TIMEOUT_MILLIS: '0',
    });
    expect(s.awsTimeoutMs).toBe(2500);
    expect(s.secretTimeoutMs).toBeUndefined();
    expect(parseExtensionSettings({ SSM_PARAMETER_STORE_TIMEOUT_MILLIS: '0' }).awsTimeoutMs).toBeUndefined();
  });

  it('accepts PARAMETERS_SECRETS_EXTENSION_MAX_CONNECTIONS from 1 up', () => {
    expect(
      parseExtensionSettings({ PARAMETERS_SECRETS_EXTENSION_MAX_CONNECTIONS: '3' }).awsMaxConnections,
    ).toBe(3);
  });
});
