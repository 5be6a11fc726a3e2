// The extension's own config parser, joined to this package: scripts/build.mjs bundles it (and the yaml
// package) into dist/index.js, so a config the extension would refuse at init is refused at synth, with the
// same message, and the published package depends on neither the private extension nor yaml. It is plain
// JavaScript so that this workspace's TypeScript project (rooted at cdk/) does not take in the extension's
// sources; its types are in extension-config.d.mts.
import { sectionOf } from '../../extension/src/config.ts';
import { parseConfig as parseWith } from '../../extension/src/config-yaml.ts';
import { appconfigSection } from '../../extension/src/sources/appconfig-config.ts';
import { secretsSection } from '../../extension/src/sources/secrets-config.ts';

export { MAX_CONFIG_BYTES } from '../../extension/src/config.ts';

// The sources' own sections, read with their own readers (the section modules only, not the sources).
const SECTIONS = [secretsSection, appconfigSection];

export function parseConfig(text, file) {
  const config = parseWith(text, file, SECTIONS);
  return {
    ...config,
    secrets: sectionOf(config, secretsSection),
    appconfig: sectionOf(config, appconfigSection),
  };
}
