/**
 * AppConfig polls on the packaged layer, on the real clock: AppConfig's minimum poll interval is 15 s, and
 * both the source and the local AppConfigData hold to it, so each test waits one interval out (bounded).
 * Nothing is polled before the interval, whatever reads and INVOKEs come; the first INVOKE or read after it
 * polls once; an empty body keeps the cached value (no new body), a new deployment arrives.
 */
import type { Seed } from '@lambda-cache/local';
import { appConfigPath, ROUTES } from '@lambda-cache/shared';
import { afterEach, describe, expect, it } from 'vitest';
import {
  APPCONFIG_APP,
  APPCONFIG_CONFIGS,
  APPCONFIG_ENV,
  APPCONFIG_VALUES,
  appconfigConfig,
  appconfigSeed,
  APPCONFIG_POLL_MARGIN_MS as MARGIN_MS,
  APPCONFIG_POLL_MS as POLL_MS,
  seedData,
} from '../src/fixtures.js';
import { type Stack, startStack, totalCalls, sleepUntil as until, waitFor } from '../src/harness.js';

const TEST_TIMEOUT_MS = 50_000;

const seed = (): Seed => ({ ...seedData(), appconfig: appconfigSeed() });
const SETTINGS = APPCONFIG_CONFIGS.settings;
const V2 = '{ "currency": "EUR", "limit-7c1d": 500 }\n';

const read = (s: Stack, profile: string, flags?: string[]) =>
  s.get(appConfigPath(APPCONFIG_APP, APPCONFIG_ENV, profile, flags ? { flags } : {}));

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** A stack polling `settings` and `flags` every 15 s; resolves once init (and so the first poll) is done. */
async function start(): Promise<{ s: Stack; polledAt: number }> {
  stack = await startStack({
    config: appconfigConfig(['settings', 'flags'], '15s'),
    seed: seed(),
    neverLogged: [...APPCONFIG_VALUES, V2],
  });
  // The first polls ended before this: the next one is allowed POLL_MS from now at the latest.
  const polledAt = Date.now();
  expect(stack.backends.appConfig.calls).toEqual({ StartConfigurationSession: 2, GetLatestConfiguration: 2 });
  stack.backends.appConfig.resetCalls();
  return { s: stack, polledAt };
}

/** Sleeps until `ms` after `from`. */
describe('AppConfig polls', () => {
  it(
    'polls nothing before the interval, then once: an empty body keeps serving the same bytes with no new body',
    async () => {
      const { s, polledAt } = await start();
      // A flag form of `flags` is built and kept beside its configuration, counted in the stats' bytes: a
      // new body would start without it, so the bytes show whether the value was kept.
      expect((await read(s, 'flags', ['checkout'])).status).toBe(200);
      const before = (await s.get(ROUTES.stats)).body;

      // Reads and INVOKEs before the interval, up to its last seconds (inside the refresh-ahead window).
      for (const at of [1000, 6000, 11_000, 13_000, 14_000]) {
        await until(polledAt, at);
        expect((await s.lambda.invoke({})).ok).toBe(true);
        const res = await read(s, 'settings');
        expect(res.headers['x-cache']).toBe('hit');
        expect(res.text).toBe(SETTINGS.content);
      }
      const late = await read(s, 'settings');
      expect(Number(late.headers.age)).toBeGreaterThanOrEqual(12);
      expect(s.backends.appConfig.calls).toEqual({});

      // The first INVOKE past the interval polls each configuration once, and AppConfig answers empty.
      await until(polledAt, POLL_MS + MARGIN_MS);
      expect((await s.lambda.invoke({})).ok).toBe(true);
      expect(s.backends.appConfig.calls).toEqual({ GetLatestConfiguration: 2 });
      const after = (await s.get(ROUTES.stats)).body;
      expect(after.refreshes - before.refreshes).toBe(2);
      // The same values, forms and all: not one byte more or less.
      expect(after.bytes).toBe(before.bytes);
      expect(after.entries).toBe(before.entries);

      const res = await read(s, 'settings');
      expect(res.headers['x-cache']).toBe('hit');
      expect(res.text).toBe(SETTINGS.content);
      expect(res.headers['content-type']).toBe(SETTINGS.contentType);
      expect(res.headers['configuration-version']).toBe(SETTINGS.versionLabel);
      // Fresh again from the poll.
      expect(Number(res.headers.age)).toBeLessThanOrEqual(2);
      expect(Number(/max-age=(\d+)/.exec(res.headers['cache-control'] ?? '')?.[1])).toBeGreaterThanOrEqual(
        12,
      );
      // And no poll again before the next interval.
      expect((await s.lambda.invoke({})).ok).toBe(true);
      expect(totalCalls(s.backends.appConfig)).toBe(2);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'serves a new deployment from the first read after the interval, with its Configuration-Version',
    async () => {
      const { s, polledAt } = await start();
      await until(polledAt, 1000);
      s.backends.appConfig.deploy({
        application: APPCONFIG_APP,
        environment: APPCONFIG_ENV,
        profile: 'settings',
        content: V2,
        contentType: 'application/json',
        versionLabel: 'settings-v2',
      });
      // Deployed, but the interval has not passed: the old version, and no call to find out.
      for (const at of [2000, 13_500]) {
        await until(polledAt, at);
        expect((await s.lambda.invoke({})).ok).toBe(true);
        const res = await read(s, 'settings');
        expect(res.headers['configuration-version']).toBe(SETTINGS.versionLabel);
        expect(res.text).toBe(SETTINGS.content);
      }
      expect(s.backends.appConfig.calls).toEqual({});

      // Past the interval, a read (no INVOKE) polls: stale while it revalidates, then the new version.
      await until(polledAt, POLL_MS + MARGIN_MS);
      const first = await read(s, 'settings');
      expect(first.status).toBe(200);
      const fresh = await waitFor('the new version', async () => {
        const res = await read(s, 'settings');
        return res.headers['configuration-version'] === 'settings-v2' ? res : undefined;
      });
      expect(fresh.headers['x-cache']).toBe('hit');
      expect(fresh.text).toBe(V2);
      expect(fresh.headers['content-type']).toBe('application/json');
      // One poll per configuration, of the sessions held since init: the stale read's refresh took the
      // flags too, expired as well though not read; no new session.
      expect(s.backends.appConfig.calls).toEqual({ GetLatestConfiguration: 2 });
      // Both fresh again: the next INVOKE polls neither.
      expect((await s.lambda.invoke({})).ok).toBe(true);
      expect(s.backends.appConfig.calls).toEqual({ GetLatestConfiguration: 2 });
      expect((await read(s, 'settings')).text).toBe(V2);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'starts one new session when the token has expired, and keeps serving the same value',
    async () => {
      const { s, polledAt } = await start();
      expect((await read(s, 'flags', ['banner'])).status).toBe(200);
      const before = (await s.get(ROUTES.stats)).body;
      // As 24 hours would: the tokens the two sessions hold are refused from now on.
      expect(s.backends.appConfig.expireTokens()).toBe(2);
      await until(polledAt, POLL_MS + MARGIN_MS);
      const invoked = await s.lambda.invoke({});
      expect(invoked.ok).toBe(true);
      // Per configuration: the expired token refused (BadRequestException), one new session, its first poll.
      expect(s.backends.appConfig.calls).toEqual({ GetLatestConfiguration: 4, StartConfigurationSession: 2 });
      expect(s.logs().filter((l) => l.includes('appconfig session restarted'))).toHaveLength(2);
      expect(s.logs().some((l) => l.includes('BadRequestException'))).toBe(true);

      const res = await read(s, 'settings');
      expect(res.status).toBe(200);
      expect(res.headers['x-cache']).toBe('hit');
      expect(res.text).toBe(SETTINGS.content);
      expect(res.headers['configuration-version']).toBe(SETTINGS.versionLabel);
      expect(Number(res.headers.age)).toBeLessThanOrEqual(2);
      // The new session sent the whole configuration again, the same bytes: kept as it was, no new body.
      const after = (await s.get(ROUTES.stats)).body;
      expect(after.bytes).toBe(before.bytes);
      expect(after.errors).toBe(before.errors);
      // A refused token is the extension's to handle, not an outage.
      const health = (await s.get(ROUTES.health)).body;
      expect(health.status).toBe('ready');
      expect(health.sources.appconfig).toEqual({ status: 'ok' });
      // The new sessions are polled on their own interval: nothing more now.
      expect((await s.lambda.invoke({})).ok).toBe(true);
      expect(totalCalls(s.backends.appConfig)).toBe(6);
    },
    TEST_TIMEOUT_MS,
  );
});
