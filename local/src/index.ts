export * from './backends.js';
export * from './lambda/emulator.js';
export * from './zip.js';
