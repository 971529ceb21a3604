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
export async function ingest(engine: Engine, seconds: number) {
  const baseline = await launchBaseline();
  const base = await load({
    url: baseline.url, path: '/inbound', connections: 50, seconds,
    body: (i) => sendbluePayload(i, CONTACTS),
  });
  await baseline.close();

  const r = await launchRoost(engine);
  try {
    const channelId = await sendblueChannel(r.api);
    // Warm-up (JIT, connection pools, first contacts), then the measured run.
    await load({ url: r.roost.url, path: `/inbound/${channelId}`, connections: 50, seconds: 2,
      headers: { 'sb-signing-secret': SB_SECRET }, body: (i) => sendbluePayload(10_000_000 + i, CONTACTS) });
    const res = await load({
      url: r.roost.url, path: `/inbound/${channelId}`, connections: 50, seconds,
      headers: { 'sb-signing-secret': SB_SECRET }, body: (i) => sendbluePayload(i, CONTACTS),
    });
    return { baseline: base, roost: res, ratio: res.rps / base.rps, readyMs: r.readyMs, peakRssMb: peakRssMb(r.roost.child.pid!) };
  } finally {
    await r.close();
  }
}
