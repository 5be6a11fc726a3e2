/**
 * The services the client speaks to, and where their endpoints are, resolved as the AWS SDK for
 * JavaScript v3 resolves them: `AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL` (both off with
 * `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`), else the regional endpoint of the region's partition,
 * with `AWS_USE_FIPS_ENDPOINT` and `AWS_USE_DUALSTACK_ENDPOINT`. The per-service exceptions below are
 * the ones in the SDK's endpoint rule sets; the unit test compares this table with the SDK's resolvers.
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
 */
import { AwsConfigError } from './errors.js';

export type JsonService = 'ssm' | 'dynamodb' | 'secretsmanager';
export type AwsService = JsonService | 'appconfigdata';

export interface ServiceInfo {
  /** The first label of the regional host name. */
  readonly endpointPrefix: string;
  /** The SigV4 service name. */
  readonly signingName: string;
  /** The suffix of `AWS_ENDPOINT_URL_<SERVICE>` (the service id, upper case, spaces as `_`). */
  readonly envName: string;
  /** awsJson only: the `X-Amz-Target` prefix and the content type. */
  readonly json?: { readonly targetPrefix: string; readonly contentType: string };
}

export const SERVICES: Readonly<Record<AwsService, ServiceInfo>> = {
  ssm: {
    endpointPrefix: 'ssm',
    signingName: 'ssm',
    envName: 'SSM',
    json: { targetPrefix: 'AmazonSSM.', contentType: 'application/x-amz-json-1.1' },
  },
  dynamodb: {
    endpointPrefix: 'dynamodb',
    signingName: 'dynamodb',
    envName: 'DYNAMODB',
    json: { targetPrefix: 'DynamoDB_20120810.', contentType: 'application/x-amz-json-1.0' },
  },
  secretsmanager: {
    endpointPrefix: 'secretsmanager',
    signingName: 'secretsmanager',
    envName: 'SECRETS_MANAGER',
    json: { targetPrefix: 'secretsmanager.', contentType: 'application/x-amz-json-1.1' },
  },
  appconfigdata: { endpointPrefix: 'appconfigdata', signingName: 'appconfig', envName: 'APPCONFIGDATA' },
};

interface Partition {
  readonly name: string;
  readonly regionRegex: RegExp;
  readonly dnsSuffix: string;
  readonly dualStackDnsSuffix: string;
}

/** The SDK's partitions (`@aws-sdk/util-endpoints` partitions.json); a region no pattern matches is `aws`'s. */
const PARTITIONS: readonly Partition[] = [
  {
    name: 'aws',
    regionRegex: /^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$/,
    dnsSuffix: 'amazonaws.com',
    dualStackDnsSuffix: 'api.aws',
  },
  {
    name: 'aws-cn',
    regionRegex: /^cn-\w+-\d+$/,
    dnsSuffix: 'amazonaws.com.cn',
    dualStackDnsSuffix: 'api.amazonwebservices.com.cn',
  },
  {
    name: 'aws-eusc',
    regionRegex: /^eusc-(de)-\w+-\d+$/,
    dnsSuffix: 'amazonaws.eu',
    dualStackDnsSuffix: 'api.amazonwebservices.eu',
  },
  {
    name: 'aws-iso',
    regionRegex: /^us-iso-\w+-\d+$/,
    dnsSuffix: 'c2s.ic.gov',
    dualStackDnsSuffix: 'api.aws.ic.gov',
  },
  {
    name: 'aws-iso-b',
    regionRegex: /^us-isob-\w+-\d+$/,
    dnsSuffix: 'sc2s.sgov.gov',
    dualStackDnsSuffix: 'api.aws.scloud',
  },
  {
    name: 'aws-iso-e',
    regionRegex: /^eu-isoe-\w+-\d+$/,
    dnsSuffix: 'cloud.adc-e.uk',
    dualStackDnsSuffix: 'api.cloud-aws.adc-e.uk',
  },
  {
    name: 'aws-iso-f',
    regionRegex: /^us-isof-\w+-\d+$/,
    dnsSuffix: 'csp.hci.ic.gov',
    dualStackDnsSuffix: 'api.aws.hci.ic.gov',
  },
  {
    name: 'aws-us-gov',
    regionRegex: /^us-gov-\w+-\d+$/,
    dnsSuffix: 'amazonaws.com',
    dualStackDnsSuffix: 'api.aws',
  },
];

export function partitionOf(region: string): Partition {
  return PARTITIONS.find((p) => p.regionRegex.test(region)) ?? (PARTITIONS[0] as Partition);
}

/** Where one call goes and how it is signed. */
export interface ResolvedEndpoint {
  readonly url: URL;
  readonly signingRegion: string;
}

/** What an env variable holding a boolean may be; the SDK accepts exactly `true` and `false`. */
function envFlag(env: Readonly<Record<string, string | undefined>>, name: string): boolean {
  const value = env[name];
  if (value === undefined || value === '') return false;
  const lower = value.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  throw new AwsConfigError(`${name} must be "true" or "false"`);
}

/** The region to call: the one asked for, else `AWS_REGION`, else `AWS_DEFAULT_REGION`. */
export function resolveRegion(
  region: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const chosen = region || env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (!chosen) {
    throw new AwsConfigError(
      'no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION), or give the entry a region',
    );
  }
  // A host label: letters, digits and hyphens. Anything else would build a wrong host name.
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/i.test(chosen)) {
    throw new AwsConfigError('the AWS region is not a valid region name (letters, digits and hyphens)');
  }
  return chosen;
}

function configuredEndpoint(
  service: ServiceInfo,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  if (envFlag(env, 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS')) return undefined;
  return env[`AWS_ENDPOINT_URL_${service.envName}`] || env.AWS_ENDPOINT_URL || undefined;
}

function parseEndpoint(text: string, variable: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new AwsConfigError(`${variable} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new AwsConfigError(`${variable} must be an http or https URL`);
  }
  return url;
}

/**
 * Resolves the endpoint of `service` in `region`. A FIPS pseudo-region (`fips-us-east-1`,
 * `us-east-1-fips`) turns FIPS on, as the SDK does.
 */
export function resolveEndpoint(
  name: AwsService,
  regionName: string,
  env: Readonly<Record<string, string | undefined>>,
): ResolvedEndpoint {
  const service = SERVICES[name];
  let region = regionName;
  let fips = envFlag(env, 'AWS_USE_FIPS_ENDPOINT');
  const dualStack = envFlag(env, 'AWS_USE_DUALSTACK_ENDPOINT');
  if (region.startsWith('fips-') || region.endsWith('-fips')) {
    region = region.replace(/^fips-|-fips$/, '');
    fips = true;
  }

  const custom = configuredEndpoint(service, env);
  if (custom !== undefined) {
    // The SDK refuses these combinations too: a custom endpoint is one host, FIPS or not.
    if (fips) throw new AwsConfigError('AWS_USE_FIPS_ENDPOINT cannot be used with a custom endpoint URL');
    if (dualStack) {
      throw new AwsConfigError('AWS_USE_DUALSTACK_ENDPOINT cannot be used with a custom endpoint URL');
    }
    const variable = env[`AWS_ENDPOINT_URL_${service.envName}`]
      ? `AWS_ENDPOINT_URL_${service.envName}`
      : 'AWS_ENDPOINT_URL';
    return { url: parseEndpoint(custom, variable), signingRegion: region };
  }

  if (name === 'dynamodb' && region === 'local') {
    if (fips) throw new AwsConfigError('AWS_USE_FIPS_ENDPOINT cannot be used with the DynamoDB local region');
    if (dualStack)
      throw new AwsConfigError('AWS_USE_DUALSTACK_ENDPOINT cannot be used with the DynamoDB local region');
    return { url: new URL('http://localhost:8000/'), signingRegion: 'us-east-1' };
  }

  const partition = partitionOf(region);
  const prefix = service.endpointPrefix;
  let host: string;
  if (fips && dualStack) {
    host =
      name === 'secretsmanager' && (partition.name === 'aws' || partition.name === 'aws-us-gov')
        ? `${prefix}-fips.${region}.amazonaws.com`
        : `${prefix}-fips.${region}.${partition.dualStackDnsSuffix}`;
  } else if (fips) {
    // In GovCloud the regular SSM and DynamoDB endpoints are the FIPS ones.
    host =
      partition.name === 'aws-us-gov' && (name === 'ssm' || name === 'dynamodb')
        ? `${prefix}.${region}.amazonaws.com`
        : `${prefix}-fips.${region}.${partition.dnsSuffix}`;
  } else if (dualStack) {
    host =
      name === 'secretsmanager' && ['aws', 'aws-cn', 'aws-us-gov'].includes(partition.name)
        ? `${prefix}.${region}.${partition.dnsSuffix}`
        : `${prefix}.${region}.${partition.dualStackDnsSuffix}`;
  } else {
    host = `${prefix}.${region}.${partition.dnsSuffix}`;
  }
  return { url: new URL(`https://${host}/`), signingRegion: region };
}
