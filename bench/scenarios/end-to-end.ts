import { load } from '../lib/load.js';
import { launchRoost, SB_SECRET, sendblueChannel, sendbluePayload, startReceiver } from '../lib/setup.js';
import type { Engine } from '../lib/setup.js';
import { peakRssMb, summarize } from '../lib/stats.js';

/**
 * Scenarios 2 and 3: inbound message -> signed `message.created` at local receivers.
 * Latency is from the moment the provider's request is sent to the arrival of the event
 * at the receiver; throughput counts events received per second until the last arrives.
 */
export async function endToEnd(engine: Engine, seconds: number, webhooks: number) {
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  let arrivals = 0;
  let lastArrival = 0;
  const receiver = await startReceiver((_path, body, at) => {
    const text = (JSON.parse(body) as { message?: { content?: { text?: string } } }).message?.content?.text ?? '';
    const i = Number(text.slice(2));
    const t0 = sentAt.get(i);
    if (t0 !== undefined) latencies.push(at - t0);
    arrivals++;
    lastArrival = at;
  });
  const r = await launchRoost(engine);
  try {
    const channelId = await sendblueChannel(r.api);
    for (let w = 0; w < webhooks; w++) {
      const res = await r.api('POST', '/v1/webhooks', { events: ['message.created'], url: `${receiver.url}/hook/${w}` });
      if (res.status !== 201) throw new Error(`webhook: ${res.status} ${res.text}`);
    }
    const start = performance.now();
    const res = await load({
      url: r.roost.url, path: `/inbound/${channelId}`, connections: 50, seconds,
      headers: { 'sb-signing-secret': SB_SECRET },
      body: (i) => sendbluePayload(i, 10_000, `e:${i}`),
      onSend: (i) => sentAt.set(i, performance.now()),
    });
    const expected = res.requests * webhooks;
    const deadline = performance.now() + 60_000;
    while (arrivals < expected && performance.now() < deadline) await new Promise((x) => setTimeout(x, 50));
    const elapsedS = (lastArrival - start) / 1000;
    return {
      ingested: res.requests,
      delivered: arrivals,
      expected,
      eventsPerSecond: arrivals / elapsedS,
      messagesPerSecond: arrivals / webhooks / elapsedS,
      latency: summarize(latencies),
      peakRssMb: peakRssMb(r.roost.child.pid!),
    };
  } finally {
    await r.close();
    receiver.server.close();
  }
}
