/**
 * Faults a local backend can inject, so tests and benchmarks can see how callers behave when AWS is
 * slow, throttles, fails, drops connections or answers with something unparseable.
 */

/** The ways a successful answer can be corrupted. */
export type MalformedMode = 'truncated' | 'garbage' | 'extra-fields' | 'huge';

/**
 * Faults for one backend. Every field is optional; `{}` means "behave".
 *
 * @example
 * backends.ssm.setFaults({ throttleRate: 0.5, operations: ['GetParameters'] });
 */
export interface Faults {
  /** Milliseconds added before every answer. @default 0 */
  latencyMs?: number;
  /**
   * Share of requests (0..1) answered with the service's throttling error: `ThrottlingException`
   * for SSM and Secrets Manager (status 400) and AppConfigData (status 429),
   * `ProvisionedThroughputExceededException` for DynamoDB (status 400).
   * @default 0
   */
  throttleRate?: number;
  /** Share of requests (0..1) answered with a 500 internal error. @default 0 */
  failRate?: number;
  /** Hold each request this long (at most {@link MAX_HANG_MS}) before answering; `close()` releases it. @default 0 */
  hangMs?: number;
  /** Reset every connection as soon as it arrives, and every open one. @default false */
  down?: boolean;
  /**
   * Corrupt successful answers: `truncated` (half the JSON), `garbage` (not JSON), `extra-fields`
   * (valid JSON with unknown members, which SDKs must ignore), `huge` (valid JSON padded by
   * {@link HUGE_PADDING_BYTES}).
   */
  malformed?: MalformedMode;
  /**
   * DynamoDB only: share (0..1) of the keys of each `BatchGetItem` answered in `UnprocessedKeys`
   * instead of `Responses`, as DynamoDB does under load. @default 0
   */
  unprocessedRate?: number;
  /**
   * SSM only: `GetParametersByPath` answers as AWS may under load, "between zero and MaxResults"
   * items per page: an empty page with a `NextToken` first, then pages of at most half of
   * `MaxResults`. Callers must follow `NextToken`, not stop at a short page. @default false
   */
  shortPages?: boolean;
  /** Limit the faults to these operation names (e.g. `['GetParameters']`). @default every operation */
  operations?: string[];
}

/** Upper bound of `hangMs`, so a forgotten fault cannot hold a test forever. */
export const MAX_HANG_MS = 120_000;
/** Upper bound of `latencyMs`. */
export const MAX_LATENCY_MS = 60_000;
/** Bytes of padding a `huge` answer carries. */
export const HUGE_PADDING_BYTES = 4 * 1024 * 1024;

const MALFORMED_MODES: readonly MalformedMode[] = ['truncated', 'garbage', 'extra-fields', 'huge'];

/**
 * Checks a `Faults` value and returns a frozen copy; throws `RangeError` naming the bad field.
 * `known` lists the operations the backend answers, so a misspelt name in `operations` is caught
 * instead of silently matching nothing.
 */
export function normalizeFaults(faults: Faults, known?: readonly string[]): Readonly<Faults> {
  const out: Faults = {};
  if (faults.latencyMs !== undefined) out.latencyMs = checkMs('latencyMs', faults.latencyMs, MAX_LATENCY_MS);
  if (faults.hangMs !== undefined) out.hangMs = checkMs('hangMs', faults.hangMs, MAX_HANG_MS);
  if (faults.throttleRate !== undefined) out.throttleRate = checkRate('throttleRate', faults.throttleRate);
  if (faults.failRate !== undefined) out.failRate = checkRate('failRate', faults.failRate);
  if (faults.unprocessedRate !== undefined) {
    out.unprocessedRate = checkRate('unprocessedRate', faults.unprocessedRate);
  }
  if (faults.shortPages !== undefined) {
    if (typeof faults.shortPages !== 'boolean')
      throw new RangeError('faults.shortPages must be true or false');
    out.shortPages = faults.shortPages;
  }
  if (faults.down !== undefined) {
    if (typeof faults.down !== 'boolean') throw new RangeError('faults.down must be true or false');
    out.down = faults.down;
  }
  if (faults.malformed !== undefined) {
    if (!MALFORMED_MODES.includes(faults.malformed)) {
      throw new RangeError(`faults.malformed must be one of ${MALFORMED_MODES.join(', ')}`);
    }
    out.malformed = faults.malformed;
  }
  if (faults.operations !== undefined) {
    if (!Array.isArray(faults.operations) || faults.operations.some((op) => typeof op !== 'string')) {
      throw new RangeError('faults.operations must be an array of operation names');
    }
    const unknown = known === undefined ? [] : faults.operations.filter((op) => !known.includes(op));
    if (unknown.length > 0) {
      throw new RangeError(
        `faults.operations has unknown operations ${unknown.join(', ')}; this backend answers ${known?.join(', ')}`,
      );
    }
    out.operations = Object.freeze([...faults.operations]) as string[];
  }
  return Object.freeze(out);
}

function checkMs(field: string, value: number, max: number): number {
  if (!Number.isFinite(value) || value < 0 || value > max) {
    throw new RangeError(`faults.${field} must be a number of milliseconds from 0 to ${max}, got ${value}`);
  }
  return value;
}

function checkRate(field: string, value: number): number {
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw new RangeError(`faults.${field} must be a number from 0 to 1, got ${value}`);
  }
  return value;
}

/** Whether the faults apply to this operation. */
export function faultsApply(faults: Readonly<Faults>, operation: string): boolean {
  return faults.operations === undefined || faults.operations.includes(operation);
}

/** Corrupts a successful JSON answer the way `mode` says. */
export function corruptBody(body: Buffer, mode: MalformedMode): Buffer {
  switch (mode) {
    case 'truncated':
      // At least one byte goes, so even `{}` stops being JSON.
      return body.subarray(0, Math.max(0, Math.min(body.length - 1, Math.floor(body.length / 2))));
    case 'garbage':
      return Buffer.from('<html><body>502 Bad Gateway</body></html>\u0000\u00ff', 'utf8');
    case 'extra-fields':
      return withMembers(body, {
        UnexpectedMember: 'ignored by conforming clients',
        UnexpectedObject: { Nested: [1, 2, 3] },
      });
    case 'huge':
      return withMembers(body, { Padding: 'x'.repeat(HUGE_PADDING_BYTES) });
  }
}

function withMembers(body: Buffer, members: Record<string, unknown>): Buffer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8') || '{}');
  } catch {
    return body;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return body;
  return Buffer.from(JSON.stringify({ ...parsed, ...members }), 'utf8');
}
