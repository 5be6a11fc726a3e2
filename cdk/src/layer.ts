/**
 * The lambda-cache layer as a construct: the zip that `npm run package` builds, published as a layer
 * version with the runtimes and architectures it runs on, or an existing layer version by its ARN.
 */
import { existsSync, statSync } from 'node:fs';
import type { RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/**
 * `node`: JavaScript run by the function's own Node.js (`/var/lang/bin/node`), one zip for both
 * architectures. `standalone`: carries its own JavaScript runtime, one zip per architecture, for
 * functions on any runtime.
 */
export type LambdaCacheFlavor = 'node' | 'standalone';

/** Lambda's Node.js runtimes the `node` layer runs on (Node.js 20 reached its end of life in April 2026). */
const NODE_RUNTIMES: readonly lambda.Runtime[] = [lambda.Runtime.NODEJS_22_X, lambda.Runtime.NODEJS_24_X];

export interface LambdaCacheLayerProps {
  /**
   * Which layer: `node` for functions on a Node.js runtime, `standalone` for any other runtime.
   * @default 'node'
   * @example flavor: 'standalone'
   */
  readonly flavor?: LambdaCacheFlavor;
  /**
   * The architecture of a `standalone` layer. A `node` layer runs on both and refuses any other value.
   * @default Architecture.X86_64 for `standalone`; both for `node`
   * @example architecture: lambda.Architecture.ARM_64
   */
  readonly architecture?: lambda.Architecture;
  /**
   * The layer zip, relative to the directory `cdk` runs in.
   * @default 'dist/lambda-cache-layer.zip', or 'dist/lambda-cache-standalone-<architecture>.zip'
   * @example zipFile: 'vendor/lambda-cache-layer.zip'
   */
  readonly zipFile?: string;
  /**
   * The layer's name.
   * @default a name CloudFormation generates
   * @example layerVersionName: 'lambda-cache'
   */
  readonly layerVersionName?: string;
  /**
   * What becomes of the layer version when it leaves the stack.
   * @default RemovalPolicy.DESTROY, as for any `LayerVersion`
   * @example removalPolicy: RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** How to find an existing layer version; say which one it is, so functions are checked against it. */
export interface LambdaCacheLayerArnProps {
  /** @default 'node' @example flavor: 'standalone' */
  readonly flavor?: LambdaCacheFlavor;
  /**
   * The architecture of a `standalone` layer.
   * @default Architecture.X86_64 for `standalone`; both for `node`
   * @example architecture: lambda.Architecture.ARM_64
   */
  readonly architecture?: lambda.Architecture;
}

/** The ARN `fromArn` is importing, handed to the constructor it calls (keeps it out of the public props). */
let importing: string | undefined;

/**
 * The lambda-cache layer, for {@link attachLambdaCache}.
 *
 * @example
 * const layer = new LambdaCacheLayer(this, 'LambdaCache'); // dist/lambda-cache-layer.zip
 * const arm = new LambdaCacheLayer(this, 'LambdaCacheArm', {
 *   flavor: 'standalone',
 *   architecture: lambda.Architecture.ARM_64,
 * });
 * const shared = LambdaCacheLayer.fromArn(this, 'Shared', 'arn:aws:lambda:us-west-2:123456789012:layer:lambda-cache:3');
 */
export class LambdaCacheLayer extends Construct {
  /**
   * An existing layer version, published with `aws lambda publish-layer-version` or by another stack.
   *
   * @example
   * LambdaCacheLayer.fromArn(this, 'LambdaCache', 'arn:aws:lambda:us-west-2:123456789012:layer:lambda-cache:3');
   */
  static fromArn(
    scope: Construct,
    id: string,
    layerVersionArn: string,
    props: LambdaCacheLayerArnProps = {},
  ): LambdaCacheLayer {
    importing = layerVersionArn;
    try {
      return new LambdaCacheLayer(scope, id, props);
    } finally {
      importing = undefined;
    }
  }

  /** The layer version to add to a function. */
  readonly layerVersion: lambda.ILayerVersion;
  readonly flavor: LambdaCacheFlavor;
  /** The architectures the layer runs on. */
  readonly architectures: readonly lambda.Architecture[];

  constructor(scope: Construct, id: string, props: LambdaCacheLayerProps = {}) {
    super(scope, id);
    const arn = importing;
    importing = undefined;
    this.flavor = props.flavor ?? 'node';
    if (this.flavor === 'node') {
      if (props.architecture !== undefined) {
        throw new Error(
          `LambdaCacheLayer ${this.node.path}: the node layer runs on both architectures (expected no architecture, or flavor: 'standalone')`,
        );
      }
      this.architectures = [lambda.Architecture.X86_64, lambda.Architecture.ARM_64];
    } else {
      this.architectures = [props.architecture ?? lambda.Architecture.X86_64];
    }
    // A standalone layer names no runtime: it runs beside any of them.
    const compatibleRuntimes = this.flavor === 'node' ? [...NODE_RUNTIMES] : undefined;
    if (arn !== undefined) {
      this.layerVersion = lambda.LayerVersion.fromLayerVersionAttributes(this, 'Layer', {
        layerVersionArn: arn,
        ...(compatibleRuntimes ? { compatibleRuntimes } : {}),
      });
      return;
    }
    const zipFile = props.zipFile ?? defaultZip(this.flavor, this.architectures[0] as lambda.Architecture);
    if (!existsSync(zipFile) || !statSync(zipFile).isFile()) {
      throw new Error(
        `LambdaCacheLayer ${this.node.path}: ${zipFile} does not exist (expected the layer zip that npm run package builds, or zipFile naming it, or LambdaCacheLayer.fromArn)`,
      );
    }
    this.layerVersion = new lambda.LayerVersion(this, 'Layer', {
      code: lambda.Code.fromAsset(zipFile),
      description: `lambda-cache (${this.flavor}): prefetches, caches and serves SSM parameters and DynamoDB items on 127.0.0.1`,
      compatibleArchitectures: [...this.architectures],
      ...(compatibleRuntimes ? { compatibleRuntimes } : {}),
      ...(props.layerVersionName !== undefined ? { layerVersionName: props.layerVersionName } : {}),
      ...(props.removalPolicy !== undefined ? { removalPolicy: props.removalPolicy } : {}),
      license: 'MIT-0',
    });
  }
}

function defaultZip(flavor: LambdaCacheFlavor, architecture: lambda.Architecture): string {
  return flavor === 'node'
    ? 'dist/lambda-cache-layer.zip'
    : `dist/lambda-cache-standalone-${architecture.name}.zip`;
}
