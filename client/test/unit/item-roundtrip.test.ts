/**
 * An item as the extension writes it, read back by the client, for arbitrary items: DynamoDB's own
 * DynamoDB JSON (numbers as exact text, sets, base64 binary, nested maps and lists, any attribute name)
 * goes through the extension's item copy and its `/v1/dynamodb` body, then through the client's
 * `fromWireItem`, and must come out as the values DynamoDB holds.
 */
import type { AttributeValueJson, DynamoDbPayload, ItemJson } from '@lambda-cache/shared';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromWireItem } from '../../src/dynamodb.js';

/** The extension's side, loaded as the codegen test loads its config module (outside this TS project). */
interface ExtensionItemCode {
  toItemJson(item: Record<string, unknown>): ItemJson;
  v1ItemBody(payload: DynamoDbPayload): Buffer;
}
let extension: ExtensionItemCode;
beforeAll(async () => {
  const sources = new URL('../../../extension/src/sources/dynamodb.ts', import.meta.url).href;
  const bodies = new URL('../../../extension/src/sources/items.ts', import.meta.url).href;
  const [{ toItemJson }, { v1ItemBody }] = await Promise.all([import(sources), import(bodies)]);
  extension = { toItemJson, v1ItemBody } as ExtensionItemCode;
});

/** A number as DynamoDB may hold it: up to 38 digits, a sign, a fraction, an exponent. */
const numberText = fc
  .record({
    sign: fc.constantFrom('', '-'),
    int: fc.stringMatching(/^(0|[1-9][0-9]{0,37})$/),
    frac: fc.option(fc.stringMatching(/^[0-9]{1,20}$/), { nil: undefined }),
    exp: fc.option(fc.integer({ min: -120, max: 120 }), { nil: undefined }),
  })
  .map(
    ({ sign, int, frac, exp }) =>
      `${sign}${int}${frac === undefined ? '' : `.${frac}`}${exp === undefined ? '' : `E${exp}`}`,
  );

const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\u2028', '\u0000', 'é', '🚀', 'a'), maxLength: 8 }),
);
const bytes = fc.uint8Array({ maxLength: 24 });
const attributeName = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'B', 'N', 'M'),
);

/** An attribute value as DynamoDB sends it, and the value the client must give for it. */
interface Case {
  readonly wire: AttributeValueJson;
  readonly native: unknown;
}

/** Numbers are read with a converter that keeps their text, so exactness is what is checked. */
const keepText = (t: string) => ({ number: t });

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

const { value } = fc.letrec<{ value: Case; map: Case }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    text.map((S) => ({ wire: { S }, native: S })),
    numberText.map((N) => ({ wire: { N }, native: keepText(N) })),
    bytes.map((b) => ({ wire: { B: b64(b) }, native: b })),
    fc.boolean().map((BOOL) => ({ wire: { BOOL }, native: BOOL })),
    fc.constant({ wire: { NULL: true as const }, native: null }),
    fc.uniqueArray(text, { minLength: 1, maxLength: 5 }).map((SS) => ({ wire: { SS }, native: new Set(SS) })),
    fc
      .uniqueArray(numberText, { minLength: 1, maxLength: 5 })
      .map((NS) => ({ wire: { NS }, native: new Set(NS.map(keepText)) })),
    fc
      .uniqueArray(bytes, { minLength: 1, maxLength: 4, selector: b64 })
      .map((BS) => ({ wire: { BS: BS.map(b64) }, native: new Set(BS) })),
    fc
      .array(tie('value'), { maxLength: 4 })
      .map((list) => ({ wire: { L: list.map((c) => c.wire) }, native: list.map((c) => c.native) })),
    tie('map'),
  ),
  map: fc
    .uniqueArray(fc.tuple(attributeName, tie('value')), { maxLength: 5, selector: ([name]) => name })
    .map((entries) => ({
      wire: { M: ownObject(entries.map(([n, c]) => [n, c.wire])) },
      native: ownObject(entries.map(([n, c]) => [n, c.native])),
    })),
}));

/** An object with exactly these own properties, `__proto__` included. */
function ownObject<T>(entries: ReadonlyArray<readonly [string, T]>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [name, v] of entries) {
    Object.defineProperty(out, name, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

const item = fc
  .uniqueArray(fc.tuple(attributeName, value), { minLength: 1, maxLength: 8, selector: ([name]) => name })
  .map((entries) => ({
    wire: ownObject(entries.map(([n, c]) => [n, c.wire])),
    native: ownObject(entries.map(([n, c]) => [n, c.native])),
  }));

/** What the client does with the body it receives: decode the UTF-8 bytes, parse, unmarshall. */
function readBack(body: Buffer, wrapNumbers: Parameters<typeof fromWireItem>[2]): Record<string, unknown> {
  const payload = JSON.parse(body.toString('utf8')) as DynamoDbPayload;
  return fromWireItem(payload.table, payload.item, wrapNumbers);
}

/** Own property names at every level, so an attribute that turned into a prototype is caught. */
function ownNames(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(ownNames);
  if (v instanceof Set || v instanceof Uint8Array || typeof v !== 'object' || v === null) return null;
  return Object.getOwnPropertyNames(v).map((n) => [n, ownNames((v as Record<string, unknown>)[n])]);
}

describe('an item written by the extension and read by the client', () => {
  it('comes back with the same values, exact numbers, sets and bytes, for arbitrary items', () => {
    fc.assert(
      fc.property(item, ({ wire, native }) => {
        // DynamoDB's answer as the extension's JSON client parsed it, copied by the extension's source.
        const fromDynamoDb = JSON.parse(JSON.stringify(wire)) as Record<string, unknown>;
        const itemJson = extension.toItemJson(fromDynamoDb);
        const body = extension.v1ItemBody({ table: 'T', key: { id: { S: 'k' } }, item: itemJson });
        const got = readBack(body, keepText);
        expect(got).toEqual(native);
        expect(ownNames(got)).toEqual(ownNames(native));
        expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
      }),
      { numRuns: 300 },
    );
  });

  it('gives plain numbers equal to the text DynamoDB sent when they fit a double exactly', () => {
    const exact = fc.oneof(
      fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }).map(String),
      fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e15, max: 1e15 }).map(String),
    );
    fc.assert(
      fc.property(fc.uniqueArray(exact, { minLength: 1, maxLength: 6 }), (numbers) => {
        const wire = ownObject(numbers.map((n, i) => [`n${i}`, { N: n }] as const));
        const body = extension.v1ItemBody({
          table: 'T',
          key: { id: { S: 'k' } },
          item: extension.toItemJson(JSON.parse(JSON.stringify({ ...wire, set: { NS: numbers } }))),
        });
        const got = readBack(body, false);
        numbers.forEach((n, i) => {
          expect(got[`n${i}`]).toBe(Number(n));
        });
        expect(got.set).toEqual(new Set(numbers.map(Number)));
      }),
      { numRuns: 200 },
    );
  });
});
