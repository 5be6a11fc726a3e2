/**
 * Messages between the orchestrator and the measuring worker (a separate process, so the load generator
 * and the measured calls never share a CPU with the server they measure, nor with the orchestrator's
 * local backends).
 */

/** Which requests a load run sends: a fixed list (cycled), or distinct parameter names `prefix + i`. */
export type PathSource =
  | { readonly kind: 'list'; readonly paths: readonly string[] }
  | { readonly kind: 'parameters'; readonly prefix: string; readonly start: number; readonly count: number };

export interface LoadArgs {
  readonly origin: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly connections: number;
  /** The run stops at whichever comes first. */
  readonly durationMs: number;
  readonly maxRequests: number;
  readonly paths: PathSource;
}

export interface LoadResult {
  readonly requests: number;
  /** Answers other than 200, and transport errors. */
  readonly errors: number;
  readonly elapsedMs: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface AwsTarget {
  readonly endpoint: string;
  readonly region: string;
}

/** One thing whose per-call latency is measured. */
export type Subject =
  | { readonly kind: 'raw-undici'; readonly name: string; readonly origin: string; readonly path: string }
  | {
      readonly kind: 'client-parameter';
      readonly name: string;
      readonly port: number;
      readonly parameter: string;
      readonly localCache: boolean;
    }
  | {
      readonly kind: 'client-item';
      readonly name: string;
      readonly port: number;
      readonly table: string;
      readonly key: Readonly<Record<string, string>>;
      readonly localCache: boolean;
    }
  | {
      readonly kind: 'powertools';
      readonly name: string;
      readonly ssm: AwsTarget;
      readonly parameter: string;
      readonly forceFetch: boolean;
    }
  | {
      readonly kind: 'sdk-parameter';
      readonly name: string;
      readonly ssm: AwsTarget;
      readonly parameter: string;
    }
  | {
      readonly kind: 'sdk-item';
      readonly name: string;
      readonly dynamodb: AwsTarget;
      readonly table: string;
      readonly key: Readonly<Record<string, string>>;
    };

export interface LatencyArgs {
  readonly subjects: readonly Subject[];
  readonly rounds: number;
  /** Samples per subject per round. */
  readonly iterations: number;
  /** Calls per sample, by subject name (default 1): in-process hits are timed in batches. */
  readonly batch: Readonly<Record<string, number>>;
  /** The token the extension expects (raw requests send it; the client reads it from its env). */
  readonly token: string;
}

/** Per subject name: one value per round, the median per-call latency in microseconds. */
export type LatencyResult = Record<string, number[]>;

export type Request =
  | { readonly id: number; readonly task: 'load'; readonly args: LoadArgs }
  | { readonly id: number; readonly task: 'latency'; readonly args: LatencyArgs };

export type Reply =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };
