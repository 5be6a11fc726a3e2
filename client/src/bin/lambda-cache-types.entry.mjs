// The bin's entry point, bundled by scripts/build.mjs into dist/bin/lambda-cache-types.js: it joins the
// command to the extension's own config loader, so config.yaml has one parser. It is plain JavaScript, so
// the client's TypeScript project (rooted at client/) does not take in the extension's sources; esbuild
// bundles them, and the yaml package, into the bin: the published package depends on neither.
import { ConfigError, loadConfig } from '../../../extension/src/config.ts';
import { main } from './lambda-cache-types.ts';

// The seam for the sources' own sections (`secrets:`, `appconfig:`). Once the extension's source registry
// lists them, pass their `ConfigSection`s here, so the loader accepts and checks those keys as the
// extension does, and copy what `sectionOf(config, section)` read into `secrets` and `appconfig` (the
// `ConfigForTypes` shape in ../codegen.ts: `{ id, json }` and `{ application, environment, profile }`).
const SECTIONS = [];
const forTypes = (config) => config;

process.exitCode = await main(process.argv.slice(2), {
  load: async (file) => forTypes(await loadConfig(file, { required: true, sections: SECTIONS })),
  isConfigError: (err) => err instanceof ConfigError,
});
