import { isAbsolute, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

// From the runtime, as in `bootstrap.ts`: an ESM import of `node:fs` loads Node's file streams (≈ 2 ms).
const { existsSync } = process.getBuiltinModule('node:fs');

/** A failure to load the handler, with the error type Lambda's Node runtime reports for it. */
export class HandlerLoadError extends Error {
  override readonly name = 'HandlerLoadError';
  constructor(
    readonly errorType:
      | 'Runtime.MalformedHandlerName'
      | 'Runtime.ImportModuleError'
      | 'Runtime.HandlerNotFound'
      | 'Runtime.UserCodeSyntaxError',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type Handler = (
  event: unknown,
  context: unknown,
  callback?: (error?: unknown, result?: unknown) => void,
) => unknown;

/** Lambda's Node runtime looks for these, in this order, when the handler names `file.export`. */
const EXTENSIONS = ['.js', '.mjs', '.cjs'] as const;

/**
 * Splits `dir/file.export.path` the way Lambda does: the module is everything before the first dot of the
 * last path segment, the rest is a (possibly nested) export path.
 */
export function parseHandler(handler: string): { modulePath: string; exportPath: string[] } {
  const slash = handler.lastIndexOf('/');
  const base = handler.slice(slash + 1);
  const dot = base.indexOf('.');
  const modulePath = handler.slice(0, slash + 1) + base.slice(0, dot);
  const exportPath = base.slice(dot + 1).split('.');
  if (dot <= 0 || exportPath.some((part) => part === '') || isAbsolute(modulePath)) {
    throw new HandlerLoadError(
      'Runtime.MalformedHandlerName',
      `Bad handler ${handler}: expected "file.export"`,
    );
  }
  return { modulePath, exportPath };
}

/** Loads the handler through `import()`, which takes ESM and CommonJS alike. */
export async function loadHandler(taskRoot: string, handler: string): Promise<Handler> {
  const { modulePath, exportPath } = parseHandler(handler);
  const root = resolve(taskRoot);
  const base = resolve(root, modulePath);
  const fromRoot = relative(root, base);
  if (fromRoot === '' || fromRoot.startsWith('..') || isAbsolute(fromRoot)) {
    throw new HandlerLoadError(
      'Runtime.MalformedHandlerName',
      `Bad handler ${handler}: it leaves the task root`,
    );
  }
  const file = EXTENSIONS.map((ext) => base + ext).find((candidate) => existsSync(candidate));
  if (file === undefined) {
    throw new HandlerLoadError(
      'Runtime.ImportModuleError',
      `Error: Cannot find module '${modulePath}' (looked for ${EXTENSIONS.map((ext) => modulePath + ext).join(', ')} in ${taskRoot})`,
    );
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    const syntax = error instanceof SyntaxError;
    throw new HandlerLoadError(
      syntax ? 'Runtime.UserCodeSyntaxError' : 'Runtime.ImportModuleError',
      `${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
      { cause: error },
    );
  }
  const lookup = (root: unknown): unknown =>
    exportPath.reduce<unknown>(
      (value, key) =>
        value !== null && (typeof value === 'object' || typeof value === 'function')
          ? (value as Record<string, unknown>)[key]
          : undefined,
      root,
    );
  // A CommonJS module whose exports Node could not detect statically only shows them on `default`.
  const found = lookup(mod) ?? lookup(mod.default);
  if (found === undefined) {
    throw new HandlerLoadError('Runtime.HandlerNotFound', `${handler} is undefined or not exported`);
  }
  if (typeof found !== 'function') {
    throw new HandlerLoadError('Runtime.HandlerNotFound', `${handler} is not a function`);
  }
  return found as Handler;
}
