import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as errors from '../../src/errors.js';

type ErrorsModule = typeof errors;
const source = join(dirname(fileURLToPath(import.meta.url)), '../../src/errors.ts');
let dir: string;
let esmCopy: ErrorsModule;
let cjsCopy: ErrorsModule;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'client-errors-'));
  await build({
    entryPoints: [source],
    outfile: join(dir, 'a/errors.mjs'),
    format: 'esm',
    logLevel: 'silent',
  });
  await build({
    entryPoints: [source],
    outfile: join(dir, 'b/errors.cjs'),
    format: 'cjs',
    logLevel: 'silent',
  });
  esmCopy = (await import(pathToFileURL(join(dir, 'a/errors.mjs')).href)) as ErrorsModule;
  cjsCopy = createRequire(import.meta.url)(join(dir, 'b/errors.cjs')) as ErrorsModule;
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('errors', () => {
  it('recognises an error from another copy of the package when instanceof is used', () => {
    expect(esmCopy.NotFoundError).not.toBe(cjsCopy.NotFoundError);
    const fromEsm = new esmCopy.NotFoundError('gone');
    const fromCjs = new cjsCopy.UpstreamError('denied', { awsCode: 'AccessDeniedException' });
    expect(fromEsm).toBeInstanceOf(cjsCopy.NotFoundError);
    expect(fromEsm).toBeInstanceOf(cjsCopy.CacheClientError);
    expect(fromEsm).toBeInstanceOf(errors.NotFoundError);
    expect(fromCjs).toBeInstanceOf(esmCopy.UpstreamError);
    expect(fromCjs).toBeInstanceOf(errors.CacheClientError);
    expect(fromCjs instanceof errors.UpstreamError && fromCjs.awsCode).toBe('AccessDeniedException');
  });

  it('does not recognise an error of a sibling class when instanceof is used', () => {
    const err = new esmCopy.TimeoutError('slow');
    expect(err instanceof cjsCopy.AbortError).toBe(false);
    expect(err instanceof errors.NotFoundError).toBe(false);
    expect(err instanceof errors.TimeoutError).toBe(true);
    expect(new Error('plain') instanceof errors.CacheClientError).toBe(false);
    expect({ code: 'NotFound' } instanceof errors.NotFoundError).toBe(false);
  });

  it('keeps Error behaviour when an error is created', () => {
    const cause = new Error('socket');
    const err = new errors.ExtensionUnavailableError('down', { cause, status: 503 });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('ExtensionUnavailableError');
    expect(err.code).toBe('ExtensionUnavailable');
    expect(err.status).toBe(503);
    expect(err.cause).toBe(cause);
    expect(err.stack).toContain('ExtensionUnavailableError: down');
    expect(Object.keys(err)).not.toContain(Symbol.for('lambda-cache.client.error'));
  });

  it('gives every class its own stable code when instances are created', () => {
    const codes = [
      new errors.NotFoundError('x').code,
      new errors.BadRequestError('x').code,
      new errors.ForbiddenError('x').code,
      new errors.ThrottledError('x').code,
      new errors.UpstreamError('x').code,
      new errors.UpstreamTimeoutError('x').code,
      new errors.ExtensionUnavailableError('x').code,
      new errors.ExtensionError('x').code,
      new errors.TimeoutError('x').code,
      new errors.AbortError('x').code,
      new errors.TransformError('json', 'x').code,
      new errors.InvalidOptionError('x').code,
    ];
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('recognises a TableNotFoundError from another copy and keeps it apart from NotFoundError', () => {
    const err = new cjsCopy.TableNotFoundError('Orders', 'no table', { status: 404, awsCode: 'X' });
    expect(err).toBeInstanceOf(esmCopy.TableNotFoundError);
    expect(err).toBeInstanceOf(errors.CacheClientError);
    expect(err instanceof errors.NotFoundError).toBe(false);
    expect(new errors.NotFoundError('x') instanceof errors.TableNotFoundError).toBe(false);
    expect(err).toMatchObject({ name: 'TableNotFoundError', code: 'TableNotFound', table: 'Orders' });
    expect(err.code).not.toBe(new errors.NotFoundError('x').code);
  });
});
