import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { sign } from '../../../src/aws/signer.js';

/** The `Sha256` constructor `SignatureV4` wants, on node:crypto. */
type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: SourceData): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);

class Sha256 {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

const DATE = new Date('2026-03-14T15:09:26.535Z');
const KEYS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

async function oracle(
  request: {
    method: string;
    host: string;
    path: string;
    query?: Record<string, string>;
    headers: Record<string, string>;
    body?: string;
  },
  service: string,
  region: string,
  sessionToken?: string,
): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    service,
    region,
    credentials: { ...KEYS, ...(sessionToken ? { sessionToken } : {}) },
    sha256: Sha256,
  });
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: 'https:',
      hostname: request.host,
      path: request.path,
      ...(request.query ? { query: request.query } : {}),
      headers: { host: request.host, ...request.headers },
      ...(request.body !== undefined ? { body: request.body } : {}),
    },
    { signingDate: DATE },
  );
  return signed.headers as Record<string, string>;
}

const PICK = ['authorization', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256'];
const pick = (headers: Record<string, string>) =>
  Object.fromEntries(PICK.filter((h) => headers[h] !== undefined).map((h) => [h, headers[h]]));

describe('sign', () => {
  it('produces the headers of the SDK signer for an awsJson POST with a session token', async () => {
    const body = JSON.stringify({ Names: ['/app/db-url', 'plain'], WithDecryption: true });
    const headers = {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': String(Buffer.byteLength(body)),
      'x-amz-target': 'AmazonSSM.GetParameters',
    };
    const ours = sign(
      {
        method: 'POST',
        host: 'ssm.eu-west-1.amazonaws.com',
        path: '/',
        headers,
        body: Buffer.from(body),
        service: 'ssm',
        region: 'eu-west-1',
        date: DATE,
      },
      { ...KEYS, sessionToken: 'FwoGZXIvYXdzEBYaD+token/with=chars' },
    );
    const theirs = await oracle(
      { method: 'POST', host: 'ssm.eu-west-1.amazonaws.com', path: '/', headers, body },
      'ssm',
      'eu-west-1',
      'FwoGZXIvYXdzEBYaD+token/with=chars',
    );
    expect(pick(ours.headers)).toEqual(pick(theirs));
    expect(ours.headers.authorization).toContain('x-amz-security-token');
  });

  it('produces the headers of the SDK signer for a DynamoDB call on a local endpoint with a port and no token', async () => {
    const body = JSON.stringify({ TableName: 'T', Key: { pk: { S: 'a' }, n: { N: '1.50' } } });
    const headers = {
      'content-type': 'application/x-amz-json-1.0',
      'content-length': String(Buffer.byteLength(body)),
      'x-amz-target': 'DynamoDB_20120810.GetItem',
    };
    const input = {
      method: 'POST' as const,
      host: '127.0.0.1:8123',
      path: '/',
      headers,
      body: Buffer.from(body),
      service: 'dynamodb',
      region: 'us-east-1',
      date: DATE,
    };
    const ours = sign(input, KEYS);
    const theirs = await oracle(
      { method: 'POST', host: '127.0.0.1:8123', path: '/', headers, body },
      'dynamodb',
      'us-east-1',
    );
    expect(pick(ours.headers)).toEqual(pick(theirs));
    expect(ours.headers['x-amz-security-token']).toBeUndefined();
  });

  it('produces the headers of the SDK signer for a GET with a query that needs encoding', async () => {
    const token = 'AYADeJ+abc/def==&x y';
    const query = { configuration_token: token };
    const ours = sign(
      {
        method: 'GET',
        host: 'appconfigdata.us-west-2.amazonaws.com',
        path: `/configuration?${new URLSearchParams(query).toString()}`,
        headers: {},
        body: Buffer.alloc(0),
        service: 'appconfig',
        region: 'us-west-2',
        date: DATE,
      },
      KEYS,
    );
    const theirs = await oracle(
      {
        method: 'GET',
        host: 'appconfigdata.us-west-2.amazonaws.com',
        path: '/configuration',
        query,
        headers: {},
      },
      'appconfig',
      'us-west-2',
    );
    expect(pick(ours.headers)).toEqual(pick(theirs));
    // The query that was signed is the one sent.
    expect(new URL(ours.path, 'https://x').searchParams.get('configuration_token')).toBe(token);
  });
});
