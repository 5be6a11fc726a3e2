/** The extension's AWS client: signed JSON and REST calls with the SDK's credentials, endpoints and retries. */
export {
  type AwsCallOptions,
  type AwsClient,
  type AwsClientOptions,
  type AwsTimeouts,
  createAwsClient,
  DEFAULT_TIMEOUTS,
  type RestRequest,
  type RestResponse,
} from './client.js';
export { type AwsService, type JsonService, resolveEndpoint, resolveRegion } from './endpoints.js';
export {
  AwsConfigError,
  AwsCredentialsError,
  AwsServiceError,
  AwsTransportError,
  type TransportPhase,
  type TransportReason,
} from './errors.js';
