import { openLoop } from '../lib/open-loop.js';
import { launchReceiver, launchRoost, SB_SECRET, sendblueChannel } from '../lib/setup.js';
import type { Engine } from '../lib/setup.js';
import { cpuMicros, peakRssMb, summarize } from '../lib/stats.js';

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
  /** CPU the load generator spent per request, µs: what the provider's side cost the shared cores. */
  generatorMicrosPerRequest: number;
  /** CPU the receiver spent per event, µs (the customer's side). */
  receiverMicrosPerEvent: number;
  /** CPU Roost spent per message, µs, in all its threads and on its event loop. */
  roostMicrosPerMessage: { all: number; eventLoop: number };
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
  // Arrivals by message number; latencies are worked out after each step from the
  // generator's schedule (message i of a step was due at t0 + i / rate).
  let arrivedAt: Array<[number, number]> = [];
  let lastArrival = 0;
  const receiver = await launchReceiver((text, at) => {
    arrivedAt.push([Number(text.slice(2)), at]);
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
      arrivedAt = [];
      const offset = next;
      const receiverCpu = await receiver.cpuMicros();
      const roostCpu = cpuMicros(r.roost.child.pid!);
      const res = await openLoop({
        url: r.roost.url, path: `/inbound/${channelId}`, connections: 50, seconds: secs, rate,
        headers: { 'sb-signing-secret': SB_SECRET }, offset, contacts: 10_000,
      });
      next += res.requests + 1;
      const expected = res.requests * webhooks;
      const deadline = performance.now() + 30_000;
      while (arrivedAt.length < expected && performance.now() < deadline) await new Promise((x) => setTimeout(x, 20));
      const latencies = arrivedAt
        .filter(([n]) => n >= offset && n < offset + res.requests)
        .map(([n, at]) => at - (res.t0Epoch + ((n - offset) * 1000) / rate));
      const arrivals = arrivedAt.length;
      const roostUsed = cpuMicros(r.roost.child.pid!);
      const receiverMicrosPerEvent = ((await receiver.cpuMicros()) - receiverCpu) / Math.max(1, arrivals);
      const elapsedS = (lastArrival - res.t0Epoch) / 1000;
      const latency = summarize(latencies);
      const acks = res.ackLatencies.filter((x) => !Number.isNaN(x));
      return {
        offered: rate, ingested: res.requests, delivered: arrivals, expected, ack: summarize(acks),
        generatorMicrosPerRequest: res.cpuMicros / res.requests, receiverMicrosPerEvent,
        roostMicrosPerMessage: { all: (roostUsed.all - roostCpu.all) / res.requests, eventLoop: (roostUsed.main - roostCpu.main) / res.requests },
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
