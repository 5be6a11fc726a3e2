/**
 * What the HTTP server needs from the layers below it: ready-to-write answers. The server never calls AWS
 * and never serializes a cached value; a store hands it the bytes it stored when the value was loaded.
 */
import {
  type CacheStatus,
  EXTENSION_REQUEST_WAIT_MS,
  type HealthPayload,
  type StatsPayload,
} from '@lambda-cache/shared';
import { HttpError } from './errors.js';
import type { Read, SourceRoute } from './sources/source.js';

/** One answer: the stored body and what the cache knows about its freshness. */
export interface Reply {
  readonly body: Buffer;
  readonly contentType: string;
  /** Extra headers, a flat `[name, value, …]` list (AppConfig's `Configuration-Version`). */
  readonly headers?: readonly string[] | undefined;
  readonly cache: CacheStatus;
  readonly ageMs: number;
  readonly ttlLeftMs: number;
}

/** The routes of one source, by the tag the store knows it by. */
export interface SourceRoutes {
  readonly source: string;
  // biome-ignore lint/suspicious/noExplicitAny: the server hands each route's read back to its own source
  readonly routes: ReadonlyArray<SourceRoute<any>>;
}

export interface Store {
  /**
   * The answer to `read` from the source tagged `source`. A fresh hit answers synchronously (no promise, no
   * microtask); anything else resolves later.
   */
  read(source: string, read: Read<unknown>): Reply | Promise<Reply>;
  /** Every source's routes; a store still being built resolves them once it has them. */
  routes(): readonly SourceRoutes[] | Promise<readonly SourceRoutes[]>;
  health(): HealthPayload;
  stats(): StatsPayload;
}

/**
 * The store the server answers from while the real one is still being built (config, SDK): requests wait
 * for it, bounded, instead of being told "not ready"; `/v1/health` says `starting`.
 */
export class PendingStore implements Store {
  private current: Store | undefined;
  private failure: Error | undefined;
  private readonly ready: Promise<Store>;
  private settle!: { resolve(store: Store): void; reject(err: Error): void };

  constructor(
    private readonly now: () => number,
    /** How long a request waits for the store, then is answered `503`. */
    private readonly waitMs = EXTENSION_REQUEST_WAIT_MS,
  ) {
    this.ready = new Promise<Store>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.ready.catch(() => undefined);
    this.startedAt = now();
  }

  private readonly startedAt: number;

  resolve(store: Store): void {
    this.current = store;
    this.settle.resolve(store);
  }

  /** Requests waiting, and those that come later, fail with `err` (answered 503). */
  fail(err: Error): void {
    this.failure = err;
    this.settle.reject(err);
  }

  private async get(): Promise<Store> {
    if (this.current) return this.current;
    if (this.failure) throw unavailable();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(unavailable()), this.waitMs);
      timer.unref();
    });
    try {
      return await Promise.race([this.ready.catch(() => Promise.reject(unavailable())), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  read(source: string, read: Read<unknown>): Reply | Promise<Reply> {
    if (this.current) return this.current.read(source, read);
    return this.get().then((store) => store.read(source, read));
  }

  routes(): readonly SourceRoutes[] | Promise<readonly SourceRoutes[]> {
    if (this.current) return this.current.routes();
    return this.get().then((store) => store.routes());
  }

  health(): HealthPayload {
    if (this.current) return this.current.health();
    return { status: 'starting', entries: 0, failed: 0, uptimeMs: this.now() - this.startedAt };
  }

  stats(): StatsPayload {
    if (this.current) return this.current.stats();
    return {
      entries: 0,
      bytes: 0,
      maxEntries: 0,
      maxBytes: 0,
      hits: 0,
      misses: 0,
      staleServes: 0,
      negativeHits: 0,
      evictions: 0,
      refreshes: 0,
      backendCalls: {},
      errors: 0,
    };
  }
}

function unavailable(): HttpError {
  return HttpError.of('ServiceUnavailable', 'the extension is not ready: its configuration did not load');
}
