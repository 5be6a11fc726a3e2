/**
 * The AppConfig source against the local AppConfigData emulator, over HTTP through the lean client, so
 * every call is counted where AWS would count it. One manual clock drives both the source and the
 * emulator (poll intervals, token expiry).
 */

import { type Backends, startBackends } from '@lambda-cache/local';
import { parseExtensionSettings, RouteError } from '@lambda-cache/shared';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AwsCallOptions,
  type AwsClient,
  AwsServiceError,
  AwsTransportError,
  createAwsClient,
  type RestRequest,
} from '../../../src/aws/index.js';
import { ManualClock } from '../../../src/clock.js';
import { parseConfig } from '../../../src/config-yaml.js';
import { isNotFound, NotFoundError } from '../../../src/errors.js';
import { SourceHealth, trackSources } from '../../../src/health.js';
import { silentLogger } from '../../../src/log.js';
import {
  type AppConfigMeta,
  type AppConfigPayload,
  AppConfigSource,
  type AppConfigTarget,
  appconfigEntry,
  decodeTarget,
  encodeTarget,
} from '../../../src/sources/appconfig.js';
import { appconfigSection } from '../../../src/sources/appconfig-config.js';
import { type LoadResult, type Stored, UNCHANGED } from '../../../src/sources/source.js';

const START = Date.parse('2026-03-01T00:00:00Z');
const REGION = 'us-east-1';
const DAY_MS = 24 * 3_600_000;

/** The real client, with a way to send a token already used and to change the poll interval AWS answers. */
class Tap implements AwsClient {
  /** The token of every GetLatestConfiguration sent, in order. */
  readonly tokens: string[] = [];
  /** Sent in place of the next GetLatestConfiguration's token. */
  replay: string | undefined;
  /** Put in place of the `Next-Poll-Interval-In-Seconds` AWS answers. */
  nextInterval: string | undefined;

  constructor(private readonly inner: AwsClient) {}

  json<T>(...args: Parameters<AwsClient['json']>): Promise<T> {
    return this.inner.json<T>(...args);
  }

  async rest(service: 'appconfigdata', region: string | undefined, req: RestRequest, opts?: AwsCallOptions) {
    let sent = req;
    const token = req.query?.configuration_token;
    if (token !== undefined) {
      this.tokens.push(token);
      if (this.replay !== undefined) sent = { ...req, query: { configuration_token: this.replay } };
      this.replay = undefined;
    }
    const res = await this.inner.rest(service, region, sent, opts);
    if (this.nextInterval !== undefined && res.headers['next-poll-interval-in-seconds'] !== undefined) {
      res.headers['next-poll-interval-in-seconds'] = this.nextInterval;
    }
    return res;
  }

  destroy(): void {
    this.inner.destroy();
  }
}

let backends: Backends;
let aws: AwsClient;
const clock = new ManualClock(START);
let app = 0;

beforeAll(async () => {
  backends = await startBackends({ now: () => clock.now(), region: REGION });
  aws = createAwsClient({ env: backends.env });
});

afterAll(async () => {
  aws.destroy();
  await backends.close();
});

beforeEach(() => {
  backends.appConfig.setFaults({});
  backends.appConfig.resetCalls();
});

/** A new application with one freeform JSON profile deployed, so tests share no session. */
function deployed(
  content: unknown = { maxItems: 10 },
  versionLabel: string | undefined = 'v1',
): AppConfigTarget {
  app++;
  const target = { region: REGION, application: `app${app}`, environment: 'prod', profile: 'settings' };
  backends.appConfig.deploy({
    application: target.application,
    environment: target.environment,
    profile: target.profile,
    content,
    ...(versionLabel ? { versionLabel } : {}),
  });
  return target;
}

function source(opts: { client?: AwsClient; pollIntervalMs?: number; pollTimeoutMs?: number } = {}) {
  return new AppConfigSource({
    aws: opts.client ?? aws,
    clock,
    entries: [],
    region: REGION,
    pollIntervalMs: opts.pollIntervalMs ?? 15_000,
    pollTimeoutMs: opts.pollTimeoutMs ?? 3000,
    logger: silentLogger,
  });
}

async function loadOne(
  s: AppConfigSource,
  target: AppConfigTarget,
  previous?: Stored<AppConfigMeta>,
): Promise<LoadResult<AppConfigPayload>> {
  const [result] = await s.load(s.group(target), [target], [previous]);
  return result as LoadResult<AppConfigPayload>;
}

function payloadOf(result: LoadResult<AppConfigPayload>): AppConfigPayload {
  if (result === UNCHANGED || result instanceof Error)
    throw new Error(`expected a payload, got ${String(result)}`);
  return result;
}

const calls = () => ({ ...backends.appConfig.calls });

describe('AppConfigSource loading', () => {
  it('starts one session and returns the configuration as it came, with its content type and version label', async () => {
    const target = deployed({ maxItems: 10 }, 'v1');
    const s = source();
    const payload = payloadOf(await loadOne(s, target));
    expect(JSON.parse(payload.content.toString('utf8'))).toEqual({ maxItems: 10 });
    expect(payload).toMatchObject({ contentType: 'application/json', versionLabel: 'v1' });
    expect(calls()).toEqual({ StartConfigurationSession: 1, GetLatestConfiguration: 1 });
    const stored = s.store(payload);
    expect(stored).toEqual({
      body: payload.content,
      contentType: 'application/json',
      meta: { contentType: 'application/json', version: 'v1' },
      headers: ['configuration-version', 'v1'],
    });
  });

  it('asks for the poll interval as the session minimum', async () => {
    const target = deployed();
    await loadOne(source({ pollIntervalMs: 60_000 }), target);
    const start = backends.appConfig.callLog.find((c) => c.operation === 'StartConfigurationSession');
    expect(start?.request).toEqual({
      ApplicationIdentifier: target.application,
      EnvironmentIdentifier: 'prod',
      ConfigurationProfileIdentifier: 'settings',
      RequiredMinimumPollIntervalInSeconds: 60,
    });
  });

  it('answers UNCHANGED without a call while the poll interval has not passed', async () => {
    const target = deployed();
    const s = source();
    const stored = s.store(payloadOf(await loadOne(s, target)));
    clock.advance(14_999);
    expect(await loadOne(s, target, stored)).toBe(UNCHANGED);
    expect(calls()).toEqual({ StartConfigurationSession: 1, GetLatestConfiguration: 1 });
  });

  it('answers UNCHANGED, keeping the stored value, when a later poll gets an empty body', async () => {
    const target = deployed();
    const s = source();
    const stored = s.store(payloadOf(await loadOne(s, target)));
    for (let i = 0; i < 3; i++) {
      clock.advance(15_000);
      expect(await loadOne(s, target, stored)).toBe(UNCHANGED);
    }
    // Each poll used the token the one before it returned: one session, four polls.
    expect(calls()).toEqual({ StartConfigurationSession: 1, GetLatestConfiguration: 4 });
  });

  it('gets a deployed version on the next allowed poll, not before', async () => {
    const target = deployed({ n: 1 }, 'one');
    const s = source();
    const stored = s.store(payloadOf(await loadOne(s, target)));
    backends.appConfig.deploy({ ...target, content: { n: 2 }, versionLabel: 'two' });
    clock.advance(10_000);
    expect(await loadOne(s, target, stored)).toBe(UNCHANGED);
    clock.advance(5_000);
    const next = payloadOf(await loadOne(s, target, stored));
    expect(JSON.parse(next.content.toString('utf8'))).toEqual({ n: 2 });
    expect(next.versionLabel).toBe('two');
    expect(calls()).toEqual({ StartConfigurationSession: 1, GetLatestConfiguration: 2 });
  });

  it('respects a longer NextPollIntervalInSeconds than it asked for', async () => {
    const tap = new Tap(aws);
    tap.nextInterval = '120';
    const target = deployed();
    const s = source({ client: tap });
    const stored = s.store(payloadOf(await loadOne(s, target)));
    clock.advance(119_000);
    expect(await loadOne(s, target, stored)).toBe(UNCHANGED);
    expect(calls().GetLatestConfiguration).toBe(1);
    clock.advance(1_000);
    expect(await loadOne(s, target, stored)).toBe(UNCHANGED);
    expect(calls().GetLatestConfiguration).toBe(2);
  });

  it('starts a new session once when the token expired, and answers UNCHANGED when the content is the same', async () => {
    const target = deployed();
    const s = source();
    const stored = s.store(payloadOf(await loadOne(s, target)));
    clock.advance(DAY_MS);
    expect(await loadOne(s, target, stored)).toBe(UNCHANGED);
    // The expired poll, then a new session and its first poll.
    expect(calls()).toEqual({ StartConfigurationSession: 2, GetLatestConfiguration: 3 });
  });

  it('gets the new content from the new session when the token expired across a deployment', async () => {
    const target = deployed({ n: 1 }, 'one');
    const s = source();
    const stored = s.store(payloadOf(await loadOne(s, target)));
    backends.appConfig.deploy({ ...target, content: { n: 2 }, versionLabel: 'two' });
    clock.advance(DAY_MS);
    const next = payloadOf(await loadOne(s, target, stored));
    expect(next.versionLabel).toBe('two');
  });

  it('starts a new session once when AppConfig says the token was already used', async () => {
    const tap = new Tap(aws);
    const target = deployed();
    const s = source({ client: tap });
    const stored = s.store(payloadOf(await loadOne(s, target)));
    tap.replay = tap.tokens[0];
    clock.advance(15_000);
    expect(await loadOne(s, target, stored)).toBe(UNCHANGED);
    expect(calls()).toEqual({ StartConfigurationSession: 2, GetLatestConfiguration: 3 });
    // The refused poll sent the replayed token, the next one the new session's.
    expect(tap.tokens).toHaveLength(3);
  });

  it('returns the error when the new session fails as well, and tries a new one at the next load', async () => {
    const target = deployed();
    const s = source();
    const stored = s.store(payloadOf(await loadOne(s, target)));
    clock.advance(DAY_MS);
    backends.appConfig.setFaults({ failRate: 1, operations: ['StartConfigurationSession'] });
    const failed = await loadOne(s, target, stored);
    expect(failed).toBeInstanceOf(AwsServiceError);
    expect((failed as AwsServiceError).awsCode).toBe('InternalServerException');
    backends.appConfig.setFaults({});
    backends.appConfig.resetCalls();
    expect(await loadOne(s, target, stored)).toBe(UNCHANGED);
    expect(calls()).toEqual({ StartConfigurationSession: 1, GetLatestConfiguration: 1 });
  });

  it('starts a new session for the content when the cache lost the value', async () => {
    const target = deployed({ kept: true });
    const s = source();
    await loadOne(s, target);
    clock.advance(15_000);
    const again = payloadOf(await loadOne(s, target, undefined));
    expect(JSON.parse(again.content.toString('utf8'))).toEqual({ kept: true });
    expect(calls()).toEqual({ StartConfigurationSession: 2, GetLatestConfiguration: 2 });
  });

  it('makes one poll for two loads of one target at once', async () => {
    const target = deployed();
    const s = source();
    const [a, b] = await Promise.all([loadOne(s, target), loadOne(s, target)]);
    expect(payloadOf(a as LoadResult<AppConfigPayload>)).toBe(b);
    expect(calls()).toEqual({ StartConfigurationSession: 1, GetLatestConfiguration: 1 });
  });

  it('gives content to a load without a value even while a revalidation of the target runs', async () => {
    const target = deployed({ both: true });
    const s = source();
    const stored = s.store(payloadOf(await loadOne(s, target)));
    clock.advance(15_000);
    const [revalidated, loaded] = await Promise.all([loadOne(s, target, stored), loadOne(s, target)]);
    expect(revalidated).toBe(UNCHANGED);
    expect(JSON.parse(payloadOf(loaded).content.toString())).toEqual({ both: true });
  });

  it('loads several targets of one call each on its own, one failure its own result', async () => {
    const good = deployed({ good: 1 });
    const missing = { ...good, application: 'no-such-app' };
    const s = source();
    const results = await s.load(s.group(good), [good, missing], [undefined, undefined]);
    expect(payloadOf(results[0] as LoadResult<AppConfigPayload>).content.toString()).toBe('{"good":1}');
    expect(results[1]).toBeInstanceOf(AwsServiceError);
    expect(isNotFound(results[1])).toBe(true);
  });

  it('bounds each call by the poll timeout', async () => {
    const target = deployed();
    backends.appConfig.setFaults({ hangMs: 5_000, operations: ['StartConfigurationSession'] });
    const result = await loadOne(source({ pollTimeoutMs: 100 }), target);
    expect(result).toBeInstanceOf(AwsTransportError);
    expect((result as AwsTransportError).reason).toBe('timeout');
    expect((result as Error).message).toBe('appconfigdata did not answer within 100 ms');
  });

  it('reports a poll that timed out as a failure of AppConfig in health', async () => {
    const target = deployed();
    backends.appConfig.setFaults({ hangMs: 5_000, operations: ['StartConfigurationSession'] });
    const health = new SourceHealth(['appconfig']);
    const result = await loadOne(source({ client: trackSources(aws, health), pollTimeoutMs: 100 }), target);
    expect((result as AwsTransportError).reason).toBe('timeout');
    expect(health.snapshot().appconfig?.status).toBe('failing');
  });

  it('filters the flags of a feature-flag profile loaded from AppConfig', async () => {
    app++;
    const target = { region: REGION, application: `app${app}`, environment: 'prod', profile: 'flags' };
    backends.appConfig.deploy({
      ...target,
      flags: { ui_refresh: { enabled: true, colors: 'new' }, shutoff: { enabled: false } },
      versionLabel: 'f1',
    });
    const s = source();
    const stored = s.store(payloadOf(await loadOne(s, target)));
    const [, agent] = s.routes;
    const read = agent?.parse(
      'flag=shutoff',
      `/applications/${target.application}/environments/prod/configurations/flags`,
    );
    expect(read?.target).toEqual(target);
    const body = s.form(stored, read?.form ?? '');
    expect(JSON.parse(body?.body.toString() ?? '')).toEqual({ enabled: false });
    expect(body?.headers).toEqual(['configuration-version', 'f1']);
  });

  it('keeps a text configuration as it came, with its own content type and no version', async () => {
    app++;
    const target = { region: REGION, application: `app${app}`, environment: 'prod', profile: 'motd' };
    backends.appConfig.deploy({ ...target, content: 'Hello\n', contentType: 'text/plain; charset=utf-8' });
    const s = source();
    const stored = s.store(payloadOf(await loadOne(s, target)));
    expect(stored.body.toString()).toBe('Hello\n');
    expect(stored.contentType).toBe('text/plain; charset=utf-8');
    // The store serves the main form as stored: no Configuration-Version without a version label.
    expect(stored.headers).toBeUndefined();
    expect(s.form(stored, 'main')).toBeUndefined();
  });
});

describe('AppConfigSource forms', () => {
  const flagsStored = (s: AppConfigSource, version: string | null = '3'): Stored<AppConfigMeta> =>
    s.store({
      content: Buffer.from(
        JSON.stringify({
          ui_refresh: { enabled: true, colors: 'new' },
          shutoff: { enabled: false },
          beta: { enabled: true },
        }),
      ),
      contentType: 'application/json',
      versionLabel: version ?? undefined,
    });

  it('stores the main form with Configuration-Version from the version label', () => {
    const s = source();
    const stored = flagsStored(s);
    expect(stored.headers).toEqual(['configuration-version', '3']);
    expect(stored.contentType).toBe('application/json');
  });

  it("answers one flag on the agent's form with the flag's own value", () => {
    const s = source();
    const body = s.form(flagsStored(s), 'flag:ui_refresh');
    expect(JSON.parse(body?.body.toString() ?? '')).toEqual({ enabled: true, colors: 'new' });
    expect(body?.contentType).toBe('application/json');
    expect(body?.headers).toEqual(['configuration-version', '3']);
  });

  it('answers several flags as a map in the order asked', () => {
    const s = source();
    const body = s.form(flagsStored(s, null), 'flags:beta,ui_refresh');
    expect(body?.body.toString()).toBe(
      '{"beta":{"enabled":true},"ui_refresh":{"enabled":true,"colors":"new"}}',
    );
    expect(body?.headers).toBeUndefined();
    expect(s.form(flagsStored(s), 'flags:shutoff')?.body.toString()).toBe('{"shutoff":{"enabled":false}}');
  });

  it('throws NotFoundError naming the flags that are not in the configuration, inherited names included', () => {
    const s = source();
    const stored = flagsStored(s);
    expect(() => s.form(stored, 'flags:beta,nope')).toThrow(
      new NotFoundError('flag nope is not in the configuration'),
    );
    expect(() => s.form(stored, 'flag:toString')).toThrow(NotFoundError);
    expect(() => s.form(stored, 'flags:a,b')).toThrow(/^flags a, b are not in the configuration$/);
  });

  it('throws a RouteError (400) for flags of a configuration that is not a JSON object', () => {
    const s = source();
    for (const [content, contentType] of [
      ['Hello', 'text/plain'],
      ['[1,2]', 'application/json'],
      ['a: 1', 'application/x-yaml'],
    ] as const) {
      const stored = s.store({ content: Buffer.from(content), contentType, versionLabel: undefined });
      expect(() => s.form(stored, 'flags:a'), content).toThrow(RouteError);
      expect(() => s.form(stored, 'flag:a'), content).toThrow(/is not a JSON object \(its content type is/);
    }
  });

  it('knows no other form', () => {
    const s = source();
    expect(s.form(flagsStored(s), 'aws')).toBeUndefined();
  });
});

describe('AppConfigSource routes', () => {
  const [v1, agent] = source().routes;

  it('serves /v1/appconfig with the token, and the agent route without it on the main and AppConfig ports', () => {
    expect(v1).toMatchObject({ path: '/v1/appconfig', token: true });
    expect(v1?.listeners).toBeUndefined();
    expect(agent).toMatchObject({
      path: '/applications/',
      prefix: true,
      token: false,
      listeners: ['main', 'appconfig'],
    });
  });

  it('reads /v1/appconfig into the main form, or a map of flags', () => {
    expect(v1?.parse('application=shop&environment=prod&profile=flags', '/v1/appconfig')).toEqual({
      target: { region: REGION, application: 'shop', environment: 'prod', profile: 'flags' },
      form: 'main',
      refresh: false,
    });
    const one = v1?.parse(
      'application=shop&environment=prod&profile=flags&flag=a&refresh=true',
      '/v1/appconfig',
    );
    expect(one).toMatchObject({ form: 'flags:a', refresh: true });
    expect(v1?.parse('application=a&environment=e&profile=p&flag=b&flag=a&flag=b', '')?.form).toBe(
      'flags:b,a',
    );
  });

  it('reads the agent path into the main form, one flag alone, or several as a map', () => {
    const path = '/applications/shop/environments/prod/configurations/flags';
    expect(agent?.parse('', path)).toEqual({
      target: { region: REGION, application: 'shop', environment: 'prod', profile: 'flags' },
      form: 'main',
      refresh: false,
    });
    expect(agent?.parse('flag=a', path)?.form).toBe('flag:a');
    expect(agent?.parse('flag=a&flag=b', path)?.form).toBe('flags:a,b');
    expect(
      agent?.parse('', '/applications/my%20app/environments/prod/configurations/p')?.target.application,
    ).toBe('my app');
  });

  it('refuses what the shared parsers refuse, with a RouteError', () => {
    expect(() => v1?.parse('application=shop', '/v1/appconfig')).toThrow(RouteError);
    expect(() => agent?.parse('', '/applications/shop/environments/prod')).toThrow(RouteError);
    expect(() => agent?.parse('flag=1x', '/applications/a/environments/e/configurations/p')).toThrow(
      RouteError,
    );
  });

  it('reads a configured configuration in the region the config gives it', () => {
    const s = new AppConfigSource({
      aws,
      clock,
      entries: [
        { application: 'a', environment: 'e', profile: 'p', region: 'eu-west-1', pollIntervalMs: undefined },
      ],
      region: REGION,
      pollIntervalMs: 45_000,
      pollTimeoutMs: 3000,
    });
    expect(s.routes[1]?.parse('', '/applications/a/environments/e/configurations/p').target.region).toBe(
      'eu-west-1',
    );
    expect(s.routes[1]?.parse('', '/applications/a/environments/e/configurations/q').target.region).toBe(
      REGION,
    );
  });
});

describe('appconfigEntry', () => {
  function create(yaml: string, env: Record<string, string> = {}) {
    const config = parseConfig(yaml, 'config.yaml', [appconfigSection]);
    const settings = parseExtensionSettings(env);
    return appconfigEntry.create({
      aws,
      config,
      settings,
      env,
      region: REGION,
      clock,
      logger: silentLogger,
    }) as AppConfigSource;
  }

  it('registers the appconfig section', () => {
    expect(appconfigEntry.section).toBe(appconfigSection);
  });

  it("prefetches the section's entries and the prefetch list's, once each, with the poll interval as TTL", () => {
    const s = create(
      `appconfig:
  - { application: a, environment: e, profile: p, pollInterval: 1m }
  - { application: b, environment: e, profile: p, region: eu-west-1 }
`,
      {
        AWS_APPCONFIG_EXTENSION_PREFETCH_LIST:
          '/applications/a/environments/e/configurations/p,/applications/c/environments/e/configurations/p',
        AWS_APPCONFIG_EXTENSION_POLL_INTERVAL_SECONDS: '30',
      },
    );
    expect([...s.configured(parseConfig('', 'x'))]).toEqual([
      { target: { region: REGION, application: 'a', environment: 'e', profile: 'p' }, ttlMs: 60_000 },
      { target: { region: 'eu-west-1', application: 'b', environment: 'e', profile: 'p' }, ttlMs: 30_000 },
      { target: { region: REGION, application: 'c', environment: 'e', profile: 'p' }, ttlMs: 30_000 },
    ]);
    expect(s.ttlOf({ region: REGION, application: 'z', environment: 'e', profile: 'p' })).toBe(30_000);
  });

  it("uses AWS's extension's 45 s poll interval when nothing sets one", () => {
    const s = create('');
    expect(s.ttlOf({ region: REGION, application: 'z', environment: 'e', profile: 'p' })).toBe(45_000);
    expect([...s.configured(parseConfig('', 'x'))]).toEqual([]);
  });

  it('describes a target by its names only', () => {
    const s = create('');
    expect(s.describe({ region: REGION, application: 'a', environment: 'e', profile: 'p' })).toEqual({
      application: 'a',
      environment: 'e',
      profile: 'p',
    });
    expect(s).toMatchObject({ tag: 'appconfig', service: 'appconfig' });
  });
});

describe('AppConfig target codec', () => {
  const text = fc.string({ minLength: 1, maxLength: 40 });
  const target = fc.record({
    region: fc.option(fc.constantFrom('us-east-1', 'eu-west-1', 'ap-south-2'), { nil: undefined }),
    application: text,
    environment: text,
    profile: text,
  });

  it('decodes what it encodes', () => {
    fc.assert(
      fc.property(target, (t) => {
        expect(decodeTarget(encodeTarget(t))).toEqual(t);
      }),
    );
  });

  it('gives two different targets two different keys', () => {
    fc.assert(
      fc.property(target, target, (a, b) => {
        fc.pre(JSON.stringify(a) !== JSON.stringify(b));
        expect(encodeTarget(a)).not.toBe(encodeTarget(b));
      }),
    );
  });

  it('refuses text that is not one of its keys', () => {
    for (const bad of ['', 'x', '[]', '["r","a","e"]', '[null,"a","e",""]', '[1,"a","e","p"]', '{"a":1}']) {
      expect(() => decodeTarget(bad), bad).toThrow(RangeError);
    }
  });
});
