import { afterEach, describe, expect, it } from 'vitest';
import { AwsError } from '../../src/aws/errors.js';
import { JsonProtocolServer, jsonAnswer, operationTable } from '../../src/aws/http.js';

const servers: JsonProtocolServer[] = [];

async function start(
  overrides: Partial<ConstructorParameters<typeof JsonProtocolServer>[0]> = {},
): Promise<JsonProtocolServer> {
  const server = new JsonProtocolServer({
    version: '1.1',
    targetPrefix: 'Demo',
    throttle: { code: 'ThrottlingException', message: 'Rate exceeded' },
    internalError: { code: 'InternalServerError', message: 'boom' },
    maxBodyBytes: 1024,
    handle: operationTable({
      Echo: (input) => ({ Echo: input.Text }),
      Fail: () => {
        throw new AwsError('NotThere', 'it is not there');
      },
    }),
    random: () => 0,
    now: () => 1000,
    ...overrides,
  });
  servers.push(server);
  return server.listen('127.0.0.1');
}

function call(server: JsonProtocolServer, target: string, body: unknown, method = 'POST') {
  return fetch(server.endpoint, {
    method,
    headers: { 'x-amz-target': target, 'content-type': 'application/x-amz-json-1.1' },
    ...(method === 'POST' ? { body: JSON.stringify(body) } : {}),
  });
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('JsonProtocolServer', () => {
  it('answers the operation result as JSON 1.1 when the target matches', async () => {
    const server = await start();
    const response = await call(server, 'Demo.Echo', { Text: 'hi' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(await response.json()).toEqual({ Echo: 'hi' });
  });

  it('answers __type, message and x-amzn-ErrorType when the operation throws an AwsError', async () => {
    const server = await start();
    const response = await call(server, 'Demo.Fail', {});
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('NotThere');
    expect(await response.json()).toEqual({ __type: 'NotThere', message: 'it is not there' });
  });

  it('prefixes __type and uses the configured message member when the service asks for it', async () => {
    const server = await start({ errorTypePrefix: 'com.example#', messageMember: 'Message' });
    const response = await call(server, 'Demo.Fail', {});
    expect(await response.json()).toEqual({ __type: 'com.example#NotThere', Message: 'it is not there' });
  });

  it('answers UnknownOperationException when the target names another service or operation', async () => {
    const server = await start();
    for (const target of ['Other.Echo', 'Demo.Nope']) {
      const response = await call(server, target, {});
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ __type: 'UnknownOperationException' });
    }
  });

  it('answers 405 when the method is not POST', async () => {
    const server = await start();
    const response = await call(server, 'Demo.Echo', undefined, 'GET');
    expect(response.status).toBe(405);
    await response.arrayBuffer();
  });

  it('keeps only the newest calls, oldest first, when the log is full', async () => {
    const server = await start({ callLogLimit: 3 });
    for (let i = 0; i < 5; i++) await (await call(server, 'Demo.Echo', { Text: `t${i}` })).arrayBuffer();
    expect(server.callLog.map((entry) => entry.request)).toEqual([
      { Text: 't2' },
      { Text: 't3' },
      { Text: 't4' },
    ]);
    expect(server.callLog[0]?.at).toBe(1000);
    expect(server.calls).toEqual({ Echo: 5 });
    server.resetCalls();
    expect(server.callLog).toEqual([]);
    expect(server.calls).toEqual({});
  });

  it('answers a held request under the new faults when faults are replaced', async () => {
    const server = await start();
    server.setFaults({ hangMs: 60_000 });
    const pending = call(server, 'Demo.Echo', { Text: 'held' });
    for (let i = 0; i < 200 && server.calls.Echo !== 1; i++) await new Promise((r) => setTimeout(r, 10));
    server.setFaults({});
    const response = await pending;
    expect(await response.json()).toEqual({ Echo: 'held' });
  });

  it('redacts the logged request when a redactor is configured', async () => {
    const server = await start({ redact: () => ({ hidden: true }) });
    await (await call(server, 'Demo.Echo', { Text: 'private' })).arrayBuffer();
    expect(server.callLog[0]?.request).toEqual({ hidden: true });
  });

  it('returns a 200 JSON answer from jsonAnswer', () => {
    expect(jsonAnswer({ a: 1 })).toEqual({ status: 200, body: Buffer.from('{"a":1}') });
  });
});
