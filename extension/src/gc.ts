/**
 * One full garbage collection after the prefetch. Loading thousands of entries leaves megabytes of AWS SDK
 * response objects that survived a few young-generation collections and were promoted; V8 keeps those
 * old-space pages resident until a major collection it may not run for a long time while the function is
 * idle, and Lambda counts resident memory. Collecting once, right after the burst, returns them.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async' }) => void;

let gc: Gc | undefined;

/** Runs a major collection; does nothing if the runtime does not allow it. */
export function collectGarbage(): void {
  try {
    if (gc === undefined) {
      // `gc` is exposed only to contexts created after the flag is set; the main context stays as it was.
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as Gc;
    }
    gc();
  } catch {
    // Not available (another runtime, or a locked-down flag): memory is only less tidy, nothing breaks.
  }
}
