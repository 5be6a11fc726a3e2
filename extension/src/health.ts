/**
 * Whether each source's AWS calls are failing, for `/v1/health`. It is tracked at the AWS client, where
 * every call of a service ends (prefetch, refresh-ahead, read-through, throttled rounds alike), rather than
 * in the store, which sees results per key and would need a hook in each of its load paths.
 *
 * "Recent" is the latest call that ended: a service is `failing` from the first failed call after a
 * success (or after start) until the next call that succeeds. A failed call that was already under way
 * when a success ended is old news (it hung on a connection from before a recovery) and changes nothing. A call that ended with a not-found answer
 * or a caller's mistake (a malformed name, a key that does not match the table) counts as a success:
 * the service answered.
 */
import type { SourceStatus } from '@lambda-cache/shared';
import type { AwsClient, JsonService } from './aws/index.js';
import { errorCode, isCallerError, isNotFound } from './errors.js';

/**
 * The client's name of a service whose source `/v1/health` names otherwise: AppConfig's source reads
 * through AppConfigData.
 */
const SOURCE_OF_SERVICE: Readonly<Record<string, string>> = { appconfigdata: 'appconfig' };

interface State {
  failing: boolean;
  /** When the latest successful call ended (the `now` clock), if one has. */
  okAt?: number;
  lastError?: string;
  /** Epoch ms of the first failure of the current run of failures. */
  since?: number;
}

export class SourceHealth {
  private readonly states = new Map<string, State>();

  /** `services`: the registered sources' `service`, in the order `/v1/health` lists them. */
  constructor(
    private readonly services: readonly string[],
    private readonly now: () => number = Date.now,
  ) {
    for (const s of services) this.states.set(s, { failing: false });
  }

  /**
   * A call of `service` ended with `error`, or succeeded when `error` is `undefined`; `startedAt` (the
   * `now` clock) is when it began.
   */
  record(service: string, error?: unknown, startedAt?: number): void {
    const name = SOURCE_OF_SERVICE[service] ?? service;
    const state = this.states.get(name);
    if (!state) return;
    if (error === undefined || isNotFound(error) || isCallerError(error)) {
      this.states.set(name, { failing: false, okAt: this.now() });
      return;
    }
    if (startedAt !== undefined && state.okAt !== undefined && startedAt < state.okAt) return;
    this.states.set(name, {
      failing: true,
      ...(state.okAt !== undefined ? { okAt: state.okAt } : {}),
      lastError: errorCode(error),
      since: state.failing && state.since !== undefined ? state.since : this.now(),
    });
  }

  /** True while any tracked source is failing. */
  get anyFailing(): boolean {
    for (const s of this.states.values()) if (s.failing) return true;
    return false;
  }

  snapshot(): Record<string, SourceStatus> {
    const out: Record<string, SourceStatus> = {};
    for (const name of this.services) {
      const s = this.states.get(name) ?? { failing: false };
      out[name] = s.failing
        ? {
            status: 'failing',
            ...(s.lastError !== undefined ? { lastError: s.lastError } : {}),
            ...(s.since !== undefined ? { since: new Date(s.since).toISOString() } : {}),
          }
        : { status: 'ok' };
    }
    return out;
  }
}

/**
 * `aws` with every call's outcome (awsJson and restJson) recorded in `health`, with when it began by
 * `now` (the clock `health` has).
 */
export function trackSources(
  aws: AwsClient,
  health: Pick<SourceHealth, 'record'>,
  now: () => number = Date.now,
): AwsClient {
  return {
    async json<T>(
      service: JsonService,
      region: string | undefined,
      operation: string,
      input: object,
      opts?: Parameters<AwsClient['json']>[4],
    ): Promise<T> {
      const startedAt = now();
      try {
        const out = await aws.json<T>(service, region, operation, input, opts);
        health.record(service);
        return out;
      } catch (err) {
        // A call its caller abandoned says nothing about the service.
        if (!opts?.signal?.aborted) health.record(service, err, startedAt);
        throw err;
      }
    },
    async rest(service, region, req, opts) {
      const startedAt = now();
      try {
        const out = await aws.rest(service, region, req, opts);
        health.record(service);
        return out;
      } catch (err) {
        if (!opts?.signal?.aborted) health.record(service, err, startedAt);
        throw err;
      }
    },
    destroy: () => aws.destroy(),
  };
}
