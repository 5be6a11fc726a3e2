/**
 * Coalesces single loads that arrive close together into one batch call: concurrent read-through misses for
 * different parameters become one `GetParameters`, for different items one `BatchGetItem`.
 */

interface Waiter<V> {
  resolve(value: V): void;
  reject(err: unknown): void;
}

export interface CoalescerOptions<K, V> {
  /** Loads one group's keys; every key must get a value or an Error (a missing key is an error). */
  load(group: string, keys: K[]): Promise<Map<K, V | Error>>;
  /** A group is flushed as soon as it holds this many keys. */
  maxBatch: number;
}

export class Coalescer<K, V> {
  private readonly pending = new Map<string, Map<K, Waiter<V>[]>>();
  private scheduled = false;

  constructor(private readonly opts: CoalescerOptions<K, V>) {}

  /** Resolves with the key's value once the batch it joined is answered. */
  load(group: string, key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      let keys = this.pending.get(group);
      if (!keys) {
        keys = new Map();
        this.pending.set(group, keys);
      }
      const waiters = keys.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else keys.set(key, [{ resolve, reject }]);
      if (keys.size >= this.opts.maxBatch) {
        this.pending.delete(group);
        this.flush(group, keys);
      } else if (!this.scheduled) {
        this.scheduled = true;
        // After the current I/O phase: requests that arrived together share the batch.
        setImmediate(() => {
          this.scheduled = false;
          const all = [...this.pending];
          this.pending.clear();
          for (const [g, k] of all) this.flush(g, k);
        });
      }
    });
  }

  private flush(group: string, keys: Map<K, Waiter<V>[]>): void {
    this.opts.load(group, [...keys.keys()]).then(
      (answers) => {
        for (const [key, waiters] of keys) {
          const answer = answers.get(key);
          for (const w of waiters) {
            if (answer === undefined) w.reject(new Error('the batch returned no result'));
            else if (answer instanceof Error) w.reject(answer);
            else w.resolve(answer);
          }
        }
      },
      (err: unknown) => {
        for (const waiters of keys.values()) for (const w of waiters) w.reject(err);
      },
    );
  }
}
