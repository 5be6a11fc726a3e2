/**
 * The registry: every source the extension serves, one line each. The store, the server's route table,
 * `config.yaml`'s sections and `/v1/health` all take their sources from here.
 */
import type { ConfigSection } from '../config.js';
import { appconfigEntry } from './appconfig.js';
import { ITEMS } from './items.js';
import { PARAMETERS } from './parameters.js';
import { secretsManagerEntry } from './secrets-manager.js';
import type { SourceEntry } from './source.js';

export const SOURCES: readonly SourceEntry[] = [PARAMETERS, ITEMS, secretsManagerEntry, appconfigEntry];

/** The `config.yaml` sections the sources read themselves, for `loadConfig`. */
export const SECTIONS: ReadonlyArray<ConfigSection<unknown>> = SOURCES.flatMap((s) =>
  s.section === undefined ? [] : [s.section],
);
