/** Percentiles over a list of samples (nearest-rank). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function summarize(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  return { count: s.length, p50: percentile(s, 50), p99: percentile(s, 99), p999: percentile(s, 99.9), max: s[s.length - 1] ?? NaN };
}

import { readFileSync } from 'node:fs';

/** Peak resident set (VmHWM) of a process, in MB, from /proc. */
export function peakRssMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Clock ticks per second of /proc's CPU times (USER_HZ; 100 on Linux). */
const TICKS_PER_SECOND = 100;

/**
 * CPU time a process has used, µs, in all (`/proc/<pid>/stat`) and on its main thread
 * (`/proc/<pid>/task/<pid>/stat`: for Roost, the event loop), user + system. NaN off Linux.
 */
export function cpuMicros(pid: number): { all: number; main: number } {
  const read = (path: string) => {
    try {
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const f = readFileSync(path, 'utf8').split(') ').at(-1)!.split(' ');
      return ((Number(f[11]) + Number(f[12])) * 1e6) / TICKS_PER_SECOND;
    } catch {
      return NaN;
    }
  };
  return { all: read(`/proc/${pid}/stat`), main: read(`/proc/${pid}/task/${pid}/stat`) };
}
