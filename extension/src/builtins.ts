/**
 * The built-in modules that the extension must not load with an ESM `import`. An import (static or
 * `import()`) builds the module's ESM facade, which reads every export, and some exports are getters that
 * load more of Node: on Node 22 and 24 three of `node:http`'s (`WebSocket`, `CloseEvent`, `MessageEvent`)
 * load its bundled undici, about 28 ms of CPU before `register`; `node:fs`'s `ReadStream` and
 * `WriteStream` load its file streams, 1.3–2.7 ms on Node 20 to 24; `node:net`'s `BlockList` and
 * `SocketAddress` two more modules, 0.4–0.5 ms; `node:crypto`'s `webcrypto` and `subtle` WebCrypto,
 * 0.5 ms. `process.getBuiltinModule` returns the module without a facade. Packaging fails if a file on
 * the Lambda path imports any of them (`scripts/package.mjs`), and `test/integration/builtins.test.ts`
 * checks what the bundles load.
 */
import type * as NodeCrypto from 'node:crypto';

export const http = process.getBuiltinModule('node:http');
export const fs = process.getBuiltinModule('node:fs');
export const net = process.getBuiltinModule('node:net');

let cryptoModule: typeof NodeCrypto | undefined;
/**
 * `node:crypto`, loaded on first use: loading it costs 1.4 ms (Node 20 and 22) to 3.8 ms (Node 24), and
 * before `register` the extension only listens. The signer needs it right after `register`, so the first
 * token check finds it loaded.
 */
export function crypto(): typeof NodeCrypto {
  cryptoModule ??= process.getBuiltinModule('node:crypto');
  return cryptoModule;
}
