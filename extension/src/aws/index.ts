// Placeholder types only, replaced by the real lean client on merge.
export type JsonService = 'ssm' | 'dynamodb' | 'secretsmanager';
export interface AwsCallOptions {
  signal?: AbortSignal;
}
export interface AwsTimeouts {
  connectMs: number;
  attemptMs: number;
  totalMs: number;
}
export declare const DEFAULT_TIMEOUTS: AwsTimeouts;
export interface AwsClientOptions {
  env: Readonly<Record<string, string | undefined>>;
  logger?: {
    warn(msg: string, fields?: Record<string, unknown>): void;
    debug?(msg: string, fields?: Record<string, unknown>): void;
  };
  count?: (operation: string) => void;
  timeouts?: Partial<AwsTimeouts>;
  maxAttempts?: number;
}
export interface AwsClient {
  json<T = Record<string, unknown>>(
    service: JsonService,
    region: string | undefined,
    operation: string,
    input: object,
    opts?: AwsCallOptions,
  ): Promise<T>;
  destroy(): void;
}
export declare function createAwsClient(opts: AwsClientOptions): AwsClient;
export * from './errors.js';
