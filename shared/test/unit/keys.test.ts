import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalNumber,
  decodeKey,
  encodeKey,
  type KeyAttributes,
  type KeyAttributeValue,
  KeyError,
  normalizeKey,
} from '../../src/keys.js';

/** A DynamoDB number in some spelling: sign, leading/trailing zeros, exponent. */
const numberText = fc
  .record({
    sign: fc.constantFrom('', '+', '-'),
    int: fc.stringMatching(/^[0-9]{1,12}$/),
    frac: fc.option(fc.stringMatching(/^[0-9]{0,12}$/), { nil: undefined }),
    exp: fc.option(fc.integer({ min: -60, max: 60 }), { nil: undefined }),
  })
  .map(
    ({ sign, int, frac, exp }) =>
      `${sign}${int}${frac === undefined ? '' : `.${frac}`}${exp === undefined ? '' : `e${exp}`}`,
  );

const base64 = fc
  .uint8Array({ minLength: 1, maxLength: 32 })
  .map((bytes) => Buffer.from(bytes).toString('base64'));

const attributeValue: fc.Arbitrary<KeyAttributeValue> = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }).map((S) => ({ S })),
  numberText.map((N) => ({ N })),
  base64.map((B) => ({ B })),
);

const attributeName = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'pKey', 'sKey'),
);

const key: fc.Arbitrary<KeyAttributes> = fc
  .uniqueArray(fc.tuple(attributeName, attributeValue), {
    minLength: 1,
    maxLength: 2,
    selector: ([name]) => name,
  })
  .map((pairs) => {
    const out: Record<string, KeyAttributeValue> = {};
    for (const [name, value] of pairs) {
      Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
    }
    return out;
  });

/** Another spelling of the same number: more zeros and an exponent that cancels out. */
function respell(text: string): string {
  const canonical = canonicalNumber(text);
  const negative = canonical.startsWith('-');
  const digits = negative ? canonical.slice(1) : canonical;
  const withPoint = digits.includes('.') ? `00${digits}000` : `00${digits}.000`;
  const [int = '', frac = ''] = withPoint.split('.');
  // Move the point two places left and compensate with e2.
  const moved = `${int.slice(0, -2) || '0'}.${int.slice(-2)}${frac}e2`;
  return `${negative ? '-' : '+'}${moved}`;
}

describe('canonicalNumber', () => {
  it.each([
    ['+01.50', '1.5'],
    ['1e3', '1000'],
    ['1E+2', '100'],
    ['-0', '0'],
    ['0.000', '0'],
    ['-0.0e5', '0'],
    ['.5', '0.5'],
    ['5.', '5'],
    ['007', '7'],
    ['100', '100'],
    ['-1.2e-3', '-0.0012'],
    ['12.345e1', '123.45'],
    [' 42 ', '42'],
    ['1e125', `1${'0'.repeat(125)}`],
    ['1e-130', `0.${'0'.repeat(129)}1`],
    [`${'9'.repeat(38)}`, '9'.repeat(38)],
  ])('writes %j as %j', (input, expected) => {
    expect(canonicalNumber(input)).toBe(expected);
  });

  it.each([
    '',
    '.',
    'abc',
    '1e',
    '--1',
    '+-1',
    'NaN',
    'Infinity',
    '0x10',
    '1_000',
    '1,5',
    '1e126',
    '1e-131',
    '1'.repeat(39),
  ])('throws KeyError when the text is %j', (input) => {
    expect(() => canonicalNumber(input)).toThrow(KeyError);
  });

  it('keeps the value of every double in DynamoDB range', () => {
    fc.assert(
      fc.property(
        fc
          .double({ noNaN: true, noDefaultInfinity: true })
          .filter((d) => d === 0 || (Math.abs(d) < 1e125 && Math.abs(d) > 1e-129)),
        (d) => {
          expect(Number(canonicalNumber(String(d)))).toBe(d === 0 ? 0 : d);
        },
      ),
    );
  });

  it('returns the same text when given its own output', () => {
    fc.assert(
      fc.property(numberText, (text) => {
        const once = canonicalNumber(text);
        expect(canonicalNumber(once)).toBe(once);
        expect(once).toMatch(/^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$/);
      }),
    );
  });
});

describe('normalizeKey', () => {
  it('sorts attributes and canonicalizes numbers when a key is spelled loosely', () => {
    expect(JSON.stringify(normalizeKey({ sKey: { N: '+01.50' }, pKey: { S: 'a' } }))).toBe(
      '{"pKey":{"S":"a"},"sKey":{"N":"1.5"}}',
    );
  });

  it.each([
    ['a string', 'pKey1'],
    ['null', null],
    ['an array', [{ S: 'a' }]],
    ['no attributes', {}],
    ['three attributes', { a: { S: '1' }, b: { S: '2' }, c: { S: '3' } }],
    ['an empty attribute name', { '': { S: 'a' } }],
    ['a plain value', { id: 'a' }],
    ['two types', { id: { S: 'a', N: '1' } }],
    ['a non-key type', { id: { SS: ['a'] } }],
    ['a BOOL', { id: { BOOL: true } }],
    ['a number that is not a string', { id: { N: 1 } }],
    ['an empty string', { id: { S: '' } }],
    ['unpadded base64', { id: { B: 'AQI' } }],
    ['empty binary', { id: { B: '' } }],
  ])('throws KeyError when given %s', (_label, input) => {
    expect(() => normalizeKey(input)).toThrow(KeyError);
  });

  it('keeps an attribute named __proto__ when it is part of the key', () => {
    const a = decodeKey('{"__proto__":{"S":"a"}}');
    const b = decodeKey('{"__proto__":{"S":"b"}}');
    expect(encodeKey(a)).toBe('{"__proto__":{"S":"a"}}');
    expect(encodeKey(a)).not.toBe(encodeKey(b));
    expect(Object.getPrototypeOf(a)).toBe(Object.prototype);
  });
});

describe('encodeKey and decodeKey', () => {
  it('decodes the encoded text to the normalized key for any key', () => {
    fc.assert(
      fc.property(key, (k) => {
        // Compared as entries: an attribute named `constructor` confuses deep-equality's type check.
        expect(Object.entries(decodeKey(encodeKey(k)))).toStrictEqual(Object.entries(normalizeKey(k)));
      }),
    );
  });

  it('gives two spellings of one key the same text when attribute order and number form differ', () => {
    fc.assert(
      fc.property(key, (k) => {
        const names = Object.keys(k).reverse();
        const other: Record<string, KeyAttributeValue> = {};
        for (const name of names) {
          const value = k[name] as KeyAttributeValue;
          const respelled = 'N' in value ? { N: respell(value.N) } : value;
          Object.defineProperty(other, name, { value: respelled, enumerable: true, configurable: true });
        }
        expect(encodeKey(other)).toBe(encodeKey(k));
      }),
    );
  });

  it('keeps string "1" and number 1 apart', () => {
    expect(encodeKey({ id: { S: '1' } })).not.toBe(encodeKey({ id: { N: '1' } }));
    expect(encodeKey({ id: { S: '1' } })).not.toBe(encodeKey({ id: { B: 'MQ==' } }));
  });

  it('throws KeyError when the text is not JSON', () => {
    expect(() => decodeKey('{pKey: pKey1}')).toThrow(KeyError);
    expect(() => decodeKey('')).toThrow(/not valid JSON/);
  });
});
