// The extension's own config parser, joined to this package: scripts/build.mjs bundles it (and the yaml
// package) into dist/index.js, so a config the extension would refuse at init is refused at synth, with the
// same message, and the published package depends on neither the private extension nor yaml. It is plain
// JavaScript so that this workspace's TypeScript project (rooted at cdk/) does not take in the extension's
// sources; its types are in extension-config.d.mts.
export { MAX_CONFIG_BYTES, parseConfig } from '../../extension/src/config.ts';
