/**
 * The store's own cost of an inbound message, without HTTP: SQLite, messages from 10,000
 * contacts ingested in groups of 50 (as under load), after 5,000 to warm up.
 * `--deliveries`: a webhook is subscribed, and each group's deliveries are then claimed
 * and recorded as acknowledged, as the dispatcher does (the end-to-end path's writes).
 *
 *   npx tsx bench/store-cost.ts [messages] [--deliveries]   CPU µs per message (noisy on a shared host)
 *   valgrind --tool=callgrind node --import tsx bench/store-cost.ts 5000   then with 15000:
 *     the difference in instructions / 10,000 = instructions per message, repeatable
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InboundMessage } from '../src/channels/connector.js';
import type { Channel, Workspace } from '../src/domain/records.js';
import { newId } from '../src/domain/ids.js';
import { claimDeliveries } from '../src/delivery/claim.js';
import { recordDeliveryAttempt } from '../src/delivery/record.js';
import { DELIVERY_RETRY_POLICY } from '../src/domain/retry.js';
import type { WebhookId } from '../src/domain/ids.js';
import { ingestMessage } from '../src/ingest/ingest-message.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';

const messages = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 20_000);
const deliveries = process.argv.includes('--deliveries');
const dir = mkdtempSync(join(tmpdir(), 'roost-store-cost-'));
const store = new SqliteStore(join(dir, 'roost.db'));
const now = Date.now();
const ws: Workspace = { id: newId(), name: 'bench', signingKey: 'k'.repeat(32), createdAt: now };
const channel: Channel = {
  id: newId(), workspaceId: ws.id, name: 'bench', platformId: 'sendblue', status: 'active', settings: {}, secrets: {},
  createdAt: now, updatedAt: now,
};
await store.transaction(async (tx) => {
  await tx.insertWorkspace(ws);
  await tx.insertChannel(channel);
  if (deliveries) {
    await tx.insertWebhook({
      id: newId() as WebhookId, workspaceId: ws.id, channelId: null, url: 'http://127.0.0.1:9/hook', events: ['message.created'],
      status: 'enabled', settings: null, firstFailureAt: null, disabledReason: null, createdAt: now, updatedAt: null,
    });
  }
});
const policy = { retry: DELIVERY_RETRY_POLICY, overloadFloorMs: 5_000, disableAfterMs: 86_400_000 };

/** What the dispatcher writes for a group's deliveries: one claim, then a record each. */
const deliver = async () => {
  const claimed = await store.run(claimDeliveries, { now: Date.now(), leaseMs: 30_000, room: 256, perWebhook: 256, inFlight: [], saturated: [] });
  await Promise.all(claimed.map((c) => store.run(recordDeliveryAttempt, {
    delivery: c.delivery, url: c.url, result: { kind: 'acknowledged', statusCode: 200, excerpt: '' }, attemptedAt: Date.now(),
    durationMs: 1, now: Date.now(), policy,
  })));
};

let i = 0;
const item = (n: number): InboundMessage => ({
  kind: 'message', providerMessageId: `bench-${n}`, contact: { key: 'phonenumber', value: `+1555${String(1_000_000 + (n % 10_000)).slice(1)}` },
  type: 'text', content: { text: `bench message ${n}` }, from: 'from', to: 'to',
});
const run = async (n: number) => {
  for (let b = 0; b < n / 50; b++) {
    await Promise.all(Array.from({ length: 50 }, () => {
      const it = item(i++);
      return store.transaction((tx) => ingestMessage(tx, channel, it, Date.now()));
    }));
    if (deliveries) await deliver();
  }
};

await run(5_000);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await run(messages);
const cpu = process.cpuUsage(cpu0);
console.log(`${messages} messages${deliveries ? ' (ingested, delivered)' : ''}: ${((cpu.user + cpu.system) / messages).toFixed(1)} µs of CPU and ${(((performance.now() - t0) * 1000) / messages).toFixed(1)} µs of wall time per message`);
await store.close();
rmSync(dir, { recursive: true, force: true });
