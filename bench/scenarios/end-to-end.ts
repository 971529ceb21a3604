import { openLoop } from '../lib/open-loop.js';
import { launchReceiver, launchRoost, SB_SECRET, sendblueChannel, sendbluePayload } from '../lib/setup.js';
import type { Engine } from '../lib/setup.js';
import { peakRssMb, summarize } from '../lib/stats.js';

/** A rate is held when p99 from provider request to receiver stays under this. */
export const E2E_P99_LIMIT_MS = 100;

export interface RateStep {
  offered: number;
  ingested: number;
  delivered: number;
  expected: number;
  /** Events received per second over the step (until the last arrival). */
  eventsPerSecond: number;
  messagesPerSecond: number;
  latency: ReturnType<typeof summarize>;
  /** The provider's view: time to Roost's durable acknowledgement. */
  ack: ReturnType<typeof summarize>;
  held: boolean;
}

/**
 * Scenarios 2 and 3: inbound message -> signed `message.created` at local receivers.
 *
 * Open loop, as a provider sends: each step offers a fixed rate of new messages for
 * `seconds` on a schedule that does not wait for answers, then waits for every event. Latency is
 * from the moment the provider's request is sent to the event's arrival at the receiver.
 * The ladder climbs until a step is not held (p99 over E2E_P99_LIMIT_MS, or not every event
 * delivered within 30 s); the result is the highest rate held. A closed loop would only
 * measure how far ingest can outrun delivery.
 */
export async function endToEnd(engine: Engine, seconds: number, webhooks: number, rates: number[]) {
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  let arrivals = 0;
  let lastArrival = 0;
  const epoch = () => performance.timeOrigin + performance.now();
  const receiver = await launchReceiver((text, at) => {
    const t0 = sentAt.get(Number(text.slice(2)));
    if (t0 !== undefined) latencies.push(at - t0);
    arrivals++;
    lastArrival = Math.max(lastArrival, at);
  });
  const r = await launchRoost(engine);
  const steps: RateStep[] = [];
  let next = 0;
  try {
    const channelId = await sendblueChannel(r.api);
    for (let w = 0; w < webhooks; w++) {
      const res = await r.api('POST', '/v1/webhooks', { events: ['message.created'], url: `${receiver.url}/hook/${w}` });
      if (res.status !== 201) throw new Error(`webhook: ${res.status} ${res.text}`);
    }
    const step = async (rate: number, secs: number): Promise<RateStep> => {
      latencies.length = 0;
      arrivals = 0;
      const offset = next;
      const start = epoch();
      const res = await openLoop({
        url: r.roost.url, path: `/inbound/${channelId}`, connections: 50, seconds: secs, rate,
        headers: { 'sb-signing-secret': SB_SECRET },
        body: (i) => sendbluePayload(offset + i, 10_000, `e:${offset + i}`),
        onSend: (i, dueAt) => sentAt.set(offset + i, performance.timeOrigin + dueAt),
      });
      next += res.requests + 1;
      const expected = res.requests * webhooks;
      const deadline = performance.now() + 30_000;
      while (arrivals < expected && performance.now() < deadline) await new Promise((x) => setTimeout(x, 20));
      sentAt.clear();
      const elapsedS = (lastArrival - start) / 1000;
      const latency = summarize(latencies);
      return {
        offered: rate, ingested: res.requests, delivered: arrivals, expected, ack: summarize(res.ackLatencies),
        eventsPerSecond: arrivals / elapsedS, messagesPerSecond: arrivals / webhooks / elapsedS, latency,
        held: arrivals >= expected && res.errors + res.non2xx === 0 && latency.p99 < E2E_P99_LIMIT_MS,
      };
    };
    await step(rates[0]!, 2); // warm-up: JIT, sockets, first contacts
    for (const rate of rates) {
      const s = await step(rate, seconds);
      steps.push(s);
      if (!s.held) break;
    }
    const best = steps.filter((s) => s.held).at(-1);
    return { webhooks, steps, best, peakRssMb: peakRssMb(r.roost.child.pid!) };
  } finally {
    await r.close();
    await receiver.close();
  }
}
