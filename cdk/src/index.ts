// The CDK helpers for the lambda-cache layer; see README.md.
export { attachLambdaCache, type LambdaCacheAttachment, type LambdaCacheOptions } from './attach.js';
export {
  type LambdaCacheFlavor,
  LambdaCacheLayer,
  type LambdaCacheLayerArnProps,
  type LambdaCacheLayerProps,
} from './layer.js';
export type { LambdaCacheSettings } from './settings.js';
