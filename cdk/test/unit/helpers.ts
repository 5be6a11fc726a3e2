import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, type StackProps } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/** A zip with no entries (its end-of-central-directory record alone): enough for a layer asset. */
export function emptyZip(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lambda-cache-cdk-'));
  const file = join(dir, 'layer.zip');
  const record = Buffer.alloc(22);
  record.writeUInt32LE(0x06054b50, 0);
  writeFileSync(file, record);
  return file;
}

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

/** A stack in a known account and region, so ARNs synthesize as plain strings. */
export function stackIn(props: StackProps = { env: { account: ACCOUNT, region: REGION } }): Stack {
  return new Stack(new App(), 'Test', props);
}

export function nodeFunction(
  stack: Stack,
  props: Partial<lambda.FunctionProps> = {},
  id = 'Fn',
): lambda.Function {
  return new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    ...props,
  });
}

/** The message `fn` throws with; fails when it does not throw. */
export function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a throw');
}

export interface NormalStatement {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

/**
 * A policy's statements in one form for CloudFormation written by hand (`!Sub` strings, a single action as a
 * string) and synthesized by CDK (`Fn::Join` of strings and `Ref`s): actions and resources sorted, every
 * `${AWS::…}` written as `!Sub` writes it. Only allows are expected; anything else fails.
 */
export function normalizeStatements(statements: readonly unknown[]): NormalStatement[] {
  return statements
    .map((s) => {
      const statement = s as { Effect: string; Action: unknown; Resource: unknown };
      if (statement.Effect !== 'Allow') throw new Error(`not an allow: ${JSON.stringify(s)}`);
      return {
        actions: list(statement.Action).map(String).sort(),
        resources: list(statement.Resource).map(text).sort(),
      };
    })
    .sort((a, b) => a.actions.join().localeCompare(b.actions.join()));
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

/** `value` with every `Fn::Join` of strings and `Ref`s written as `!Sub` writes it: `arn:${AWS::Partition}:…`. */
export function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value !== 'object' || value === null) return value;
  const v = value as Record<string, unknown>;
  if ('Ref' in v || 'Fn::Join' in v || 'Fn::Sub' in v) return text(value);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
}

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (typeof v.Ref === 'string') return `\${${v.Ref}}`;
  if (typeof v['Fn::Sub'] === 'string') return v['Fn::Sub'];
  const join = v['Fn::Join'] as [string, unknown[]] | undefined;
  if (join) return join[1].map(text).join(join[0]);
  throw new Error(`cannot normalize ${JSON.stringify(value)}`);
}
