import { describe, expect, it } from 'vitest';
import { legacyItemBody, plainItemJson } from '../../src/sources/items.js';
import { awsParameterBody } from '../../src/sources/parameters.js';

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
        DataType: null,
        LastModifiedDate: '2024-01-02T03:04:05.500Z',
        Name: '/app/db',
        Selector: ':3',
        SourceResult: null,
        Type: 'SecureString',
        Value: 'v',
        Version: 3,
      },
      ResultMetadata: {},
    });
  });

  it('sends the date as ISO-8601 and absent fields as null, as AWS extension clients expect', () => {
    const body = JSON.parse(
      awsParameterBody({ name: 'p', type: 'String', value: 'v', version: 1, lastModified: null }).toString(),
    );
    expect(body.Parameter).toEqual({
      DataType: null,
      LastModifiedDate: null,
      Name: 'p',
      Selector: null,
      SourceResult: null,
      Type: 'String',
      Value: 'v',
      Version: 1,
    });
    const dated = awsParameterBody({
      name: 'p',
      type: 'String',
      value: 'v',
      version: 1,
      lastModified: '2024-01-02T03:04:05.500Z',
      dataType: 'text',
    });
    const parsed = JSON.parse(dated.toString()).Parameter;
    // What a client written for AWS's extension does with it: a real date, not 1970.
    expect(new Date(parsed.LastModifiedDate).getUTCFullYear()).toBe(2024);
    expect(parsed.DataType).toBe('text');
  });

  it('writes numbers with their exact digits on the seed route, however large or precise', () => {
    const body = legacyItemBody({
      big: { N: '12345678901234567890' },
      exact: { N: '0.1000000000000000055511151231257827' },
      neg: { N: '-1E+30' },
      ns: { NS: ['98765432109876543210', '1'] },
    }).toString();
    expect(body).toBe(
      '{"big":12345678901234567890,"exact":0.1000000000000000055511151231257827,"neg":-1E+30,"ns":[98765432109876543210,1]}',
    );
  });

  it('never writes number text raw when it is not a JSON number', () => {
    const body = legacyItemBody({
      a: { N: '+5' },
      b: { N: '1,"injected":true' },
      c: { N: '.5' },
    }).toString();
    expect(JSON.parse(body)).toEqual({ a: 5, b: null, c: 0.5 });
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
    const text = plainItemJson(item);
    expect(text).toBe('{"__proto__":"p","l":["x"],"m":{"a":null,"b":true},"n":1.5,"ns":[1,2]}');
    expect(Object.keys(JSON.parse(text))).toEqual(['__proto__', 'l', 'm', 'n', 'ns']);
  });
});
