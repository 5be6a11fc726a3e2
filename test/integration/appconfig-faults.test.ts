/**
 * AppConfigData going silent, then failing, while configurations are cached: the function keeps getting the
 * cached bytes, `/v1/health` says which source is failing, and all is well again once AppConfigData is. On
 * the real clock: the configuration must expire (AppConfig's 15 s minimum interval) and its
 * stale-while-revalidate window (as long again) pass, so that only stale-if-error can answer.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Seed } from '@lambda-cache/local';
import { appConfigPath, ROUTES } from '@lambda-cache/shared';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AgentResult,
  APPCONFIG_AGENT_HANDLER,
  APPCONFIG_APP,
  APPCONFIG_CONFIGS,
  APPCONFIG_ENV,
  APPCONFIG_VALUES,
  appconfigAgentPath,
  appconfigConfig,
  appconfigSeed,
  APPCONFIG_POLL_MARGIN_MS as MARGIN_MS,
  APPCONFIG_POLL_MS as POLL_MS,
  seedData,
} from '../src/fixtures.js';
import { type Stack, sleep, startStack, sleepUntil as until, waitFor } from '../src/harness.js';

/** The bound on each AppConfigData call: a silent backend costs an INVOKE this, not its 1 s refresh budget. */
const POLL_TIMEOUT_MS = 300;
const SETTINGS = APPCONFIG_CONFIGS.settings;
/** The agent's path, as the function reads it, and the extension's own route, as the test reads it. */
const PATH = appconfigAgentPath('settings');
const V1_PATH = appConfigPath(APPCONFIG_APP, APPCONFIG_ENV, 'settings');

const seed = (): Seed => ({ ...seedData(), appconfig: appconfigSeed() });

let stack: Stack | undefined;
let functionDir: string | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
  if (functionDir) await rm(functionDir, { recursive: true, force: true });
  functionDir = undefined;
});

describe('AppConfig when AppConfigData fails', () => {
  it('keeps serving the cached bytes, reports the source failing, and recovers with the backend', async () => {
    functionDir = await mkdtemp(join(tmpdir(), 'lambda-cache-appconfig-fn-'));
    await writeFile(join(functionDir, 'index.mjs'), APPCONFIG_AGENT_HANDLER);
    stack = await startStack({
      config: appconfigConfig(['settings'], '15s'),
      seed: seed(),
      neverLogged: APPCONFIG_VALUES,
      functionDir,
      fixedAppConfigPort: true,
      env: { AWS_APPCONFIG_EXTENSION_POLL_TIMEOUT_MILLIS: String(POLL_TIMEOUT_MS) },
    });
    const polledAt = Date.now();
    const s = stack;
    const invoke = async (): Promise<AgentResult> => {
      const result = await s.lambda.invoke({ path: PATH });
      expect(result.ok).toBe(true);
      return result.payload as AgentResult;
    };
    const cached = {
      status: 200,
      contentType: SETTINGS.contentType,
      version: SETTINGS.versionLabel,
      body: SETTINGS.content,
    };
    expect(await invoke()).toEqual(cached);

    // Silent: every call held far longer than the poll timeout.
    s.backends.appConfig.setFaults({ hangMs: 20_000 });
    await until(polledAt, POLL_MS + MARGIN_MS);
    expect(await invoke()).toEqual(cached);
    await waitFor(
      'the silent poll to fail',
      async () => (await s.get(ROUTES.health)).body.status === 'degraded',
    );
    const silent = (await s.get(ROUTES.health)).body;
    expect(silent.sources.appconfig.status).toBe('failing');
    expect(silent.sources.appconfig.lastError).toBeDefined();
    expect(silent.sources.ssm).toEqual({ status: 'ok' });
    expect((await s.get(V1_PATH)).headers['x-cache']).toBe('stale');

    // Failing: every call answered with a 500, past the stale-while-revalidate window, so only
    // stale-if-error answers with the value.
    s.backends.appConfig.setFaults({ failRate: 1 });
    s.backends.appConfig.resetCalls();
    await until(polledAt, 2 * POLL_MS + MARGIN_MS);
    for (let i = 0; i < 3; i++) {
      expect(await invoke()).toEqual(cached);
      await sleep(300);
    }
    const res = await s.get(V1_PATH);
    expect(res.status).toBe(200);
    expect(res.text).toBe(SETTINGS.content);
    expect(res.headers['x-cache']).toBe('stale');
    expect(Number(res.headers.age)).toBeGreaterThanOrEqual((2 * POLL_MS) / 1000);
    const failing = (await s.get(ROUTES.health)).body;
    expect(failing.status).toBe('degraded');
    expect(failing.sources.appconfig.status).toBe('failing');
    // A failed poll drops its session: the retries start new ones, and no token is reused.
    expect(s.backends.appConfig.calls.StartConfigurationSession).toBeGreaterThanOrEqual(1);

    // Back: within a few retries a poll lands, the value is fresh again and the source ok.
    s.backends.appConfig.setFaults({});
    await waitFor(
      'the configuration to be fresh again',
      async () => {
        await invoke();
        const r = await s.get(V1_PATH);
        return r.headers['x-cache'] === 'hit' ? r : undefined;
      },
      { timeoutMs: 8_000, intervalMs: 200 },
    );
    const healed = (await s.get(ROUTES.health)).body;
    expect(healed.status).toBe('ready');
    expect(healed.sources.appconfig).toEqual({ status: 'ok' });
    expect(await invoke()).toEqual(cached);
  }, 60_000);
});
