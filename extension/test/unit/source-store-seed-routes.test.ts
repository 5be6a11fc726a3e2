import type { ItemJson, KeyAttributes, ParameterPayload } from '@lambda-cache/shared';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { parseConfig } from '../../src/config-yaml.js';
import { createLogger } from '../../src/log.js';
import { type DynamoDbSource, type ItemRequest, itemId } from '../../src/sources/dynamodb.js';
import type { SsmSource } from '../../src/sources/ssm.js';
import { legacyItem, makeStore, parameter } from './support/store.js';

// The seed's routes (`/parameters…`, `/dynamodb…`) against the store, with the sources faked at the
// methods the store calls. They serve only configured entries, and reach every configured item.

interface Calls {
  names: string[];
  /** `region table key` of every item asked for. */
  items: string[];
}

function itemOf(key: KeyAttributes): ItemJson {
  const data = Object.values(key)
    .map((v) => Object.values(v)[0])
    .join('/');
  return { ...key, Data: { S: `data of ${data}` } } as ItemJson;
}

function make(configText: string) {
  const calls: Calls = { names: [], items: [] };
  const ssm = {
    getParameters: async (_region: string | undefined, names: readonly string[]) => {
      calls.names.push(...names);
      return new Map(
        names.map((n): [string, ParameterPayload] => [
          n,
          { name: n, type: 'String', value: `value of ${n}`, version: 1, lastModified: null },
        ]),
      );
    },
    getParametersByPath: async () => ({ parameters: [], truncated: false }),
  } as unknown as SsmSource;
  const record = (region: string | undefined, r: ItemRequest) =>
    calls.items.push(`${region} ${r.table} ${JSON.stringify(r.key)}`);
  const dynamodb = {
    getItem: async (region: string | undefined, table: string, key: KeyAttributes) => {
      record(region, { table, key });
      return itemOf(key);
    },
    batchGet: async (region: string | undefined, requests: readonly ItemRequest[]) => {
      for (const r of requests) record(region, r);
      return new Map(requests.map((r) => [itemId(r.table, r.key), itemOf(r.key)]));
    },
  } as unknown as DynamoDbSource;
  const lines: string[] = [];
  const store = makeStore({
    config: parseConfig(configText, 'config.yaml'),
    ssm,
    dynamodb,
    clock: new ManualClock(1_000_000),
    logger: createLogger({ level: 'warn', format: 'text', write: (l) => lines.push(l) }),
    ttlMs: 300_000,
    maxEntries: 10_000,
    maxBytes: 64 * 1024 * 1024,
    region: 'us-west-2',
    backendCalls: {},
    waitMs: 2000,
  });
  return { store, calls, lines };
}

/** One seed-form `dynamodb:` entry. */
function entry(table: string, hash: string, sort?: string, extra = ''): string {
  const sortLines =
    sort === undefined ? '' : `    sortkey: sKey\n    sortkeytype: S\n    sortkeyvalue: "${sort}"\n`;
  return `  - table: ${table}\n${extra}    hashkey: pKey\n    hashkeytype: S\n    hashkeyvalue: "${hash}"\n${sortLines}`;
}

const text = async (reply: Promise<{ body: Buffer }> | { body: Buffer }) => (await reply).body.toString();

const seedParameter = (name: string) => ({ name, decrypt: true, refresh: false });

describe('SourceStore seed item routes', () => {
  it('reaches every item when the seed config lists each as its own entry of one table', async () => {
    const n = Array.from({ length: 100 }, (_, i) => i + 1);
    const { store, calls } = make(
      `dynamodb:\n${n.map((i) => entry('DynamoDbTable', `pKey${i}`, `sKey${i}`)).join('')}`,
    );
    await store.prefetch(5000);
    const before = calls.items.length;
    for (const i of n) {
      const body = await text(legacyItem(store, `DynamoDbTable-pKey${i}-sKey${i}`));
      expect(JSON.parse(body)).toEqual({
        pKey: `pKey${i}`,
        sKey: `sKey${i}`,
        Data: `data of pKey${i}/sKey${i}`,
      });
    }
    expect(calls.items.length).toBe(before);
  });

  it('takes the two key values in either order, as the config does not say which is the partition key', async () => {
    const { store } = make(`dynamodb:\n${entry('Tab', 'p1', 's1')}`);
    await store.prefetch(5000);
    expect(await text(legacyItem(store, 'Tab-p1-s1'))).toBe(await text(legacyItem(store, 'Tab-s1-p1')));
  });

  it('answers an item whose values hold "-" when no other item spells the same id', async () => {
    const { store } = make(`dynamodb:\n${entry('My-Table', 'a-b', 'c-d')}${entry('My-Table', 'e', 'f')}`);
    await store.prefetch(5000);
    expect(JSON.parse(await text(legacyItem(store, 'My-Table-a-b-c-d')))).toMatchObject({ pKey: 'a-b' });
    expect(JSON.parse(await text(legacyItem(store, 'My-Table-e-f')))).toMatchObject({ pKey: 'e' });
  });

  it('refuses an id that two configured items spell, and says so at start', async () => {
    const { store, lines, calls } = make(
      `dynamodb:\n${entry('Tab', 'x-y', 'z')}${entry('Tab', 'x', 'y-z')}${entry('Uni', '1', '2')}${entry('Uni', '2', '1')}${entry('Vee', 'ok', 'fine')}`,
    );
    expect(lines.join('\n')).toMatch(/share a seed id.*tables=.*Tab,Uni/);
    expect(lines.join('\n')).not.toContain('Vee');
    await store.prefetch(5000);
    const before = calls.items.length;
    for (const id of ['Tab-x-y-z', 'Uni-1-2', 'Uni-2-1']) {
      await expect(legacyItem(store, id)).rejects.toMatchObject({ status: 400, code: 'BadRequest' });
    }
    await expect(legacyItem(store, 'Tab-x-y-z')).rejects.toThrow(/names 2 configured items.*\/v1\/dynamodb/);
    // An id only one of them spells (in the other order) still answers.
    expect(JSON.parse(await text(legacyItem(store, 'Tab-z-x-y')))).toMatchObject({ pKey: 'x-y', sKey: 'z' });
    expect(JSON.parse(await text(legacyItem(store, 'Tab-y-z-x')))).toMatchObject({ pKey: 'x', sKey: 'y-z' });
    expect(JSON.parse(await text(legacyItem(store, 'Vee-ok-fine')))).toMatchObject({ pKey: 'ok' });
    expect(calls.items.length).toBe(before);
  });

  it('does not count one item configured twice as two', async () => {
    const { store, lines } = make(`dynamodb:\n${entry('Tab', 'a', 'b')}  - table: Tab
    hashkey: pKey
    hashkeytype: S
    sortkey: sKey
    sortkeytype: S
    keys:
      - { pKey: a, sKey: b }
      - { pKey: c, sKey: d }
`);
    expect(lines).toEqual([]);
    await store.prefetch(5000);
    expect(JSON.parse(await text(legacyItem(store, 'Tab-a-b')))).toMatchObject({ pKey: 'a' });
    expect(JSON.parse(await text(legacyItem(store, 'Tab-c-d')))).toMatchObject({ pKey: 'c' });
  });

  it('loads an item from the region of its own entry when entries of one table differ in region', async () => {
    const { store, calls } = make(
      `dynamodb:\n${entry('Tab', 'here')}${entry('Tab', 'there', undefined, '    region: eu-west-1\n')}`,
    );
    const reply = await legacyItem(store, 'Tab-there');
    expect(reply.cache).toBe('miss');
    expect(calls.items).toEqual(['eu-west-1 Tab {"pKey":{"S":"there"}}']);
    expect((await legacyItem(store, 'Tab-there')).cache).toBe('hit');
  });

  it('answers 404 without a backend call when the id names no configured item', async () => {
    const { store, calls } = make(`dynamodb:\n${entry('Single', 'k1')}${entry('Tab', 'p1', 's1')}`);
    await store.prefetch(5000);
    const before = calls.items.length;
    for (const id of ['Single-k2', 'Tab-p1-s2', 'Tab-p1', 'Other-p1-s1', 'Tab', '']) {
      await expect(legacyItem(store, id)).rejects.toMatchObject({ status: 404, code: 'NotFound' });
    }
    await expect(legacyItem(store, 'Single-k2')).rejects.toThrow(/only configured entries.*\/v1\/dynamodb/);
    expect(calls.items.length).toBe(before);
  });

  it('names a number key by its canonical text', async () => {
    const { store } = make(`dynamodb:
  - table: Num
    hashkey: id
    hashkeytype: N
    hashkeyvalue: 12
`);
    expect(JSON.parse(await text(legacyItem(store, 'Num-12')))).toMatchObject({ Data: 'data of 12' });
  });
});

describe('SourceStore seed parameter routes', () => {
  const config = `parameters:
  - names: [CacheExtensions_Parameter1, /aws/reference/secretsmanager/secret_info, /flags:3]
  - path: /app
  - path: /tree/
    recursive: true
`;

  it('serves names the config lists, and names under a configured path', async () => {
    const { store } = make(config);
    for (const name of [
      'CacheExtensions_Parameter1',
      '/aws/reference/secretsmanager/secret_info',
      '/flags:3',
      '/app/child',
      '/tree/child',
      '/tree/a/b/c',
    ]) {
      expect(await text(parameter(store, seedParameter(name), 'legacy'))).toBe(`value of ${name}`);
    }
  });

  it('answers 404 without a backend call for any other name', async () => {
    const { store, calls } = make(config);
    for (const name of [
      '/other/secret',
      '/aws/reference/secretsmanager/other_secret',
      '/flags',
      '/flags:4',
      '/app',
      '/app/',
      '/app/deeper/grandchild',
      '/application/x',
      'cacheextensions_parameter1',
    ]) {
      await expect(Promise.resolve(parameter(store, seedParameter(name), 'legacy'))).rejects.toMatchObject({
        status: 404,
        code: 'NotFound',
      });
    }
    await expect(Promise.resolve(parameter(store, seedParameter('/x'), 'legacy'))).rejects.toThrow(
      /seed routes serve only configured entries.*\/v1\/parameters/,
    );
    expect(calls.names).toEqual([]);
  });

  it('still reads any name through on the v1 route', async () => {
    const { store, calls } = make(config);
    expect(JSON.parse(await text(parameter(store, seedParameter('/other/secret'), 'v1')))).toMatchObject({
      value: 'value of /other/secret',
    });
    expect(calls.names).toEqual(['/other/secret']);
  });
});
