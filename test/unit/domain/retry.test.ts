import { describe, expect, it } from 'vitest';
import { nextRetryDelay, SEND_RETRY_POLICY } from '../../../src/domain/retry.js';
import type { RetryPolicy } from '../../../src/domain/retry.js';

const policy: RetryPolicy = { scheduleMs: [1_000, 10_000, 100_000], jitter: 0.2, retryAfterCapMs: 50_000 };
const fixed = (r: number) => () => r;
const ALMOST_ONE = 1 - Number.EPSILON;

describe('nextRetryDelay', () => {
  it('uses the scheduled wait for each attempt with a centred random', () => {
    expect(nextRetryDelay(policy, 1, undefined, fixed(0.5))).toBe(1_000);
    expect(nextRetryDelay(policy, 2, undefined, fixed(0.5))).toBe(10_000);
    expect(nextRetryDelay(policy, 3, undefined, fixed(0.5))).toBe(100_000);
  });

  it('jitters down by at most the jitter fraction', () => {
    expect(nextRetryDelay(policy, 1, undefined, fixed(0))).toBe(800);
    expect(nextRetryDelay(policy, 2, undefined, fixed(0))).toBe(8_000);
  });

  it('jitters up by less than the jitter fraction', () => {
    const d = nextRetryDelay(policy, 2, undefined, fixed(ALMOST_ONE))!;
    expect(d).toBeLessThanOrEqual(12_000);
    expect(d).toBeGreaterThan(11_990);
  });

  it('maps the random source linearly across the jitter window', () => {
    expect(nextRetryDelay(policy, 2, undefined, fixed(0.25))).toBe(9_000);
    expect(nextRetryDelay(policy, 2, undefined, fixed(0.75))).toBe(11_000);
  });

  it('stays within ±jitter for many random values, and returns whole milliseconds', () => {
    for (let i = 0; i < 1_000; i++) {
      const r = i / 1_000;
      const d = nextRetryDelay(SEND_RETRY_POLICY, 3, undefined, fixed(r))!;
      expect(Number.isInteger(d)).toBe(true);
      expect(d).toBeGreaterThanOrEqual(24_000);
      expect(d).toBeLessThanOrEqual(36_000);
    }
  });

  it('is exhausted after the last scheduled attempt', () => {
    expect(nextRetryDelay(policy, 3, undefined, fixed(0.5))).toBeDefined();
    expect(nextRetryDelay(policy, 4, undefined, fixed(0.5))).toBeUndefined();
    expect(nextRetryDelay(policy, 100, 5_000, fixed(0.5))).toBeUndefined();
  });

  it('has no retry for attempt 0 or negative attempts', () => {
    expect(nextRetryDelay(policy, 0, undefined, fixed(0.5))).toBeUndefined();
    expect(nextRetryDelay(policy, -1, undefined, fixed(0.5))).toBeUndefined();
  });

  it('the send policy has 9 retries (about 8 h in total) and is then exhausted', () => {
    const waits = Array.from({ length: 10 }, (_, i) => nextRetryDelay(SEND_RETRY_POLICY, i + 1, undefined, fixed(0.5)));
    expect(waits.slice(0, 9).every((w) => typeof w === 'number')).toBe(true);
    expect(waits[9]).toBeUndefined();
    const total = waits.slice(0, 9).reduce<number>((a, b) => a + b!, 0);
    expect(total).toBeGreaterThan(7 * 3_600_000);
    expect(total).toBeLessThan(9 * 3_600_000);
    // The schedule only grows.
    for (let i = 1; i < 9; i++) expect(waits[i]!).toBeGreaterThan(waits[i - 1]!);
  });

  describe('Retry-After', () => {
    it('is honoured when it lies between the jittered wait and the cap', () => {
      expect(nextRetryDelay(policy, 1, 20_000, fixed(0.5))).toBe(20_000);
    });

    it('cannot make the wait shorter than the jittered schedule (clamped up)', () => {
      expect(nextRetryDelay(policy, 2, 0, fixed(0.5))).toBe(10_000);
      expect(nextRetryDelay(policy, 2, 1, fixed(0))).toBe(8_000);
      expect(nextRetryDelay(policy, 2, -5_000, fixed(0.5))).toBe(10_000);
    });

    it('cannot stall beyond the cap (clamped down)', () => {
      expect(nextRetryDelay(policy, 1, 10 * 3_600_000, fixed(0.5))).toBe(50_000);
      expect(nextRetryDelay(policy, 1, Number.MAX_SAFE_INTEGER, fixed(0.5))).toBe(50_000);
    });

    it('never shortens a scheduled wait that is already above the cap', () => {
      // attempt 3 waits 100 s, the cap is 50 s: a Retry-After cannot pull it below 100 s or push it above.
      expect(nextRetryDelay(policy, 3, 10_000, fixed(0.5))).toBe(100_000);
      expect(nextRetryDelay(policy, 3, 75_000, fixed(0.5))).toBe(100_000);
      expect(nextRetryDelay(policy, 3, 500_000, fixed(0.5))).toBe(100_000);
    });

    it('ignores non-finite values', () => {
      expect(nextRetryDelay(policy, 1, Number.NaN, fixed(0.5))).toBe(1_000);
      expect(nextRetryDelay(policy, 1, Number.POSITIVE_INFINITY, fixed(0.5))).toBe(1_000);
    });

    it('sits exactly on the cap when asked for exactly the cap', () => {
      expect(nextRetryDelay(policy, 1, 50_000, fixed(0.5))).toBe(50_000);
    });
  });

  it('uses Math.random by default and stays within bounds', () => {
    for (let i = 0; i < 200; i++) {
      const d = nextRetryDelay(policy, 1, undefined)!;
      expect(d).toBeGreaterThanOrEqual(800);
      expect(d).toBeLessThanOrEqual(1_200);
    }
  });
});
