import { describe, expect, it } from 'vitest';
import {
  EnvError,
  parseAppConfigPollIntervalSeconds,
  parseAppConfigPrefetchList,
  parseExtensionSettings,
} from '../../src/env.js';

const PATH = '/applications/shop/environments/prod/configurations/flags';

function envError(env: Record<string, string>): EnvError {
  try {
    parseExtensionSettings(env);
  } catch (err) {
    expect(err).toBeInstanceOf(EnvError);
    return err as EnvError;
  }
  throw new Error('expected an EnvError');
}

describe('parseAppConfigPrefetchList', () => {
  it('reads one path as application, environment and profile', () => {
    expect(parseAppConfigPrefetchList(PATH)).toEqual([
      { application: 'shop', environment: 'prod', profile: 'flags' },
    ]);
  });

  it('reads a comma-separated list in order, spaces around items ignored, each configuration once', () => {
    const list = parseAppConfigPrefetchList(
      ` ${PATH} , /applications/abc1234/environments/e1/configurations/p1,${PATH}`,
    );
    expect(list).toEqual([
      { application: 'shop', environment: 'prod', profile: 'flags' },
      { application: 'abc1234', environment: 'e1', profile: 'p1' },
    ]);
    expect(Object.isFrozen(list)).toBe(true);
  });

  it('percent-decodes each segment, as the route of the same form does', () => {
    expect(
      parseAppConfigPrefetchList('/applications/my%20app/environments/prod/configurations/a%2Cb'),
    ).toEqual([{ application: 'my app', environment: 'prod', profile: 'a,b' }]);
  });

  it('refuses an empty item, naming it, when the list has a doubled or trailing comma', () => {
    expect(() => parseAppConfigPrefetchList(`${PATH},,${PATH}`)).toThrow(/^item 2 of 3 is empty \(expected/);
    expect(() => parseAppConfigPrefetchList(`${PATH},`)).toThrow(/^item 2 of 2 is empty/);
  });

  it('refuses an item that is not an AppConfig path, quoting it and saying what is valid', () => {
    for (const bad of [
      'applications/shop/environments/prod/configurations/flags',
      '/applications/shop/environments/prod',
      '/applications/shop/environments/prod/configurations/flags/extra',
      '/applications//environments/prod/configurations/flags',
      '/apps/shop/envs/prod/configs/flags',
      'shop:prod:flags',
    ]) {
      expect(() => parseAppConfigPrefetchList(bad), bad).toThrow(
        /^item 1 of 1, ".*": expected \/applications\/\{application\}.*\(expected a comma-separated list of \/applications\//,
      );
    }
  });

  it('refuses a segment longer than AppConfig allows or badly percent-encoded', () => {
    const long = `/applications/${'a'.repeat(129)}/environments/prod/configurations/flags`;
    expect(() => parseAppConfigPrefetchList(long)).toThrow(/application is 129 characters/);
    expect(() =>
      parseAppConfigPrefetchList('/applications/%E0%A4%A/environments/prod/configurations/flags'),
    ).toThrow(/not valid percent-encoding/);
  });
});

describe('parseAppConfigPollIntervalSeconds', () => {
  it('reads whole seconds from 15 to 86400 as milliseconds', () => {
    expect(parseAppConfigPollIntervalSeconds('15')).toBe(15_000);
    expect(parseAppConfigPollIntervalSeconds('45')).toBe(45_000);
    expect(parseAppConfigPollIntervalSeconds('86400')).toBe(86_400_000);
  });

  it("raises a value below AppConfig's 15 s minimum to it, so a function set up for AWS's extension starts", () => {
    expect(parseAppConfigPollIntervalSeconds('14')).toBe(15_000);
    expect(parseAppConfigPollIntervalSeconds('0')).toBe(15_000);
  });

  it('refuses what is not whole seconds, and more than a day', () => {
    for (const bad of ['45s', '1.5', '-20', '0x20', '1e2']) {
      expect(() => parseAppConfigPollIntervalSeconds(bad), bad).toThrow(/is not a whole number of seconds/);
    }
    expect(() => parseAppConfigPollIntervalSeconds('86401')).toThrow(/out of range/);
  });
});

describe("parseExtensionSettings (AWS's AppConfig extension variables)", () => {
  it("uses AWS's extension's defaults: port 2772, poll every 45 s, 3000 ms a call, nothing prefetched", () => {
    const s = parseExtensionSettings({});
    expect(s.appconfigPort).toBe(2772);
    expect(s.appconfigPollIntervalMs).toBe(45_000);
    expect(s.appconfigPollTimeoutMs).toBe(3000);
    expect(s.appconfigPrefetch).toEqual([]);
  });

  it('serves the AppConfig route on a free port when the main port is 0, unless its own port is set', () => {
    expect(parseExtensionSettings({ CACHE_EXTENSION_PORT: '0' }).appconfigPort).toBe(0);
    expect(parseExtensionSettings({ CACHE_EXTENSION_PORT: '4000' }).appconfigPort).toBe(2772);
    expect(
      parseExtensionSettings({ CACHE_EXTENSION_PORT: '0', AWS_APPCONFIG_EXTENSION_HTTP_PORT: '2800' })
        .appconfigPort,
    ).toBe(2800);
  });

  it('reads every AppConfig variable when all are set', () => {
    const s = parseExtensionSettings({
      AWS_APPCONFIG_EXTENSION_PREFETCH_LIST: PATH,
      AWS_APPCONFIG_EXTENSION_POLL_INTERVAL_SECONDS: '60',
      AWS_APPCONFIG_EXTENSION_POLL_TIMEOUT_MILLIS: '1500',
      AWS_APPCONFIG_EXTENSION_HTTP_PORT: '2900',
    });
    expect(s).toMatchObject({
      appconfigPort: 2900,
      appconfigPollIntervalMs: 60_000,
      appconfigPollTimeoutMs: 1500,
      appconfigPrefetch: [{ application: 'shop', environment: 'prod', profile: 'flags' }],
    });
  });

  it('treats a poll timeout of 0 as the default and refuses one over 30 s', () => {
    expect(
      parseExtensionSettings({ AWS_APPCONFIG_EXTENSION_POLL_TIMEOUT_MILLIS: '0' }).appconfigPollTimeoutMs,
    ).toBe(3000);
    expect(envError({ AWS_APPCONFIG_EXTENSION_POLL_TIMEOUT_MILLIS: '30001' }).message).toMatch(
      /^AWS_APPCONFIG_EXTENSION_POLL_TIMEOUT_MILLIS: 30001 milliseconds is out of range/,
    );
  });

  it('names the variable when a value is bad', () => {
    expect(envError({ AWS_APPCONFIG_EXTENSION_POLL_INTERVAL_SECONDS: '5s' }).message).toMatch(
      /^AWS_APPCONFIG_EXTENSION_POLL_INTERVAL_SECONDS: "5s" is not a whole number of seconds/,
    );
    expect(envError({ AWS_APPCONFIG_EXTENSION_HTTP_PORT: '9001' }).variable).toBe(
      'AWS_APPCONFIG_EXTENSION_HTTP_PORT',
    );
    const prefetch = envError({ AWS_APPCONFIG_EXTENSION_PREFETCH_LIST: `${PATH},nope` });
    expect(prefetch.variable).toBe('AWS_APPCONFIG_EXTENSION_PREFETCH_LIST');
    expect(prefetch.message).toMatch(/^AWS_APPCONFIG_EXTENSION_PREFETCH_LIST: item 2 of 2, "nope": /);
  });

  it('treats an empty or blank variable as unset', () => {
    const s = parseExtensionSettings({
      AWS_APPCONFIG_EXTENSION_PREFETCH_LIST: '  ',
      AWS_APPCONFIG_EXTENSION_POLL_INTERVAL_SECONDS: '',
    });
    expect(s.appconfigPrefetch).toEqual([]);
    expect(s.appconfigPollIntervalMs).toBe(45_000);
  });
});
