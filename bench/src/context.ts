/** What every section gets: the options, the recorder, and the shared pieces started once per run. */
import type { Backends } from '@lambda-cache/local';
import type { BenchOptions } from './options.js';
import type { Worker } from './processes.js';
import type { Recorder } from './results.js';
import type { ExtensionRun } from './stack.js';

export interface Context {
  readonly options: BenchOptions;
  readonly recorder: Recorder;
  readonly backends: Backends;
  /** The packaged layer zip, and where it was extracted. */
  readonly layerZip: string;
  readonly layerDir: string;
  readonly worker: Worker;
  /** The session token the extensions run with (and every measured request sends). */
  readonly token: string;
  /** Extra environment for every extension started (e.g. a `--cpu-prof` launcher when profiling). */
  readonly extensionEnv: Readonly<Record<string, string>>;
  /** The extension with the seed's config, shared by the hit-path, client and no-cache sections. */
  seedStack(): Promise<ExtensionRun>;
  log(message: string): void;
}
