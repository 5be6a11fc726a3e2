// The bin's entry point, bundled by scripts/build.mjs into dist/bin/lambda-cache-types.js: it joins the
// command to the extension's own config loader, so config.yaml has one parser. It is plain JavaScript, so
// the client's TypeScript project (rooted at client/) does not take in the extension's sources; esbuild
// bundles them, and the yaml package, into the bin: the published package depends on neither.
import { ConfigError, loadConfig, sectionOf } from '../../../extension/src/config.ts';
import { appconfigSection } from '../../../extension/src/sources/appconfig-config.ts';
import { secretsSection } from '../../../extension/src/sources/secrets-config.ts';
import { main } from './lambda-cache-types.ts';

// The sources' own sections, read as the extension reads them (the section modules only, not the sources).
const SECTIONS = [secretsSection, appconfigSection];

/** The config with what the sections read, in the `ConfigForTypes` shape of ../codegen.ts. */
const forTypes = (config) => ({
  ...config,
  secrets: sectionOf(config, secretsSection).map((s) => ({ id: s.id, json: s.json })),
  appconfig: sectionOf(config, appconfigSection).map((a) => ({
    application: a.application,
    environment: a.environment,
    profile: a.profile,
  })),
});

process.exitCode = await main(process.argv.slice(2), {
  load: async (file) => forTypes(await loadConfig(file, { required: true, sections: SECTIONS })),
  isConfigError: (err) => err instanceof ConfigError,
});
