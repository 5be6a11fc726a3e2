import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LambdaEmulator } from '../../src/lambda/emulator.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A function directory holding `index.js` (CommonJS) with the given source, and an empty layer. */
async function functionWith(source: string): Promise<{ functionDir: string; layerDir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'bootstrap-test-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const functionDir = join(dir, 'task');
  const layerDir = join(dir, 'opt');
  await mkdir(functionDir);
  await mkdir(join(layerDir, 'extensions'), { recursive: true });
  await writeFile(join(functionDir, 'index.js'), source);
  return { functionDir, layerDir };
}

/** An HTTP server on 127.0.0.1:0 that answers every request; counts what it served. */
async function server(): Promise<{ port: number; served: () => number }> {
  let served = 0;
  const srv: Server = createServer((_req, res) => {
    served++;
    res.end('ok');
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        srv.closeAllConnections();
        srv.close(() => resolve());
      }),
  );
  return { port: (srv.address() as AddressInfo).port, served: () => served };
}

async function emulator(source: string): Promise<LambdaEmulator> {
  const { functionDir, layerDir } = await functionWith(source);
  // `pss`: what is tested here is the runtime, not the sandbox; the full CPU keeps it quick.
  const lambda = await LambdaEmulator.create({
    functionDir,
    layerDir,
    handler: 'index.handler',
    shutdownTimeoutMs: 500,
    sandbox: 'pss',
  });
  cleanups.push(() => lambda.shutdown());
  return lambda;
}

describe('the Node runtime bootstrap', { timeout: 20_000 }, () => {
  it('answers null and keeps the runtime when a callback handler never calls back and the event loop drains', async () => {
    const { port, served } = await server();
    const lambda = await emulator(`
const http = require('node:http');
exports.handler = function (event, context, callback) {
  http.get('http://127.0.0.1:${port}/x', (res) => {
    res.resume();
    res.on('end', () => console.log('done'));
  });
};
`);
    const first = await lambda.invoke({});
    expect(first).toMatchObject({ ok: true, payload: null });
    expect(lambda.logs.some((line) => line.endsWith(`\t${first.requestId}\tINFO\tdone`))).toBe(true);
    const runtimePid = lambda.runtime.pid;
    const second = await lambda.invoke({});
    expect(second).toMatchObject({ ok: true, payload: null });
    // The same runtime process served both: no Runtime.ExitError, no reset, no second init.
    expect(second.initDurationMs).toBeUndefined();
    expect(lambda.runtime.pid).toBe(runtimePid);
    expect(lambda.logs.some((line) => line.includes('Runtime.ExitError'))).toBe(false);
    expect(served()).toBe(2);
  });

  it('answers with the callback result only after the event loop drains when callbackWaitsForEmptyEventLoop is true', async () => {
    const lambda = await emulator(`
exports.handler = function (event, context, callback) {
  callback(null, 'early');
  setTimeout(() => console.log('after the callback'), 50);
};
`);
    const result = await lambda.invoke({});
    expect(result).toMatchObject({ ok: true, payload: 'early' });
    // The response waited for the timer the handler left behind.
    const logged = lambda.logs.findIndex((line) => line.endsWith('\tINFO\tafter the callback'));
    const ended = lambda.logs.indexOf(`END RequestId: ${result.requestId}`);
    expect(logged).toBeGreaterThanOrEqual(0);
    expect(logged).toBeLessThan(ended);
  });

  it('answers at the callback, leaving work behind, when callbackWaitsForEmptyEventLoop is false', async () => {
    const lambda = await emulator(`
let pending;
exports.handler = function (event, context, callback) {
  context.callbackWaitsForEmptyEventLoop = false;
  // Holds the event loop open for longer than the function timeout: only an answer at the callback
  // can complete this invoke.
  pending = setTimeout(() => console.log('much later'), 60000);
  callback(null, { at: 'callback' });
};
`);
    const result = await lambda.invoke({}, { timeoutMs: 2000 });
    expect(result).toMatchObject({ ok: true, payload: { at: 'callback' } });
    expect((await lambda.invoke({})).initDurationMs).toBeUndefined();
  });

  it('answers null when an async handler never settles and the event loop drains', async () => {
    const lambda = await emulator(`
exports.handler = async () => new Promise(() => {});
`);
    expect(await lambda.invoke({})).toMatchObject({ ok: true, payload: null });
    expect((await lambda.invoke({})).initDurationMs).toBeUndefined();
  });

  it('fails the invoke with the callback error after the event loop drains', async () => {
    const lambda = await emulator(`
exports.handler = function (event, context, callback) {
  callback(new RangeError('out of range'));
};
`);
    const result = await lambda.invoke({});
    expect(result.ok).toBe(false);
    expect(result.payload).toMatchObject({ errorType: 'RangeError', errorMessage: 'out of range' });
  });
});
