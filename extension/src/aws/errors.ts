// Placeholder types only, replaced by the real lean client on merge.
export declare class AwsServiceError extends Error {
  readonly code: 'AwsServiceError';
  awsCode: string;
  status: number;
  throttling: boolean;
  requestId?: string;
}
export declare class AwsTransportError extends Error {
  readonly code: 'AwsTransportError';
  reason: 'timeout' | 'network' | 'unreadable';
  phase: 'connect' | 'response';
  sysCode?: string;
}
export declare class AwsCredentialsError extends Error {
  readonly code: 'AwsCredentialsError';
}
