/**
 * AppConfig on the packaged layer: configurations prefetched from `config.yaml`'s `appconfig:` and from AWS's
 * `AWS_APPCONFIG_EXTENSION_PREFETCH_LIST`, served as they were deployed, feature flags filtered, and the
 * AppConfig agent's route on its own port for a function written for AWS's AppConfig extension.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Seed } from '@lambda-cache/local';
import { appConfigPath, ROUTES } from '@lambda-cache/shared';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AgentResult,
  APPCONFIG_AGENT_CONFIG,
  APPCONFIG_AGENT_HANDLER,
  APPCONFIG_APP,
  APPCONFIG_CONFIGS,
  APPCONFIG_ENV,
  APPCONFIG_FLAGS,
  APPCONFIG_VALUES,
  appconfigAgentPath,
  appconfigConfig,
  appconfigSeed,
  seedData,
} from '../src/fixtures.js';
import { httpGet, type Stack, startStack, totalCalls } from '../src/harness.js';

const seed = (): Seed => ({ ...seedData(), appconfig: appconfigSeed() });

/** The prefetch list as AWS's AppConfig extension reads it: agent paths, comma-separated. */
const PREFETCH_LIST = `/applications/${APPCONFIG_AGENT_CONFIG.application}/environments/${APPCONFIG_AGENT_CONFIG.environment}/configurations/${APPCONFIG_AGENT_CONFIG.profile}`;

const PROFILES = ['settings', 'motd', 'rules', 'flags'] as const;

const read = (s: Stack, profile: string, flags?: string[]) =>
  s.get(appConfigPath(APPCONFIG_APP, APPCONFIG_ENV, profile, flags ? { flags } : {}));

let stack: Stack | undefined;
let functionDir: string | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
  if (functionDir) await rm(functionDir, { recursive: true, force: true });
  functionDir = undefined;
});

function startAppConfig(extra: Parameters<typeof startStack>[0] = {}): Promise<Stack> {
  return startStack({
    config: appconfigConfig(PROFILES),
    seed: seed(),
    neverLogged: APPCONFIG_VALUES,
    ...extra,
    env: { AWS_APPCONFIG_EXTENSION_PREFETCH_LIST: PREFETCH_LIST, ...extra.env },
  });
}

describe('AppConfig prefetch', () => {
  it('starts one session and polls once per configuration during init, then serves hits with no call', async () => {
    stack = await startAppConfig();
    const s = stack;
    const calls = s.backends.appConfig.calls;
    // Four from appconfig:, one from the prefetch list; nothing else.
    expect(calls).toEqual({ StartConfigurationSession: 5, GetLatestConfiguration: 5 });
    const started = s.backends.appConfig.callLog
      .filter((c) => c.operation === 'StartConfigurationSession')
      .map((c) => {
        const r = c.request as Record<string, unknown>;
        return `${r.ApplicationIdentifier}/${r.EnvironmentIdentifier}/${r.ConfigurationProfileIdentifier}`;
      })
      .sort();
    expect(started).toEqual(
      [
        ...PROFILES.map((p) => `${APPCONFIG_APP}/${APPCONFIG_ENV}/${p}`),
        `${APPCONFIG_AGENT_CONFIG.application}/${APPCONFIG_AGENT_CONFIG.environment}/${APPCONFIG_AGENT_CONFIG.profile}`,
      ].sort(),
    );
    // The default poll interval of AWS's extension, asked of AppConfig as the session's minimum.
    for (const c of s.backends.appConfig.callLog) {
      if (c.operation === 'StartConfigurationSession') {
        expect((c.request as Record<string, unknown>).RequiredMinimumPollIntervalInSeconds).toBe(45);
      }
    }

    for (const [profile, c] of Object.entries(APPCONFIG_CONFIGS)) {
      const res = await read(s, profile);
      expect(res.status, profile).toBe(200);
      expect(res.headers['x-cache'], profile).toBe('hit');
      expect(res.headers['content-type'], profile).toBe(c.contentType);
      expect(res.headers['configuration-version'], profile).toBe(c.versionLabel);
      expect(Buffer.from(res.text, 'utf8').equals(Buffer.from(c.content, 'utf8')), profile).toBe(true);
    }
    const flags = await read(s, 'flags');
    expect(flags.headers['x-cache']).toBe('hit');
    expect(flags.headers['content-type']).toBe('application/json');
    expect(flags.headers['configuration-version']).toBe('flags-v1');
    expect(flags.body).toEqual(APPCONFIG_FLAGS);
    const listed = await s.get(
      appConfigPath(
        APPCONFIG_AGENT_CONFIG.application,
        APPCONFIG_AGENT_CONFIG.environment,
        APPCONFIG_AGENT_CONFIG.profile,
      ),
    );
    expect(listed.headers['x-cache']).toBe('hit');
    expect(listed.headers['configuration-version']).toBe(APPCONFIG_AGENT_CONFIG.versionLabel);
    expect(listed.text).toBe(APPCONFIG_AGENT_CONFIG.content);
    // An INVOKE right after init refreshes nothing either: the configurations are fresh for 45 s.
    expect((await s.lambda.invoke({})).ok).toBe(true);
    expect(totalCalls(s.backends.appConfig)).toBe(10);
    const stats = await s.get(ROUTES.stats);
    expect(stats.body.backendCalls).toMatchObject({
      'appconfigdata:StartConfigurationSession': 5,
      'appconfigdata:GetLatestConfiguration': 5,
    });
  });

  it('reads a configuration nobody listed through on first request, then serves it from the cache', async () => {
    stack = await startAppConfig({
      config: appconfigConfig(['settings']),
      env: { AWS_APPCONFIG_EXTENSION_PREFETCH_LIST: '' },
    });
    const s = stack;
    expect(s.backends.appConfig.calls).toEqual({ StartConfigurationSession: 1, GetLatestConfiguration: 1 });
    const first = await read(s, 'rules');
    expect(first.status).toBe(200);
    expect(first.headers['x-cache']).toBe('miss');
    expect(first.text).toBe(APPCONFIG_CONFIGS.rules.content);
    expect(s.backends.appConfig.calls).toEqual({ StartConfigurationSession: 2, GetLatestConfiguration: 2 });
    const second = await read(s, 'rules');
    expect(second.headers['x-cache']).toBe('hit');
    expect(second.text).toBe(APPCONFIG_CONFIGS.rules.content);
    expect(totalCalls(s.backends.appConfig)).toBe(4);
    // A configuration AppConfig does not have is a 404, not a failure of the extension.
    const missing = await read(s, 'no-such-profile');
    expect(missing.status).toBe(404);
  });
});

describe('AppConfig feature flags', () => {
  it('answers flag=a&flag=b with exactly those flags, in the order asked', async () => {
    stack = await startAppConfig();
    const s = stack;
    const two = await read(s, 'flags', ['banner', 'checkout']);
    expect(two.status).toBe(200);
    expect(two.headers['content-type']).toBe('application/json');
    expect(two.text).toBe(
      JSON.stringify({ banner: APPCONFIG_FLAGS.banner, checkout: APPCONFIG_FLAGS.checkout }),
    );
    const reversed = await read(s, 'flags', ['checkout', 'banner']);
    expect(Object.keys(reversed.body)).toEqual(['checkout', 'banner']);
    const one = await read(s, 'flags', ['search']);
    expect(one.body).toEqual({ search: { enabled: false } });
    // Filtering is done on the cached configuration: no call.
    expect(totalCalls(s.backends.appConfig)).toBe(10);
  });

  it('answers 404 naming the flag when a flag is not in the configuration', async () => {
    stack = await startAppConfig();
    const res = await read(stack, 'flags', ['checkout', 'no-such-flag']);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('NotFound');
    expect(res.body.message).toContain('no-such-flag');
    expect(res.body.message).not.toContain('checkout');
  });

  it('answers 400 with a clear message when flag is asked of a configuration that is not JSON', async () => {
    stack = await startAppConfig();
    for (const profile of ['motd', 'rules']) {
      const res = await read(stack, profile, ['checkout']);
      expect(res.status, profile).toBe(400);
      expect(res.body.message, profile).toMatch(/not a JSON object/);
      expect(res.body.message, profile).toContain(APPCONFIG_CONFIGS[profile as 'motd'].contentType);
    }
    // A JSON configuration that is an object but has no such key is a missing flag, not a bad request.
    expect((await read(stack, 'settings', ['checkout'])).status).toBe(404);
  });
});

async function agentFunction(): Promise<string> {
  functionDir = await mkdtemp(join(tmpdir(), 'lambda-cache-appconfig-fn-'));
  await writeFile(join(functionDir, 'index.mjs'), APPCONFIG_AGENT_HANDLER);
  return functionDir;
}

describe("the AppConfig agent's route", () => {
  it('is served on AWS_APPCONFIG_EXTENSION_HTTP_PORT without a token, content and headers passed through', async () => {
    stack = await startAppConfig({ fixedAppConfigPort: true });
    const s = stack;
    const port = s.appconfigPort();
    expect(port).toBeDefined();
    expect(port).not.toBe(s.port);
    for (const [profile, c] of Object.entries(APPCONFIG_CONFIGS)) {
      const res = await httpGet(port as number, appconfigAgentPath(profile));
      expect(res.status, profile).toBe(200);
      expect(res.headers['content-type'], profile).toBe(c.contentType);
      expect(res.headers['configuration-version'], profile).toBe(c.versionLabel);
      expect(res.text, profile).toBe(c.content);
    }
    // One flag: that flag's own object, as AWS's extension answers it; two: the map of both.
    const one = await httpGet(port as number, appconfigAgentPath('flags', '?flag=checkout'));
    expect(one.status).toBe(200);
    expect(one.body).toEqual(APPCONFIG_FLAGS.checkout);
    const two = await httpGet(port as number, appconfigAgentPath('flags', '?flag=search&flag=checkout'));
    expect(two.text).toBe(
      JSON.stringify({ search: APPCONFIG_FLAGS.search, checkout: APPCONFIG_FLAGS.checkout }),
    );
    expect((await httpGet(port as number, appconfigAgentPath('flags', '?flag=nope'))).status).toBe(404);
    // The same route on the main port, also without a token.
    const main = await httpGet(s.port, appconfigAgentPath('settings'));
    expect(main.status).toBe(200);
    expect(main.text).toBe(APPCONFIG_CONFIGS.settings.content);
    expect(main.headers['configuration-version']).toBe(APPCONFIG_CONFIGS.settings.versionLabel);
    // Only the agent's route (and /ping) on its port: the extension's own routes are not.
    expect(
      (
        await httpGet(port as number, appConfigPath(APPCONFIG_APP, APPCONFIG_ENV, 'settings'), {
          'x-aws-parameters-secrets-token': s.token,
        })
      ).status,
    ).toBe(404);
    // Nothing of it cost a call: every read was of the prefetched configurations.
    expect(totalCalls(s.backends.appConfig)).toBe(10);
  });

  it('is not served on the port of AWS Parameters and Secrets extension, token or not', async () => {
    stack = await startAppConfig({ fixedAwsPort: true });
    const awsPort = stack.awsPort() as number;
    expect(awsPort).toBeDefined();
    const withToken = await httpGet(awsPort, appconfigAgentPath('settings'), {
      'x-aws-parameters-secrets-token': stack.token,
    });
    expect(withToken.status).toBe(404);
    expect(withToken.text).not.toContain('limit-7c1d');
    // Without the token, as any path there: refused before any route is looked up.
    const withoutToken = await httpGet(awsPort, appconfigAgentPath('settings'));
    expect(withoutToken.status).toBe(403);
    expect(withoutToken.text).not.toContain('limit-7c1d');
    // While on the main port the same request needs no token.
    expect((await httpGet(stack.port, appconfigAgentPath('settings'))).status).toBe(200);
  });

  it('serves a function written for AWS AppConfig extension unchanged', async () => {
    stack = await startAppConfig({
      functionDir: await agentFunction(),
      fixedAppConfigPort: true,
      // What such a function's environment has; no token is read by its code.
      env: {
        AWS_APPCONFIG_EXTENSION_POLL_INTERVAL_SECONDS: '60',
        AWS_APPCONFIG_EXTENSION_POLL_TIMEOUT_MILLIS: '2000',
      },
    });
    const s = stack;
    const invoke = async (path: string): Promise<AgentResult> => {
      const result = await s.lambda.invoke({ path });
      expect(result.ok).toBe(true);
      return result.payload as AgentResult;
    };
    const listed = await invoke(
      `/applications/${APPCONFIG_AGENT_CONFIG.application}/environments/${APPCONFIG_AGENT_CONFIG.environment}/configurations/${APPCONFIG_AGENT_CONFIG.profile}`,
    );
    expect(listed).toEqual({
      status: 200,
      contentType: APPCONFIG_AGENT_CONFIG.contentType,
      version: APPCONFIG_AGENT_CONFIG.versionLabel,
      body: APPCONFIG_AGENT_CONFIG.content,
    });
    const flag = await invoke(appconfigAgentPath('flags', '?flag=banner'));
    expect(flag.status).toBe(200);
    expect(JSON.parse(flag.body)).toEqual(APPCONFIG_FLAGS.banner);
    // The agent's poll interval is the one asked of AppConfig.
    const intervals = s.backends.appConfig.callLog
      .filter((c) => c.operation === 'StartConfigurationSession')
      .map((c) => (c.request as Record<string, unknown>).RequiredMinimumPollIntervalInSeconds);
    expect(new Set(intervals)).toEqual(new Set([60]));
    expect(totalCalls(s.backends.appConfig)).toBe(10);
  });
});
