/**
 * The in-process layer's keys: two reads that ask for different things never share an entry, whatever
 * their text holds (`:`, `|`, newlines, digits where a length prefix goes, unicode), and one read spelled
 * two ways shares one. Checked on the key functions, then on the client itself against a stand-in
 * extension whose every answer names the read it answers.
 */
import { encodeKey, parseAppConfigQuery, parseParameterQuery, parseSecretQuery } from '@lambda-cache/shared';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toWireKey } from '../../src/dynamodb.js';
import { type CacheClient, createCacheClient } from '../../src/index.js';
import { type LayerRead, layerKeyOf } from '../../src/layer-keys.js';
import type { ItemKey } from '../../src/schema.js';
import { type FakeExtension, parameterBody, secretBody, startFakeExtension } from './server.js';

/**
 * Texts made to collide: a few short strings over the characters the encodings use (separators, digits
 * where a length prefix goes, the selector letters), so that two reads whose parts join into one text
 * come up often, next to arbitrary unicode.
 */
const tricky = fc.string({ unit: fc.constantFrom('a', '1', ':', 'S', 'I', '|'), maxLength: 4 });
const anyText = fc.oneof(
  { weight: 4, arbitrary: tricky },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
);
const nonEmpty = anyText.filter((s) => s.length > 0);

const keyValue = fc.oneof(
  nonEmpty,
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e15, max: 1e15 }),
  fc.integer({ min: -20, max: 20 }),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.uint8Array({ minLength: 1, maxLength: 4 }),
);
const itemKey: fc.Arbitrary<ItemKey> = fc.dictionary(nonEmpty, keyValue, { minKeys: 1, maxKeys: 2 });

const versionId = fc.stringMatching(/^[A-Za-z0-9-]{32,40}$/);

const read: fc.Arbitrary<LayerRead> = fc.oneof(
  fc.record({ kind: fc.constant('parameter' as const), name: anyText, decrypt: fc.boolean() }),
  fc.record({ kind: fc.constant('item' as const), table: nonEmpty, key: itemKey }),
  fc.record({ kind: fc.constant('secret' as const), id: anyText }),
  fc.record({ kind: fc.constant('secret' as const), id: anyText, versionId }),
  fc.record({ kind: fc.constant('secret' as const), id: anyText, versionStage: nonEmpty }),
  fc.record({
    kind: fc.constant('configuration' as const),
    application: anyText,
    environment: anyText,
    profile: anyText,
  }),
  fc.record({
    kind: fc.constant('featureFlag' as const),
    application: anyText,
    environment: anyText,
    profile: anyText,
    flag: anyText,
  }),
);

/**
 * What a read asks for, as one text: equal exactly when the extension would answer the same thing (an
 * item by its canonical key, so `{ n: 1 }` and `{ n: 1n }` are one read). `undefined` for a read the
 * client refuses to send (an item key it cannot marshal).
 */
function meaning(r: LayerRead): string | undefined {
  switch (r.kind) {
    case 'parameter':
      return JSON.stringify([r.kind, r.name, r.decrypt]);
    case 'item':
      try {
        return JSON.stringify([r.kind, r.table, encodeKey(toWireKey(r.key))]);
      } catch {
        return undefined;
      }
    case 'secret':
      return JSON.stringify([r.kind, r.id, r.versionId ?? null, r.versionStage ?? null]);
    case 'configuration':
      return JSON.stringify([r.kind, r.application, r.environment, r.profile]);
    case 'featureFlag':
      return JSON.stringify([r.kind, r.application, r.environment, r.profile, r.flag]);
  }
}

describe('layerKeyOf', () => {
  it('never gives two different reads one entry, for arbitrary reads of every kind', () => {
    fc.assert(
      fc.property(fc.array(read, { minLength: 2, maxLength: 80 }), (reads) => {
        const seen = new Map<number, Map<string, string>>();
        for (const r of reads) {
          const m = meaning(r);
          if (m === undefined) continue;
          const { space, key } = layerKeyOf(r);
          const inSpace = seen.get(space) ?? new Map<string, string>();
          seen.set(space, inSpace);
          const before = inSpace.get(key);
          if (before !== undefined) expect(before).toBe(m);
          inSpace.set(key, m);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps apart reads whose parts join into one text, however the text is split', () => {
    // One text cut into parts at two sets of places: an encoding that joined parts without marking where
    // each ends would give both reads one key.
    const cuts = (n: number) =>
      fc.tuple(
        fc.string({ unit: fc.constantFrom('a', '1', ':', 'S', 'I'), maxLength: 8 }),
        fc.array(fc.nat(), { minLength: n - 1, maxLength: n - 1 }),
      );
    const parts = ([text, at]: [string, number[]]): string[] => {
      const points = at.map((p) => p % (text.length + 1)).sort((x, y) => x - y);
      return [0, ...points].map((from, i) => text.slice(from, points[i] ?? text.length));
    };
    const asRead = (kind: 'configuration' | 'featureFlag' | 'secret', p: string[]): LayerRead => {
      const [a = '', b = '', c = '', d = ''] = p;
      if (kind === 'configuration') return { kind, application: a, environment: b, profile: c };
      if (kind === 'featureFlag') return { kind, application: a, environment: b, profile: c, flag: d };
      return { kind, id: b, versionStage: a };
    };
    const pair = fc
      .constantFrom('configuration' as const, 'featureFlag' as const, 'secret' as const)
      .chain((kind) => {
        const n = kind === 'configuration' ? 3 : kind === 'featureFlag' ? 4 : 2;
        return fc
          .tuple(cuts(n), fc.array(fc.nat(), { minLength: n - 1, maxLength: n - 1 }))
          .map(([[text, at], other]): [LayerRead, LayerRead] => [
            asRead(kind, parts([text, at])),
            asRead(kind, parts([text, other])),
          ]);
      });
    fc.assert(
      fc.property(pair, ([a, b]) => {
        if (meaning(a) !== meaning(b)) expect(layerKeyOf(a)).not.toEqual(layerKeyOf(b));
      }),
      { numRuns: 2000 },
    );
  });

  it("keeps a read apart from a read of another kind or shape whose text is the first read's key", () => {
    // Kinds kept in one space with their keys as plain text would meet here.
    const others = (text: string): LayerRead[] => [
      { kind: 'parameter', name: text, decrypt: true },
      { kind: 'parameter', name: text, decrypt: false },
      { kind: 'secret', id: text },
      { kind: 'secret', id: text, versionStage: 'AWSCURRENT' },
      { kind: 'configuration', application: '', environment: '', profile: text },
      { kind: 'featureFlag', application: '', environment: '', profile: '', flag: text },
      { kind: 'item', table: text, key: { id: 'x' } },
    ];
    fc.assert(
      fc.property(read, (r) => {
        if (meaning(r) === undefined) return;
        const mine = layerKeyOf(r);
        for (const other of others(mine.key)) {
          if (meaning(other) !== meaning(r)) expect(layerKeyOf(other)).not.toEqual(mine);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('gives one entry to one item key written in either attribute order', () => {
    fc.assert(
      fc.property(nonEmpty, itemKey, (table, key) => {
        const entries = Object.entries(key);
        const reversed: Record<string, unknown> = {};
        for (const [n, v] of entries.reverse()) {
          Object.defineProperty(reversed, n, {
            value: v,
            enumerable: true,
            configurable: true,
            writable: true,
          });
        }
        if (meaning({ kind: 'item', table, key }) === undefined) return;
        expect(layerKeyOf({ kind: 'item', table, key: reversed as ItemKey })).toEqual(
          layerKeyOf({ kind: 'item', table, key }),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('keeps apart reads whose texts are each other with a separator moved', () => {
    const pairs: [LayerRead, LayerRead][] = [
      [
        { kind: 'secret', id: 'db', versionStage: 'AWSCURRENT' },
        { kind: 'secret', id: 'RENTdb', versionStage: 'AWSCUR' },
      ],
      [
        { kind: 'secret', id: 'S10:AWSCURRENTdb' },
        { kind: 'secret', id: 'db', versionStage: 'AWSCURRENT' },
      ],
      [
        { kind: 'configuration', application: 'a', environment: 'b', profile: 'c' },
        { kind: 'configuration', application: 'a', environment: '', profile: '1:bc' },
      ],
      [
        { kind: 'featureFlag', application: 'a', environment: 'b', profile: 'c', flag: 'd' },
        { kind: 'featureFlag', application: 'a', environment: 'b', profile: '', flag: '1:cd' },
      ],
      [
        { kind: 'item', table: 'T', key: { a: 'x|1:b' } },
        { kind: 'item', table: 'T|1:a', key: { b: 'x' } },
      ],
      [
        { kind: 'parameter', name: 'x', decrypt: true },
        { kind: 'secret', id: 'x' },
      ],
    ];
    for (const [a, b] of pairs) expect(layerKeyOf(a)).not.toEqual(layerKeyOf(b));
  });
});

describe('the client in-process layer', () => {
  let fake: FakeExtension;
  let client: CacheClient;
  beforeAll(async () => {
    // Every answer names the read it answers, so a value served for another read shows.
    fake = await startFakeExtension((url) => {
      const cache = { 'cache-control': 'max-age=600' };
      const q = url.searchParams;
      switch (url.pathname) {
        case '/v1/parameters': {
          const p = parseParameterQuery(q);
          return {
            body: parameterBody(p.name, JSON.stringify(['parameter', p.name, p.decrypt])),
            headers: cache,
          };
        }
        case '/v1/secrets': {
          const s = parseSecretQuery(q);
          const text = JSON.stringify(['secret', s.id, s.versionId ?? null, s.versionStage ?? null]);
          return { body: secretBody(s.id, text), headers: cache };
        }
        case '/v1/dynamodb':
          return {
            body: {
              table: q.get('table'),
              key: {},
              item: { read: { S: `${q.get('table')}\n${q.get('key')}` } },
            },
            headers: cache,
          };
        default: {
          const c = parseAppConfigQuery(q);
          if (c.flags === undefined) {
            return {
              body: JSON.stringify(['configuration', c.application, c.environment, c.profile]),
              headers: { ...cache, 'content-type': 'application/json' },
            };
          }
          const flag = c.flags[0] as string;
          const id = JSON.stringify(['featureFlag', c.application, c.environment, c.profile, flag]);
          return { body: { [flag]: { enabled: true, id } }, headers: cache };
        }
      }
    });
    client = createCacheClient({ port: fake.port, localCache: { maxEntries: 100_000 } });
  });
  afterAll(async () => {
    await client.close();
    await fake.close();
  });

  /** The read as the client makes it, and what its answer must say. */
  async function perform(r: LayerRead): Promise<[unknown, unknown]> {
    switch (r.kind) {
      case 'parameter':
        return [
          await client.getParameter(r.name, { decrypt: r.decrypt, transform: 'json' }),
          ['parameter', r.name, r.decrypt],
        ];
      case 'secret': {
        const options = {
          ...(r.versionId === undefined ? {} : { versionId: r.versionId }),
          ...(r.versionStage === undefined ? {} : { versionStage: r.versionStage }),
        };
        return [
          await client.getSecret(r.id, { ...options, transform: 'json' }),
          ['secret', r.id, r.versionId ?? null, r.versionStage ?? null],
        ];
      }
      case 'item': {
        const item = await client.getItem(r.table, r.key);
        return [item?.read, `${r.table}\n${encodeKey(toWireKey(r.key))}`];
      }
      case 'configuration':
        return [
          await client.getAppConfig(r.application, r.environment, r.profile, { transform: 'json' }),
          ['configuration', r.application, r.environment, r.profile],
        ];
      case 'featureFlag': {
        const flag = await client.getFeatureFlag(r.application, r.environment, r.profile, r.flag);
        return [flag.id, JSON.stringify(['featureFlag', r.application, r.environment, r.profile, r.flag])];
      }
    }
  }

  // Names the routes accept: AppConfig identifiers are 1–128 characters and flag keys start with a letter.
  const sendable = (r: LayerRead): boolean => {
    if (meaning(r) === undefined) return false;
    if (r.kind === 'parameter') return r.name.length > 0;
    if (r.kind === 'secret') return r.id.length > 0;
    if (r.kind === 'configuration' || r.kind === 'featureFlag') {
      const names = [r.application, r.environment, r.profile];
      if (names.some((n) => n.length === 0)) return false;
      return r.kind === 'configuration' || /^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(r.flag);
    }
    return true;
  };
  const flagKey = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,5}$/);
  const sendableRead = fc
    .oneof(
      read,
      fc.record({
        kind: fc.constant('featureFlag' as const),
        application: tricky,
        environment: tricky,
        profile: tricky,
        flag: flagKey,
      }),
    )
    .filter(sendable);

  it('answers every read with its own value when arbitrary reads share one client, repeats included', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(sendableRead, { minLength: 1, maxLength: 12 }), async (reads) => {
        // Each read twice: once from the extension (or an earlier fill), once from memory.
        for (const r of [...reads, ...reads]) {
          const [got, expected] = await perform(r);
          expect(got).toEqual(expected);
        }
      }),
      { numRuns: 40 },
    );
  });
});
