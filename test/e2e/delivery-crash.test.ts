import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationsOf, createSandboxChannel, messagesOf, phoneFactory, postInbound } from '../helpers/e2e-fixtures.js';
import type { Api, ChannelView, Json } from '../helpers/e2e-fixtures.js';
import { apiClient, removeDataDir, startRoost } from '../helpers/roost-process.js';
import type { RoostProcess } from '../helpers/roost-process.js';
import { byType, startWebhookReceiver, waitForDeliveries, webhookTracker } from '../helpers/webhook-receiver.js';
import type { ReceivedRequest, WebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * Durability and throughput of webhook delivery against the real process: a SIGKILL in
 * the middle of a delivery backlog loses nothing and keeps per-conversation order after
 * the restart; a 1500-delivery burst goes out quickly; a slow endpoint is capped at
 * ROOST_DELIVERY_PER_WEBHOOK and does not hold a fast one back.
 */

const textOf = (r: ReceivedRequest): string => r.json?.message?.content?.text ?? '';
const messageIdOf = (r: ReceivedRequest): string => r.json?.message?.id ?? '';

/** The first error lines Roost logged (pino level 50), for assertion messages. */
function serverErrors(roost: RoostProcess): string {
  const lines = roost.output().split('\n').filter((l) => l.includes('"level":50'));
  return lines.length === 0 ? 'roost logged no errors' : `roost logged ${lines.length} errors, first: ${lines[0]!.slice(0, 600)}`;
}

/** First arrival order of message ids, per conversation. */
function firstArrivals(reqs: ReceivedRequest[]): Map<string, string[]> {
  const seen = new Set<string>();
  const out = new Map<string, string[]>();
  for (const r of reqs) {
    const id = messageIdOf(r);
    if (seen.has(id)) continue;
    seen.add(id);
    const conv = r.json.conversation.id as string;
    out.set(conv, [...(out.get(conv) ?? []), id]);
  }
  return out;
}

/**
 * POSTs `perConversation` messages for each sender, one sequential stream per sender (so
 * commit order is known), `parallel` senders at a time. Returns the texts Roost
 * acknowledged; stops a stream at its first failure (e.g. the process was killed).
 */
async function postStreams(
  channel: () => ChannelView, senders: string[], perConversation: number, parallel: number, label: string,
): Promise<{ acked: Set<string>; failed: number; errors: string[] }> {
  const acked = new Set<string>();
  const errors: string[] = [];
  let failed = 0;
  const queue = [...senders.entries()];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [i, from] = next;
      for (let j = 1; j <= perConversation; j++) {
        const text = `${label}${i}-m${j}`;
        try {
          const res = await postInbound(channel().inboundUrl, { from, text });
          if (res.status !== 200) throw new Error(`status ${res.status}: ${res.text}`);
          acked.add(text);
        } catch (err) {
          errors.push(`${text}: ${String(err)}${err instanceof Error && err.cause ? ` (${String(err.cause)})` : ''}`);
          failed++;
          break;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { acked, failed, errors };
}

describe('webhook delivery survives a crash (SIGKILL mid-backlog)', () => {
  const ENV = {
    ROOST_WEBHOOK_RETRY_SCHEDULE: '0.2,0.2,0.2,0.5,1,1,1,2,2,2',
    ROOST_WEBHOOK_OVERLOAD_FLOOR_MS: '0',
    ROOST_WEBHOOK_TIMEOUT_MS: '1000',
  };
  let first: RoostProcess;
  let second: RoostProcess | undefined;
  let receiver: WebhookReceiver;
  const phone = phoneFactory();

  beforeAll(async () => {
    [first, receiver] = await Promise.all([startRoost({ env: ENV }), startWebhookReceiver()]);
    receiver.delay(300);
  });

  afterAll(async () => {
    await first?.kill();
    await second?.stop();
    await receiver?.close();
    if (first) await removeDataDir(first.dataDir);
  });

  it('delivers every acknowledged inbound message at least once, in commit order per conversation', async () => {
    const liveKey = first.liveKey!;
    const api1 = apiClient(first.url, liveKey);
    let channel = await createSandboxChannel(api1);
    const hook = await webhookTracker(api1).create({ url: receiver.urlFor('/crash'), events: ['message.created'] });

    const senders = Array.from({ length: 20 }, () => phone());
    const posting = postStreams(() => channel, senders, 10, 20, 'c');

    // Kill while deliveries are in flight (the receiver holds every answer for 300 ms).
    await receiver.waitFor((rs) => rs.length >= 30 && receiver.inFlight() > 0, 20_000, 'deliveries in flight');
    await first.kill();
    const killedAt = Date.now();
    const { acked } = await posting;
    const beforeRestart = receiver.requests.length;
    expect(acked.size, 'some inbound messages were acknowledged before the crash').toBeGreaterThan(0);

    second = await startRoost({ dataDir: first.dataDir, env: ENV });
    const api2 = apiClient(second.url, liveKey);
    channel = { ...channel, inboundUrl: `${second.url}/inbound/${channel.id}` };

    // Every acknowledged message reaches the receiver at least once.
    await receiver.waitFor((rs) => {
      const texts = new Set(rs.filter(byType('message.created')).map(textOf));
      return [...acked].every((t) => texts.has(t));
    }, 30_000, `all ${acked.size} acknowledged messages delivered`);
    expect(receiver.requests.length).toBeGreaterThan(beforeRestart);
    expect(receiver.requests.some((r) => r.receivedAt > killedAt)).toBe(true);

    // Nothing stored is lost either: every message Roost committed (acknowledged or not) is delivered.
    const stored: Json[] = [];
    for (const from of senders) {
      for (const conv of await conversationsOf(api2, from)) stored.push(...(await messagesOf(api2, conv.id)).items);
    }
    expect(stored.length).toBeGreaterThanOrEqual(acked.size);
    const storedTexts = new Set(stored.map((m: Json) => m.content.text as string));
    for (const t of acked) expect(storedTexts.has(t), `${t} was stored`).toBe(true);
    await waitForDeliveries(api2, hook.id, (ds) => ds.length === stored.length && ds.every((d: Json) => d.status === 'succeeded'),
      30_000, 'every delivery succeeded after the restart');
    const received = receiver.requests.filter(byType('message.created'));
    const receivedIds = new Set(received.map(messageIdOf));
    for (const m of stored) expect(receivedIds.has(m.id), `message ${m.id} (${m.content.text}) delivered`).toBe(true);

    // Per conversation, first arrivals are in commit order (ids are time-ordered UUIDv7).
    const arrivals = firstArrivals(received);
    expect(arrivals.size).toBe(new Set(stored.map((m: Json) => m.conversationId)).size);
    for (const [conv, ids] of arrivals) {
      expect(ids, `conversation ${conv}`).toEqual([...ids].sort());
      const js = ids.map((id) => Number(/-m(\d+)$/.exec(textOf(received.find((r) => messageIdOf(r) === id)!))![1]));
      expect(js, `conversation ${conv}: post order`).toEqual([...js].sort((a, b) => a - b));
    }
    const duplicates = received.length - receivedIds.size;
    expect(duplicates).toBeGreaterThanOrEqual(0); // at least once: an attempt cut by the crash is made again
  });
});

describe('webhook delivery across a graceful stop (SIGTERM mid-backlog)', () => {
  const ENV = { ROOST_WEBHOOK_RETRY_SCHEDULE: '0.2,0.2,0.2', ROOST_WEBHOOK_OVERLOAD_FLOOR_MS: '0', ROOST_WEBHOOK_TIMEOUT_MS: '2000' };
  let first: RoostProcess;
  let second: RoostProcess | undefined;
  let receiver: WebhookReceiver;
  const phone = phoneFactory();

  beforeAll(async () => {
    [first, receiver] = await Promise.all([startRoost({ env: ENV }), startWebhookReceiver()]);
    receiver.delay(400);
  });

  afterAll(async () => {
    await first?.kill();
    await second?.stop();
    await receiver?.close();
    if (first) await removeDataDir(first.dataDir);
  });

  it('lets attempts in flight finish and be recorded: after the restart the backlog continues without repeats', async () => {
    const liveKey = first.liveKey!;
    const api1 = apiClient(first.url, liveKey);
    const channel = await createSandboxChannel(api1);
    const hook = await webhookTracker(api1).create({ url: receiver.urlFor('/graceful'), events: ['message.created'] });
    const senders = Array.from({ length: 10 }, () => phone());
    const { acked, errors } = await postStreams(() => channel, senders, 4, 10, 'g');
    expect(errors, serverErrors(first)).toEqual([]);
    expect(acked.size).toBe(40);

    await receiver.waitFor((rs) => rs.length >= 5 && receiver.inFlight() > 0, 10_000, 'deliveries in flight');
    expect(await first.stop(), 'exit code of a graceful stop').toBe(0);
    expect(receiver.inFlight(), 'the stop waited for the answers').toBe(0);
    const beforeRestart = receiver.requests.length;
    expect(beforeRestart).toBeLessThan(40);

    second = await startRoost({ dataDir: first.dataDir, env: ENV });
    const api2 = apiClient(second.url, liveKey);
    await waitForDeliveries(api2, hook.id, (ds) => ds.length === 40 && ds.every((d: Json) => d.status === 'succeeded'),
      20_000, 'every delivery succeeded after the restart');
    await receiver.waitFor((rs) => new Set(rs.map(textOf)).size === 40, 5_000, 'all 40 texts received');
    const texts = receiver.requests.map(textOf);
    expect(texts.length, 'each message delivered exactly once').toBe(40);
    expect(new Set(texts)).toEqual(acked);
    for (const [conv, ids] of firstArrivals(receiver.requests)) expect(ids, `conversation ${conv}`).toEqual([...ids].sort());
  });
});

describe('the per-webhook cap holds when many deliveries of one webhook fall due together', () => {
  // A long poll interval makes due retries pile up between two claims, as a busy node's would.
  const ENV = {
    ROOST_WEBHOOK_RETRY_SCHEDULE: '0.5,0.5,0.5',
    ROOST_WEBHOOK_OVERLOAD_FLOOR_MS: '0',
    ROOST_DELIVERY_CONCURRENCY: '16',
    ROOST_DELIVERY_PER_WEBHOOK: '4',
    ROOST_POLL_INTERVAL_MS: '1000',
  };
  const PER_WEBHOOK = 4;
  let roost: RoostProcess;
  let slow: WebhookReceiver;
  const phone = phoneFactory();

  beforeAll(async () => {
    [roost, slow] = await Promise.all([startRoost({ env: ENV }), startWebhookReceiver()]);
  });

  afterAll(async () => {
    await roost?.kill();
    await slow?.close();
    if (roost) await removeDataDir(roost.dataDir);
  });

  it(`never has more than ROOST_DELIVERY_PER_WEBHOOK (${PER_WEBHOOK}) requests in flight to one webhook`, async () => {
    const api = apiClient(roost.url, roost.liveKey!);
    const channel = await createSandboxChannel(api);
    const firstSeen = new Set<string>();
    // First attempt of each delivery: a quick 503 "come back in 1 s"; later attempts: a slow 200.
    slow.respondWith((r) => {
      const id = String(r.headers['x-roost-delivery-id']);
      if (!firstSeen.has(id)) {
        firstSeen.add(id);
        return { status: 503, headers: { 'retry-after': '1' }, body: 'busy' };
      }
      return { status: 200, delayMs: 1_500 };
    });
    await webhookTracker(api).create({ url: slow.urlFor('/capped'), events: ['message.created'] });
    const { acked, errors } = await postStreams(() => channel, Array.from({ length: 30 }, () => phone()), 1, 10, 'cap');
    expect(errors, serverErrors(roost)).toEqual([]);
    expect(acked.size).toBe(30);

    await slow.waitForCount(30, (r) => firstSeen.has(String(r.headers['x-roost-delivery-id'])), 10_000);
    await slow.waitFor((rs) => rs.length >= 30 + 2 * PER_WEBHOOK, 10_000, 'retries under way');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(slow.maxInFlight(), 'requests in flight to the webhook at once').toBeLessThanOrEqual(PER_WEBHOOK);
  });
});

describe('webhook delivery throughput', () => {
  const ENV = {
    ROOST_WEBHOOK_RETRY_SCHEDULE: '0.2,0.2,0.2',
    ROOST_WEBHOOK_OVERLOAD_FLOOR_MS: '0',
    ROOST_DELIVERY_CONCURRENCY: '16',
    ROOST_DELIVERY_PER_WEBHOOK: '8',
  };
  const PER_WEBHOOK = 8;
  let roost: RoostProcess;
  let api: Api;
  let channel: ChannelView;
  let fast: WebhookReceiver;
  let slow: WebhookReceiver;
  let hooks: ReturnType<typeof webhookTracker>;
  const phone = phoneFactory();

  beforeAll(async () => {
    [roost, fast, slow] = await Promise.all([startRoost({ env: ENV }), startWebhookReceiver(), startWebhookReceiver()]);
    api = apiClient(roost.url, roost.liveKey!);
    hooks = webhookTracker(api);
    channel = await createSandboxChannel(api);
  });

  afterAll(async () => {
    await roost?.kill(); // the slow backlog need not drain
    await Promise.all([fast?.close(), slow?.close()]);
    if (roost) await removeDataDir(roost.dataDir);
  });

  it('delivers 500 inbound messages to 3 generic webhooks (1500 deliveries) within ~15 s, in order per conversation', async () => {
    for (const p of ['/t1', '/t2', '/t3']) await hooks.create({ url: fast.urlFor(p), events: ['message.created'] });
    const senders = Array.from({ length: 50 }, () => phone());
    const started = Date.now();
    const { acked, errors } = await postStreams(() => channel, senders, 10, 25, 't');
    expect(errors, serverErrors(roost)).toEqual([]);
    expect(acked.size).toBe(500);
    const posted = Date.now();
    await fast.waitForCount(1500, byType('message.created'), 30_000);
    const done = Date.now();
    expect(done - posted, `posting took ${posted - started} ms, the last delivery came ${done - posted} ms after it`).toBeLessThan(15_000);

    for (const p of ['/t1', '/t2', '/t3']) {
      const reqs = fast.requestsTo(p);
      expect(new Set(reqs.map(messageIdOf)).size).toBe(500);
      for (const [conv, ids] of firstArrivals(reqs)) expect(ids, `${p} conversation ${conv}`).toEqual([...ids].sort());
    }
    await hooks.removeAll();
  }, 60_000);

  it('caps a slow endpoint at ROOST_DELIVERY_PER_WEBHOOK and keeps a fast one quick', async () => {
    fast.clear();
    slow.clear();
    slow.delay(2_000);
    await hooks.create({ url: fast.urlFor('/fast'), events: ['message.created'] });
    await hooks.create({ url: slow.urlFor('/slow'), events: ['message.created'] });

    const senders = Array.from({ length: 50 }, () => phone());
    const { acked, errors } = await postStreams(() => channel, senders, 2, 25, 's');
    expect(errors, serverErrors(roost)).toEqual([]);
    expect(acked.size).toBe(100);
    const posted = Date.now();
    await fast.waitForCount(100, (r) => r.path === '/fast', 15_000);
    const lag = Date.now() - posted;
    expect(lag, `the fast endpoint got everything ${lag} ms after the last post`).toBeLessThan(5_000);
    expect(slow.requests.length, 'the slow endpoint is being served meanwhile').toBeGreaterThan(0);
    expect(slow.maxInFlight(), 'requests in flight to the slow endpoint').toBeLessThanOrEqual(PER_WEBHOOK);
  });
});
