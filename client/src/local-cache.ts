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
  readonly value: unknown;
  readonly expiresAt: number;
}

/** A bounded least-recently-used map whose entries expire on the injected clock. */
export class LocalCache {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  /** The value stored under `key` if it is still fresh. */
  get(key: string): unknown {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (this.now() >= entry.expiresAt) {
      this.#entries.delete(key);
      return undefined;
    }
    // Re-insert so iteration order is least recently used first.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Keeps `value` for `ttlMs`; a zero TTL removes any older copy instead. */
  set(key: string, value: unknown, ttlMs: number): void {
    this.#entries.delete(key);
    if (ttlMs <= 0) return;
    this.#entries.set(key, { value, expiresAt: this.now() + ttlMs });
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.maxEntries) break;
      this.#entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
