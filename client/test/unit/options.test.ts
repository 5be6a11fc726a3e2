import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { CLIENT_DEFAULTS } from '../../src/options.js';
import { currentToken, resolveOptions } from '../../src/resolved-options.js';

describe('resolveOptions', () => {
  it('uses the documented defaults when no option and no variable is set', () => {
    const o = resolveOptions({}, {});
    expect(o).toMatchObject({
      port: 3000,
      token: undefined,
      timeoutMs: CLIENT_DEFAULTS.timeoutMs,
      connectTimeoutMs: CLIENT_DEFAULTS.connectTimeoutMs,
      connections: CLIENT_DEFAULTS.connections,
      retry: CLIENT_DEFAULTS.retry,
      localCache: CLIENT_DEFAULTS.localCache,
      bigNumbers: false,
    });
  });

  it('takes the port from CACHE_EXTENSION_PORT when the option is not given', () => {
    expect(resolveOptions({}, { CACHE_EXTENSION_PORT: '4000' }).port).toBe(4000);
    expect(resolveOptions({ port: 5000 }, { CACHE_EXTENSION_PORT: '4000' }).port).toBe(5000);
    expect(resolveOptions({}, { CACHE_EXTENSION_PORT: '' }).port).toBe(3000);
  });

  it.each([
    [{}, { CACHE_EXTENSION_PORT: '0x10' }, 'CACHE_EXTENSION_PORT'],
    [{}, { CACHE_EXTENSION_PORT: '9001' }, 'reserved'],
    [{}, { CACHE_EXTENSION_PORT: '0' }, 'port'],
    [{ port: 0 }, {}, 'port must be'],
    [{ port: 1.5 }, {}, 'port must be'],
    [{ timeoutMs: -1 }, {}, 'timeoutMs'],
    [{ retry: { retries: 1000 } }, {}, 'retry.retries'],
    [{ localCache: { maxEntries: 0 } }, {}, 'localCache.maxEntries'],
  ])('throws InvalidOptionError when options are %j and the environment %j', (options, env, message) => {
    expect(() => resolveOptions(options, env)).toThrow(InvalidOptionError);
    expect(() => resolveOptions(options, env)).toThrow(message);
  });

  it('turns the in-process layer off when localCache is false', () => {
    expect(resolveOptions({ localCache: false }, {}).localCache).toEqual({
      enabled: false,
      maxEntries: 1000,
    });
    expect(resolveOptions({ localCache: { maxEntries: 5 } }, {}).localCache).toEqual({
      enabled: true,
      maxEntries: 5,
    });
  });
});

describe('currentToken', () => {
  it('prefers the option, then AWS_SESSION_TOKEN, and sends nothing when both are empty', () => {
    expect(currentToken(resolveOptions({ token: 'opt' }, {}), { AWS_SESSION_TOKEN: 'env' })).toBe('opt');
    expect(currentToken(resolveOptions({}, {}), { AWS_SESSION_TOKEN: 'env' })).toBe('env');
    expect(currentToken(resolveOptions({}, {}), { AWS_SESSION_TOKEN: '' })).toBeUndefined();
    expect(currentToken(resolveOptions({}, {}), {})).toBeUndefined();
  });
});
