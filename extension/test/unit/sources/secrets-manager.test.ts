/**
 * The Secrets Manager source through the lean AWS client against the local Secrets Manager over HTTP, so
 * every call is counted where AWS would count it.
 */
import { type Backends, startBackends } from '@lambda-cache/local';
import { parseExtensionSettings } from '@lambda-cache/shared';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AwsClient,
  AwsServiceError,
  AwsTransportError,
  createAwsClient,
} from '../../../src/aws/index.js';
import { ManualClock } from '../../../src/clock.js';
import { parseConfig } from '../../../src/config-yaml.js';
import { NotFoundError, UnreadableAnswerError } from '../../../src/errors.js';
import { createLogger } from '../../../src/log.js';
import type { SecretEntry } from '../../../src/sources/secrets-config.js';
import { secretsSection } from '../../../src/sources/secrets-config.js';
import {
  createSecretsManagerSource,
  epochSecondsText,
  ROTATION_RECHECK_MS,
  ROTATION_SETTLE_MS,
  type SecretLoad,
  type SecretMeta,
  type SecretTarget,
  secretsManagerEntry,
} from '../../../src/sources/secrets-manager.js';
import { type LoadResult, type Source, type Stored, UNCHANGED } from '../../../src/sources/source.js';
import { FakeAws, serviceError } from '../support/fake-aws.js';

const START = Date.parse('2026-03-01T12:00:00.250Z');
const HOUR_MS = 3_600_000;
const VERSION = 'a1b2c3d4-5678-90ab-cdef-000000000001';

let backends: Backends;
let aws: AwsClient;
let clock = START;

const entry = (id: string, more: Partial<SecretEntry> = {}): SecretEntry => ({
  id,
  region: undefined,
  versionId: undefined,
  versionStage: undefined,
  ttlMs: undefined,
  json: false,
  ...more,
});

type SecretSource = Source<SecretTarget, SecretLoad, SecretMeta>;

function source(
  entries: readonly SecretEntry[] = [],
  more: { timeoutMs?: number; client?: AwsClient } = {},
): SecretSource {
  return createSecretsManagerSource({
    aws: more.client ?? aws,
    entries,
    region: backends.region,
    defaultTtlMs: 300_000,
    timeoutMs: more.timeoutMs,
    now: () => clock,
  });
}

/** Loads targets as the store does: by group, at most `maxBatch` a call, nothing cached before. */
async function loadAll(
  s: SecretSource,
  targets: readonly SecretTarget[],
): Promise<Array<LoadResult<SecretLoad>>> {
  const out: Array<LoadResult<SecretLoad>> = [];
  for (let i = 0; i < targets.length; i += s.maxBatch) {
    const batch = targets.slice(i, i + s.maxBatch);
    const group = s.group(batch[0] as SecretTarget);
    expect(batch.every((t) => s.group(t) === group)).toBe(true);
    out.push(
      ...(await s.load(
        group,
        batch,
        batch.map(() => undefined),
      )),
    );
  }
  return out;
}

async function loadOne(
  s: SecretSource,
  target: SecretTarget,
  previous?: Stored<SecretMeta>,
): Promise<LoadResult<SecretLoad>> {
  const [result] = await s.load(s.group(target), [target], [previous]);
  return result as LoadResult<SecretLoad>;
}

function loaded(result: LoadResult<SecretLoad>): SecretLoad {
  if (result === UNCHANGED || result instanceof Error)
    throw new Error(`expected a value, got ${String(result)}`);
  return result;
}

const current = (id: string): SecretTarget => ({ region: backends.region, id });
const mainJson = (stored: Stored<SecretMeta>) =>
  JSON.parse(stored.body.toString('utf8')) as Record<string, unknown>;

beforeAll(async () => {
  backends = await startBackends({
    now: () => clock,
    seed: {
      secrets: [
        ...Array.from({ length: 44 }, (_, i) => ({
          name: `app/s${String(i).padStart(2, '0')}`,
          value: `v${i}`,
        })),
        { name: 'app/json', value: '{"user":"app","port":5432}' },
        { name: 'app/text', value: 'not json at all' },
      ],
    },
  });
  aws = createAwsClient({ env: { ...backends.env, AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001' } });
});

beforeEach(() => {
  clock = START;
  backends.secretsManager.resetCalls();
  backends.secretsManager.setFaults({});
});

afterAll(async () => {
  aws?.destroy();
  await backends?.close();
});

describe('Secrets Manager source: loads', () => {
  it('prefetches 45 secrets in 3 BatchGetSecretValue calls, the missing one not found and the rest loaded', async () => {
    const names = [
      ...Array.from({ length: 44 }, (_, i) => `app/s${String(i).padStart(2, '0')}`),
      'app/missing',
    ];
    const s = source(names.map((n) => entry(n)));
    const config = parseConfig(`secrets:\n  - names: [${names.join(', ')}]`, 'config.yaml', [secretsSection]);
    const targets = [...s.configured(config)].map((c) => c.target);
    expect(targets).toHaveLength(45);

    const results = await loadAll(s, targets);

    expect(backends.secretsManager.calls).toEqual({ BatchGetSecretValue: 3 });
    const sizes = backends.secretsManager.callLog.map(
      (c) => (c.request as { SecretIdList: string[] }).SecretIdList.length,
    );
    expect(sizes).toEqual([20, 20, 5]);
    expect(results[44]).toBeInstanceOf(NotFoundError);
    expect((results[44] as Error).message).toBe('secret app/missing was not found');
    for (let i = 0; i < 44; i++) {
      const secret = loaded(results[i] as LoadResult<SecretLoad>).secret;
      expect(secret).toMatchObject({ name: names[i], secretString: `v${i}`, versionStages: ['AWSCURRENT'] });
      expect(secret.arn).toMatch(/^arn:aws:secretsmanager:us-east-1:123456789012:secret:app\/s\d\d-\w{6}$/);
    }
  });

  it('gives a secret its own error from the batch answer and loads the others of the call', async () => {
    backends.secretsManager.putSecret({ name: 'app/doomed', value: 'bye' });
    const { secretsManager } = backends;
    await aws.json('secretsmanager', undefined, 'DeleteSecret', { SecretId: 'app/doomed' });
    secretsManager.resetCalls();

    const results = await loadAll(source(), [current('app/s00'), current('app/doomed'), current('app/s01')]);

    expect(secretsManager.calls).toEqual({ BatchGetSecretValue: 1 });
    expect(loaded(results[0] as SecretLoad).secret.secretString).toBe('v0');
    expect(loaded(results[2] as SecretLoad).secret.secretString).toBe('v1');
    const err = results[1] as AwsServiceError;
    expect(err).toBeInstanceOf(AwsServiceError);
    expect(err).toMatchObject({
      awsCode: 'InvalidRequestException',
      operation: 'BatchGetSecretValue',
      throttling: false,
    });
  });

  it('finds values asked for by full and partial ARN in a batch answer', async () => {
    const [byName] = await loadAll(source(), [current('app/s02')]);
    const arn = loaded(byName as SecretLoad).secret.arn;
    const partial = arn.slice(0, -7);
    backends.secretsManager.resetCalls();
    const results = await loadAll(source(), [
      { region: 'us-east-1', id: arn },
      { region: 'us-east-1', id: partial },
    ]);
    expect(backends.secretsManager.calls).toEqual({ BatchGetSecretValue: 1 });
    expect(results.map((r) => loaded(r).secret.secretString)).toEqual(['v2', 'v2']);
  });

  it('reads a single secret, and a version by stage or id, with GetSecretValue', async () => {
    const first = backends.secretsManager.putSecret({
      name: 'app/versions',
      value: 'one',
      versionId: VERSION,
    });
    backends.secretsManager.putSecret({ name: 'app/versions', value: 'two' });
    backends.secretsManager.resetCalls();
    const s = source();

    const single = loaded(await loadOne(s, current('app/versions')));
    const previous = await s.load(
      s.group(current('app/versions')),
      [
        { ...current('app/versions'), versionStage: 'AWSPREVIOUS' },
        { ...current('app/versions'), versionId: first.versionId },
      ],
      [undefined, undefined],
    );

    expect(backends.secretsManager.calls).toEqual({ GetSecretValue: 3 });
    expect(single.secret.secretString).toBe('two');
    expect(previous.map((r) => loaded(r).secret.secretString)).toEqual(['one', 'one']);
    expect(loaded(previous[0] as SecretLoad).secret.versionStages).toEqual(['AWSPREVIOUS']);
  });

  it('answers a missing secret or stage alone with NotFoundError', async () => {
    const s = source();
    expect(await loadOne(s, current('app/nothing'))).toBeInstanceOf(NotFoundError);
    expect(await loadOne(s, { ...current('app/s03'), versionStage: 'NOPE' })).toBeInstanceOf(NotFoundError);
  });

  it('keeps the bytes of a binary secret, base64 in both forms', async () => {
    backends.secretsManager.putSecret({ name: 'app/binary', value: Uint8Array.from([0, 1, 2, 250, 255]) });
    const s = source();
    const stored = s.store(loaded(await loadOne(s, current('app/binary'))));
    expect(mainJson(stored).secretBinary).toBe('AAEC+v8=');
    expect(mainJson(stored)).not.toHaveProperty('secretString');
    const aws = JSON.parse(s.form(stored, 'aws')?.body.toString('utf8') ?? 'null');
    expect(aws.SecretBinary).toBe('AAEC+v8=');
    expect(aws).not.toHaveProperty('SecretString');
  });

  it('fails a json: true secret that is not JSON text or is binary, without quoting its value', async () => {
    backends.secretsManager.putSecret({ name: 'app/json-binary', value: Uint8Array.from([1]) });
    const s = source([
      entry('app/json', { json: true }),
      entry('app/text', { json: true }),
      entry('app/json-binary', { json: true }),
    ]);
    const results = await loadAll(s, [current('app/json'), current('app/text'), current('app/json-binary')]);

    expect(loaded(results[0] as SecretLoad).secret.secretString).toBe('{"user":"app","port":5432}');
    const notJson = results[1] as Error;
    expect(notJson).toBeInstanceOf(UnreadableAnswerError);
    expect(notJson.message).toBe('secret app/text is not JSON text, but the config reads it with json: true');
    expect(notJson.cause).toBeUndefined();
    expect(results[2]).toBeInstanceOf(UnreadableAnswerError);
    expect((results[2] as Error).message).toBe(
      'secret app/json-binary is binary, but the config reads it with json: true',
    );
    // The same text read through without json: true is just a value.
    expect(loaded(await loadOne(source(), current('app/text'))).secret.secretString).toBe('not json at all');
  });

  it('asks for each secret alone when the batch call is refused as malformed', async () => {
    const fake = new FakeAws()
      .on('secretsmanager', 'BatchGetSecretValue', () => {
        throw serviceError('ValidationException', {
          service: 'secretsmanager',
          operation: 'BatchGetSecretValue',
        });
      })
      .on('secretsmanager', 'GetSecretValue', (input) => {
        if (input.SecretId === 'bad')
          throw serviceError('ResourceNotFoundException', { service: 'secretsmanager' });
        return { ARN: `arn:${input.SecretId}`, Name: input.SecretId, VersionId: VERSION, SecretString: 'x' };
      });
    const results = await loadAll(source([], { client: fake }), [current('good'), current('bad')]);
    expect(fake.calls.map((c) => c.operation)).toEqual([
      'BatchGetSecretValue',
      'GetSecretValue',
      'GetSecretValue',
    ]);
    expect(loaded(results[0] as SecretLoad).secret.name).toBe('good');
    expect(results[1]).toBeInstanceOf(NotFoundError);
  });

  it('reads one at a time, and stops batching, when the role does not allow BatchGetSecretValue', async () => {
    const fake = new FakeAws()
      .on('secretsmanager', 'BatchGetSecretValue', () => {
        throw serviceError('AccessDeniedException', {
          service: 'secretsmanager',
          operation: 'BatchGetSecretValue',
        });
      })
      .on('secretsmanager', 'GetSecretValue', (input) => ({
        ARN: `arn:${input.SecretId}`,
        Name: input.SecretId,
        VersionId: VERSION,
        SecretString: 'x',
      }));
    const lines: string[] = [];
    const s = createSecretsManagerSource({
      aws: fake,
      entries: [],
      region: undefined,
      defaultTtlMs: 1000,
      timeoutMs: undefined,
      now: () => clock,
      logger: createLogger({ level: 'warn', format: 'text', write: (l) => lines.push(l) }),
    });
    const first = await loadAll(s, [current('a'), current('b')]);
    const second = await loadAll(s, [current('c'), current('d')]);
    expect([...first, ...second].map((r) => loaded(r).secret.name)).toEqual(['a', 'b', 'c', 'd']);
    expect(fake.calls.map((c) => c.operation)).toEqual([
      'BatchGetSecretValue',
      'GetSecretValue',
      'GetSecretValue',
      'GetSecretValue',
      'GetSecretValue',
    ]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('BatchGetSecretValue is not allowed');
  });

  it('gives every secret of a failed batch call its error', async () => {
    const fake = new FakeAws().on('secretsmanager', 'BatchGetSecretValue', () => {
      throw serviceError('KMSInvalidStateException', {
        service: 'secretsmanager',
        operation: 'BatchGetSecretValue',
      });
    });
    const results = await loadAll(source([], { client: fake }), [current('a'), current('b')]);
    expect(results.map((r) => (r as AwsServiceError).awsCode)).toEqual([
      'KMSInvalidStateException',
      'KMSInvalidStateException',
    ]);
  });

  it('asks alone for an id the batch answer leaves out', async () => {
    const fake = new FakeAws()
      .on('secretsmanager', 'BatchGetSecretValue', () => ({
        SecretValues: [{ ARN: 'arn:a', Name: 'a', VersionId: VERSION, SecretString: 'A' }],
        Errors: [],
      }))
      .on('secretsmanager', 'GetSecretValue', () => ({
        ARN: 'arn:b',
        Name: 'b',
        VersionId: VERSION,
        SecretString: 'B',
      }));
    const results = await loadAll(source([], { client: fake }), [current('a'), current('b')]);
    expect(results.map((r) => loaded(r).secret.secretString)).toEqual(['A', 'B']);
    expect(fake.inputs('GetSecretValue')).toEqual([{ SecretId: 'b' }]);
  });

  it('ends a call that outlasts SECRETS_MANAGER_TIMEOUT_MILLIS with a timeout', async () => {
    backends.secretsManager.setFaults({ latencyMs: 2000, operations: ['GetSecretValue'] });
    const result = await loadOne(source([], { timeoutMs: 50 }), current('app/s04'));
    expect(result).toBeInstanceOf(AwsTransportError);
    expect(result).toMatchObject({ reason: 'timeout' });
    expect((result as Error).message).toContain('SECRETS_MANAGER_TIMEOUT_MILLIS');
  });
});

describe('Secrets Manager source: revalidation and rotation', () => {
  async function cached(s: SecretSource, target: SecretTarget): Promise<Stored<SecretMeta>> {
    return s.store(loaded(await loadOne(s, target)));
  }

  it('answers UNCHANGED after one DescribeSecret when the stage is still on the stored version', async () => {
    backends.secretsManager.putSecret({ name: 'app/stable', value: 'same' });
    const s = source();
    const stored = await cached(s, current('app/stable'));
    backends.secretsManager.resetCalls();

    expect(await loadOne(s, current('app/stable'), stored)).toBe(UNCHANGED);
    expect(backends.secretsManager.calls).toEqual({ DescribeSecret: 1 });
    expect(backends.secretsManager.callLog[0]?.request).toEqual({ SecretId: 'app/stable' });
  });

  it('reads the new value when the stage moved to another version', async () => {
    backends.secretsManager.putSecret({ name: 'app/rotating', value: 'old' });
    const s = source();
    const stored = await cached(s, current('app/rotating'));
    const { versionId } = backends.secretsManager.rotateSecret('app/rotating', 'new');
    backends.secretsManager.resetCalls();

    const fresh = loaded(await loadOne(s, current('app/rotating'), stored));

    expect(backends.secretsManager.calls).toEqual({ DescribeSecret: 1, GetSecretValue: 1 });
    expect(fresh.secret).toMatchObject({ secretString: 'new', versionId });
    expect(s.store(fresh).meta.versionId).toBe(versionId);
  });

  it('revalidates a staged version by its stage, AWSPREVIOUS following a rotation', async () => {
    backends.secretsManager.putSecret({ name: 'app/staged', value: 'a' });
    backends.secretsManager.putSecret({ name: 'app/staged', value: 'b' });
    const s = source();
    const target = { ...current('app/staged'), versionStage: 'AWSPREVIOUS' };
    const stored = await cached(s, target);
    expect(await loadOne(s, target, stored)).toBe(UNCHANGED);
    backends.secretsManager.rotateSecret('app/staged', 'c');
    expect(loaded(await loadOne(s, target, stored)).secret.secretString).toBe('b');
  });

  it('answers the error of a secret deleted since it was cached', async () => {
    backends.secretsManager.putSecret({ name: 'app/deleted-later', value: 'x' });
    backends.secretsManager.putSecret({ name: 'app/gone-later', value: 'y' });
    const s = source();
    const deleted = await cached(s, current('app/deleted-later'));
    const gone = await cached(s, current('app/gone-later'));
    await aws.json('secretsmanager', undefined, 'DeleteSecret', { SecretId: 'app/deleted-later' });
    await aws.json('secretsmanager', undefined, 'DeleteSecret', {
      SecretId: 'app/gone-later',
      ForceDeleteWithoutRecovery: true,
    });
    // Scheduled for deletion: DescribeSecret still answers, GetSecretValue says why it cannot be read.
    expect(await loadOne(s, current('app/deleted-later'), deleted)).toMatchObject({
      awsCode: 'InvalidRequestException',
    });
    expect(await loadOne(s, current('app/gone-later'), gone)).toBeInstanceOf(NotFoundError);
  });

  it('keeps a version asked for by id unchanged while it is listed, and reads it again once it is not', async () => {
    const { versionId } = backends.secretsManager.putSecret({ name: 'app/pinned', value: 'p1' });
    const s = source();
    const target = { ...current('app/pinned'), versionId };
    const stored = await cached(s, target);
    backends.secretsManager.rotateSecret('app/pinned', 'p2'); // p1 is AWSPREVIOUS: still listed
    backends.secretsManager.resetCalls();
    expect(await loadOne(s, target, stored)).toBe(UNCHANGED);
    expect(backends.secretsManager.calls).toEqual({ DescribeSecret: 1 });

    backends.secretsManager.rotateSecret('app/pinned', 'p3'); // p1 has no label left
    backends.secretsManager.resetCalls();
    const again = loaded(await loadOne(s, target, stored));
    expect(again.secret).toMatchObject({ versionId, secretString: 'p1', versionStages: [] });
    expect(again.notAfterMs).toBeUndefined();
    expect(backends.secretsManager.calls).toEqual({ DescribeSecret: 1, GetSecretValue: 1 });
  });

  it('never serves a value past the NextRotationDate its revalidation learned', async () => {
    backends.secretsManager.putSecret({ name: 'app/scheduled', value: 'v' });
    const s = source();
    const stored = await cached(s, current('app/scheduled'));
    // A cold load has no rotation date: no value read carries one.
    expect(s.notAfter?.(stored)).toBeUndefined();

    backends.secretsManager.setNextRotationDate('app/scheduled', START + HOUR_MS);
    expect(await loadOne(s, current('app/scheduled'), stored)).toBe(UNCHANGED);
    expect(s.notAfter?.(stored)).toBe(START + HOUR_MS);

    // The date passed and the rotation has not finished: checked again soon, not left to the TTL.
    clock = START + HOUR_MS + 1000;
    expect(await loadOne(s, current('app/scheduled'), stored)).toBe(UNCHANGED);
    expect(s.notAfter?.(stored)).toBe(clock + ROTATION_RECHECK_MS);

    // A rotation that never happens stops being checked for: the TTL alone bounds the value again.
    clock = START + HOUR_MS + ROTATION_SETTLE_MS + 1;
    expect(await loadOne(s, current('app/scheduled'), stored)).toBe(UNCHANGED);
    expect(s.notAfter?.(stored)).toBeUndefined();

    // The rotation, with the next one scheduled: the new value carries the new bound.
    backends.secretsManager.rotateSecret('app/scheduled', 'w');
    backends.secretsManager.setNextRotationDate('app/scheduled', START + 30 * HOUR_MS);
    const rotated = loaded(await loadOne(s, current('app/scheduled'), stored));
    expect(rotated.secret.secretString).toBe('w');
    expect(s.notAfter?.(s.store(rotated))).toBe(START + 30 * HOUR_MS);
  });
});

describe('Secrets Manager source: bodies', () => {
  it('stores the /v1/secrets body with ISO dates', async () => {
    clock = Date.parse('2026-03-02T10:20:30.456Z');
    const { versionId } = backends.secretsManager.putSecret({ name: 'app/body', value: 'text' });
    const s = source();
    const stored = s.store(loaded(await loadOne(s, current('app/body'))));
    expect(stored.contentType).toBe('application/json');
    expect(mainJson(stored)).toStrictEqual({
      arn: expect.stringMatching(/^arn:aws:secretsmanager:us-east-1:123456789012:secret:app\/body-\w{6}$/),
      name: 'app/body',
      versionId,
      versionStages: ['AWSCURRENT'],
      createdDate: '2026-03-02T10:20:30.456Z',
      secretString: 'text',
    });
    expect(s.form(stored, 'main')?.body).toBe(stored.body);
    expect(s.form(stored, 'legacy')).toBeUndefined();
  });

  it('writes the aws form exactly as the Secrets Manager Agent does: its members, their order, CreatedDate as text', async () => {
    clock = Date.parse('2026-03-02T10:20:30.450Z');
    const { versionId } = backends.secretsManager.putSecret({ name: 'app/agent', value: '{"k":1}' });
    const s = source();
    const stored = s.store(loaded(await loadOne(s, current('app/agent'))));
    const arn = mainJson(stored).arn as string;
    const body = s.form(stored, 'aws');
    expect(body?.contentType).toBe('application/json');
    expect(body?.body.toString('utf8')).toBe(
      JSON.stringify({
        ARN: arn,
        Name: 'app/agent',
        VersionId: versionId,
        SecretString: '{"k":1}',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: '1772446830.45',
      }),
    );
  });

  it('writes CreatedDate as epoch seconds with the fraction’s trailing zeros dropped', () => {
    expect(epochSecondsText('2026-03-02T10:20:30.000Z')).toBe('1772446830');
    expect(epochSecondsText('2026-03-02T10:20:30.007Z')).toBe('1772446830.007');
    expect(epochSecondsText('2026-03-02T10:20:30.120Z')).toBe('1772446830.12');
    expect(epochSecondsText(null)).toBeNull();
  });
});

describe('Secrets Manager source: codec, config, routes', () => {
  it('decodes every key it encodes to the same target, and never gives two targets one key', () => {
    const s = source();
    const text = fc.oneof(
      fc.string(),
      fc.string({ unit: 'grapheme' }),
      fc.constantFrom('', ':', '\n', '"', '\\', 'null', '[]'),
    );
    const target = fc.record(
      { region: fc.option(text, { nil: undefined }), id: text, versionId: text, versionStage: text },
      { requiredKeys: ['region', 'id'], noNullPrototype: true },
    ) as fc.Arbitrary<SecretTarget>;
    fc.assert(
      fc.property(target, (t) => {
        expect(s.decode(s.encode(t))).toStrictEqual(t);
      }),
    );
    fc.assert(
      fc.property(target, target, (a, b) => {
        fc.pre(JSON.stringify(s.decode(s.encode(a))) !== JSON.stringify(s.decode(s.encode(b))));
        expect(s.encode(a)).not.toBe(s.encode(b));
      }),
    );
    for (const bad of ['', 'x', '[]', '[null,null,null,null]', '[1,"a",null,null]', '["r","a",null]']) {
      expect(() => s.decode(bad)).toThrow(TypeError);
    }
  });

  it('groups by region only', () => {
    const s = source();
    expect(s.group({ region: 'eu-west-1', id: 'a' })).toBe(
      s.group({ region: 'eu-west-1', id: 'b', versionStage: 'X' }),
    );
    expect(s.group({ region: 'eu-west-1', id: 'a' })).not.toBe(s.group({ region: undefined, id: 'a' }));
  });

  it('prefetches what the secrets: section lists, each with its TTL or SECRETS_MANAGER_TTL', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf';
    const text = [
      'secrets:',
      '  - names: [plain, { name: staged, versionStage: AWSPREVIOUS, ttl: 1m }]',
      `  - names: [${arn}]`,
      '  - region: us-west-2',
      '    names: [west]',
    ].join('\n');
    const config = parseConfig(text, 'config.yaml', [secretsSection]);
    const env = { ...backends.env, SECRETS_MANAGER_TTL: '120' };
    const s = secretsManagerEntry.create({
      aws,
      config,
      settings: parseExtensionSettings(env),
      env,
      region: 'us-east-1',
      clock: new ManualClock(START),
      logger: createLogger({ level: 'none', format: 'text', write: () => undefined }),
    }) as SecretSource;
    expect(secretsManagerEntry.section?.key).toBe('secrets');
    expect([...s.configured(config)]).toStrictEqual([
      { target: { region: 'us-east-1', id: 'plain' }, ttlMs: 120_000 },
      { target: { region: 'us-east-1', id: 'staged', versionStage: 'AWSPREVIOUS' }, ttlMs: 60_000 },
      { target: { region: 'eu-west-1', id: arn }, ttlMs: 120_000 },
      { target: { region: 'us-west-2', id: 'west' }, ttlMs: 120_000 },
    ]);
    expect(s.ttlOf({ region: 'us-east-1', id: 'staged', versionStage: 'AWSPREVIOUS' })).toBe(60_000);
    expect(s.ttlOf({ region: 'us-east-1', id: 'read-through' })).toBe(120_000);
    expect(s.describe({ region: 'us-east-1', id: 'staged', versionStage: 'AWSPREVIOUS' })).toStrictEqual({
      secret: 'staged',
      versionStage: 'AWSPREVIOUS',
    });
    expect(s.tag).toBe('sm');
    expect(s.service).toBe('secretsmanager');
    expect(s.maxBatch).toBe(20);

    // Routes: the region of a configured id, of an ARN, else the function's.
    const [v1, agent] = s.routes;
    expect(v1).toMatchObject({ path: '/v1/secrets', token: true });
    expect(agent).toMatchObject({
      path: '/secretsmanager/get',
      token: true,
      listeners: ['main', 'aws'],
      errors: 'aws',
    });
    expect(v1?.parse('id=west&versionStage=AWSCURRENT', '/v1/secrets')).toStrictEqual({
      target: { region: 'us-west-2', id: 'west' },
      form: 'main',
      refresh: false,
    });
    expect(v1?.parse('id=other&refresh=true', '/v1/secrets')).toStrictEqual({
      target: { region: 'us-east-1', id: 'other' },
      form: 'main',
      refresh: true,
    });
    expect(
      agent?.parse(
        `secretId=${encodeURIComponent(arn.replace('eu-west-1', 'ap-south-1'))}&refreshNow=TRUE`,
        '/secretsmanager/get',
      ),
    ).toStrictEqual({
      target: { region: 'ap-south-1', id: arn.replace('eu-west-1', 'ap-south-1') },
      form: 'aws',
      refresh: true,
    });
    expect(agent?.parse(`secretId=x&versionId=${VERSION}`, '/secretsmanager/get').target).toStrictEqual({
      region: 'us-east-1',
      id: 'x',
      versionId: VERSION,
    });
    expect(() => agent?.parse('secretId=x&versionId=1&versionStage=A', '/secretsmanager/get')).toThrow(
      /not both/,
    );
    expect(() => v1?.parse('name=x', '/v1/secrets')).toThrow();
  });
});
