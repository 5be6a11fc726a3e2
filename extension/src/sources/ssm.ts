/**
 * SSM Parameter Store: `GetParameters` in batches of 10 (the API's limit) and `GetParametersByPath`,
 * paged, spoken as awsJson 1.1 through the lean AWS client. Names may carry a `:version` or `:label`
 * selector and may be `/aws/reference/secretsmanager/…`.
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html
 */
import { EXTENSION_REQUEST_WAIT_MS, type ParameterPayload, type ParameterType } from '@lambda-cache/shared';
import type { AwsClient } from '../aws/index.js';
import { isCallerError, isThrottling, NotFoundError } from '../errors.js';
import { chunk, jitteredDelay, Limiter, MAX_CALLS_IN_FLIGHT, sleep } from './batching.js';

/** `GetParameters` accepts at most 10 names a call. */
export const GET_PARAMETERS_BATCH = 10;
/**
 * Extra rounds for a batch that SSM kept throttling through all of the client's own attempts (at 50%
 * throttling one batch in eight would otherwise fail), as DynamoDB's `UnprocessedKeys` get rounds.
 */
export const THROTTLED_BATCH_ROUNDS = 3;
/**
 * Rounds start only while this much time has not passed since the batch began: a request waits at most
 * `EXTENSION_REQUEST_WAIT_MS` for a load, so a batch still throttled by then must end with its 429, not
 * a 504.
 */
export const THROTTLED_ROUNDS_BUDGET_MS = 3000;
/**
 * A round's call is cut off this long after the batch began, and the batch ends with the throttling error
 * it had: the client's own attempts and backoff may take up to its 4 s total, so a round that started
 * inside the budget could otherwise end after the request's wait (`EXTENSION_REQUEST_WAIT_MS`), turning the
 * 429 into a 504. Half a second before that wait ends, so the error reaches the request in time.
 */
export const THROTTLED_ROUNDS_END_MS = EXTENSION_REQUEST_WAIT_MS - 500;
/** SSM's names for Secrets Manager secrets: `GetParameters` with decryption reads the secret. */
const SECRET_REFERENCE = '/aws/reference/secretsmanager/';
/** `GetParametersByPath` returns at most 10 a page. */
const PATH_PAGE_SIZE = 10;
/** A hierarchy larger than this many pages is cut off (and logged by the caller) rather than loaded forever. */
const MAX_PATH_PAGES = 500;

/** A parameter as SSM's JSON protocol sends it (dates are epoch seconds). */
interface WireParameter {
  Name?: string;
  Type?: string;
  Value?: string;
  Version?: number;
  Selector?: string;
  SourceResult?: string;
  LastModifiedDate?: number;
  ARN?: string;
  DataType?: string;
}

interface GetParametersOutput {
  Parameters?: WireParameter[];
  InvalidParameters?: string[];
}

interface GetParametersByPathOutput {
  Parameters?: WireParameter[];
  NextToken?: string;
}

export interface SsmSourceOptions {
  aws: AwsClient;
  /** Waits between throttled rounds. @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /** Time for the rounds' budget. @default Date.now */
  now?: () => number;
  /** Calls sent at once; the others wait their turn. @default MAX_CALLS_IN_FLIGHT */
  maxInFlight?: number;
}

function payload(name: string, p: WireParameter): ParameterPayload {
  return {
    name,
    type: (p.Type ?? 'String') as ParameterType,
    value: p.Value ?? '',
    version: p.Version ?? 0,
    lastModified:
      typeof p.LastModifiedDate === 'number'
        ? new Date(Math.round(p.LastModifiedDate * 1000)).toISOString()
        : null,
    ...(p.ARN !== undefined ? { arn: p.ARN } : {}),
    ...(p.DataType !== undefined ? { dataType: p.DataType } : {}),
    ...(p.Selector !== undefined ? { selector: p.Selector } : {}),
    ...(p.SourceResult !== undefined ? { sourceResult: p.SourceResult } : {}),
  };
}

export class SsmSource {
  /** Shared by every caller (prefetch, refresh-ahead, read-through), so the bound holds for the source. */
  private readonly limiter: Limiter;
  private readonly wait: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(private readonly opts: SsmSourceOptions) {
    this.limiter = new Limiter(opts.maxInFlight ?? MAX_CALLS_IN_FLIGHT);
    this.wait = opts.sleep ?? sleep;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Loads `names` (any number; sent 10 a call). Every name gets a payload or an error: a name SSM lists
   * in `InvalidParameters` gets a {@link NotFoundError}; a failed call gives its error to all its names.
   */
  async getParameters(
    region: string | undefined,
    names: readonly string[],
    decrypt: boolean,
  ): Promise<Map<string, ParameterPayload | Error>> {
    const unique = [...new Set(names)];
    const out = new Map<string, ParameterPayload | Error>();
    const started = this.now();
    await Promise.all(
      chunk(unique, GET_PARAMETERS_BATCH).map((batch) => this.batch(region, batch, decrypt, out, started)),
    );
    return out;
  }

  private async batch(
    region: string | undefined,
    names: string[],
    decrypt: boolean,
    out: Map<string, ParameterPayload | Error>,
    started: number,
    round = 0,
    throttled?: Error,
  ): Promise<void> {
    let res: GetParametersOutput;
    // A later round ends by THROTTLED_ROUNDS_END_MS, answered or not.
    const cutOff = throttled === undefined ? undefined : new AbortController();
    const timer =
      cutOff && setTimeout(() => cutOff.abort(), Math.max(0, started + THROTTLED_ROUNDS_END_MS - this.now()));
    try {
      // Only the call holds a slot: retries and per-name fallbacks below take their own.
      res = await this.limiter
        .run(() =>
          this.opts.aws.json<GetParametersOutput>(
            'ssm',
            region,
            'GetParameters',
            { Names: names, WithDecryption: decrypt },
            cutOff ? { signal: cutOff.signal } : undefined,
          ),
        )
        .finally(() => clearTimeout(timer));
    } catch (caught) {
      // Cut off while still being throttled: the answer is the throttling, not the abort.
      const err = cutOff?.signal.aborted && throttled ? throttled : caught;
      // One malformed name fails the whole call; ask for the others alone so they are not punished with it.
      if (isCallerError(err) && names.length > 1) {
        await Promise.all(names.map((n) => this.batch(region, [n], decrypt, out, started)));
        return;
      }
      if (
        round < THROTTLED_BATCH_ROUNDS &&
        isThrottling(err) &&
        this.now() - started < THROTTLED_ROUNDS_BUDGET_MS
      ) {
        await this.wait(jitteredDelay(round + 1, 100, 1000));
        return this.batch(region, names, decrypt, out, started, round + 1, err as Error);
      }
      for (const n of names) out.set(n, err as Error);
      return;
    }
    const byName = new Map<string, WireParameter>();
    for (const p of res.Parameters ?? []) {
      if (p.Name === undefined) continue;
      byName.set(`${p.Name}${p.Selector ?? ''}`, p);
      if (!byName.has(p.Name)) byName.set(p.Name, p);
      if (p.ARN !== undefined) byName.set(`${p.ARN}${p.Selector ?? ''}`, p);
    }
    const invalid = new Set(res.InvalidParameters ?? []);
    for (const n of names) {
      // Some AWS emulators answer a secret reference with the secret's own name, not the one asked.
      const p = invalid.has(n)
        ? undefined
        : (byName.get(n) ??
          (n.startsWith(SECRET_REFERENCE) ? byName.get(n.slice(SECRET_REFERENCE.length)) : undefined));
      out.set(n, p ? payload(n, p) : new NotFoundError(`parameter ${n} was not found`));
    }
  }

  /** Every parameter under `path` (one level, or all with `recursive`), following `NextToken`. */
  async getParametersByPath(
    region: string | undefined,
    path: string,
    recursive: boolean,
    decrypt: boolean,
  ): Promise<{ parameters: ParameterPayload[]; truncated: boolean }> {
    const parameters: ParameterPayload[] = [];
    let token: string | undefined;
    for (let page = 0; page < MAX_PATH_PAGES; page++) {
      const next = token;
      const res = await this.limiter.run(() =>
        this.opts.aws.json<GetParametersByPathOutput>('ssm', region, 'GetParametersByPath', {
          Path: path,
          Recursive: recursive,
          WithDecryption: decrypt,
          MaxResults: PATH_PAGE_SIZE,
          ...(next !== undefined ? { NextToken: next } : {}),
        }),
      );
      for (const p of res.Parameters ?? []) if (p.Name !== undefined) parameters.push(payload(p.Name, p));
      token = res.NextToken;
      if (!token) return { parameters, truncated: false };
    }
    return { parameters, truncated: true };
  }
}
