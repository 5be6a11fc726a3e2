/**
 * The bytes a cached value is served as, built once per load (v1) or once on first use (the AWS-compatible
 * and seed forms), never per request. All JSON comes from `JSON.stringify`.
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

/** SSM's `GetParameter` body, as AWS's Parameters and Secrets extension answers. */
export function awsParameterBody(p: ParameterPayload): Buffer {
  const selector = p.selector ?? '';
  const name = selector !== '' && p.name.endsWith(selector) ? p.name.slice(0, -selector.length) : p.name;
  const body: AwsGetParameterPayload = {
    Parameter: {
      ...(p.arn !== undefined ? { ARN: p.arn } : {}),
      ...(p.dataType !== undefined ? { DataType: p.dataType } : {}),
      ...(p.lastModified !== null ? { LastModifiedDate: Date.parse(p.lastModified) / 1000 } : {}),
      Name: name,
      ...(p.selector !== undefined ? { Selector: p.selector } : {}),
      ...(p.sourceResult !== undefined ? { SourceResult: p.sourceResult } : {}),
      Type: p.type,
      Value: p.value,
      Version: p.version,
    },
    ResultMetadata: {},
  };
  return Buffer.from(JSON.stringify(body));
}

function sortedObject<T>(entries: Array<[string, T]>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [k, v] of entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    // defineProperty: an attribute named `__proto__` stays an attribute.
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** An attribute as plain JSON, as the seed's Go code marshalled it (numbers as float64, binary as base64). */
function plain(v: AttributeValueJson): unknown {
  if ('S' in v) return v.S;
  if ('N' in v) return Number(v.N);
  if ('B' in v) return v.B;
  if ('BOOL' in v) return v.BOOL;
  if ('NULL' in v) return null;
  if ('SS' in v) return [...v.SS];
  if ('NS' in v) return v.NS.map(Number);
  if ('BS' in v) return [...v.BS];
  if ('L' in v) return v.L.map(plain);
  return plainItem(v.M);
}

/** The item as plain JSON with keys in sorted order (Go's `encoding/json` sorts map keys). */
export function plainItem(item: ItemJson): Record<string, unknown> {
  return sortedObject(Object.entries(item).map(([k, v]): [string, unknown] => [k, plain(v)]));
}

export function v1ParameterBody(p: ParameterPayload): Buffer {
  return Buffer.from(JSON.stringify(p));
}

export function v1ItemBody(p: DynamoDbPayload): Buffer {
  return Buffer.from(JSON.stringify(p));
}

export function legacyItemBody(item: ItemJson): Buffer {
  return Buffer.from(JSON.stringify(plainItem(item)));
}
