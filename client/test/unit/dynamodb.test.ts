import type { AttributeValueJson } from '@lambda-cache/shared';
import { decodeKey, encodeKey } from '@lambda-cache/shared';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromWireItem, toWireKey } from '../../src/dynamodb.js';
import { BadRequestError, ExtensionError, TransformError } from '../../src/errors.js';
import type { KeyValue } from '../../src/schema.js';

const keyValue: fc.Arbitrary<KeyValue> = fc.oneof(
  fc.string({ minLength: 1, unit: 'grapheme' }),
  fc.integer(),
  // Beyond ±2^53 the marshaller refuses a number (it could not be exact): such keys are bigints.
  fc
    .double({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, noNaN: true })
    .filter((x) => Math.abs(x) > 1e-100),
  fc.bigInt({ min: 2n ** 53n, max: 10n ** 37n }),
  fc.uint8Array({ minLength: 1, maxLength: 64 }),
);
// Names of Object.prototype members are included on purpose: marshalling a key object whole used to fail
// on `constructor`, and the SDK's unmarshall turned an attribute named `__proto__` into the prototype.
const attributeName = fc.oneof(
  fc.string({ minLength: 1, maxLength: 20 }),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty'),
);
const key = fc.dictionary(attributeName, keyValue, { minKeys: 1, maxKeys: 2 });

describe('toWireKey', () => {
  it('produces a canonical key that comes back unchanged when unmarshalled', () => {
    fc.assert(
      fc.property(key, (k) => {
        const wire = toWireKey(k);
        expect(decodeKey(encodeKey(wire))).toEqual(wire);
        const back = fromWireItem('T', wire as Record<string, AttributeValueJson>, false);
        expect(back).toEqual(k);
      }),
      { numRuns: 300 },
    );
  });

  it('gives one wire key when two spellings of a key differ only in order or number form', () => {
    expect(encodeKey(toWireKey({ b: 1.5, a: 'x' }))).toBe(encodeKey(toWireKey({ a: 'x', b: 1.5 })));
    expect(encodeKey(toWireKey({ n: 10n }))).toBe(encodeKey(toWireKey({ n: 10 })));
    expect(encodeKey(toWireKey({ n: '1' }))).not.toBe(encodeKey(toWireKey({ n: 1 })));
  });

  it('throws BadRequestError when a value cannot be a key attribute', () => {
    expect(() => toWireKey({ n: Number.NaN })).toThrow(BadRequestError);
    expect(() => toWireKey({ n: 2 ** 60 })).toThrow(BadRequestError);
    expect(() => toWireKey({ flag: true } as never)).toThrow(BadRequestError);
    expect(() => toWireKey(null as never)).toThrow(BadRequestError);
  });
});

describe('fromWireItem', () => {
  it('keeps an attribute named __proto__ as an own attribute, not as the prototype', () => {
    const item = JSON.parse('{"__proto__":{"M":{"polluted":{"BOOL":true}}},"id":{"S":"a"}}');
    const back = fromWireItem('T', item, false);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back)).toEqual(['__proto__', 'id']);
    expect(Object.getOwnPropertyDescriptor(back, '__proto__')?.value).toEqual({ polluted: true });
    expect((back as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('throws TransformError without the number when a number cannot be held or the converter throws', () => {
    const cases: [Record<string, AttributeValueJson>, Parameters<typeof fromWireItem>[2]][] = [
      [{ n: { N: '123456789012345678901.5' } }, false],
      [{ n: { NS: ['1', '98765432109876543210.25'] } }, false],
      [{ n: { N: '1.25' } }, BigInt],
    ];
    for (const [item, wrap] of cases) {
      const err = (() => {
        try {
          return fromWireItem('T', item, wrap);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(TransformError);
      expect((err as Error).message).not.toMatch(/1\.25|98765|12345/);
    }
    expect(fromWireItem('T', { n: { N: '123456789012345678901' } }, false)).toEqual({
      n: 123456789012345678901n,
    });
  });

  it('throws ExtensionError when an attribute is not DynamoDB JSON', () => {
    expect(() => fromWireItem('T', { n: { X: '1' } } as never, false)).toThrow(ExtensionError);
  });
});
