/**
 * What every source's batching shares: a bound on calls in flight, chunking, and backoff between rounds.
 */

/**
 * Batches one source sends to AWS at once. Requests beyond the client's sockets queue, and a request still
 * queued when its deadline ends fails; sending a 10 000-name prefetch as 1000 calls at once made most of
 * them fail on a busy machine. Sixteen keeps a prefetch fast (calls overlap) and bounded.
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
