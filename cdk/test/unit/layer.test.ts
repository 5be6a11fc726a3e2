import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { attachLambdaCache, LambdaCacheLayer } from '../../src/index.js';
import { emptyZip, messageOf, nodeFunction, stackIn } from './helpers.js';

const LAYER_ARN = 'arn:aws:lambda:us-east-1:123456789012:layer:lambda-cache:3';

describe('LambdaCacheLayer', () => {
  it('publishes the node layer for the Node.js runtimes on both architectures', () => {
    const stack = stackIn();
    new LambdaCacheLayer(stack, 'Cache', { zipFile: emptyZip(), layerVersionName: 'lambda-cache' });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::LayerVersion', {
      LayerName: 'lambda-cache',
      CompatibleRuntimes: ['nodejs22.x', 'nodejs24.x'],
      CompatibleArchitectures: ['x86_64', 'arm64'],
      LicenseInfo: 'MIT-0',
    });
  });

  it('publishes a standalone layer for its architecture alone and names no runtime', () => {
    const stack = stackIn();
    new LambdaCacheLayer(stack, 'Cache', {
      flavor: 'standalone',
      architecture: lambda.Architecture.ARM_64,
      zipFile: emptyZip(),
    });
    const layers = Template.fromStack(stack).findResources('AWS::Lambda::LayerVersion');
    const [props] = Object.values(layers).map((l) => l.Properties);
    expect(props.CompatibleArchitectures).toEqual(['arm64']);
    expect(props).not.toHaveProperty('CompatibleRuntimes');
  });

  it('refuses an architecture for the node layer, which runs on both', () => {
    const stack = stackIn();
    expect(
      messageOf(
        () =>
          new LambdaCacheLayer(stack, 'Cache', {
            architecture: lambda.Architecture.ARM_64,
            zipFile: emptyZip(),
          }),
      ),
    ).toBe(
      "LambdaCacheLayer Test/Cache: the node layer runs on both architectures (expected no architecture, or flavor: 'standalone')",
    );
  });

  it('fails synth naming the zip when the zip is missing', () => {
    const stack = stackIn();
    expect(messageOf(() => new LambdaCacheLayer(stack, 'Cache', { zipFile: 'no/such/layer.zip' }))).toBe(
      'LambdaCacheLayer Test/Cache: no/such/layer.zip does not exist (expected the layer zip that npm run package builds, or zipFile naming it, or LambdaCacheLayer.fromArn)',
    );
  });

  it('adds an existing layer version by its ARN to a function', () => {
    const stack = stackIn();
    const fn = nodeFunction(stack);
    attachLambdaCache(fn, { layer: LambdaCacheLayer.fromArn(stack, 'Cache', LAYER_ARN) });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', { Layers: [LAYER_ARN] });
  });

  it('fails synth when the node layer is attached to a function without Node.js', () => {
    const stack = stackIn();
    const fn = nodeFunction(stack, { runtime: lambda.Runtime.PYTHON_3_13 });
    expect(() =>
      attachLambdaCache(fn, { layer: LambdaCacheLayer.fromArn(stack, 'Cache', LAYER_ARN) }),
    ).toThrow(/python3\.13 is not in \[nodejs22\.x, nodejs24\.x\]/);
  });

  it('fails synth when a standalone layer is built for another architecture than the function', () => {
    const stack = stackIn();
    const fn = nodeFunction(stack, {
      runtime: lambda.Runtime.PYTHON_3_13,
      architecture: lambda.Architecture.ARM_64,
    });
    const layer = LambdaCacheLayer.fromArn(stack, 'Cache', LAYER_ARN, { flavor: 'standalone' });
    expect(messageOf(() => attachLambdaCache(fn, { layer }))).toBe(
      'attachLambdaCache Test/Fn: the function runs on arm64, the layer Test/Cache on x86_64 (expected a LambdaCacheLayer with architecture: Architecture.ARM_64)',
    );
  });

  it('attaches a standalone layer of the right architecture to a function on any runtime', () => {
    const stack = stackIn();
    const fn = nodeFunction(stack, {
      runtime: lambda.Runtime.PYTHON_3_13,
      architecture: lambda.Architecture.ARM_64,
    });
    const layer = LambdaCacheLayer.fromArn(stack, 'Cache', LAYER_ARN, {
      flavor: 'standalone',
      architecture: lambda.Architecture.ARM_64,
    });
    attachLambdaCache(fn, { layer });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Layers: [LAYER_ARN],
      Architectures: ['arm64'],
    });
  });
});
