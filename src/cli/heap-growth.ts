import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the event loop's old generation grow past what the last full GC kept:
 * 100 % (twice the live set) instead of V8's own choice, which is up to four times when
 * the thread has slack. Since SQL moved to the writer thread the event loop has slack
 * under load, and its old generation grew to ~100 MB over a live set of ~25 MB; with this
 * limit the peak RSS of the end-to-end benchmark at 3,000–4,000 msg/s fell from 258–292
 * to ~210 MB at the same latency (BENCHMARKS.md). V8 reads the flag at each full GC, so
 * setting it once at start is enough; a server process only (`roost serve`).
 */
export function limitHeapGrowth(percent = 100): void {
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}
