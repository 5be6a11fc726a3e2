import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AwsTransportError } from '../../src/aws/index.js';
import { ManualClock } from '../../src/clock.js';
import { parseConfig } from '../../src/config-yaml.js';
import { SourceHealth, trackSources } from '../../src/health.js';
import { silentLogger } from '../../src/log.js';
import { DynamoDbSource } from '../../src/sources/dynamodb.js';
import { SsmSource } from '../../src/sources/ssm.js';
import { FakeAws, serviceError } from './support/fake-aws.js';
import { makeStore, parameter } from './support/store.js';

const SEED_CONFIG = readFileSync(new URL('../fixtures/seed.yaml', import.meta.url), 'utf8');

const timeout = () => new AwsTransportError('no answer', { reason: 'timeout', phase: 'response' });
const reset = () =>
  new AwsTransportError('reset', { reason: 'network', phase: 'response', sysCode: 'ECONNRESET' });

describe('SourceHealth', () => {
  it('reports every source ok when no call has failed', () => {
    const h = new SourceHealth(['ssm', 'dynamodb']);
    expect(h.anyFailing).toBe(false);
    expect(h.snapshot()).toEqual({ ssm: { status: 'ok' }, dynamodb: { status: 'ok' } });
  });

  it('reports a source failing since its first failure, with the latest error code, until a call succeeds', () => {
    let now = Date.parse('2026-01-01T00:00:00.000Z');
    const h = new SourceHealth(['ssm', 'dynamodb'], () => now);
    h.record('ssm', timeout());
    now += 5000;
    h.record('ssm', serviceError('ThrottlingException', { throttling: true }));
    expect(h.anyFailing).toBe(true);
    expect(h.snapshot()).toEqual({
      ssm: { status: 'failing', lastError: 'ThrottlingException', since: '2026-01-01T00:00:00.000Z' },
      dynamodb: { status: 'ok' },
    });
    h.record('ssm');
    expect(h.anyFailing).toBe(false);
    expect(h.snapshot().ssm).toEqual({ status: 'ok' });
    // A new run of failures has a new start.
    now += 1000;
    h.record('dynamodb', reset());
    expect(h.snapshot().dynamodb).toEqual({
      status: 'failing',
      lastError: 'ECONNRESET',
      since: '2026-01-01T00:00:06.000Z',
    });
  });

  it('ignores a failure of a call that began before a success ended, and counts one that began after', () => {
    let now = 1_000_000;
    const h = new SourceHealth(['ssm'], () => now);
    const hungSince = now; // a call on a connection that went silent
    now += 3000;
    h.record('ssm'); // the backend answers a newer call
    now += 1000;
    h.record('ssm', timeout(), hungSince);
    expect(h.snapshot().ssm).toEqual({ status: 'ok' });
    h.record('ssm', timeout(), now);
    expect(h.snapshot().ssm).toMatchObject({ status: 'failing', lastError: 'timeout:response' });
  });

  it('counts a not-found or a caller mistake as an answer, not a failure', () => {
    const h = new SourceHealth(['ssm', 'dynamodb']);
    h.record('ssm', timeout());
    h.record('ssm', serviceError('ParameterNotFound'));
    expect(h.snapshot().ssm).toEqual({ status: 'ok' });
    h.record('dynamodb', serviceError('ValidationException'));
    h.record('dynamodb', serviceError('ResourceNotFoundException'));
    expect(h.anyFailing).toBe(false);
  });

  it('ignores services no source calls', () => {
    const h = new SourceHealth(['ssm', 'dynamodb']);
    h.record('appconfigdata', timeout());
    expect(h.anyFailing).toBe(false);
    expect(Object.keys(h.snapshot())).toEqual(['ssm', 'dynamodb']);
  });
});

describe('trackSources', () => {
  it('records AppConfigData rest calls as the appconfig source', async () => {
    const h = new SourceHealth(['ssm', 'appconfig']);
    const failing = new FakeAws();
    const tracked = trackSources(failing, h);
    await expect(
      tracked.rest('appconfigdata', undefined, { method: 'GET', path: '/configuration' } as Parameters<
        typeof tracked.rest
      >[2]),
    ).rejects.toThrow();
    expect(h.snapshot()).toMatchObject({ ssm: { status: 'ok' }, appconfig: { status: 'failing' } });
  });

  it('records the outcome of each call by its service and passes results and errors through', async () => {
    const denied = serviceError('AccessDeniedException');
    const aws = new FakeAws()
      .on('ssm', 'GetParameters', () => ({ Parameters: [] }))
      .on('dynamodb', 'GetItem', () => {
        throw denied;
      });
    const h = new SourceHealth(['ssm', 'dynamodb']);
    const tracked = trackSources(aws, h);
    await expect(tracked.json('dynamodb', undefined, 'GetItem', {})).rejects.toBe(denied);
    expect(h.snapshot().dynamodb).toMatchObject({ status: 'failing', lastError: 'AccessDeniedException' });
    expect(await tracked.json('ssm', undefined, 'GetParameters', {})).toEqual({ Parameters: [] });
    expect(h.snapshot().ssm).toEqual({ status: 'ok' });
  });

  it('does not count a call its caller aborted', async () => {
    const abort = new AbortController();
    const aws = new FakeAws().on('ssm', 'GetParameters', () => {
      abort.abort();
      throw abort.signal.reason;
    });
    const h = new SourceHealth(['ssm', 'dynamodb']);
    await expect(
      trackSources(aws, h).json('ssm', undefined, 'GetParameters', {}, { signal: abort.signal }),
    ).rejects.toBeDefined();
    expect(h.anyFailing).toBe(false);
  });
});

describe('SourceStore health', () => {
  function setup() {
    const clock = new ManualClock(0);
    let failing = true;
    const aws = new FakeAws()
      .on('ssm', 'GetParameters', (sent) => {
        if (failing) throw serviceError('ThrottlingException', { throttling: true });
        const names = (sent as { Names: string[] }).Names;
        return { Parameters: names.map((n) => ({ Name: n, Type: 'String', Value: `v-${n}`, Version: 1 })) };
      })
      .on('dynamodb', 'BatchGetItem', () => ({ Responses: {} }))
      .on('dynamodb', 'GetItem', () => ({}));
    const sources = new SourceHealth(['ssm', 'dynamodb']);
    const tracked = trackSources(aws, sources);
    const store = makeStore({
      config: parseConfig(SEED_CONFIG, 'config.yaml'),
      ssm: new SsmSource({ aws: tracked, sleep: async () => undefined }),
      dynamodb: new DynamoDbSource({ aws: tracked, sleep: async () => undefined }),
      clock,
      logger: silentLogger,
      ttlMs: 300_000,
      maxEntries: 1000,
      maxBytes: 1024 * 1024,
      region: 'us-west-2',
      backendCalls: {},
      health: sources,
    });
    return { store, clock, recover: () => (failing = false) };
  }

  it('says degraded while a source is failing and ready again after a success', async () => {
    const { store, clock, recover } = setup();
    await store.prefetch(6000);
    // Still starting: prefetch is not over until the store is marked ready.
    expect(store.health().status).toBe('starting');
    store.markReady();
    const health = store.health();
    expect(health.status).toBe('degraded');
    expect(health.sources?.ssm).toMatchObject({ status: 'failing', lastError: 'ThrottlingException' });
    expect(health.sources?.dynamodb).toEqual({ status: 'ok' });
    recover();
    clock.advance(60_000);
    const read = await parameter(
      store,
      { name: 'CacheExtensions_Parameter1', decrypt: true, refresh: false },
      'v1',
    );
    expect(read.cache).toBe('miss');
    expect(store.health().status).toBe('ready');
    expect(store.health().sources?.ssm).toEqual({ status: 'ok' });
  });

  it('keeps stopping while a source is failing', async () => {
    const { store } = setup();
    await store.prefetch(6000);
    store.markStopping();
    expect(store.health().status).toBe('stopping');
  });
});
