import type { ServerResponse } from 'node:http';

/** Writes one event as the answer to a pending long-poll request. */
export type Deliver<T> = (res: ServerResponse, event: T) => void;

/**
 * The long poll behind `event/next` and `invocation/next`: a `next` request waits here until an event is
 * posted, and an event posted while nobody waits is kept for the next request. A request whose client
 * went away is forgotten, so an event is never written to a dead socket.
 */
export class Mailbox<T> {
  readonly #deliver: Deliver<T>;
  readonly #queue: T[] = [];
  #waiting: ServerResponse | undefined;

  constructor(deliver: Deliver<T>) {
    this.#deliver = deliver;
  }

  /** Events posted that no `next` request has taken yet. */
  get queued(): number {
    return this.#queue.length;
  }

  /** True while a `next` request is parked here. */
  get waiting(): boolean {
    return this.#waiting !== undefined;
  }

  post(event: T): void {
    const res = this.#waiting;
    if (res === undefined) {
      this.#queue.push(event);
      return;
    }
    this.#waiting = undefined;
    this.#deliver(res, event);
  }

  /** Parks `res` until an event arrives (or answers at once from the queue). */
  take(res: ServerResponse): void {
    const queued = this.#queue.shift();
    if (queued !== undefined) {
      this.#deliver(res, queued);
      return;
    }
    const previous = this.#waiting;
    if (previous !== undefined && !previous.writableEnded) {
      // Two concurrent `next` calls from one party: only the newest one gets the event.
      previous.writeHead(409, { 'content-type': 'application/json' });
      previous.end(
        JSON.stringify({
          errorType: 'ConcurrentNext',
          errorMessage: 'another next request replaced this one',
        }),
      );
    }
    this.#waiting = res;
    res.once('close', () => {
      if (this.#waiting === res) this.#waiting = undefined;
    });
  }

  /** Drops queued events (a reset environment starts afresh). */
  clear(): void {
    this.#queue.length = 0;
    this.#waiting = undefined;
  }
}
