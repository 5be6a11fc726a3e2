import { randomBytes } from 'node:crypto';
import { delimiter, dirname, join } from 'node:path';

export interface EnvironmentInput {
  readonly runtimeApi: string;
  readonly functionName: string;
  readonly memoryMb: number;
  readonly layerDir: string;
  readonly functionDir: string;
  readonly handler: string;
  readonly runtimeDir: string;
  readonly sessionToken: string;
  readonly extra: Readonly<Record<string, string>>;
}

export const FUNCTION_VERSION = '$LATEST';
export const ACCOUNT_ID = '000000000000';
const DEFAULT_REGION = 'us-east-1';

/** A fresh session token per environment, as Lambda's role credentials are per sandbox. */
export function newSessionToken(): string {
  return `local-${randomBytes(24).toString('base64url')}`;
}

export function regionOf(extra: Readonly<Record<string, string>>): string {
  return extra.AWS_REGION ?? extra.AWS_DEFAULT_REGION ?? DEFAULT_REGION;
}

export function functionArn(region: string, functionName: string): string {
  return `arn:aws:lambda:${region}:${ACCOUNT_ID}:function:${functionName}`;
}

/**
 * What every process of the environment sees. Nothing is inherited from the caller's environment but
 * `PATH` (so a `#!/usr/bin/env node` launcher finds this Node) and `LANG`: a function that works here must
 * not depend on the developer's shell. See
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
 */
function common(input: EnvironmentInput): Record<string, string> {
  const region = regionOf(input.extra);
  const path = [dirname(process.execPath), process.env.PATH, join(input.layerDir, 'bin')]
    .filter((part): part is string => part !== undefined && part !== '')
    .join(delimiter);
  const logGroup = `/aws/lambda/${input.functionName}`;
  return {
    PATH: path,
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_LAMBDA_FUNCTION_NAME: input.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: FUNCTION_VERSION,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(input.memoryMb),
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: logGroup,
    AWS_LAMBDA_LOG_STREAM_NAME: `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]local`,
    AWS_ACCESS_KEY_ID: 'AKIALOCALEMULATOR000',
    AWS_SECRET_ACCESS_KEY: 'local-emulator-secret-access-key',
    AWS_SESSION_TOKEN: input.sessionToken,
    ...input.extra,
    // Never overridable: these are how the processes find this emulator.
    AWS_LAMBDA_RUNTIME_API: input.runtimeApi,
  };
}

/** Extensions do not get `LAMBDA_TASK_ROOT` or `_HANDLER` (Lambda's documented difference). */
export function extensionEnv(input: EnvironmentInput): Record<string, string> {
  const env = common(input);
  delete env.LAMBDA_TASK_ROOT;
  delete env._HANDLER;
  delete env.LAMBDA_RUNTIME_DIR;
  return env;
}

export function runtimeEnv(input: EnvironmentInput): Record<string, string> {
  return {
    ...common(input),
    AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${process.versions.node.split('.')[0]}.x`,
    LAMBDA_TASK_ROOT: input.functionDir,
    LAMBDA_RUNTIME_DIR: input.runtimeDir,
    _HANDLER: input.handler,
    AWS_LAMBDA_RUNTIME_API: input.runtimeApi,
  };
}
