/**
 * Retry timing as data plus one pure function. The schedule lists the wait before each
 * retry; when it runs out the work is exhausted. Jitter (±20 %) spreads retries of many
 * items that failed together; a provider's Retry-After is honoured but clamped to
 * [scheduled wait, cap] so a hostile or broken value cannot stall or hammer.
 */
export interface RetryPolicy {
  scheduleMs: readonly number[];
  jitter: number; // 0.2 = ±20 %
  retryAfterCapMs: number;
}

export const SEND_RETRY_POLICY: RetryPolicy = {
  // 1 s, 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h: about 8 h in all.
  scheduleMs: [1_000, 5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000],
  jitter: 0.2,
  retryAfterCapMs: 3_600_000,
};

/**
 * Webhook deliveries: an immediate first attempt, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
 * 14 h, 20 h and 24 h (the Standard Webhooks recommendation): 10 attempts over about
 * 3 days 4 hours. A Retry-After may push a retry out to at most a day.
 */
export const DELIVERY_RETRY_POLICY: RetryPolicy = {
  scheduleMs: [5, 300, 1_800, 7_200, 18_000, 36_000, 50_400, 72_000, 86_400].map((s) => s * 1000),
  jitter: 0.2,
  retryAfterCapMs: 86_400_000,
};

/**
 * When to try again after failed attempt number `attempt` (1-based), or `undefined` when
 * the schedule is exhausted. `random` returns [0, 1) and is injected for tests.
 */
export function nextRetryDelay(
  policy: RetryPolicy, attempt: number, retryAfterMs: number | undefined, random: () => number = Math.random, floorMs = 0,
): number | undefined {
  const base = policy.scheduleMs[attempt - 1];
  if (base === undefined) return undefined;
  // The floor applies after overload signals (timeouts, 429): hammering a struggling endpoint helps nobody.
  const jittered = Math.max(floorMs, Math.round(base * (1 - policy.jitter + 2 * policy.jitter * random())));
  if (retryAfterMs === undefined || !Number.isFinite(retryAfterMs)) return jittered;
  return Math.min(Math.max(retryAfterMs, jittered), Math.max(policy.retryAfterCapMs, jittered));
}
