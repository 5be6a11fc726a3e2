// The AppConfigData store behind the local endpoint, called directly (no HTTP), for what tests of other
// workspaces drive through it: deploying versions and expiring tokens without moving a clock.
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { AppConfigDataError, AppConfigStore } from '../../src/aws/appconfig.js';
import type { Call } from '../../src/aws/http.js';

const IDS = {
  ApplicationIdentifier: 'shop',
  EnvironmentIdentifier: 'prod',
  ConfigurationProfileIdentifier: 'p',
};

function start(store: AppConfigStore, body: object = IDS): Promise<string> {
  const call: Call = {
    operation: 'StartConfigurationSession',
    rawBody: Buffer.from(JSON.stringify(body)),
    request: { url: '/configurationsessions' } as IncomingMessage,
  };
  return store.handle(call).then((a) => JSON.parse(a.body.toString()).InitialConfigurationToken as string);
}

function latest(store: AppConfigStore, token: string) {
  const call: Call = {
    operation: 'GetLatestConfiguration',
    rawBody: Buffer.alloc(0),
    request: { url: `/configuration?configuration_token=${encodeURIComponent(token)}` } as IncomingMessage,
  };
  return store.handle(call);
}

async function problemOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(AppConfigDataError);
    return (err as AppConfigDataError).members;
  }
  throw new Error('expected an AppConfigDataError');
}

describe('AppConfigStore.expireTokens', () => {
  it('makes every unused token given so far answer BadRequestException Expired', async () => {
    let now = 0;
    const store = new AppConfigStore(() => now);
    store.deploy({ application: 'shop', environment: 'prod', profile: 'p', content: { a: 1 } });
    const initial = await start(store);
    const first = await latest(store, initial);
    const next = first.headers?.['next-poll-configuration-token'] as string;
    const unpolled = await start(store);
    expect(store.expireTokens()).toBe(2);
    now += 15_000;
    for (const token of [next, unpolled]) {
      expect(await problemOf(latest(store, token))).toMatchObject({
        Reason: 'InvalidParameters',
        Details: { InvalidParameters: { ConfigurationToken: { Problem: 'Expired' } } },
      });
    }
  });

  it('leaves sessions started afterwards alone', async () => {
    const store = new AppConfigStore(() => 0);
    store.deploy({ application: 'shop', environment: 'prod', profile: 'p', content: 'x' });
    await start(store);
    store.expireTokens();
    const answer = await latest(store, await start(store));
    expect(answer.status).toBe(200);
    expect(answer.body.toString()).toBe('x');
  });
});

describe('AppConfigStore polling', () => {
  it('answers an empty body while nothing changed and the new version once deployed, with its label', async () => {
    let now = 0;
    const store = new AppConfigStore(() => now);
    store.deploy({
      application: 'shop',
      environment: 'prod',
      profile: 'p',
      content: { n: 1 },
      versionLabel: 'a',
    });
    const first = await latest(
      store,
      await start(store, { ...IDS, RequiredMinimumPollIntervalInSeconds: 15 }),
    );
    expect(first.headers?.['version-label']).toBe('a');
    now += 15_000;
    const unchanged = await latest(store, first.headers?.['next-poll-configuration-token'] as string);
    expect(unchanged.body.length).toBe(0);
    expect(unchanged.headers?.['next-poll-interval-in-seconds']).toBe('15');
    store.deploy({
      application: 'shop',
      environment: 'prod',
      profile: 'p',
      content: { n: 2 },
      versionLabel: 'b',
    });
    now += 15_000;
    const changed = await latest(store, unchanged.headers?.['next-poll-configuration-token'] as string);
    expect(JSON.parse(changed.body.toString())).toEqual({ n: 2 });
    expect(changed.headers?.['version-label']).toBe('b');
  });
});
