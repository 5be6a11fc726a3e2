import { parameterPath, ROUTES } from '@lambda-cache/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedConfig, seedData } from '../src/fixtures.js';
import { type Stack, startStack } from '../src/harness.js';

const NAME = '/app/versioned';
const seed = seedData();
seed.parameters = [
  ...(seed.parameters ?? []),
  // Versions 1 and 2 from history, version 3 current and labelled.
  {
    name: NAME,
    value: 'versioned-value-3',
    history: ['versioned-value-1', 'versioned-value-2'],
    labels: ['prod'],
  },
  { name: '/app/secure', value: 'secure-value-decrypted', type: 'SecureString' },
];

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ config: seedConfig, seed });
});
afterAll(async () => {
  await stack?.close();
});

describe('parameter versions, labels and decryption', () => {
  it('serves the current version when no selector is given', async () => {
    const res = await stack.get(parameterPath(NAME));
    expect(res.body).toMatchObject({ name: NAME, value: 'versioned-value-3', version: 3 });
  });

  it('serves the asked version when the name carries :version', async () => {
    const res = await stack.get(parameterPath(`${NAME}:1`));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ value: 'versioned-value-1', version: 1 });
  });

  it('serves the labelled version when the name carries :label', async () => {
    const res = await stack.get(parameterPath(`${NAME}:prod`));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ value: 'versioned-value-3', version: 3 });
  });

  it('returns 404 NotFound when the version or label does not exist', async () => {
    for (const name of [`${NAME}:9`, `${NAME}:staging`]) {
      const res = await stack.get(parameterPath(name));
      expect({ name, status: res.status, code: res.body.code }).toEqual({
        name,
        status: 404,
        code: 'NotFound',
      });
    }
  });

  it('answers version and label on the AWS-compatible route', async () => {
    const v2 = await stack.get(`${ROUTES.awsParameter}?name=${encodeURIComponent(NAME)}&version=2`);
    expect(v2.status).toBe(200);
    expect(v2.body.Parameter).toMatchObject({ Value: 'versioned-value-2', Version: 2 });
    const prod = await stack.get(`${ROUTES.awsParameter}?name=${encodeURIComponent(NAME)}&label=prod`);
    expect(prod.body.Parameter).toMatchObject({ Value: 'versioned-value-3', Version: 3 });
  });

  it('decrypts a SecureString by default and not when decrypt=false', async () => {
    const plain = await stack.get(parameterPath('/app/secure'));
    expect(plain.body).toMatchObject({ type: 'SecureString', value: 'secure-value-decrypted' });
    const raw = await stack.get(parameterPath('/app/secure', { decrypt: false }));
    expect(raw.status).toBe(200);
    expect(raw.body.type).toBe('SecureString');
    expect(raw.body.value).not.toBe('secure-value-decrypted');
  });
});
