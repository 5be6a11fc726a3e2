import { describe, expect, it } from 'vitest';
import { awsParameterBody, legacyItemBody, plainItem } from '../../src/bodies.js';

describe('bodies', () => {
  it('builds the GetParameter body without the selector in the name when a version was asked', () => {
    const body = awsParameterBody({
      name: '/app/db:3',
      type: 'SecureString',
      value: 'v',
      version: 3,
      lastModified: '2024-01-02T03:04:05.500Z',
      selector: ':3',
      arn: 'arn:aws:ssm:us-west-2:1:parameter/app/db',
    });
    expect(JSON.parse(body.toString())).toEqual({
      Parameter: {
        ARN: 'arn:aws:ssm:us-west-2:1:parameter/app/db',
        LastModifiedDate: 1704164645.5,
        Name: '/app/db',
        Selector: ':3',
        Type: 'SecureString',
        Value: 'v',
        Version: 3,
      },
      ResultMetadata: {},
    });
  });

  it('writes the item as the seed did when the seed route is asked', () => {
    expect(
      legacyItemBody({
        sKey: { S: 'sKey1' },
        pKey: { S: 'pKey1' },
        Data: { S: 'Data goes here' },
      }).toString(),
    ).toBe('{"Data":"Data goes here","pKey":"pKey1","sKey":"sKey1"}');
  });

  it('converts every attribute type to plain JSON and keeps __proto__ as an attribute', () => {
    const item = JSON.parse(
      '{"__proto__":{"S":"p"},"n":{"N":"1.5"},"m":{"M":{"b":{"BOOL":true},"a":{"NULL":true}}},"ns":{"NS":["1","2"]},"l":{"L":[{"S":"x"}]}}',
    );
    const plain = plainItem(item);
    expect(Object.keys(plain)).toEqual(['__proto__', 'l', 'm', 'n', 'ns']);
    expect(JSON.stringify(plain)).toBe(
      '{"__proto__":"p","l":["x"],"m":{"a":null,"b":true},"n":1.5,"ns":[1,2]}',
    );
  });
});
