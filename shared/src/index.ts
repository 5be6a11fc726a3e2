export * from './env.js';
export * from './headers.js';
export * from './keys.js';
export * from './routes.js';
export * from './wire.js';
