// AppConfigData over its restJson1 wire protocol, with plain fetch: the SDK client is not a
// dependency of this repository. Each exchange is the one the API reference documents:
// https://docs.aws.amazon.com/appconfig/2019-10-09/APIReference/API_appconfigdata_StartConfigurationSession.html
// https://docs.aws.amazon.com/appconfig/2019-10-09/APIReference/API_appconfigdata_GetLatestConfiguration.html
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Backends, startBackends } from '../../src/backends.js';

const START = Date.parse('2026-03-01T00:00:00Z');
const HOUR_MS = 3_600_000;

interface StartConfigurationSessionRequest {
  ApplicationIdentifier?: unknown;
  EnvironmentIdentifier?: unknown;
  ConfigurationProfileIdentifier?: unknown;
  RequiredMinimumPollIntervalInSeconds?: unknown;
}

/** `POST /configurationsessions` → 201 `{ InitialConfigurationToken }`, or an error. */
async function startConfigurationSession(backends: Backends, request: StartConfigurationSessionRequest) {
  const response = await fetch(`${backends.appConfig.endpoint}/configurationsessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
  return {
    status: response.status,
    errorType: response.headers.get('x-amzn-errortype'),
    body: (await response.json()) as Record<string, unknown>,
  };
}

async function initialToken(backends: Backends, request: StartConfigurationSessionRequest): Promise<string> {
  const { status, body } = await startConfigurationSession(backends, request);
  expect(status).toBe(201);
  expect(typeof body.InitialConfigurationToken).toBe('string');
  return body.InitialConfigurationToken as string;
}

/**
 * `GET /configuration?configuration_token=…` → the configuration bytes as the body, with
 * `Next-Poll-Configuration-Token`, `Next-Poll-Interval-In-Seconds`, `Content-Type` and
 * `Version-Label` headers.
 */
async function getLatestConfiguration(backends: Backends, token: string) {
  const response = await fetch(
    `${backends.appConfig.endpoint}/configuration?configuration_token=${encodeURIComponent(token)}`,
  );
  const bytes = Buffer.from(await response.arrayBuffer());
  return {
    status: response.status,
    errorType: response.headers.get('x-amzn-errortype'),
    nextToken: response.headers.get('next-poll-configuration-token'),
    nextInterval: response.headers.get('next-poll-interval-in-seconds'),
    contentType: response.headers.get('content-type'),
    versionLabel: response.headers.get('version-label'),
    text: bytes.toString('utf8'),
    json: () => JSON.parse(bytes.toString('utf8')) as Record<string, unknown>,
  };
}

const SETTINGS = {
  ApplicationIdentifier: 'shop',
  EnvironmentIdentifier: 'prod',
  ConfigurationProfileIdentifier: 'settings',
};
const FLAGS = {
  ApplicationIdentifier: 'shop',
  EnvironmentIdentifier: 'prod',
  ConfigurationProfileIdentifier: 'flags',
};

describe('appconfigdata emulator', () => {
  let backends: Backends;
  let clock = START;

  beforeAll(async () => {
    backends = await startBackends({
      now: () => clock,
      seed: {
        appconfig: [
          {
            application: 'shop',
            environment: 'prod',
            profile: 'settings',
            content: { maxItems: 10 },
            versionLabel: 'v1',
          },
          {
            application: 'shop',
            environment: 'prod',
            profile: 'flags',
            flags: {
              ui_refresh: { enabled: true, new_styleguide_colors: true },
              emergency_shutoff_switch: { enabled: false },
            },
          },
          {
            application: 'shop',
            environment: 'prod',
            profile: 'motd',
            content: 'Hello',
            contentType: 'text/plain',
          },
          { application: 'shop', environment: 'beta', profile: 'beta-only', content: 'x' },
        ],
      },
    });
  });

  beforeEach(() => {
    clock = START;
    backends.appConfig.setFaults({});
  });

  afterAll(async () => {
    await backends.close();
  });

  it('puts its endpoint in the backends environment as AWS_ENDPOINT_URL_APPCONFIGDATA', () => {
    expect(backends.env.AWS_ENDPOINT_URL_APPCONFIGDATA).toBe(backends.appConfig.endpoint);
    expect(backends.appConfig.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  describe('StartConfigurationSession', () => {
    it('answers 201 with an InitialConfigurationToken when application, environment and profile exist', async () => {
      const { status, body } = await startConfigurationSession(backends, SETTINGS);
      expect(status).toBe(201);
      expect(Object.keys(body)).toEqual(['InitialConfigurationToken']);
    });

    it('accepts ids in place of names', async () => {
      const { applicationId, environmentId, profileId } = backends.appConfig.ids('shop', 'prod', 'settings');
      expect(applicationId).toMatch(/^[a-z0-9]{7}$/);
      const token = await initialToken(backends, {
        ApplicationIdentifier: applicationId,
        EnvironmentIdentifier: environmentId,
        ConfigurationProfileIdentifier: profileId,
      });
      expect((await getLatestConfiguration(backends, token)).json()).toEqual({ maxItems: 10 });
    });

    it('answers 404 ResourceNotFoundException naming the resource when an identifier is unknown', async () => {
      const cases = [
        [{ ...SETTINGS, ApplicationIdentifier: 'nope' }, 'Application', 'ApplicationIdentifier'],
        [{ ...SETTINGS, EnvironmentIdentifier: 'nope' }, 'Environment', 'EnvironmentIdentifier'],
        [
          { ...SETTINGS, ConfigurationProfileIdentifier: 'nope' },
          'ConfigurationProfile',
          'ConfigurationProfileIdentifier',
        ],
      ] as const;
      for (const [request, resourceType, member] of cases) {
        const { status, errorType, body } = await startConfigurationSession(backends, request);
        expect(status).toBe(404);
        expect(errorType).toBe('ResourceNotFoundException');
        expect(body).toMatchObject({
          Message: expect.any(String),
          ResourceType: resourceType,
          ReferencedBy: { [member]: 'nope' },
        });
      }
    });

    it('answers 404 ResourceNotFoundException when the profile has nothing deployed to the environment', async () => {
      const { status, errorType } = await startConfigurationSession(backends, {
        ...SETTINGS,
        EnvironmentIdentifier: 'beta',
      });
      expect(status).toBe(404);
      expect(errorType).toBe('ResourceNotFoundException');
    });

    it('answers 400 BadRequestException when the poll interval is outside 15..86400 or not a whole number', async () => {
      for (const interval of [14, 86_401, 15.5, '60']) {
        const { status, errorType } = await startConfigurationSession(backends, {
          ...SETTINGS,
          RequiredMinimumPollIntervalInSeconds: interval,
        });
        expect({ interval, status, errorType }).toEqual({
          interval,
          status: 400,
          errorType: 'BadRequestException',
        });
      }
      for (const interval of [15, 86_400]) {
        await initialToken(backends, { ...SETTINGS, RequiredMinimumPollIntervalInSeconds: interval });
      }
    });

    it('answers 400 BadRequestException when an identifier is missing or longer than 128 characters', async () => {
      const missing = await startConfigurationSession(backends, {
        ApplicationIdentifier: 'shop',
        EnvironmentIdentifier: 'prod',
      });
      expect(missing).toMatchObject({ status: 400, errorType: 'BadRequestException' });
      const long = await startConfigurationSession(backends, {
        ...SETTINGS,
        ApplicationIdentifier: 'a'.repeat(129),
      });
      expect(long).toMatchObject({ status: 400, errorType: 'BadRequestException' });
    });
  });

  describe('GetLatestConfiguration', () => {
    it('returns the configuration with its content type, version label and the next token and interval', async () => {
      const token = await initialToken(backends, { ...SETTINGS, RequiredMinimumPollIntervalInSeconds: 30 });
      const latest = await getLatestConfiguration(backends, token);
      expect(latest).toMatchObject({
        status: 200,
        contentType: 'application/json',
        versionLabel: 'v1',
        nextInterval: '30',
      });
      expect(latest.nextToken).toEqual(expect.any(String));
      expect(latest.nextToken).not.toBe(token);
      expect(latest.json()).toEqual({ maxItems: 10 });
    });

    it('tells the client to wait 60 seconds when the session asked for no interval', async () => {
      const latest = await getLatestConfiguration(backends, await initialToken(backends, SETTINGS));
      expect(latest.nextInterval).toBe('60');
    });

    it('returns text with its own content type when the profile holds text', async () => {
      const token = await initialToken(backends, { ...SETTINGS, ConfigurationProfileIdentifier: 'motd' });
      const latest = await getLatestConfiguration(backends, token);
      expect(latest).toMatchObject({ status: 200, contentType: 'text/plain', text: 'Hello' });
      expect(latest.versionLabel).toBeNull();
    });

    it('returns feature flags in the retrieval-time format as application/json', async () => {
      const latest = await getLatestConfiguration(backends, await initialToken(backends, FLAGS));
      expect(latest.contentType).toBe('application/json');
      expect(latest.json()).toEqual({
        ui_refresh: { enabled: true, new_styleguide_colors: true },
        emergency_shutoff_switch: { enabled: false },
      });
    });

    it('returns an empty body when nothing changed since the session last got it, then the new version once deployed', async () => {
      backends.appConfig.deploy({
        application: 'poll',
        environment: 'prod',
        profile: 'p',
        content: { n: 1 },
        versionLabel: 'one',
      });
      const session = {
        ApplicationIdentifier: 'poll',
        EnvironmentIdentifier: 'prod',
        ConfigurationProfileIdentifier: 'p',
      };
      const first = await getLatestConfiguration(
        backends,
        await initialToken(backends, { ...session, RequiredMinimumPollIntervalInSeconds: 15 }),
      );
      expect(first.json()).toEqual({ n: 1 });

      clock += 15_000;
      const unchanged = await getLatestConfiguration(backends, first.nextToken ?? '');
      expect(unchanged).toMatchObject({ status: 200, text: '', versionLabel: null, nextInterval: '15' });

      backends.appConfig.deploy({
        application: 'poll',
        environment: 'prod',
        profile: 'p',
        content: { n: 2 },
        versionLabel: 'two',
      });
      clock += 15_000;
      const changed = await getLatestConfiguration(backends, unchanged.nextToken ?? '');
      expect(changed).toMatchObject({ status: 200, versionLabel: 'two' });
      expect(changed.json()).toEqual({ n: 2 });

      // A new session has received nothing yet, so it gets the configuration at once.
      const fresh = await getLatestConfiguration(backends, await initialToken(backends, session));
      expect(fresh.json()).toEqual({ n: 2 });
    });

    it('answers 400 BadRequestException when a token is used a second time', async () => {
      const token = await initialToken(backends, SETTINGS);
      expect((await getLatestConfiguration(backends, token)).status).toBe(200);
      clock += 3_600_000;
      const again = await getLatestConfiguration(backends, token);
      expect(again).toMatchObject({ status: 400, errorType: 'BadRequestException' });
      expect(again.json()).toMatchObject({ Message: expect.stringContaining('already used') });
    });

    it('answers 400 BadRequestException PollIntervalNotSatisfied before the interval, and serves the same token after it', async () => {
      const first = await getLatestConfiguration(
        backends,
        await initialToken(backends, { ...SETTINGS, RequiredMinimumPollIntervalInSeconds: 20 }),
      );
      clock += 19_999;
      const early = await getLatestConfiguration(backends, first.nextToken ?? '');
      expect(early).toMatchObject({ status: 400, errorType: 'BadRequestException' });
      expect(early.json()).toEqual({
        Message: 'Request too early',
        Reason: 'InvalidParameters',
        Details: { InvalidParameters: { ConfigurationToken: { Problem: 'PollIntervalNotSatisfied' } } },
      });
      clock += 1;
      expect((await getLatestConfiguration(backends, first.nextToken ?? '')).status).toBe(200);
    });

    it('answers 400 BadRequestException Expired when the token is 24 hours old', async () => {
      const token = await initialToken(backends, SETTINGS);
      clock += 24 * HOUR_MS - 1;
      const stillValid = await initialToken(backends, SETTINGS);
      clock += 1;
      const expired = await getLatestConfiguration(backends, token);
      expect(expired).toMatchObject({ status: 400, errorType: 'BadRequestException' });
      expect(expired.json()).toMatchObject({
        Details: { InvalidParameters: { ConfigurationToken: { Problem: 'Expired' } } },
      });
      expect((await getLatestConfiguration(backends, stillValid)).status).toBe(200);
    });

    it('answers 400 BadRequestException Corrupted when the token is not one it gave', async () => {
      const latest = await getLatestConfiguration(backends, 'not-a-token');
      expect(latest).toMatchObject({ status: 400, errorType: 'BadRequestException' });
      expect(latest.json()).toMatchObject({
        Details: { InvalidParameters: { ConfigurationToken: { Problem: 'Corrupted' } } },
      });
    });

    it('answers 400 BadRequestException when configuration_token is missing', async () => {
      const response = await fetch(`${backends.appConfig.endpoint}/configuration`);
      expect(response.status).toBe(400);
      expect(response.headers.get('x-amzn-errortype')).toBe('BadRequestException');
      await response.arrayBuffer();
    });
  });

  describe('control, counting and faults', () => {
    it('counts calls by operation, the control methods not among them', async () => {
      backends.appConfig.resetCalls();
      backends.appConfig.deploy({ application: 'counted', environment: 'e', profile: 'p', content: 'x' });
      const token = await initialToken(backends, {
        ApplicationIdentifier: 'counted',
        EnvironmentIdentifier: 'e',
        ConfigurationProfileIdentifier: 'p',
      });
      await getLatestConfiguration(backends, token);
      await getLatestConfiguration(backends, token);
      expect(backends.appConfig.calls).toEqual({ StartConfigurationSession: 1, GetLatestConfiguration: 2 });
      expect(backends.appConfig.callLog.map((call) => call.operation)).toEqual([
        'StartConfigurationSession',
        'GetLatestConfiguration',
        'GetLatestConfiguration',
      ]);
    });

    it('answers 404 for a path that is no operation', async () => {
      const response = await fetch(`${backends.appConfig.endpoint}/applications`);
      expect(response.status).toBe(404);
      expect(response.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
      await response.arrayBuffer();
    });

    it('answers 429 ThrottlingException under throttleRate 1, for the named operation only', async () => {
      backends.appConfig.setFaults({ throttleRate: 1, operations: ['GetLatestConfiguration'] });
      const token = await initialToken(backends, SETTINGS);
      const throttled = await getLatestConfiguration(backends, token);
      expect(throttled).toMatchObject({ status: 429, errorType: 'ThrottlingException' });
      backends.appConfig.setFaults({});
      expect((await getLatestConfiguration(backends, token)).status).toBe(200);
    });

    it('answers 500 InternalServerException under failRate 1', async () => {
      backends.appConfig.setFaults({ failRate: 1 });
      const { status, errorType } = await startConfigurationSession(backends, SETTINGS);
      expect({ status, errorType }).toEqual({ status: 500, errorType: 'InternalServerException' });
    });

    it('truncates the configuration under malformed truncated', async () => {
      backends.appConfig.setFaults({ malformed: 'truncated', operations: ['GetLatestConfiguration'] });
      const latest = await getLatestConfiguration(backends, await initialToken(backends, SETTINGS));
      expect(latest.status).toBe(200);
      expect(() => latest.json()).toThrow(SyntaxError);
    });

    it('refuses a fault naming an operation it does not answer', () => {
      expect(() => backends.appConfig.setFaults({ operations: ['GetConfiguration'] })).toThrow(RangeError);
    });

    it('refuses to deploy content to a feature-flag profile or a flag without enabled', () => {
      expect(() =>
        backends.appConfig.deploy({
          application: 'shop',
          environment: 'prod',
          profile: 'flags',
          content: 'x',
        }),
      ).toThrow(/AWS\.AppConfig\.FeatureFlags/);
      expect(() =>
        backends.appConfig.deploy({
          application: 'shop',
          environment: 'prod',
          profile: 'new-flags',
          flags: { broken: { on: true } as never },
        }),
      ).toThrow(/flag broken: enabled must be true or false/);
      expect(() =>
        backends.appConfig.deploy({
          application: 'shop',
          environment: 'prod',
          profile: 'nf',
          flags: { Bad: { enabled: true } },
        }),
      ).toThrow(/flag Bad/);
    });
  });
});
