import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { E2E_P99_LIMIT_MS, endToEnd } from './scenarios/end-to-end.js';
import { history } from './scenarios/history.js';
import { ingest } from './scenarios/ingest.js';
import type { Engine } from './lib/setup.js';

/**
 * `npm run bench [-- --engine sqlite|postgres] [--seconds N] [--only ingest,e2e,fanout,history] [--nodes N]
 *   [--rates 500,1000,...] [--fanout-rates 100,250,...]`
 * Runs every scenario against the real `roost` process on loopback, each bounded in time,
 * and prints one table. Results are also written to bench/results/.
 */
const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const engine = arg('engine', 'sqlite') as Engine;
if (engine !== 'sqlite' && engine !== 'postgres') throw new Error('--engine must be sqlite or postgres');
const seconds = Number(arg('seconds', '10'));
const only = new Set(arg('only', 'ingest,e2e,fanout,history').split(','));
const nodes = Number(arg('nodes', '1'));
// Offered rates (messages/s) of the end-to-end ladders; each stops at the first rate not held.
const rates = arg('rates', '250,500,1000,1500,2000,3000,4000,5000').split(',').map(Number);
const fanoutRates = arg('fanout-rates', '100,250,500,750,1000,1500,2000').split(',').map(Number);
if (nodes > 1 && engine !== 'postgres') throw new Error('--nodes > 1 needs --engine postgres (one SQLite file has one node)');

const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');
const rows: string[][] = [];
const out: Record<string, unknown> = {
  date: new Date().toISOString(), engine, seconds, node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model,
  memoryGb: Math.round(totalmem() / 2 ** 30),
};
let peak = 0;

if (only.has('ingest')) {
  const r = await ingest(engine, seconds, nodes);
  out.ingest = r;
  peak = Math.max(peak, r.peakRssMb);
  rows.push(['1 ingest (bare node:http)', `${fmt(r.baseline.rps, 0)} req/s`, fmt(r.baseline.latency.p50), fmt(r.baseline.latency.p99), fmt(r.baseline.latency.p999), '']);
  rows.push([`1 ingest (roost${nodes > 1 ? ` × ${nodes} nodes` : ''}, durable ack)`, `${fmt(r.roost.rps, 0)} msg/s`, fmt(r.roost.latency.p50), fmt(r.roost.latency.p99), fmt(r.roost.latency.p999),
    `${fmt(r.ratio * 100, 0)}% of ceiling; errors ${r.roost.errors + r.roost.non2xx}`]);
  rows.push(['5 start to ready', `${fmt(r.readyMs, 0)} ms`, '', '', '', '']);
}
const ladder = (label: string, r: Awaited<ReturnType<typeof endToEnd>>) => {
  for (const st of r.steps) {
    rows.push([`${label}, offered ${st.offered} msg/s`, `${fmt(st.messagesPerSecond, 0)} msg/s${r.webhooks > 1 ? ` (${fmt(st.eventsPerSecond, 0)} deliveries/s)` : ''}`,
      fmt(st.latency.p50), fmt(st.latency.p99), fmt(st.latency.p999),
      `${st.held ? 'held' : 'NOT held'}; ack p50 ${fmt(st.ack.p50)}, p99 ${fmt(st.ack.p99)} ms; ${st.delivered}/${st.expected} delivered; CPU per message: Roost ${fmt(st.roostMicrosPerMessage.all, 0)} µs (event loop ${fmt(st.roostMicrosPerMessage.eventLoop, 0)}), generator ${fmt(st.generatorMicrosPerRequest, 0)}, receiver ${fmt(st.receiverMicrosPerEvent, 0)}`]);
  }
  rows.push([`${label}: highest rate held (p99 < ${E2E_P99_LIMIT_MS} ms)`, r.best ? `${r.best.offered} msg/s` : 'none', '', '', '', '']);
};
if (only.has('e2e')) {
  const r = await endToEnd(engine, seconds, 1, rates);
  out.endToEnd = r;
  peak = Math.max(peak, r.peakRssMb);
  ladder('2 end to end (1 webhook)', r);
}
if (only.has('fanout')) {
  const r = await endToEnd(engine, seconds, 5, fanoutRates);
  out.fanout = r;
  peak = Math.max(peak, r.peakRssMb);
  ladder('3 fan-out (5 webhooks)', r);
}
if (peak > 0) rows.push(['5 peak RSS during 1-3', `${fmt(peak, 0)} MB`, '', '', '', '']);
if (only.has('history')) {
  const r = await history(engine, 1000);
  out.history = r;
  rows.push(['4 history: seed 1M messages', `${fmt(r.seedSeconds)} s`, '', '', '', '']);
  for (const [name, s] of [['first page', r.firstPage], ['page 50,000 deep', r.deepPage], ['conversations', r.conversations],
    ['conversations status+offset', r.conversationsFiltered], ['conversations by 10 ids', r.conversationsByIds]] as const) {
    rows.push([`4 history: ${name}`, '', fmt(s.p50, 2), fmt(s.p99, 2), fmt(s.p999, 2), '']);
  }
}

const header = ['scenario', 'throughput', 'p50 ms', 'p99 ms', 'p99.9 ms', 'notes'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(`\nRoost benchmark — engine ${engine}, ${seconds} s per load, ${out.cpus} × ${out.cpuModel}, Node ${process.version}`);
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) console.log(line(r));
const dir = resolve(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(resolve(dir, `${new Date().toISOString().slice(0, 19).replace(/:/g, '')}-${engine}.json`), JSON.stringify(out, null, 2));
