import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { resolveEndpoint, resolveRegion } from '../../../src/aws/endpoints.js';
import { AwsConfigError } from '../../../src/aws/errors.js';

const REGIONS = [
  'us-east-1',
  'eu-west-1',
  'ap-southeast-7',
  'cn-north-1',
  'cn-northwest-1',
  'us-gov-west-1',
  'us-gov-east-1',
  'us-iso-east-1',
  'us-isob-east-1',
  'eu-isoe-west-1',
  'us-isof-south-1',
  'eusc-de-east-1',
  'xx-future-1',
];
const FLAGS = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;

type Provider = (params: { Region: string; UseFIPS: boolean; UseDualStack: boolean }) => { url: URL };
const ORACLES = {
  ssm: new SSMClient({ region: 'us-east-1' }).config.endpointProvider as unknown as Provider,
  dynamodb: new DynamoDBClient({ region: 'us-east-1' }).config.endpointProvider as unknown as Provider,
  secretsmanager: new SecretsManagerClient({ region: 'us-east-1' }).config
    .endpointProvider as unknown as Provider,
};

const flagsEnv = (fips: boolean, dualStack: boolean) => ({
  AWS_USE_FIPS_ENDPOINT: String(fips),
  AWS_USE_DUALSTACK_ENDPOINT: String(dualStack),
});

describe('resolveEndpoint', () => {
  for (const [service, provider] of Object.entries(ORACLES)) {
    it(`matches the SDK's ${service} endpoint in every partition with FIPS and dual-stack on and off`, () => {
      const ours: string[] = [];
      const sdk: string[] = [];
      for (const region of REGIONS) {
        for (const [fips, dualStack] of FLAGS) {
          const label = `${region} fips=${fips} dualstack=${dualStack}`;
          ours.push(
            `${label} ${resolveEndpoint(service as keyof typeof ORACLES, region, flagsEnv(fips, dualStack)).url.href}`,
          );
          sdk.push(
            `${label} ${provider({ Region: region, UseFIPS: fips, UseDualStack: dualStack }).url.href}`,
          );
        }
      }
      expect(ours).toEqual(sdk);
    });
  }

  it('resolves AppConfigData like the other regional services (the SDK client is not installed here)', () => {
    const at = (region: string, fips = false, dualStack = false) =>
      resolveEndpoint('appconfigdata', region, flagsEnv(fips, dualStack)).url.href;
    expect(at('us-east-1')).toBe('https://appconfigdata.us-east-1.amazonaws.com/');
    expect(at('us-east-1', true)).toBe('https://appconfigdata-fips.us-east-1.amazonaws.com/');
    expect(at('eu-west-1', false, true)).toBe('https://appconfigdata.eu-west-1.api.aws/');
    expect(at('cn-north-1')).toBe('https://appconfigdata.cn-north-1.amazonaws.com.cn/');
  });

  it('signs for the region with the DynamoDB local pseudo-region at http://localhost:8000, as the SDK', () => {
    const local = resolveEndpoint('dynamodb', 'local', {});
    expect(local.url.href).toBe(
      ORACLES.dynamodb({ Region: 'local', UseFIPS: false, UseDualStack: false }).url.href,
    );
    expect(local.signingRegion).toBe('us-east-1');
  });

  it('uses AWS_ENDPOINT_URL_<SERVICE> before AWS_ENDPOINT_URL, keeping an http scheme, port and path', () => {
    const env = {
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      AWS_ENDPOINT_URL_SSM: 'http://127.0.0.1:9000/ssm-proxy/',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: 'https://secrets.internal.example:8443',
    };
    expect(resolveEndpoint('ssm', 'eu-west-1', env).url.href).toBe('http://127.0.0.1:9000/ssm-proxy/');
    expect(resolveEndpoint('secretsmanager', 'eu-west-1', env).url.href).toBe(
      'https://secrets.internal.example:8443/',
    );
    expect(resolveEndpoint('dynamodb', 'eu-west-1', env).url.href).toBe('http://127.0.0.1:4566/');
    expect(
      resolveEndpoint('appconfigdata', 'eu-west-1', { AWS_ENDPOINT_URL_APPCONFIGDATA: 'http://127.0.0.1:1' })
        .url.href,
    ).toBe('http://127.0.0.1:1/');
    expect(resolveEndpoint('ssm', 'eu-west-1', env).signingRegion).toBe('eu-west-1');
  });

  it('ignores both endpoint variables when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true', () => {
    const env = {
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      AWS_ENDPOINT_URL_SSM: 'http://127.0.0.1:9000',
      AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true',
    };
    expect(resolveEndpoint('ssm', 'eu-west-1', env).url.href).toBe('https://ssm.eu-west-1.amazonaws.com/');
    expect(resolveEndpoint('dynamodb', 'eu-west-1', env).url.href).toBe(
      'https://dynamodb.eu-west-1.amazonaws.com/',
    );
    expect(
      resolveEndpoint('ssm', 'eu-west-1', { ...env, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'false' }).url.href,
    ).toBe('http://127.0.0.1:9000/');
  });

  it('turns FIPS on for a FIPS pseudo-region', () => {
    expect(resolveEndpoint('ssm', 'fips-us-east-2', {}).url.href).toBe(
      'https://ssm-fips.us-east-2.amazonaws.com/',
    );
    expect(resolveEndpoint('ssm', 'us-east-2-fips', {}).signingRegion).toBe('us-east-2');
  });

  it('refuses a custom endpoint with FIPS, a flag that is not a boolean and an endpoint that is not a URL', () => {
    const custom = { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' };
    expect(() => resolveEndpoint('ssm', 'us-east-1', { ...custom, AWS_USE_FIPS_ENDPOINT: 'true' })).toThrow(
      AwsConfigError,
    );
    expect(() => resolveEndpoint('ssm', 'us-east-1', { AWS_USE_FIPS_ENDPOINT: 'yes' })).toThrow(
      /AWS_USE_FIPS_ENDPOINT must be "true" or "false"/,
    );
    expect(() => resolveEndpoint('ssm', 'us-east-1', { AWS_ENDPOINT_URL_SSM: 'not a url' })).toThrow(
      /AWS_ENDPOINT_URL_SSM is not a URL/,
    );
    expect(() => resolveEndpoint('ssm', 'us-east-1', { AWS_ENDPOINT_URL: 'ftp://x' })).toThrow(
      /http or https/,
    );
  });
});

describe('resolveRegion', () => {
  it('takes the region asked for, then AWS_REGION, then AWS_DEFAULT_REGION', () => {
    const env = { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'eu-west-2' };
    expect(resolveRegion('us-west-2', env)).toBe('us-west-2');
    expect(resolveRegion(undefined, env)).toBe('eu-west-1');
    expect(resolveRegion(undefined, { AWS_DEFAULT_REGION: 'eu-west-2', AWS_REGION: '' })).toBe('eu-west-2');
  });

  it('throws a clear error when no region is known or the name is not a host label', () => {
    expect(() => resolveRegion(undefined, {})).toThrow(/no AWS region: set AWS_REGION/);
    expect(() => resolveRegion('us-east-1.evil.example/', {})).toThrow(AwsConfigError);
  });
});
