/**
 * The in-process layer: the extension's answers kept in this process for no longer than the extension's
 * own copy stays fresh (`Cache-Control: max-age`, which the extension sets to the seconds its entry has
 * left), so a value served from here is never staler than one the extension would serve.
 */
import { HEADERS } from '@lambda-cache/shared';

type Headers = Readonly<Record<string, string | string[] | undefined>>;

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/**
 * How long an answer may be reused, in ms: `max-age` seconds, or 0 when the answer must not be reused
 * (no `max-age`, `no-store`/`no-cache`, or a stale answer the extension is already refreshing).
 */
export function freshnessMs(headers: Headers): number {
  if (header(headers, HEADERS.cache)?.toLowerCase() === 'stale') return 0;
  const cacheControl = header(headers, HEADERS.cacheControl);
  if (cacheControl === undefined) return 0;
  let maxAge = 0;
  for (const directive of cacheControl.toLowerCase().split(',')) {
    const [name, value] = directive.trim().split('=', 2);
    if (name === 'no-store' || name === 'no-cache') return 0;
    if (name === 'max-age' && value !== undefined && /^[0-9]{1,9}$/.test(value)) maxAge = Number(value);
  }
  return maxAge * 1000;
}

interface Entry {
  readonly key: string;
  readonly space: Map<string, Entry>;
  readonly value: unknown;
  readonly expiresAt: number;
  /** Read since the eviction scan last passed it. */
  used: boolean;
}

/**
 * A bounded map whose entries expire on the injected clock, in separate key spaces (so a caller can key
 * by a string it already holds, such as a parameter name, instead of building a longer one per read).
 *
 * A hit only reads a map and sets a flag: moving the entry to the back of an LRU list on every read costs
 * more than the rest of the hit. Eviction is "second chance" (CLOCK), an approximation of least recently
 * used: the oldest entry is dropped unless it was read since the scan last passed it, in which case it
 * goes to the back once.
 */
export class LocalCache {
  readonly #spaces: Map<string, Entry>[] = [];
  /** Every entry, oldest insertion (or second chance) first. */
  readonly #order = new Set<Entry>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.#order.size;
  }

  #space(space: number): Map<string, Entry> {
    let map = this.#spaces[space];
    if (map === undefined) {
      map = new Map();
      this.#spaces[space] = map;
    }
    return map;
  }

  /** The value stored under `key` (in key space `space`) if it is still fresh. */
  get(key: string, space = 0): unknown {
    const entry = this.#spaces[space]?.get(key);
    if (entry === undefined) return undefined;
    if (this.now() >= entry.expiresAt) {
      this.#remove(entry);
      return undefined;
    }
    entry.used = true;
    return entry.value;
  }

  /** Keeps `value` for `ttlMs`; a zero TTL removes any older copy instead. */
  set(key: string, value: unknown, ttlMs: number, space = 0): void {
    const map = this.#space(space);
    const old = map.get(key);
    if (old !== undefined) this.#remove(old);
    if (ttlMs <= 0) return;
    const entry: Entry = { key, space: map, value, expiresAt: this.now() + ttlMs, used: false };
    map.set(key, entry);
    this.#order.add(entry);
    // Bounded: each entry is given a second chance at most once per pass.
    let budget = this.#order.size * 2 + 1;
    while (this.#order.size > this.maxEntries && budget-- > 0) {
      const oldest = this.#order.values().next().value as Entry;
      // The entry just added is the most recently used of all: it always gets its chance.
      if (oldest.used || oldest === entry) {
        oldest.used = false;
        this.#order.delete(oldest);
        this.#order.add(oldest);
      } else {
        this.#remove(oldest);
      }
    }
  }

  delete(key: string, space = 0): void {
    const entry = this.#spaces[space]?.get(key);
    if (entry !== undefined) this.#remove(entry);
  }

  clear(): void {
    for (const map of this.#spaces) map?.clear();
    this.#order.clear();
  }

  #remove(entry: Entry): void {
    entry.space.delete(entry.key);
    this.#order.delete(entry);
  }
}
