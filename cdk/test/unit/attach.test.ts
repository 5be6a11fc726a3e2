import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseExtensionSettings } from '@lambda-cache/shared';
import { CfnParameter, Duration, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/extension-config.mjs';
import { attachLambdaCache, LambdaCacheLayer } from '../../src/index.js';
import { ACCOUNT, messageOf, nodeFunction, plain, stackIn } from './helpers.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const EVERY_SOURCE = fixture('every-source.yaml');
const SECRETS_AND_APPCONFIG = fixture('secrets-appconfig.yaml');
/** The function's partition, as CloudFormation resolves it at deploy. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's placeholder, written as !Sub writes it
const P = '${AWS::Partition}';
const LAYER_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:layer:lambda-cache:3`;

function setup() {
  const stack = stackIn();
  const fn = nodeFunction(stack);
  const layer = LambdaCacheLayer.fromArn(stack, 'Cache', LAYER_ARN);
  return { stack, fn, layer };
}

function policyStatements(template: Template): unknown[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy'));
  expect(policies).toHaveLength(1);
  return plain(policies[0]?.Properties.PolicyDocument.Statement) as unknown[];
}

function environmentOf(template: Template): Record<string, string> {
  const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
  return fn?.Properties.Environment?.Variables ?? {};
}

describe('attachLambdaCache', () => {
  it('sets every setting as the variable the extension reads', () => {
    const { stack, fn, layer } = setup();
    const { environment } = attachLambdaCache(fn, {
      layer,
      port: 4000,
      ttl: Duration.minutes(90),
      initStartup: false,
      logLevel: 'warn',
      maxEntries: 50_000,
      maxBytes: 16 * 1024 * 1024,
      legacyRoutes: true,
    });
    const expected = {
      CACHE_EXTENSION_PORT: '4000',
      CACHE_EXTENSION_TTL: '1h30m',
      CACHE_EXTENSION_INIT_STARTUP: 'false',
      CACHE_EXTENSION_LOG_LEVEL: 'warn',
      CACHE_EXTENSION_MAX_ENTRIES: '50000',
      CACHE_EXTENSION_MAX_BYTES: '16777216',
      CACHE_EXTENSION_LEGACY_ROUTES: 'true',
    };
    expect(environment).toEqual(expected);
    const template = Template.fromStack(stack);
    expect(environmentOf(template)).toEqual(expected);
    template.hasResourceProperties('AWS::Lambda::Function', { Layers: [LAYER_ARN] });
  });

  it('sets no variable and grants nothing when given no settings and no config', () => {
    const { stack, fn, layer } = setup();
    expect(attachLambdaCache(fn, { layer })).toEqual({ environment: {}, statements: [] });
    const template = Template.fromStack(stack);
    expect(environmentOf(template)).toEqual({});
    template.resourceCountIs('AWS::IAM::Policy', 0);
  });

  it.each([
    ['ttl', { ttl: '5 minutes' }, { CACHE_EXTENSION_TTL: '5 minutes' }],
    ['port', { port: 9001 }, { CACHE_EXTENSION_PORT: '9001' }],
    ['port', { port: 3000.5 }, { CACHE_EXTENSION_PORT: '3000.5' }],
    ['maxBytes', { maxBytes: 100 }, { CACHE_EXTENSION_MAX_BYTES: '100' }],
    ['logLevel', { logLevel: 'verbose' as 'info' }, { CACHE_EXTENSION_LOG_LEVEL: 'verbose' }],
    ['ttl', { ttl: Duration.days(2) }, { CACHE_EXTENSION_TTL: '48h' }],
  ])('fails synth with the extension’s own message for a bad %s', (_name, option, variables) => {
    const { fn, layer } = setup();
    const expected = messageOf(() => parseExtensionSettings(variables));
    const variable = Object.keys(variables)[0] as string;
    expect(expected.startsWith(`${variable}: `)).toBe(true);
    expect(messageOf(() => attachLambdaCache(fn, { layer, ...option }))).toBe(expected);
  });

  it('sets a setting known only at deploy time without checking it', () => {
    const { stack, fn, layer } = setup();
    const port = new CfnParameter(stack, 'Port', { type: 'Number' });
    attachLambdaCache(fn, { layer, port: Token.asNumber(port.value) });
    const variables = environmentOf(Template.fromStack(stack));
    expect(variables.CACHE_EXTENSION_PORT).toEqual({ Ref: 'Port' });
  });

  it('grants what the secrets: and appconfig: sections read: each secret, the batch read, each configuration', () => {
    const { stack, fn, layer } = setup();
    attachLambdaCache(fn, { layer, config: SECRETS_AND_APPCONFIG });
    const shared = 'arn:aws:secretsmanager:eu-west-1:210987654321:secret:shared/token';
    expect(policyStatements(Template.fromStack(stack))).toEqual([
      {
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Resource: [
          `arn:${P}:secretsmanager:us-east-1:${ACCOUNT}:secret:prod/db-password-??????`,
          `arn:${P}:secretsmanager:us-east-1:${ACCOUNT}:secret:api-key-??????`,
          shared,
          `${shared}-??????`,
        ],
      },
      { Effect: 'Allow', Action: 'secretsmanager:BatchGetSecretValue', Resource: '*' },
      {
        Effect: 'Allow',
        Action: ['appconfig:StartConfigurationSession', 'appconfig:GetLatestConfiguration'],
        Resource: [
          // Written with names: IAM knows configurations by ids only, so every one of the region's.
          `arn:${P}:appconfig:us-east-1:${ACCOUNT}:application/*`,
          `arn:${P}:appconfig:eu-west-1:${ACCOUNT}:application/abc1234/environment/def5678/configuration/ghi9012`,
        ],
      },
    ]);
  });

  it('grants exactly what a config with every source reads, in the function’s partition and account', () => {
    const { stack, fn, layer } = setup();
    attachLambdaCache(fn, { layer, config: EVERY_SOURCE });
    const ssm = (region: string, name: string) => `arn:${P}:ssm:${region}:${ACCOUNT}:parameter/${name}`;
    expect(policyStatements(Template.fromStack(stack))).toEqual([
      {
        Effect: 'Allow',
        Action: 'ssm:GetParameters',
        Resource: [
          ssm('us-east-1', 'CacheExtensions_Parameter1'),
          ssm('us-east-1', 'app/prod/db-url'),
          ssm('us-east-1', 'app/prod/flags'),
          ssm('us-east-1', 'aws/reference/secretsmanager/prod/api-key'),
          ssm('eu-west-1', 'shared/rates'),
          'arn:aws:ssm:eu-central-1:210987654321:parameter/org/shared-flag',
          ssm('eu-west-1', 'aws/reference/secretsmanager/secret_info'),
          ssm('us-east-1', 'app/prod/*'),
          ssm('us-west-2', 'team/config/*'),
        ],
      },
      {
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: [
          `arn:${P}:secretsmanager:us-east-1:${ACCOUNT}:secret:prod/api-key-??????`,
          `arn:${P}:secretsmanager:eu-west-1:${ACCOUNT}:secret:secret_info-??????`,
        ],
      },
      {
        Effect: 'Allow',
        Action: 'ssm:GetParametersByPath',
        Resource: [
          ssm('us-east-1', 'app/prod'),
          ssm('us-east-1', 'app/prod/'),
          ssm('us-west-2', 'team/config'),
          ssm('us-west-2', 'team/config/'),
        ],
      },
      {
        Effect: 'Allow',
        Action: ['dynamodb:BatchGetItem', 'dynamodb:GetItem'],
        Resource: [
          `arn:${P}:dynamodb:us-east-1:${ACCOUNT}:table/DynamoDbTable`,
          `arn:${P}:dynamodb:eu-west-1:${ACCOUNT}:table/Users`,
          'arn:aws:dynamodb:ap-southeast-2:210987654321:table/Orders',
        ],
      },
    ]);
  });

  it('grants kms:Decrypt on the given keys and adds the extra statements after the config’s', () => {
    const { stack, fn, layer } = setup();
    const key = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    const extra = new iam.PolicyStatement({
      actions: ['ssm:GetParameters'],
      resources: [`arn:${P}:ssm:us-east-1:${ACCOUNT}:parameter/read-through/*`],
    });
    attachLambdaCache(fn, {
      layer,
      config: fixture('../../../example-function/config.yaml'),
      kmsKeys: [key],
      extraGrants: [extra],
    });
    const statements = policyStatements(Template.fromStack(stack));
    expect(statements.slice(-2)).toEqual([
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: key },
      {
        Effect: 'Allow',
        Action: 'ssm:GetParameters',
        Resource: `arn:${P}:ssm:us-east-1:${ACCOUNT}:parameter/read-through/*`,
      },
    ]);
  });

  it('leaves CACHE_EXTENSION_CONFIG unset for config.yaml at the code’s root and sets it anywhere else', () => {
    const config = fixture('../../../example-function/config.yaml');
    const atRoot = setup();
    expect(attachLambdaCache(atRoot.fn, { layer: atRoot.layer, config }).environment).toEqual({});

    const elsewhere = setup();
    const { environment } = attachLambdaCache(elsewhere.fn, {
      layer: elsewhere.layer,
      config,
      configInCode: 'settings/./cache.yaml',
    });
    expect(environment).toEqual({ CACHE_EXTENSION_CONFIG: '/var/task/settings/cache.yaml' });

    const renamed = setup();
    expect(attachLambdaCache(renamed.fn, { layer: renamed.layer, config: EVERY_SOURCE }).environment).toEqual(
      {
        CACHE_EXTENSION_CONFIG: '/var/task/every-source.yaml',
      },
    );
  });

  it('refuses a configInCode outside the function’s code', () => {
    const { fn, layer } = setup();
    expect(
      messageOf(() => attachLambdaCache(fn, { layer, config: EVERY_SOURCE, configInCode: '../config.yaml' })),
    ).toBe(
      `attachLambdaCache Test/Fn: configInCode "../config.yaml" is not inside the function's code (expected a path relative to its root, such as config.yaml)`,
    );
  });

  it('fails synth with the extension’s own message for a config with an unknown key', () => {
    const { fn, layer } = setup();
    const file = fixture('unknown-key.yaml');
    const expected = messageOf(() => parseConfig(readFileSync(file, 'utf8'), file));
    expect(expected).toContain(`${file}:3:5: parameters[0].nmes: unknown key (expected one of region, names`);
    expect(messageOf(() => attachLambdaCache(fn, { layer, config: file }))).toBe(expected);
  });

  it('fails synth naming the config file when it does not exist', () => {
    const { fn, layer } = setup();
    expect(messageOf(() => attachLambdaCache(fn, { layer, config: 'no/such/config.yaml' }))).toBe(
      "no/such/config.yaml: not found (expected the config.yaml that the function's code contains)",
    );
  });
});
