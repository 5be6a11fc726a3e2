import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { corruptBody } from '../../src/aws/faults.js';
import { SecretStore } from '../../src/aws/secrets-manager.js';
import { ParameterStore } from '../../src/aws/ssm.js';

const segment = fc.stringMatching(/^[a-z0-9_.-]{1,6}$/);
const path = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join('/')}`);

function storeWith(names: string[]): ParameterStore {
  const store = new ParameterStore('us-east-1', () => 0, new SecretStore('us-east-1', () => 0));
  for (const name of names) store.put({ name, value: 'v', overwrite: true });
  return store;
}

/** Follows NextToken to the end (bounded), collecting names. */
function collect(
  store: ParameterStore,
  prefix: string,
  recursive: boolean,
  pageSize: number,
  shortPages: boolean,
): string[] {
  const names: string[] = [];
  let token: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const result = store.getParametersByPath(
      {
        Path: prefix,
        Recursive: recursive,
        MaxResults: pageSize,
        ...(token === undefined ? {} : { NextToken: token }),
      },
      { shortPages },
    );
    expect(result.Parameters.length).toBeLessThanOrEqual(pageSize);
    names.push(...result.Parameters.map((p) => p.Name));
    token = result.NextToken;
    if (token === undefined) return names;
  }
  throw new Error('paging did not end');
}

describe('GetParametersByPath paging', () => {
  it('returns every parameter under the path exactly once, in order, whatever the page size and short pages', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(path, { maxLength: 40 }),
        segment,
        fc.boolean(),
        fc.integer({ min: 1, max: 10 }),
        fc.boolean(),
        (names, top, recursive, pageSize, shortPages) => {
          const prefix = `/${top}`;
          const store = storeWith(names);
          const expected = names
            .filter((name) => name.startsWith(`${prefix}/`))
            .filter((name) => recursive || !name.slice(prefix.length + 1).includes('/'))
            .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
          expect(collect(store, prefix, recursive, pageSize, shortPages)).toEqual(expected);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('corruptBody', () => {
  it('never leaves parseable JSON when the mode is truncated or garbage', () => {
    fc.assert(
      fc.property(fc.object(), fc.constantFrom('truncated' as const, 'garbage' as const), (value, mode) => {
        const body = Buffer.from(JSON.stringify(value));
        expect(() => JSON.parse(corruptBody(body, mode).toString('utf8'))).toThrow();
      }),
      { numRuns: 100 },
    );
  });

  it('keeps every original member when the mode is extra-fields', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string().filter((k) => !k.startsWith('Unexpected')),
          fc.jsonValue(),
        ),
        (value) => {
          const body = Buffer.from(JSON.stringify(value));
          const parsed = JSON.parse(corruptBody(body, 'extra-fields').toString('utf8'));
          expect(parsed).toMatchObject(JSON.parse(JSON.stringify(value)));
          expect(Object.keys(parsed).length).toBeGreaterThan(Object.keys(value).length);
        },
      ),
      { numRuns: 100 },
    );
  });
});
