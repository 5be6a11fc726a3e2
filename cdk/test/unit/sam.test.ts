import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { type CollectionTag, parse, type ScalarTag, type YAMLMap, type YAMLSeq } from 'yaml';
import { attachLambdaCache, LambdaCacheLayer } from '../../src/index.js';
import { emptyZip, nodeFunction, normalizeStatements, stackIn } from './helpers.js';

const path = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const TEMPLATE = path('../../../examples/sam/template.yaml');
const CONFIG = path('../../../example-function/config.yaml');

/** CloudFormation's short forms, read as their long forms (`!Sub x` is `{ "Fn::Sub": "x" }`). */
const CFN_TAGS: Array<ScalarTag | CollectionTag> = [
  ['Ref', 'Ref'],
  ['Sub', 'Fn::Sub'],
  ['GetAtt', 'Fn::GetAtt'],
].flatMap(([short, long]) => [
  {
    tag: `!${short}`,
    resolve: (text: string) => ({ [long as string]: long === 'Fn::GetAtt' ? text.split('.') : text }),
  },
  {
    tag: `!${short}`,
    collection: 'seq' as const,
    resolve: (seq: YAMLMap.Parsed | YAMLSeq.Parsed) => ({ [long as string]: seq.toJSON() }),
  },
]);

interface SamResource {
  Type: string;
  Properties: Record<string, unknown>;
}

function samTemplate(): Record<string, SamResource> {
  return parse(readFileSync(TEMPLATE, 'utf8'), { customTags: CFN_TAGS }).Resources;
}

/** The template's function policies; each must be an inline policy document, so all it grants is in view. */
function samStatements(fn: SamResource): unknown[] {
  return (fn.Properties.Policies as unknown[]).flatMap((policy) => {
    const statements = (policy as { Statement?: unknown[] }).Statement;
    if (!Array.isArray(statements))
      throw new Error(`not an inline policy document: ${JSON.stringify(policy)}`);
    return statements;
  });
}

/** The example function as the construct deploys it: env-agnostic, so ARNs name `${AWS::Region}` as SAM does. */
function cdkExample() {
  const stack = stackIn({});
  const fn = nodeFunction(stack, { architecture: lambda.Architecture.ARM_64 });
  const layer = new LambdaCacheLayer(stack, 'Cache', { zipFile: emptyZip() });
  const attachment = attachLambdaCache(fn, { layer, config: CONFIG });
  return { template: Template.fromStack(stack), attachment };
}

function only(template: Template, type: string): Record<string, unknown> {
  const resources = Object.values(template.findResources(type));
  expect(resources).toHaveLength(1);
  return resources[0]?.Properties;
}

describe('examples/sam/template.yaml', () => {
  it('grants the example function what attachLambdaCache grants for the same config.yaml', () => {
    const sam = samTemplate();
    const { template } = cdkExample();
    const policy = only(template, 'AWS::IAM::Policy') as { PolicyDocument: { Statement: unknown[] } };
    const expected = normalizeStatements(policy.PolicyDocument.Statement);
    expect(expected.length).toBeGreaterThan(0);
    expect(normalizeStatements(samStatements(sam.ExampleFunction as SamResource))).toEqual(expected);
  });

  it('publishes the layer for the runtimes and architectures LambdaCacheLayer declares', () => {
    const { template } = cdkExample();
    const cdkLayer = only(template, 'AWS::Lambda::LayerVersion');
    const samLayer = samTemplate().LambdaCacheLayer as SamResource;
    expect(samLayer.Type).toBe('AWS::Serverless::LayerVersion');
    for (const key of ['CompatibleRuntimes', 'CompatibleArchitectures', 'Description'] as const) {
      expect(samLayer.Properties[key]).toEqual(cdkLayer[key]);
    }
    expect(samLayer.Properties.LicenseInfo).toEqual(cdkLayer.LicenseInfo);
  });

  it('attaches the layer to the function and sets the variables attachLambdaCache sets', () => {
    const { attachment } = cdkExample();
    const fn = samTemplate().ExampleFunction as SamResource;
    expect(fn.Properties.Layers).toEqual([{ Ref: 'LambdaCacheLayer' }]);
    const variables = (fn.Properties.Environment as { Variables?: unknown } | undefined)?.Variables ?? {};
    expect(variables).toEqual(attachment.environment);
  });
});
