/**
 * The canonical DynamoDB key codec. One key has exactly one canonical text, which is both the
 * `key=` query value on the wire and the cache key inside the extension, so two spellings of one key
 * (attribute order, `1.50` vs `1.5`) hit one entry, while `{id:"1"}` (S) and `{id:1}` (N) never do.
 */

/** A key attribute in DynamoDB JSON. Only scalar types can be key attributes. */
export type KeyAttributeValue = { readonly S: string } | { readonly N: string } | { readonly B: string };
/** A primary key (partition key, and sort key if the table has one) in DynamoDB JSON. */
export type KeyAttributes = Readonly<Record<string, KeyAttributeValue>>;

export class KeyError extends Error {
  override readonly name = 'KeyError';
  readonly code = 'InvalidKey';
}

const NUMBER = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** DynamoDB keeps up to 38 significant digits. */
const MAX_DIGITS = 38;
/** DynamoDB's range: magnitudes from 1e-130 to 9.99…e125. */
const MIN_EXPONENT = -130;
const MAX_EXPONENT = 125;

/**
 * The canonical text of a DynamoDB number: no sign for zero or positives, no leading or trailing zeros,
 * no exponent. `"+01.50"` → `"1.5"`, `"1e3"` → `"1000"`, `"-0"` → `"0"`.
 */
export function canonicalNumber(text: string): string {
  const m = NUMBER.exec(text.trim());
  const intPart = m?.[2] ?? '';
  const fracPart = m?.[3] ?? '';
  if (!m || (intPart === '' && fracPart === '')) throw new KeyError(`"${text}" is not a number`);
  const all = intPart + fracPart;
  const leadingZeros = all.length - all.replace(/^0+/, '').length;
  const digits = all.slice(leadingZeros).replace(/0+$/, '');
  // Where the decimal point stands, counted from the left of `digits`.
  const point = intPart.length + Number(m[4] ?? '0') - leadingZeros;
  if (digits === '') return '0';
  if (digits.length > MAX_DIGITS)
    throw new KeyError(`"${text}" has more than ${MAX_DIGITS} significant digits`);
  if (point - 1 > MAX_EXPONENT || point - 1 < MIN_EXPONENT)
    throw new KeyError(`"${text}" is out of DynamoDB's number range`);
  const sign = m[1] === '-' ? '-' : '';
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

function canonicalValue(name: string, value: unknown): KeyAttributeValue {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new KeyError(`key attribute "${name}" must be a DynamoDB JSON value such as {"S":"..."}`);
  }
  const entries = Object.entries(value);
  const [type, v] = entries[0] ?? [];
  if (entries.length !== 1 || typeof v !== 'string') {
    throw new KeyError(`key attribute "${name}" must have exactly one type, S, N or B, with a string value`);
  }
  switch (type) {
    case 'S':
      if (v === '')
        throw new KeyError(`key attribute "${name}" is an empty string, which DynamoDB refuses in keys`);
      return { S: v };
    case 'N':
      return { N: canonicalNumber(v) };
    case 'B':
      if (v === '' || !BASE64.test(v))
        throw new KeyError(`key attribute "${name}" must be non-empty, padded base64`);
      return { B: v };
    default:
      throw new KeyError(`key attribute "${name}" has type ${type}; key attributes are S, N or B`);
  }
}

/** Validates a key and returns it in canonical form: attributes sorted by name, numbers canonical. */
export function normalizeKey(key: unknown): KeyAttributes {
  if (typeof key !== 'object' || key === null || Array.isArray(key)) {
    throw new KeyError('a key must be an object of one or two attributes');
  }
  const names = Object.keys(key).sort();
  if (names.length < 1 || names.length > 2) {
    throw new KeyError(`a key has one or two attributes (partition and sort key), not ${names.length}`);
  }
  const out: Record<string, KeyAttributeValue> = {};
  for (const name of names) {
    if (name === '') throw new KeyError('a key attribute name must not be empty');
    // defineProperty, not assignment: an attribute may be named `__proto__`, which assignment would
    // swallow as a prototype change, leaving two different keys with one canonical text.
    Object.defineProperty(out, name, {
      value: canonicalValue(name, (key as Record<string, unknown>)[name]),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** The canonical text of a key: JSON of the normalized key. Used as `key=` on the wire and as cache key. */
export function encodeKey(key: KeyAttributes): string {
  return JSON.stringify(normalizeKey(key));
}

/** Parses the text of a key (any attribute order or number spelling) into its canonical form. */
export function decodeKey(text: string): KeyAttributes {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KeyError('the key is not valid JSON; expected DynamoDB JSON such as {"pKey":{"S":"pKey1"}}');
  }
  return normalizeKey(parsed);
}
