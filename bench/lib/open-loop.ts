import { Pool } from 'undici';

export interface OpenLoopResult {
  requests: number;
  errors: number;
  non2xx: number;
  /** Acknowledgement latency, ms, from the scheduled send time (no coordinated omission). */
  ackLatencies: number[];
}

/**
 * Sends `rate` requests per second for `seconds`, on a schedule that does not wait for
 * answers (as a provider sends), over a keep-alive pool of `connections`. Every request is
 * timed from the moment it was due, so a stalled server shows up as latency rather than as
 * a lower offered rate. `onSend(i, dueAt)` gets each request's due time (performance.now()).
 */
export async function openLoop(opts: {
  url: string;
  path: string;
  rate: number;
  seconds: number;
  connections: number;
  headers: Record<string, string>;
  body: (i: number) => string;
  onSend?: (i: number, dueAt: number) => void;
}): Promise<OpenLoopResult> {
  const pool = new Pool(opts.url, { connections: opts.connections, pipelining: 1, keepAliveTimeout: 30_000 });
  const total = Math.round(opts.rate * opts.seconds);
  const result: OpenLoopResult = { requests: 0, errors: 0, non2xx: 0, ackLatencies: [] };
  const pending: Array<Promise<void>> = [];
  const t0 = performance.now();
  let i = 0;
  while (i < total) {
    const now = performance.now();
    // Everything due by now goes out in this turn; then sleep about a millisecond.
    const dueCount = Math.min(total, Math.floor(((now - t0) * opts.rate) / 1000) + 1);
    for (; i < dueCount; i++) {
      const dueAt = t0 + (i * 1000) / opts.rate;
      opts.onSend?.(i, dueAt);
      pending.push(
        pool.request({ method: 'POST', path: opts.path, headers: { 'content-type': 'application/json', ...opts.headers }, body: opts.body(i) })
          .then(async (res) => {
            await res.body.dump();
            result.ackLatencies.push(performance.now() - dueAt);
            if (res.statusCode < 200 || res.statusCode >= 300) result.non2xx++;
          }, () => {
            result.errors++;
          }),
      );
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  result.requests = total;
  await pool.close();
  return result;
}
