/**
 * Gives back the heap V8 grew while the prefetch ran. Loading thousands of entries keeps most of what it
 * allocates alive long enough to be promoted, so V8 keeps old-space pages that only garbage filled and,
 * where the memory limit lets it, grows the young generation to its largest size; a process idle after
 * init then holds tens of MiB that nothing uses, out of the memory the function shares with it. Measured
 * with 10 000 entries of 1 KiB on Node 22: the V8 heap's private pages went from 66 MiB to 13 MiB, in
 * 37 ms, without a memory limit; in a 128 MB sandbox, where Node sizes the young generation at 2 MiB,
 * the extension's private memory went from 58 to 41 MiB (Node 22) and from 72 to 53 MiB (Node 24).
 *
 * After that, the young generation is kept at the size it has: read-through bursts keep what they read
 * alive too, and without the cap V8 grew it to 32 MiB (64 on Node 24) of pages that stay resident.
 *
 * The launcher could cap the young generation with `--max-semi-space-size` instead, but any V8 flag on
 * Node's command line costs 15 ms (Node 20) to 25 ms (Node 22) of every cold start, before the first
 * line of the extension runs: Node's built-in modules are then compiled without their code cache. Set at
 * run time, the growth factor is read by V8 each time it would grow the young generation; set before
 * ready it still cost 3–4 ms (the modules loaded after it), so it is set once init is over.
 *
 * The collection is V8's "last resort" one, which also shrinks the young generation: the `gc` function
 * of a context made after `--expose-gc` is set at run time (it changes no already running code). V8 12
 * (Node 22) and later take its `flavor` option; earlier V8s, and Bun, do nothing here.
 */
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Below this much committed heap, a trim would cost more CPU than the memory it returns. The seed's
 * config leaves 8.5–10 MiB committed (Node 22 and 24, in a 128 MB sandbox); 1000 entries of 1 KiB about
 * 14 MiB, 3000 about 18, 10 000 about 30 there and 70 without a memory limit. What is committed, not
 * what is unused: under the limits of Lambda's common sizes (128 to 512 MB) the heap stays small and
 * full of garbage, so its unused part alone never showed what a collection would give back.
 */
const TRIM_MIN_HEAP_BYTES = 16 * 1024 * 1024;

export interface HeapTrim {
  /** Bytes of heap committed before the collection. */
  readonly heapBytes: number;
  /** Of them, bytes in use (live or garbage) before the collection. */
  readonly usedBytes: number;
  /** Bytes of committed heap the collection gave back. */
  readonly freedBytes: number;
  readonly ms: number;
}

type GcFunction = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

function committed(): { size: number; used: number } {
  let size = 0;
  let used = 0;
  for (const space of getHeapSpaceStatistics()) {
    size += space.space_size;
    used += space.space_used_size;
  }
  return { size, used };
}

/** Whether this runtime's V8 shrinks the heap on a last-resort collection (V8 12, Node 22, or later). */
function canTrimHeap(): boolean {
  if ('bun' in process.versions) return false;
  return Number(process.versions.v8.split('.')[0]) >= 12;
}

/**
 * Collects all garbage and shrinks the heap when at least `minHeapBytes` are committed; `undefined` when
 * it did not run (too little to give back, or a runtime that cannot).
 */
function trimHeap(minHeapBytes = TRIM_MIN_HEAP_BYTES): HeapTrim | undefined {
  if (!canTrimHeap()) return undefined;
  const before = committed();
  if (before.size < minHeapBytes) return undefined;
  const started = performance.now();
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as GcFunction;
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return {
    heapBytes: before.size,
    usedBytes: before.used,
    freedBytes: Math.max(0, before.size - committed().size),
    ms: performance.now() - started,
  };
}

/**
 * {@link trimHeap}, then the young generation held at its size from now on (V8's
 * `--semi-space-growth-factor=1`, read at each growth). Called once, when init is over.
 */
export function settleHeap(): HeapTrim | undefined {
  const trim = trimHeap();
  if (!('bun' in process.versions)) setFlagsFromString('--semi-space-growth-factor=1');
  return trim;
}
