import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { parseConfig } from '../../src/config-yaml.js';
import { NotFoundError } from '../../src/errors.js';
import { createLogger, type Logger, silentLogger } from '../../src/log.js';
import { createStoreCache, SourceStore } from '../../src/source-store.js';
import {
  type Body,
  type ConfiguredTarget,
  type LoadReason,
  type LoadResult,
  type Read,
  type Source,
  type Stored,
  UNCHANGED,
} from '../../src/sources/source.js';

// The store against a source of its own making: what any source gets from it (batches, revalidation,
// forms, notAfter), whatever it caches.

interface Doc {
  readonly name: string;
  readonly version: number;
  /** Epoch ms after which it must not be served. */
  readonly until?: number;
}

interface Call {
  group: string;
  names: string[];
  previous: Array<number | undefined>;
  reason: LoadReason | undefined;
}

class DocSource implements Source<string, Doc, { version: number; until?: number }> {
  readonly tag = 'd';
  readonly service = 'docs';
  readonly label = 'docs';
  readonly maxBatch = 2;
  readonly routes = [];
  readonly calls: Call[] = [];
  /** What the backend holds; a name not in it is not found. */
  readonly docs = new Map<string, Doc>();
  /** Answer UNCHANGED when given the version the backend holds. */
  revalidate = true;
  failing = false;
  configuredNames: string[] = [];

  encode(name: string): string {
    return name;
  }
  decode(text: string): string {
    return text;
  }
  /** Names group by their first letter. */
  group(name: string): string {
    return name.slice(0, 1);
  }
  async load(
    group: string,
    names: readonly string[],
    previous: ReadonlyArray<Stored<{ version: number }> | undefined>,
    reason?: LoadReason,
  ): Promise<Array<LoadResult<Doc>>> {
    this.calls.push({ group, names: [...names], previous: previous.map((p) => p?.meta.version), reason });
    if (this.failing) throw new Error('backend down');
    return names.map((n, i) => {
      const doc = this.docs.get(n);
      if (doc === undefined) return new NotFoundError(`${n} was not found`);
      if (this.revalidate && previous[i]?.meta.version === doc.version) return UNCHANGED;
      return doc;
    });
  }
  store(doc: Doc): Stored<{ version: number; until?: number }> {
    return {
      body: Buffer.from(JSON.stringify(doc)),
      contentType: 'application/json',
      meta: { version: doc.version, ...(doc.until !== undefined ? { until: doc.until } : {}) },
      headers: ['doc-version', String(doc.version)],
    };
  }
  form(stored: Stored<{ version: number }>, form: string): Body | undefined {
    if (!form.startsWith('upper:')) return undefined;
    return {
      body: Buffer.from(`${form}:${stored.body.toString().toUpperCase()}`),
      contentType: 'text/plain',
      headers: ['form', form],
    };
  }
  notAfter(stored: Stored<{ until?: number }>): number | undefined {
    return stored.meta.until;
  }
  configured(): Iterable<ConfiguredTarget<string>> {
    return this.configuredNames.map((target) => ({ target, ttlMs: undefined }));
  }
  ttlOf(name: string): number | undefined {
    return name.endsWith('-short') ? 10_000 : undefined;
  }
  describe(name: string): Record<string, string> {
    return { doc: name };
  }
}

/** A source whose entries are not refreshed ahead (as AppConfig's): refreshed only once expired. */
class PolledDocSource extends DocSource {
  readonly refreshAhead = false;
}

function make(ttlMs = 60_000, opts: { source?: DocSource; logger?: Logger } = {}) {
  const clock = new ManualClock(1_000_000);
  const source = opts.source ?? new DocSource();
  const logger = opts.logger ?? silentLogger;
  const sources = [source];
  const config = parseConfig('', 'config.yaml');
  const cache = createStoreCache({
    sources,
    clock,
    logger,
    ttlMs,
    maxEntries: 1000,
    maxBytes: 1024 * 1024,
    waitMs: 2000,
  });
  const store = new SourceStore({
    sources,
    cache,
    config,
    clock,
    logger,
    maxEntries: 1000,
    maxBytes: 1024 * 1024,
    backendCalls: {},
  });
  return { clock, source, store };
}

/** Lets the store's background loads, started by earlier reads, run to their end. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

const read = (target: string, opts: Partial<Read<string>> = {}): Read<string> => ({
  target,
  form: 'main',
  refresh: false,
  ...opts,
});

describe('SourceStore over any source', () => {
  it('batches misses by group up to maxBatch, and prefetch and refresh-ahead through the same batches', async () => {
    const { source, store, clock } = make();
    for (const n of ['a1', 'a2', 'a3', 'b1']) source.docs.set(n, { name: n, version: 1 });
    source.configuredNames = ['a1', 'a2', 'b1'];
    expect(await store.prefetch(5000)).toMatchObject({ docs: 3, failed: 0, notFound: 0 });
    await Promise.all(
      [store.read('d', read('a3')), store.read('d', read('zz'))].map((p) =>
        Promise.resolve(p).catch(() => undefined),
      ),
    );
    expect(source.calls.map((c) => [c.group, c.names, c.reason])).toEqual([
      ['a', ['a1', 'a2'], 'prefetch'],
      ['b', ['b1'], 'prefetch'],
      ['a', ['a3'], 'read'],
      ['z', ['zz'], 'read'],
    ]);
    source.calls.length = 0;
    clock.advance(59_000);
    expect(await store.refreshExpiring()).toBe(4);
    // Whatever the order of the calls: by group, up to maxBatch a call.
    const calls = source.calls.map((c) => [c.group, c.names.sort(), c.reason]);
    expect(calls).toHaveLength(3);
    expect(calls).toEqual(
      expect.arrayContaining([
        ['a', ['a1', 'a2'], 'refresh'],
        ['b', ['b1'], 'refresh'],
        ['a', ['a3'], 'refresh'],
      ]),
    );
  });

  it('keeps the stored body and extends its freshness when the source answers unchanged', async () => {
    const { source, store, clock } = make();
    source.docs.set('a', { name: 'a', version: 1 });
    const first = await store.read('d', read('a'));
    clock.advance(60_000);
    const again = await store.read('d', read('a'));
    expect(again.cache).toBe('stale');
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    // The background refresh was given the held value, answered unchanged: same bytes, fresh again.
    expect(source.calls.at(-1)?.previous).toEqual([1]);
    const fresh = await store.read('d', read('a'));
    expect(fresh).toMatchObject({ cache: 'hit', ttlLeftMs: 60_000 });
    expect(fresh.body).toBe(first.body);
  });

  it('stores the new body when the source answers with a payload for a changed value', async () => {
    const { source, store, clock } = make();
    source.docs.set('a', { name: 'a', version: 1 });
    await store.read('d', read('a'));
    source.docs.set('a', { name: 'a', version: 2 });
    clock.advance(60_000);
    expect(await store.refreshExpiring()).toBe(1);
    const reply = await store.read('d', read('a'));
    expect(JSON.parse(reply.body.toString())).toMatchObject({ version: 2 });
    expect(reply.headers).toEqual(['doc-version', '2']);
  });

  it('does not pass the held value to a forced read, and answers its error without touching the value', async () => {
    const { source, store } = make();
    source.docs.set('a', { name: 'a', version: 1 });
    await store.read('d', read('a'));
    await store.read('d', read('a', { refresh: true }));
    expect(source.calls.at(-1)).toMatchObject({ previous: [undefined], reason: 'read' });
    source.failing = true;
    await expect(Promise.resolve(store.read('d', read('a', { refresh: true })))).rejects.toThrow(
      'backend down',
    );
    source.failing = false;
    const hit = store.read('d', read('a'));
    expect(hit).not.toBeInstanceOf(Promise);
    expect(JSON.parse((hit as { body: Buffer }).body.toString())).toMatchObject({ version: 1 });
  });

  it('never serves a value past its notAfter, and loads it again', async () => {
    const { source, store, clock } = make();
    source.revalidate = false;
    source.docs.set('a', { name: 'a', version: 1, until: clock.now() + 5000 });
    expect((await store.read('d', read('a'))).cache).toBe('miss');
    expect((store.read('d', read('a')) as { cache: string }).cache).toBe('hit');
    clock.advance(5000);
    source.failing = true;
    // Within its TTL and stale-if-error, but past notAfter: the load's error, not the old value.
    await expect(Promise.resolve(store.read('d', read('a')))).rejects.toThrow('backend down');
    source.failing = false;
    source.docs.set('a', { name: 'a', version: 2 });
    clock.advance(30_000);
    const reply = await store.read('d', read('a'));
    expect(reply.cache).toBe('miss');
    expect(JSON.parse(reply.body.toString())).toMatchObject({ version: 2 });
  });

  it('builds a form once, answers with its headers, and keeps at most a few forms per entry', async () => {
    const { source, store } = make();
    source.docs.set('a', { name: 'a', version: 1 });
    await store.read('d', read('a'));
    const before = store.stats().bytes;
    const one = await store.read('d', read('a', { form: 'upper:1' }));
    expect(one).toMatchObject({ contentType: 'text/plain', headers: ['form', 'upper:1'] });
    expect((await store.read('d', read('a', { form: 'upper:1' }))).body).toBe(one.body);
    expect(store.stats().bytes - before).toBeGreaterThanOrEqual(one.body.length);
    for (let i = 2; i <= 10; i++) await store.read('d', read('a', { form: `upper:${i}` }));
    const grown = store.stats().bytes;
    // Past the bound, a form is built for its request and not kept: the entry stops growing.
    const late = await store.read('d', read('a', { form: 'upper:11' }));
    expect((await store.read('d', read('a', { form: 'upper:11' }))).body).not.toBe(late.body);
    expect(store.stats().bytes).toBe(grown);
    expect(grown - before).toBeLessThan(10 * (one.body.length + 400));
  });

  it('refreshes ahead by an entry’s own ttl, not on every invoke under a longer default', async () => {
    const { source, store, clock } = make(300_000);
    source.docs.set('a-short', { name: 'a-short', version: 1 });
    await store.read('d', read('a-short'));
    source.calls.length = 0;
    for (let i = 0; i < 7; i++) {
      clock.advance(1000);
      expect(await store.refreshExpiring(60_000)).toBe(0);
    }
    clock.advance(1000); // 2 s left of 10 s: inside its last fifth
    expect(await store.refreshExpiring(60_000)).toBe(1);
    expect(source.calls).toHaveLength(1);
  });

  it('refreshes every expired entry in full batches however far apart the stale reads arrive', async () => {
    const { source, store, clock } = make();
    const names = ['a1', 'a2', 'a3', 'a4', 'b1'];
    for (const n of names) source.docs.set(n, { name: n, version: 1 });
    source.configuredNames = names;
    await store.prefetch(5000);
    source.calls.length = 0;
    clock.advance(60_000);
    // Each read in an I/O turn of its own: refreshed alone, each would be a batch of one name.
    const seen: string[] = [];
    for (const n of names) {
      seen.push((await store.read('d', read(n))).cache);
      await settle();
    }
    // The first stale read refreshed them all: the others found theirs fresh again.
    expect(seen).toEqual(['stale', 'hit', 'hit', 'hit', 'hit']);
    const calls = source.calls.map((c) => [c.group, c.names.sort(), c.reason]);
    expect(calls).toHaveLength(3);
    expect(calls).toEqual(
      expect.arrayContaining([
        ['a', ['a1', 'a2'], 'refresh'],
        ['a', ['a3', 'a4'], 'refresh'],
        ['b', ['b1'], 'refresh'],
      ]),
    );
  });

  it('refreshes a stale key alone when a refresh of every expired entry started less than a second ago', async () => {
    const { source, store, clock } = make(60_000, { source: new PolledDocSource() });
    for (const n of ['a1', 'a2']) source.docs.set(n, { name: n, version: 1 });
    await store.read('d', read('a1'));
    clock.advance(500);
    await store.read('d', read('a2'));
    source.calls.length = 0;
    clock.advance(59_600); // a1 expired 100 ms ago, a2 expires in 400 ms
    expect((await store.read('d', read('a1'))).cache).toBe('stale');
    await settle();
    clock.advance(500);
    expect((await store.read('d', read('a2'))).cache).toBe('stale');
    await settle();
    expect(source.calls.map((c) => [c.names, c.reason])).toEqual([
      [['a1'], 'refresh'],
      [['a2'], 'read'],
    ]);
  });

  it('logs one line naming how many entries a failed refresh left stale, and no value', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', format: 'text', write: (line) => lines.push(line) });
    const { source, store, clock } = make(60_000, { logger });
    for (const n of ['a1', 'a2', 'b1']) source.docs.set(n, { name: n, version: 1 });
    source.configuredNames = ['a1', 'a2', 'b1'];
    await store.prefetch(5000);
    source.failing = true;
    clock.advance(60_000);
    expect((await store.read('d', read('a2'))).cache).toBe('stale');
    await settle();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /background refresh failed; serving the last good value .*doc=a\d error=\S+ failed=3 of=3/,
    );
    expect(lines[0]).not.toContain('version');
    // The keys back off: stale reads meanwhile are answered without asking the backend again.
    const calls = source.calls.length;
    expect((await store.read('d', read('b1'))).cache).toBe('stale');
    await settle();
    expect(source.calls).toHaveLength(calls);
  });
});
