/**
 * The built-in modules that the extension must not load with an ESM `import`. An import (static or
 * `import()`) builds the module's ESM facade, which reads every export, and some exports are getters that
 * load more of Node: on Node 22 and 24 three of `node:http`'s (`WebSocket`, `CloseEvent`, `MessageEvent`)
 * load its bundled undici, about 28 ms of CPU before `register`; `node:fs`'s `ReadStream` and
 * `WriteStream` load its file streams, 1.3–2.7 ms on Node 20 to 24. `process.getBuiltinModule` returns
 * the module without a facade. Packaging fails if a file on the Lambda path imports either
 * (`scripts/package.mjs`), and `test/integration/builtins.test.ts` checks what the bundles load.
 */
export const http = process.getBuiltinModule('node:http');
export const fs = process.getBuiltinModule('node:fs');
