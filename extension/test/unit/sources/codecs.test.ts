import { type KeyAttributes, normalizeKey } from '@lambda-cache/shared';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config-yaml.js';
import { silentLogger } from '../../../src/log.js';
import type { DynamoDbSource } from '../../../src/sources/dynamodb.js';
import { ItemSource, type ItemTarget } from '../../../src/sources/items.js';
import { ParameterSource, type ParameterTarget } from '../../../src/sources/parameters.js';
import type { SsmSource } from '../../../src/sources/ssm.js';

// Every source's cache-key codec: the store keys entries by `tag + SEP + encode(target)` and refresh-ahead
// decodes the keys back, so a codec that loses or confuses anything reloads the wrong thing.

const config = parseConfig('', 'config.yaml');
const parameters = new ParameterSource({
  config,
  region: undefined,
  logger: silentLogger,
  ssm: {} as SsmSource,
});
const items = new ItemSource({
  config,
  region: undefined,
  logger: silentLogger,
  dynamodb: {} as DynamoDbSource,
});

/** Text with what a codec could trip on: the separator, `:`, `%`, JSON's quotes and escapes, astral characters. */
const text = (minLength = 0): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ unit: 'grapheme', minLength, maxLength: 20 }),
    fc
      .array(fc.constantFrom('\n', ':', '%', '"', '\\', '/', 'a', 'é', '😀', '\u0000', ' '), {
        minLength: Math.max(1, minLength),
        maxLength: 12,
      })
      .map((chars) => chars.join('')),
  );

/** No region (the function's own), a real one, or any non-empty text a misconfigured environment could give. */
const region: fc.Arbitrary<string | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom('us-west-2', 'eu-central-1', 'cn-north-1'),
  text(1),
);

const parameterTarget: fc.Arbitrary<ParameterTarget> = fc.record({
  region,
  decrypt: fc.boolean(),
  name: text(),
});

const keyValue = fc.oneof(
  text(1).map((S) => ({ S })),
  // Integers and decimals in any spelling (`007.50`), which the key's canonical form rewrites.
  fc
    .tuple(fc.boolean(), fc.nat(), fc.nat(99_999), fc.constantFrom('', '0', '00'))
    .map(([minus, i, f, pad]) => ({ N: `${minus ? '-' : ''}${pad}${i}.${f}` })),
  fc.uint8Array({ minLength: 1, maxLength: 12 }).map((b) => ({ B: Buffer.from(b).toString('base64') })),
);

const key: fc.Arbitrary<KeyAttributes> = fc
  .uniqueArray(fc.tuple(text(1), keyValue), { minLength: 1, maxLength: 2, selector: ([name]) => name })
  .map((attrs) => {
    const raw: Record<string, unknown> = {};
    for (const [name, value] of attrs) {
      Object.defineProperty(raw, name, { value, enumerable: true, writable: true, configurable: true });
    }
    return normalizeKey(raw);
  });

const itemTarget: fc.Arbitrary<ItemTarget> = fc.record({ region, table: text(), key });

describe('ParameterSource codec', () => {
  it('gives every target back from its key', () => {
    fc.assert(
      fc.property(parameterTarget, (t) => {
        expect(parameters.decode(parameters.encode(t))).toEqual(t);
      }),
    );
  });

  it('gives two different targets two different keys', () => {
    fc.assert(
      fc.property(parameterTarget, parameterTarget, (a, b) => {
        fc.pre(a.region !== b.region || a.decrypt !== b.decrypt || a.name !== b.name);
        expect(parameters.encode(a)).not.toBe(parameters.encode(b));
      }),
    );
  });

  it('puts targets of one region and decryption setting, and only those, in one group', () => {
    fc.assert(
      fc.property(parameterTarget, parameterTarget, (a, b) => {
        const same = a.region === b.region && a.decrypt === b.decrypt;
        expect(parameters.group(a) === parameters.group(b)).toBe(same);
      }),
    );
  });
});

describe('ItemSource codec', () => {
  it('gives every target back from its key', () => {
    fc.assert(
      fc.property(itemTarget, (t) => {
        const back = items.decode(items.encode(t));
        expect(back).toEqual(t);
        // Own properties survive too (an attribute named __proto__ is one).
        expect(Object.keys(back.key)).toEqual(Object.keys(t.key));
      }),
    );
  });

  it('gives two different targets two different keys', () => {
    fc.assert(
      fc.property(itemTarget, itemTarget, (a, b) => {
        fc.pre(
          a.region !== b.region || a.table !== b.table || JSON.stringify(a.key) !== JSON.stringify(b.key),
        );
        expect(items.encode(a)).not.toBe(items.encode(b));
      }),
    );
  });

  it('keys an attribute named __proto__ as its own attribute', () => {
    const t: ItemTarget = {
      region: undefined,
      table: 'T',
      key: normalizeKey(JSON.parse('{"__proto__":{"S":"x"}}')),
    };
    const back = items.decode(items.encode(t));
    expect(Object.hasOwn(back.key, '__proto__')).toBe(true);
    expect(back).toEqual(t);
  });
});
