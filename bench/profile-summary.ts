/**
 * Summarises a V8 `.cpuprofile` (from `--cpu-prof`, see BENCHMARKS.md "Profiling"):
 * the functions with the most self time, then the most inclusive time (a text view of
 * the flame graph that Chrome DevTools or speedscope draw from the same file).
 *
 *   npx tsx bench/profile-summary.ts bench/results/prof/CPU.*.cpuprofile [rows] [filter regexp] [--last=<seconds>]
 *
 * `--last=12` keeps only the profile's last 12 seconds: the load's steady state, without
 * the start, the warm-up and the first sight of every contact.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const lastArg = process.argv.find((a) => a.startsWith('--last='));
const [file, rowsArg, filterArg] = process.argv.slice(2).filter((a) => a !== lastArg);
if (!file) {
  console.error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [rows] [filter regexp] [--last=<seconds>]');
  process.exit(2);
}
const rows = Number(rowsArg ?? 30);
const filter = new RegExp(filterArg ?? '.');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (n: ProfileNode) => {
  const { functionName, url, lineNumber } = n.callFrame;
  return `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
};

// Time per sampled node (µs), then per function: self, and inclusive (once per stack).
const perNode = new Map<number, number>();
const span = profile.timeDeltas.reduce((a, b) => a + b, 0);
const from = lastArg ? span - Number(lastArg.slice('--last='.length)) * 1e6 : 0;
let total = 0;
let at = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  at += dt;
  if (at < from) return;
  perNode.set(id, (perNode.get(id) ?? 0) + dt);
  total += dt;
});
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, t] of perNode) {
  const name = label(byId.get(id)!);
  self.set(name, (self.get(name) ?? 0) + t);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const k = label(byId.get(cur)!);
    if (seen.has(k)) continue;
    seen.add(k);
    inclusive.set(k, (inclusive.get(k) ?? 0) + t);
  }
}

const print = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  const top = [...m].filter(([k]) => filter.test(k)).sort((a, b) => b[1] - a[1]).slice(0, rows);
  for (const [k, t] of top) console.log(`${((100 * t) / total).toFixed(1).padStart(6)} %  ${(t / 1000).toFixed(0).padStart(7)} ms  ${k}`);
};
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled`);
print('self time', self);
print('inclusive time', inclusive);
