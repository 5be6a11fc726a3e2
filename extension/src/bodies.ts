/**
 * The bytes a cached value is served as, built once per load (v1) or once on first use (the AWS-compatible
 * and seed forms), never per request. JSON comes from `JSON.stringify`, but for the seed's plain items,
 * whose numbers keep their exact digits.
 */
import type {
  AttributeValueJson,
  AwsGetParameterPayload,
  DynamoDbPayload,
  ItemJson,
  ParameterPayload,
} from '@lambda-cache/shared';

export const JSON_TYPE = 'application/json';
export const TEXT_TYPE = 'text/plain; charset=utf-8';

/**
 * SSM's `GetParameter` body as AWS's Parameters and Secrets extension answers it: the date as an ISO-8601
 * string (its own serializer writes dates so, unlike the SSM wire's epoch seconds), and `Selector`,
 * `SourceResult` and `DataType` present as `null` when SSM has no value for them.
 */
export function awsParameterBody(p: ParameterPayload): Buffer {
  const selector = p.selector ?? '';
  const name = selector !== '' && p.name.endsWith(selector) ? p.name.slice(0, -selector.length) : p.name;
  const body: AwsGetParameterPayload = {
    Parameter: {
      ...(p.arn !== undefined ? { ARN: p.arn } : {}),
      DataType: p.dataType ?? null,
      LastModifiedDate: p.lastModified,
      Name: name,
      Selector: p.selector ?? null,
      SourceResult: p.sourceResult ?? null,
      Type: p.type,
      Value: p.value,
      Version: p.version,
    },
    ResultMetadata: {},
  };
  return Buffer.from(JSON.stringify(body));
}

/** A number as JSON allows it; DynamoDB sends its numbers so, and any other text is not written raw. */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * A DynamoDB number as JSON with its exact digits: `JSON.stringify(Number(n))` would round
 * `12345678901234567890` to `12345678901234567000`. Only text that is a JSON number is written as it is.
 */
function numberJson(n: string): string {
  if (JSON_NUMBER.test(n)) return n;
  const value = Number(n);
  return Number.isFinite(value) ? JSON.stringify(value) : 'null';
}

function listJson<T>(items: readonly T[], write: (item: T) => string): string {
  return `[${items.map(write).join(',')}]`;
}

/**
 * An attribute as plain JSON, as the seed's Go code marshalled it (binary as base64), but with numbers
 * exact. Every string and key goes through `JSON.stringify`; only checked number text is written raw.
 */
function plainJson(v: AttributeValueJson): string {
  if ('S' in v) return JSON.stringify(v.S);
  if ('N' in v) return numberJson(v.N);
  if ('B' in v) return JSON.stringify(v.B);
  if ('BOOL' in v) return v.BOOL ? 'true' : 'false';
  if ('NULL' in v) return 'null';
  if ('SS' in v) return listJson(v.SS, (s) => JSON.stringify(s));
  if ('NS' in v) return listJson(v.NS, numberJson);
  if ('BS' in v) return listJson(v.BS, (s) => JSON.stringify(s));
  if ('L' in v) return listJson(v.L, plainJson);
  return plainItemJson(v.M);
}

/** The item as plain JSON text with keys in sorted order (Go's `encoding/json` sorts map keys). */
export function plainItemJson(item: ItemJson): string {
  const keys = Object.keys(item).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${keys.map((k) => `${JSON.stringify(k)}:${plainJson(item[k] as AttributeValueJson)}`).join(',')}}`;
}

export function v1ParameterBody(p: ParameterPayload): Buffer {
  return Buffer.from(JSON.stringify(p));
}

export function v1ItemBody(p: DynamoDbPayload): Buffer {
  return Buffer.from(JSON.stringify(p));
}

export function legacyItemBody(item: ItemJson): Buffer {
  return Buffer.from(plainItemJson(item));
}
