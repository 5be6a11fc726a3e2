/**
 * DynamoDB conversions at the edge of the client: a plain key object becomes the canonical wire key, and
 * the DynamoDB JSON item the extension sends (binary as base64) becomes a plain object.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { convertToAttr, NumberValueImpl } from '@aws-sdk/util-dynamodb';
import {
  type AttributeValueJson,
  type ItemJson,
  type KeyAttributes,
  KeyError,
  normalizeKey,
} from '@lambda-cache/shared';
import { BadRequestError, ExtensionError, TransformError } from './errors.js';
import type { BigNumbers } from './options.js';
import type { ItemKey } from './schema.js';

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** `{ pKey: 'a', n: 1 }` → the canonical key in DynamoDB JSON; throws {@link BadRequestError}. */
export function toWireKey(key: ItemKey): KeyAttributes {
  if (typeof key !== 'object' || key === null || Array.isArray(key)) {
    throw new BadRequestError('a key must be an object such as { pKey: "pKey1", sKey: "sKey1" }');
  }
  // Attribute by attribute: marshalling the object as a whole trips over an attribute named `constructor`.
  const wire: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(key)) {
    let attr: AttributeValue;
    try {
      attr = convertToAttr(value);
    } catch (err) {
      throw new BadRequestError(
        `key attribute "${name}" cannot be marshalled (give integers beyond 2^53 as bigint): ${(err as Error).message}`,
        { cause: err },
      );
    }
    Object.defineProperty(wire, name, {
      value: attr.B === undefined ? attr : { B: toBase64(attr.B) },
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  try {
    return normalizeKey(wire);
  } catch (err) {
    if (err instanceof KeyError) throw new BadRequestError(err.message, { cause: err });
    throw err;
  }
}

function fromBase64(text: string): Uint8Array {
  const buf = Buffer.from(text, 'base64');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * A DynamoDB number as `@aws-sdk/util-dynamodb`'s `unmarshall` gives it: the converter's result, a
 * `NumberValue`, or a `number`, or a `bigint` for an integer beyond 2^53; for any other number beyond 2^53
 * `BigInt` throws, which {@link fromWireItem} reports.
 */
function toNumber(text: string, wrapNumbers: BigNumbers): unknown {
  if (typeof wrapNumbers === 'function') return wrapNumbers(text);
  if (wrapNumbers) return NumberValueImpl.from(text);
  const n = Number(text);
  if (Number.isFinite(n) && Math.abs(n) > Number.MAX_SAFE_INTEGER) {
    return BigInt(text);
  }
  return n;
}

function toNative(value: AttributeValueJson, wrapNumbers: BigNumbers): unknown {
  if ('S' in value) return value.S;
  if ('N' in value) return toNumber(value.N, wrapNumbers);
  if ('B' in value) return fromBase64(value.B);
  if ('BOOL' in value) return value.BOOL;
  if ('NULL' in value) return null;
  if ('SS' in value) return new Set(value.SS);
  if ('NS' in value) return new Set(value.NS.map((n) => toNumber(n, wrapNumbers)));
  if ('BS' in value) return new Set(value.BS.map(fromBase64));
  if ('L' in value) return value.L.map((v) => toNative(v, wrapNumbers));
  if ('M' in value && typeof value.M === 'object' && value.M !== null) return toObject(value.M, wrapNumbers);
  throw new ExtensionError('the extension answered an item attribute that is not DynamoDB JSON', {
    status: 200,
  });
}

function toObject(
  item: Readonly<Record<string, AttributeValueJson>>,
  wrapNumbers: BigNumbers,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // Own properties, so an attribute named `__proto__` is an attribute like any other, as the extension
  // writes it, rather than the object's prototype.
  for (const [name, value] of Object.entries(item)) {
    Object.defineProperty(out, name, {
      value: toNative(value, wrapNumbers),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/**
 * The item as a plain object: numbers, sets (`Set`), binary (`Uint8Array`), nested maps and lists, as
 * `@aws-sdk/util-dynamodb`'s `unmarshall` gives them (whose map conversion assigns `__proto__` as a
 * prototype, so it is not used here).
 */
export function fromWireItem(
  table: string,
  item: ItemJson,
  wrapNumbers: BigNumbers,
): Record<string, unknown> {
  try {
    return toObject(item, wrapNumbers);
  } catch (err) {
    if (err instanceof ExtensionError) throw err;
    // A number JavaScript cannot hold, or a `bigNumbers` converter that threw (V8's messages quote the
    // text): the item's number stays out of the message, as an item value must not reach a log.
    throw new TransformError(
      'unmarshall',
      `an item of table "${table}" has a number JavaScript cannot hold exactly: ` +
        'pass bigNumbers: true (NumberValue) or a converter such as BigInt to createCacheClient',
    );
  }
}
