import { describe, expect, it } from 'vitest';
import { ConfigError, MAX_CONFIG_ENTRIES, sectionOf } from '../../../src/config.js';
import { parseConfig } from '../../../src/config-yaml.js';
import { appconfigSection } from '../../../src/sources/appconfig-config.js';

function read(text: string) {
  return sectionOf(parseConfig(text, 'config.yaml', [appconfigSection]), appconfigSection);
}

function failure(text: string): ConfigError {
  try {
    read(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('appconfigSection', () => {
  it('reads entries with their region and poll interval, the optional ones undefined when absent', () => {
    const entries = read(`
appconfig:
  - application: shop
    environment: prod
    profile: flags
  - application: abc1234
    environment: e1
    profile: settings
    region: eu-west-1
    pollInterval: 1m30s
`);
    expect(entries).toEqual([
      {
        application: 'shop',
        environment: 'prod',
        profile: 'flags',
        region: undefined,
        pollIntervalMs: undefined,
      },
      {
        application: 'abc1234',
        environment: 'e1',
        profile: 'settings',
        region: 'eu-west-1',
        pollIntervalMs: 90_000,
      },
    ]);
    expect(Object.isFrozen(entries)).toBe(true);
  });

  it('is an empty list when the file has no appconfig section, or an empty one', () => {
    expect(read('parameters: []\n')).toEqual([]);
    expect(read('appconfig:\n')).toEqual([]);
    expect(sectionOf(parseConfig('', 'config.yaml'), appconfigSection)).toEqual([]);
  });

  it('keeps identifiers as written, so a numeric-looking name stays text', () => {
    const [entry] = read('appconfig:\n  - { application: 0012, environment: 1, profile: true }\n');
    expect(entry).toMatchObject({ application: '0012', environment: '1', profile: 'true' });
  });

  it('lists a configuration given twice once', () => {
    const entries = read(`
appconfig:
  - { application: a, environment: e, profile: p, pollInterval: 20s }
  - { application: a, environment: e, profile: p, pollInterval: 20s }
  - { application: a, environment: e, profile: p, region: us-west-2 }
`);
    expect(entries.map((e) => e.region)).toEqual([undefined, 'us-west-2']);
  });

  it('refuses a configuration listed twice with two poll intervals, naming the first line', () => {
    const err = failure(`appconfig:
  - { application: a, environment: e, profile: p, pollInterval: 20s }
  - { application: a, environment: e, profile: p }
`);
    expect(err.message).toMatch(
      /^config\.yaml:3:5: appconfig\[1\]: lists a\/e\/p again with the default pollInterval, but line 2 gives it pollInterval 20s/,
    );
  });

  it('refuses a poll interval under 15 s, and one that is not whole seconds', () => {
    const low = failure(
      'appconfig:\n  - { application: a, environment: e, profile: p, pollInterval: 10s }\n',
    );
    expect(low.keyPath).toBe('appconfig[0].pollInterval');
    expect(low.problem).toMatch(
      /^10s is below AppConfig's minimum poll interval of 15s \(expected whole seconds from 15s/,
    );
    const fraction = failure(
      'appconfig:\n  - { application: a, environment: e, profile: p, pollInterval: 15500ms }\n',
    );
    expect(fraction.problem).toMatch(/^15s500ms is not whole seconds/);
    const bad = failure('appconfig:\n  - { application: a, environment: e, profile: p, pollInterval: 45 }\n');
    expect(bad.problem).toMatch(/^"45" is not a valid duration/);
  });

  it('refuses a missing, empty or too long identifier, naming the key', () => {
    expect(failure('appconfig:\n  - { application: a, environment: e }\n').message).toMatch(
      /^config\.yaml:2:5: appconfig\[0\]: misses profile \(expected a name or an id of 1 to 128 characters/,
    );
    expect(failure('appconfig:\n  - { application: "", environment: e, profile: p }\n').keyPath).toBe(
      'appconfig[0].application',
    );
    const long = failure(`appconfig:\n  - { application: ${'x'.repeat(129)}, environment: e, profile: p }\n`);
    expect(long.keyPath).toBe('appconfig[0].application');
    expect(long.problem).toMatch(/is not an AppConfig identifier/);
    expect(
      failure('appconfig:\n  - { application: "a\\u0001", environment: e, profile: p }\n').problem,
    ).toMatch(/is not an AppConfig identifier/);
  });

  it('refuses unknown keys, with a hint for a near miss, and values of the wrong kind', () => {
    const near = failure(
      'appconfig:\n  - { application: a, environment: e, profile: p, pollinterval: 20s }\n',
    );
    expect(near.keyPath).toBe('appconfig[0].pollinterval');
    expect(near.problem).toMatch(/^unknown key, did you mean pollInterval\?/);
    expect(failure('appconfig:\n  - { application: [a], environment: e, profile: p }\n').problem).toMatch(
      /^is a list/,
    );
    expect(failure('appconfig: shop\n').problem).toMatch(
      /^is a string \(expected a list of mappings with application/,
    );
    expect(failure('appconfig:\n  - shop\n').keyPath).toBe('appconfig[0]');
    expect(failure('appconfig:\n  -\n').keyPath).toBe('appconfig[0]');
  });

  it('refuses a region that is not one', () => {
    const err = failure('appconfig:\n  - { application: a, environment: e, profile: p, region: mars }\n');
    expect(err.keyPath).toBe('appconfig[0].region');
  });

  it('counts its entries toward the bound on the whole config', () => {
    // One group and MAX - 1 names fill the bound; the one appconfig entry is one too many.
    const names = Array.from({ length: MAX_CONFIG_ENTRIES - 1 }, (_, i) => `p${i}`).join(', ');
    const bounded = failure(
      `parameters:\n  - names: [${names}]\nappconfig: [{ application: a, environment: e, profile: p }]\n`,
    );
    expect(bounded.keyPath).toBe('appconfig');
    expect(bounded.problem).toMatch(/more than 100000 entries/);
  });

  it('describes itself by count only', () => {
    expect(
      appconfigSection.describe(read('appconfig:\n  - { application: a, environment: e, profile: p }\n')),
    ).toBe('1 configuration');
    expect(appconfigSection.describe([])).toBe('0 configurations');
  });
});
