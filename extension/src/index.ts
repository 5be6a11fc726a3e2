export type { CacheConfig, ParameterEntry, ParameterPathEntry, TableEntry } from './config.js';
export { HttpError, NotFoundError, toHttpError } from './errors.js';
export { type ExtensionEvent, ExtensionsApi, type RegisterResult } from './lifecycle.js';
export { createLogger, type Logger } from './log.js';
export { type RunOptions, run } from './run.js';
export { type CacheServer, createServer, type ServerOptions } from './server.js';
export type { Reply, SourceRoutes, Store } from './store.js';
