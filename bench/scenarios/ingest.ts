import { load } from '../lib/load.js';
import { launchBaseline, launchRoost, SB_SECRET, sendblueChannel, sendbluePayload } from '../lib/setup.js';
import type { Engine } from '../lib/setup.js';
import { peakRssMb } from '../lib/stats.js';

const CONTACTS = 10_000;

/**
 * Scenario 1: signed Sendblue receive webhooks at 50 connections, each a new message from
 * one of 10,000 contacts, against the real process; the same load against a bare
 * node:http server in the same run gives the machine's ceiling.
 */
export async function ingest(engine: Engine, seconds: number, nodes = 1) {
  const baseline = await launchBaseline();
  const base = await load({
    url: baseline.url, path: '/inbound', connections: 50, seconds,
    body: (i) => sendbluePayload(i, CONTACTS),
  });
  await baseline.close();

  const r = await launchRoost(engine);
  // More nodes share the first node's database (PostgreSQL), as behind a load balancer.
  const others = [];
  for (let n = 1; n < nodes; n++) others.push(await launchRoost(engine, {}, r.roost.databaseUrl));
  const all = [r, ...others];
  try {
    const channelId = await sendblueChannel(r.api);
    const run = (secs: number, offset: number) => Promise.all(all.map((node, k) => load({
      url: node.roost.url, path: `/inbound/${channelId}`, connections: Math.ceil(50 / all.length), seconds: secs,
      headers: { 'sb-signing-secret': SB_SECRET }, body: (i) => sendbluePayload(offset + k * 100_000_000 + i, CONTACTS),
    })));
    // Warm-up (JIT, connection pools, first contacts), then the measured run.
    await run(2, 10_000_000);
    const parts = await run(seconds, 0);
    const res = {
      requests: parts.reduce((s, p) => s + p.requests, 0),
      rps: parts.reduce((s, p) => s + p.rps, 0),
      errors: parts.reduce((s, p) => s + p.errors, 0),
      non2xx: parts.reduce((s, p) => s + p.non2xx, 0),
      latency: {
        p50: Math.max(...parts.map((p) => p.latency.p50)),
        p99: Math.max(...parts.map((p) => p.latency.p99)),
        p999: Math.max(...parts.map((p) => p.latency.p999)),
      },
    };
    const peak = Math.max(...all.map((node) => peakRssMb(node.roost.child.pid!)));
    return { baseline: base, roost: res, ratio: res.rps / base.rps, readyMs: r.readyMs, peakRssMb: peak, nodes };
  } finally {
    for (const node of others) await node.roost.stop();
    await r.close();
  }
}
