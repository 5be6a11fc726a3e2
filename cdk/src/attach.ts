/**
 * `attachLambdaCache(fn, options)`: adds the layer, sets the extension's variables (checked at synth by the
 * extension's own parsers) and grants the execution role exactly what config.yaml reads.
 */
import { posix } from 'node:path';
import { DEFAULTS, ENV } from '@lambda-cache/shared';
import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { readConfig } from './config.js';
import { type ArnFormatter, grantsFor } from './grants.js';
import type { LambdaCacheLayer } from './layer.js';
import { environmentFor, type LambdaCacheSettings } from './settings.js';

/** Where Lambda mounts the function's code; extensions do not get `LAMBDA_TASK_ROOT`. */
const TASK_ROOT = posix.dirname(DEFAULTS.configPath);

export interface LambdaCacheOptions extends LambdaCacheSettings {
  /**
   * The layer to add: a {@link LambdaCacheLayer} matching the function's runtime and architecture.
   * @example layer: new LambdaCacheLayer(this, 'LambdaCache')
   */
  readonly layer: LambdaCacheLayer;
  /**
   * The function's config.yaml on this machine, read and checked at synth with the extension's parser; the
   * role is granted what it names. The function's code must contain the same file (see `configInCode`):
   * the extension reads it there at init.
   * @default no config: nothing is prefetched and nothing is granted (add `extraGrants`)
   * @example config: 'functions/orders/config.yaml'
   */
  readonly config?: string;
  /**
   * Where the function's code holds that file, relative to the code's root. At the root as `config.yaml` it
   * is where the extension looks by default; anywhere else `CACHE_EXTENSION_CONFIG` is set to it.
   * @default the file name of `config`, at the code's root
   * @example configInCode: 'settings/cache.yaml'
   */
  readonly configInCode?: string;
  /**
   * Customer-managed KMS keys that encrypt `SecureString` parameters or referenced secrets, granted
   * `kms:Decrypt`. Values under the AWS-managed keys (`aws/ssm`, `aws/secretsmanager`) need none.
   * @default none
   * @example kmsKeys: [key] // or ['arn:aws:kms:us-west-2:123456789012:key/…']
   */
  readonly kmsKeys?: ReadonlyArray<kms.IKey | string>;
  /**
   * Statements for what the function reads through the cache without naming it in config.yaml (read-through
   * of other names or tables): the config alone cannot say what those are.
   * @default none
   * @example extraGrants: [new iam.PolicyStatement({ actions: ['ssm:GetParameters'], resources: [arn] })]
   */
  readonly extraGrants?: readonly iam.PolicyStatement[];
}

/** What {@link attachLambdaCache} did, for tests and for other tools (a SAM template, a policy review). */
export interface LambdaCacheAttachment {
  /** The variables set on the function. */
  readonly environment: Readonly<Record<string, string>>;
  /** The statements added to the execution role, `extraGrants` last. */
  readonly statements: readonly iam.PolicyStatement[];
}

/**
 * Adds the lambda-cache layer to `fn`, sets its variables and grants what its config reads. Throws at synth
 * for a setting or config the extension would refuse at init, with the extension's message, and for a
 * layer whose architecture is not the function's.
 *
 * @example
 * attachLambdaCache(fn, {
 *   layer: new LambdaCacheLayer(this, 'LambdaCache'),
 *   config: 'example-function/config.yaml',
 *   ttl: '10m',
 * });
 */
export function attachLambdaCache(fn: lambda.Function, options: LambdaCacheOptions): LambdaCacheAttachment {
  const { layer } = options;
  if (!layer.architectures.some((a) => a.name === fn.architecture.name)) {
    throw new Error(
      `attachLambdaCache ${fn.node.path}: the function runs on ${fn.architecture.name}, the layer ${layer.node.path} on ${layer.architectures.map((a) => a.name).join(', ')} (expected a LambdaCacheLayer with architecture: Architecture.${fn.architecture.name === 'arm64' ? 'ARM_64' : 'X86_64'})`,
    );
  }
  const environment = environmentFor(options);
  const config = options.config === undefined ? undefined : readConfig(options.config);
  if (options.config !== undefined) {
    const inCode = codePath(fn, options.configInCode ?? posix.basename(options.config.replaceAll('\\', '/')));
    const deployed = posix.join(TASK_ROOT, inCode);
    if (deployed !== DEFAULTS.configPath) environment[ENV.config] = deployed;
  } else if (options.configInCode !== undefined) {
    throw new Error(
      `attachLambdaCache ${fn.node.path}: configInCode is given without config (expected both)`,
    );
  }

  fn.addLayers(layer.layerVersion);
  for (const [name, value] of Object.entries(environment)) fn.addEnvironment(name, value);

  const stack = Stack.of(fn);
  const arns: ArnFormatter = {
    arn: (service, region, resource) =>
      stack.formatArn({
        service,
        region: region ?? stack.region,
        resource,
        arnFormat: ArnFormat.NO_RESOURCE_NAME,
      }),
  };
  const statements = (config ? grantsFor(config, arns) : []).map(
    (g) => new iam.PolicyStatement({ actions: [...g.actions], resources: [...g.resources] }),
  );
  if (options.kmsKeys !== undefined && options.kmsKeys.length > 0) {
    const keys = options.kmsKeys.map((k) => (typeof k === 'string' ? k : k.keyArn));
    statements.push(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: keys }));
  }
  statements.push(...(options.extraGrants ?? []));
  for (const statement of statements) fn.addToRolePolicy(statement);
  return { environment, statements };
}

/** The config's path inside the function's code: relative, and within it. */
function codePath(fn: lambda.Function, path: string): string {
  const normal = posix.normalize(path);
  if (path === '' || posix.isAbsolute(path) || normal === '..' || normal.startsWith('../')) {
    throw new Error(
      `attachLambdaCache ${fn.node.path}: configInCode ${JSON.stringify(path)} is not inside the function's code (expected a path relative to its root, such as config.yaml)`,
    );
  }
  return normal;
}
