/**
 * An in-memory `AwsClient` for the sources' unit tests: handlers per operation, every call recorded.
 * The wire contract itself is tested against the local backends (`test/unit/aws/`); here the sources'
 * batching, matching and error handling are.
 */
import { type AwsClient, AwsServiceError, type JsonService } from '../../../src/aws/index.js';

export type Handler = (input: Record<string, unknown>) => unknown;

export interface Call {
  service: JsonService;
  region: string | undefined;
  operation: string;
  input: Record<string, unknown>;
}

export class FakeAws implements AwsClient {
  readonly calls: Call[] = [];
  private readonly handlers = new Map<string, Handler>();

  /** `count` is called once a call, as the real client calls it once an attempt. */
  constructor(private readonly count?: (operation: string) => void) {}

  on(service: JsonService, operation: string, handler: Handler): this {
    this.handlers.set(`${service}:${operation}`, handler);
    return this;
  }

  /** The inputs sent to one operation, in order. */
  inputs(operation: string): Array<Record<string, unknown>> {
    return this.calls.filter((c) => c.operation === operation).map((c) => c.input);
  }

  async json<T>(
    service: JsonService,
    region: string | undefined,
    operation: string,
    input: object,
  ): Promise<T> {
    // A copy, as a real call serializes: later changes by the caller must not show in what was "sent".
    const sent = structuredClone(input) as Record<string, unknown>;
    this.calls.push({ service, region, operation, input: sent });
    this.count?.(`${service}:${operation}`);
    const handler = this.handlers.get(`${service}:${operation}`);
    if (!handler) throw new Error(`no handler for ${service}:${operation}`);
    return structuredClone(await handler(sent)) as T;
  }

  async rest(): Promise<never> {
    throw new Error('rest is not faked');
  }

  destroy(): void {}
}

/** An error as the lean client throws it for an AWS error answer. */
export function serviceError(
  awsCode: string,
  opts: { status?: number; throttling?: boolean; service?: string; operation?: string } = {},
): AwsServiceError {
  return new AwsServiceError({
    service: opts.service ?? 'ssm',
    operation: opts.operation ?? 'GetParameters',
    awsCode,
    status: opts.status ?? 400,
    throttling: opts.throttling ?? false,
    message: `${awsCode} happened`,
  });
}
