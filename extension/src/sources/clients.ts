/**
 * AWS SDK clients, one per region, created on first use. Endpoints come only from the SDK's own settings
 * (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_SSM`, …), so local runs need no variable of ours.
 */

/** Short, localhost-to-AWS timeouts: a Lambda function should not wait the SDK's default minutes. */
export const CLIENT_DEFAULTS = {
  maxAttempts: 3,
  // The standard mode backs off with full jitter and retries throttling and transient errors only.
  retryMode: 'standard',
  requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 },
} as const;

/** Counts calls to AWS by `service:Operation`, as `/v1/stats` reports them. */
export type CallCounter = (operation: string) => void;

export class RegionalClients<C extends { destroy(): void }> {
  private readonly clients = new Map<string, C>();

  /** `create(undefined)` lets the SDK find the region itself (`AWS_REGION`, profile). */
  constructor(private readonly create: (region: string | undefined) => C) {}

  get(region: string | undefined): C {
    const key = region ?? '';
    let client = this.clients.get(key);
    if (!client) {
      client = this.create(region);
      this.clients.set(key, client);
    }
    return client;
  }

  destroy(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }
}

/**
 * Batches one source sends to AWS at once. The SDK queues requests beyond its socket limit, and a request
 * still queued when its `requestTimeout` ends fails; sending a 10 000-name prefetch as 1000 calls at once
 * made most of them fail on a busy machine. Sixteen keeps a prefetch fast (calls overlap) and bounded.
 */
export const MAX_CALLS_IN_FLIGHT = 16;

/** A counting semaphore: at most `limit` `run()` calls execute at once, the rest wait in order. */
export class Limiter {
  private active = 0;
  private readonly queue: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.queue.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter (active stays the same), or free it.
      const next = this.queue.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/** Splits `items` into arrays of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Full-jitter exponential backoff: a random wait in [0, min(cap, base·2^attempt)). */
export function jitteredDelay(attempt: number, baseMs = 50, capMs = 1000): number {
  return Math.floor(Math.random() * Math.min(capMs, baseMs * 2 ** attempt));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
