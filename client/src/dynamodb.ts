/**
 * DynamoDB conversions at the edge of the client: a plain key object becomes the canonical wire key, and
 * the DynamoDB JSON item the extension sends (binary as base64) becomes a plain object.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { convertToAttr, unmarshall } from '@aws-sdk/util-dynamodb';
import {
  type AttributeValueJson,
  type ItemJson,
  type KeyAttributes,
  KeyError,
  normalizeKey,
} from '@lambda-cache/shared';
import { BadRequestError, TransformError } from './errors.js';
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

function toAttributeValue(value: AttributeValueJson): AttributeValue {
  if ('B' in value) return { B: fromBase64(value.B) };
  if ('BS' in value) return { BS: value.BS.map(fromBase64) };
  if ('L' in value) return { L: value.L.map(toAttributeValue) };
  if ('M' in value) return { M: toAttributeMap(value.M) };
  return value as AttributeValue;
}

function toAttributeMap(item: Readonly<Record<string, AttributeValueJson>>): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(item)) out[name] = toAttributeValue(value);
  return out;
}

/** The item as a plain object: numbers, sets (`Set`), binary (`Uint8Array`), nested maps and lists. */
export function fromWireItem(
  table: string,
  item: ItemJson,
  wrapNumbers: BigNumbers,
): Record<string, unknown> {
  try {
    return unmarshall(toAttributeMap(item), { wrapNumbers: wrapNumbers as boolean });
  } catch {
    // The SDK's message quotes the number; an item value must not reach a log through an error.
    throw new TransformError(
      'unmarshall',
      `an item of table "${table}" has a number JavaScript cannot hold exactly: ` +
        'pass bigNumbers: true (NumberValue) or a converter such as BigInt to createCacheClient',
    );
  }
}
