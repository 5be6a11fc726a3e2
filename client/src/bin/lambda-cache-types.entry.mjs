// The bin's entry point, bundled by scripts/build.mjs into dist/bin/lambda-cache-types.js: it joins the
// command to the extension's own config loader, so config.yaml has one parser. It is plain JavaScript, so
// the client's TypeScript project (rooted at client/) does not take in the extension's sources; esbuild
// bundles them, and the yaml package, into the bin: the published package depends on neither.
import { ConfigError, loadConfig } from '../../../extension/src/config.ts';
import { main } from './lambda-cache-types.ts';

process.exitCode = await main(process.argv.slice(2), {
  load: (file) => loadConfig(file, { required: true }),
  isConfigError: (err) => err instanceof ConfigError,
});
