import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/postgres.js';
import { TEST_ENGINE, apiClient, eventually, removeDataDir, startRoost } from '../helpers/roost-process.js';
import type { RoostProcess } from '../helpers/roost-process.js';

/**
 * Two `roost serve` nodes on one PostgreSQL database (issue: several nodes, one
 * database). Inbound traffic and deliveries go through both; one node is killed with
 * SIGKILL halfway. Afterwards: every inbound message is stored exactly once, every event
 * is delivered at least once and in order per conversation, and no delivery was ever
 * attempted by two nodes at the same time.
 */
describe.skipIf(TEST_ENGINE !== 'postgres')('two nodes on one PostgreSQL database', () => {
  const LIVE = 'live_cluster_key_0123456789abcdef';
  const SIGNING = 'cluster-signing-key-0123456789ab';
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let a: RoostProcess;
  let b: RoostProcess;
  let receiver: Server;
  let receiverUrl: string;
  const arrivals: Array<{ deliveryId: string; eventType: string; body: { message?: { id: string; conversationId: string; content: { text?: string } } } }> = [];
  const inFlight = new Map<string, number>();
  let overlaps = 0;

  beforeAll(async () => {
    db = await createTestDatabase('roost_cluster');
    receiver = createServer((req: IncomingMessage, res: ServerResponse) => {
      const deliveryId = String(req.headers['x-roost-delivery-id']);
      const n = (inFlight.get(deliveryId) ?? 0) + 1;
      inFlight.set(deliveryId, n);
      if (n > 1) overlaps++;
      // Counted out when the exchange ends either way (a killed node's request just closes).
      res.once('close', () => inFlight.set(deliveryId, (inFlight.get(deliveryId) ?? 1) - 1));
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        setTimeout(() => {
          arrivals.push({ deliveryId, eventType: String(req.headers['x-roost-event-type']), body: JSON.parse(body) });
          res.writeHead(200).end('ok');
        }, 20);
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
    const env = {
      ROOST_DATABASE_URL: db.url,
      ROOST_ACCESS_KEY: LIVE,
      ROOST_SIGNING_KEY: SIGNING,
      ROOST_WEBHOOK_TIMEOUT_MS: '1000',
      ROOST_WEBHOOK_RETRY_SCHEDULE: '0.2,0.2,0.5,1,1,1,1,1',
      ROOST_WEBHOOK_OVERLOAD_FLOOR_MS: '0',
      ROOST_DATABASE_POOL_SIZE: '6',
    };
    a = await startRoost({ env });
    b = await startRoost({ env });
  }, 60_000);

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    receiver?.close();
    if (a) await removeDataDir(a.dataDir);
    if (b) await removeDataDir(b.dataDir);
    await db?.drop();
  });

  it('shares the work, survives a SIGKILL of one node, and keeps every guarantee', async () => {
    const apiA = apiClient(a.url, LIVE);
    const channel = (await apiA('POST', '/v1/channels', { platformId: 'sandbox', name: 'cluster' })).json;
    expect((await apiA('POST', '/v1/webhooks', { events: ['message.created'], url: receiverUrl })).status).toBe(201);

    const TOTAL = 300;
    const CONVERSATIONS = 30;
    const acknowledged = new Set<string>();
    const post = async (node: RoostProcess, i: number) => {
      const res = await fetch(`${node.url}/inbound/${channel.id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: `m-${i}`, from: `+3161000${String(i % CONVERSATIONS).padStart(4, '0')}`, text: `m-${i}` }),
      });
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      acknowledged.add(`m-${i}`);
    };
    // Like a load balancer: alternate nodes; after B dies, its share goes to A (the retry
    // of a request whose answer was lost may hit A with the same provider id).
    for (let batch = 0; batch < TOTAL; batch += 30) {
      if (batch === TOTAL / 2) await b.kill();
      await Promise.all(Array.from({ length: 30 }, (_, k) => batch + k).map(async (i) => {
        const node = i % 2 === 0 || b.child.exitCode !== null || b.child.signalCode !== null ? a : b;
        try {
          await post(node, i);
        } catch {
          await post(a, i);
        }
      }));
    }
    expect(acknowledged.size).toBe(TOTAL);

    // Every event delivered at least once (B's leased work is taken over when leases lapse).
    await eventually(async () => {
      const seen = new Set(arrivals.map((x) => x.body.message?.content.text));
      return [...acknowledged].every((id) => seen.has(id));
    }, 45_000, 100);

    // Stored exactly once: one message per provider id across every conversation.
    const convs = (await apiA('GET', '/v1/conversations?limit=100')).json;
    expect(convs.totalCount).toBe(CONVERSATIONS);
    const texts: string[] = [];
    for (const c of convs.items) {
      const list = (await apiA('GET', `/v1/conversations/${c.id}/messages?limit=100`)).json;
      texts.push(...list.items.map((m: { content: { text: string } }) => m.content.text));
    }
    expect(texts).toHaveLength(TOTAL);
    expect(new Set(texts).size).toBe(TOTAL);

    // In order per conversation: first arrivals follow commit order (ids are time-ordered).
    const firstSeen = new Map<string, string[]>();
    const counted = new Set<string>();
    for (const x of arrivals) {
      const m = x.body.message!;
      if (counted.has(m.id)) continue;
      counted.add(m.id);
      firstSeen.set(m.conversationId, [...(firstSeen.get(m.conversationId) ?? []), m.id]);
    }
    for (const ids of firstSeen.values()) expect(ids).toEqual([...ids].sort());

    // Never the same delivery in flight twice at once.
    expect(overlaps).toBe(0);
  }, 120_000);
});
