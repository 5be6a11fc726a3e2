import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HandlerLoadError, loadHandler, parseHandler } from '../../src/lambda/handler.js';

const functionDir = fileURLToPath(new URL('../fixtures/lambda/function/', import.meta.url));

describe('parseHandler', () => {
  it('splits the module from the export at the first dot of the last segment', () => {
    expect(parseHandler('index.handler')).toEqual({ modulePath: 'index', exportPath: ['handler'] });
    expect(parseHandler('dist/app/main.api.handler')).toEqual({
      modulePath: 'dist/app/main',
      exportPath: ['api', 'handler'],
    });
  });

  it('throws Runtime.MalformedHandlerName when there is no export', () => {
    for (const bad of ['index', 'index.', '.handler', 'dir/.handler', 'index..handler']) {
      expect(() => parseHandler(bad), bad).toThrow(HandlerLoadError);
    }
  });
});

describe('loadHandler', () => {
  it('loads an ESM export when the file is .mjs', async () => {
    const handler = await loadHandler(functionDir, 'esm.handler');
    expect(typeof handler).toBe('function');
  });

  it('loads a CommonJS export when the file is .cjs', async () => {
    const handler = await loadHandler(functionDir, 'cjs.handler');
    expect(handler.length).toBe(3);
  });

  it('rejects with Runtime.HandlerNotFound when the export is missing', async () => {
    await expect(loadHandler(functionDir, 'esm.nothing')).rejects.toMatchObject({
      errorType: 'Runtime.HandlerNotFound',
    });
  });

  it('rejects with Runtime.ImportModuleError when no file matches', async () => {
    await expect(loadHandler(functionDir, 'absent.handler')).rejects.toMatchObject({
      errorType: 'Runtime.ImportModuleError',
      message: expect.stringContaining("Cannot find module 'absent'"),
    });
  });

  it('refuses a handler path that leaves the task root', async () => {
    await expect(loadHandler(functionDir, '../extension.handler')).rejects.toMatchObject({
      errorType: 'Runtime.MalformedHandlerName',
    });
  });
});
