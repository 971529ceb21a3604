import { describe as suite, expect, it, vi } from 'vitest';
import type { AttemptResult } from '../../../src/delivery/attempt.js';
import { decide, describe } from '../../../src/delivery/outcome.js';
import type { DeliveryPolicy } from '../../../src/delivery/outcome.js';
import { DELIVERY_RETRY_POLICY } from '../../../src/domain/retry.js';

/**
 * decide() is the whole retry / disable rule book of webhook delivery, as a pure
 * function: these tests pin it with a fixed random (0.5 = the scheduled wait exactly).
 */

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const NOW = 1_700_000_000_000;

const policy: DeliveryPolicy = {
  retry: DELIVERY_RETRY_POLICY,
  overloadFloorMs: MIN,
  disableAfterMs: 5 * DAY,
};
/** The wait before retry n (1-based): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h. */
const SCHEDULE = [5_000, 5 * MIN, 30 * MIN, 2 * HOUR, 5 * HOUR, 10 * HOUR, 14 * HOUR, 20 * HOUR, 24 * HOUR];
const MAX_ATTEMPTS = SCHEDULE.length + 1;
const centred = () => 0.5;
const ALMOST_ONE = 1 - Number.EPSILON;

const ok = (statusCode = 200): AttemptResult => ({ kind: 'acknowledged', statusCode, excerpt: 'ok' });
const gone = (): AttemptResult => ({ kind: 'gone', statusCode: 410, excerpt: 'gone' });
const rejected = (statusCode = 500, retryAfterMs?: number): AttemptResult => ({
  kind: 'rejected', statusCode, excerpt: 'nope', overloaded: statusCode === 429 || statusCode === 503,
  ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
});
const unreachable = (overloaded = false): AttemptResult => ({
  kind: 'unreachable', error: overloaded ? 'timeout: request timed out' : 'network: ECONNREFUSED: connect ECONNREFUSED', overloaded,
});

suite('decide: acknowledged', () => {
  it('succeeds the delivery and resets the webhook health', () => {
    expect(decide(ok(), 1, null, NOW, policy, centred)).toStrictEqual({
      delivery: { kind: 'succeeded' }, webhook: { firstFailureAt: null },
    });
  });

  it('resets a run of failures, however long it has been failing (no disable on success)', () => {
    for (const since of [NOW - 1, NOW - policy.disableAfterMs, NOW - 30 * DAY]) {
      expect(decide(ok(204), 7, since, NOW, policy, centred)).toStrictEqual({
        delivery: { kind: 'succeeded' }, webhook: { firstFailureAt: null },
      });
    }
  });

  it('succeeds even on an attempt past the end of the schedule', () => {
    expect(decide(ok(), MAX_ATTEMPTS + 5, NOW - DAY, NOW, policy, centred).delivery).toEqual({ kind: 'succeeded' });
  });

  it('does not draw a random number', () => {
    const random = vi.fn(() => 0.5);
    decide(ok(), 1, null, NOW, policy, random);
    expect(random).not.toHaveBeenCalled();
  });
});

suite('decide: gone (410)', () => {
  it('fails the delivery at once and disables the webhook as gone, starting the failure run now', () => {
    expect(decide(gone(), 1, null, NOW, policy, centred)).toStrictEqual({
      delivery: { kind: 'failed' }, webhook: { firstFailureAt: NOW, disable: 'gone' },
    });
  });

  it('keeps an earlier start of the failure run', () => {
    expect(decide(gone(), 3, NOW - HOUR, NOW, policy, centred)).toStrictEqual({
      delivery: { kind: 'failed' }, webhook: { firstFailureAt: NOW - HOUR, disable: 'gone' },
    });
  });

  it('says gone, not failing, even when the webhook has been failing past the disable threshold', () => {
    expect(decide(gone(), 4, NOW - 10 * DAY, NOW, policy, centred).webhook.disable).toBe('gone');
  });
});

suite('decide: rejected and unreachable follow the retry schedule', () => {
  for (const [name, result] of [
    ['500', rejected(500)],
    ['404', rejected(404)],
    ['302', rejected(302)],
    ['connection refused', unreachable(false)],
  ] as const) {
    it(`${name}: retries after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h, then fails`, () => {
      for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
        const d = decide(result, attempt, NOW - 1_000, NOW, policy, centred);
        expect(d.delivery, `attempt ${attempt}`).toEqual({ kind: 'retry', at: NOW + SCHEDULE[attempt - 1]! });
        expect(d.webhook).toStrictEqual({ firstFailureAt: NOW - 1_000 });
      }
      expect(decide(result, MAX_ATTEMPTS, NOW - 1_000, NOW, policy, centred)).toStrictEqual({
        delivery: { kind: 'failed' }, webhook: { firstFailureAt: NOW - 1_000 },
      });
    });
  }

  it('makes 10 attempts in all: the last one that is not acknowledged fails the delivery', () => {
    expect(MAX_ATTEMPTS).toBe(10);
    expect(decide(rejected(), 9, null, NOW, policy, centred).delivery.kind).toBe('retry');
    expect(decide(rejected(), 10, null, NOW, policy, centred).delivery).toEqual({ kind: 'failed' });
    expect(decide(rejected(), 11, null, NOW, policy, centred).delivery).toEqual({ kind: 'failed' });
    expect(decide(unreachable(true), 10, null, NOW, policy, centred).delivery).toEqual({ kind: 'failed' });
  });

  it('spans about 3 days 4 hours from the first attempt to the last', () => {
    let at = NOW;
    let attempt = 1;
    for (;;) {
      const d = decide(rejected(), attempt, NOW, at, policy, centred);
      if (d.delivery.kind !== 'retry') break;
      at = d.delivery.at;
      attempt++;
    }
    expect(attempt).toBe(10);
    expect(at - NOW).toBe(SCHEDULE.reduce((a, b) => a + b, 0));
    expect(at - NOW).toBe(3 * DAY + 3 * HOUR + 35 * MIN + 5_000);
  });

  it('applies the jitter of the policy (±20 %), from the injected random', () => {
    expect(decide(rejected(), 2, null, NOW, policy, () => 0).delivery).toEqual({ kind: 'retry', at: NOW + 4 * MIN });
    const high = decide(rejected(), 2, null, NOW, policy, () => ALMOST_ONE).delivery;
    expect(high.kind).toBe('retry');
    if (high.kind === 'retry') {
      expect(high.at - NOW).toBeLessThanOrEqual(6 * MIN);
      expect(high.at - NOW).toBeGreaterThan(6 * MIN - 10);
    }
    expect(decide(rejected(), 2, null, NOW, policy, () => 0.25).delivery).toEqual({ kind: 'retry', at: NOW + 4.5 * MIN });
  });

  it('uses Math.random when no random is given, staying within the jitter window', () => {
    for (let i = 0; i < 50; i++) {
      const d = decide(rejected(), 3, null, NOW, policy).delivery;
      expect(d.kind).toBe('retry');
      if (d.kind === 'retry') {
        expect(d.at - NOW).toBeGreaterThanOrEqual(24 * MIN);
        expect(d.at - NOW).toBeLessThanOrEqual(36 * MIN);
      }
    }
  });

  it('returns whole-millisecond retry times', () => {
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      const d = decide(rejected(), attempt, null, NOW, policy, () => 0.123456789).delivery;
      expect(d.kind === 'retry' && Number.isInteger(d.at)).toBe(true);
    }
  });
});

suite('decide: overload floor', () => {
  it('waits at least the floor after a 429, a 503 or a timeout', () => {
    for (const result of [rejected(429), rejected(503), unreachable(true)]) {
      expect(decide(result, 1, null, NOW, policy, centred).delivery).toEqual({ kind: 'retry', at: NOW + MIN });
    }
  });

  it('does not apply the floor when the endpoint was not overloaded', () => {
    for (const result of [rejected(500), rejected(502), rejected(404), unreachable(false)]) {
      expect(decide(result, 1, null, NOW, policy, centred).delivery).toEqual({ kind: 'retry', at: NOW + 5_000 });
    }
  });

  it('goes by the overloaded flag, not by the status code', () => {
    const flagged: AttemptResult = { kind: 'rejected', statusCode: 500, excerpt: '', overloaded: true };
    const unflagged: AttemptResult = { kind: 'rejected', statusCode: 429, excerpt: '', overloaded: false };
    expect(decide(flagged, 1, null, NOW, policy, centred).delivery).toEqual({ kind: 'retry', at: NOW + MIN });
    expect(decide(unflagged, 1, null, NOW, policy, centred).delivery).toEqual({ kind: 'retry', at: NOW + 5_000 });
  });

  it('is only a floor: a longer scheduled wait stands', () => {
    expect(decide(rejected(429), 2, null, NOW, policy, centred).delivery).toEqual({ kind: 'retry', at: NOW + 5 * MIN });
    expect(decide(unreachable(true), 3, null, NOW, policy, centred).delivery).toEqual({ kind: 'retry', at: NOW + 30 * MIN });
  });

  it('is not jittered below the floor', () => {
    expect(decide(unreachable(true), 1, null, NOW, policy, () => 0).delivery).toEqual({ kind: 'retry', at: NOW + MIN });
  });

  it('follows the policy value, and a zero floor changes nothing', () => {
    const p = { ...policy, overloadFloorMs: 0 };
    expect(decide(rejected(429), 1, null, NOW, p, centred).delivery).toEqual({ kind: 'retry', at: NOW + 5_000 });
    const big = { ...policy, overloadFloorMs: 2 * HOUR };
    expect(decide(rejected(503), 2, null, NOW, big, centred).delivery).toEqual({ kind: 'retry', at: NOW + 2 * HOUR });
  });

  it('does not prevent exhaustion', () => {
    expect(decide(rejected(429), MAX_ATTEMPTS, null, NOW, policy, centred).delivery).toEqual({ kind: 'failed' });
  });
});

suite('decide: Retry-After', () => {
  it('waits as long as the endpoint asked when that is longer than the schedule', () => {
    expect(decide(rejected(503, 2 * MIN), 1, null, NOW, policy, centred).delivery).toEqual({ kind: 'retry', at: NOW + 2 * MIN });
    expect(decide(rejected(500, 45 * MIN), 3, null, NOW, policy, centred).delivery).toEqual({ kind: 'retry', at: NOW + 45 * MIN });
  });

  it('never retries earlier than the schedule (or the overload floor) because of a short Retry-After', () => {
    expect(decide(rejected(500, 1_000), 1, null, NOW, policy, centred).delivery).toEqual({ kind: 'retry', at: NOW + 5_000 });
    expect(decide(rejected(500, 0), 2, null, NOW, policy, centred).delivery).toEqual({ kind: 'retry', at: NOW + 5 * MIN });
    expect(decide(rejected(429, 10_000), 1, null, NOW, policy, centred).delivery).toEqual({ kind: 'retry', at: NOW + MIN });
  });

  it('never retries earlier than the Retry-After, whatever the jitter', () => {
    for (let i = 0; i < 100; i++) {
      const r = i / 100;
      for (const retryAfter of [6_000, 90_000, 12 * HOUR]) {
        const d = decide(rejected(429, retryAfter), 1, null, NOW, policy, () => r).delivery;
        expect(d.kind).toBe('retry');
        if (d.kind === 'retry') expect(d.at - NOW).toBeGreaterThanOrEqual(retryAfter);
      }
    }
  });

  it('caps a huge Retry-After at the policy cap (a day)', () => {
    expect(decide(rejected(503, 30 * DAY), 1, null, NOW, policy, centred).delivery).toEqual({ kind: 'retry', at: NOW + DAY });
    expect(decide(rejected(503, Number.MAX_SAFE_INTEGER), 2, null, NOW, policy, centred).delivery)
      .toEqual({ kind: 'retry', at: NOW + DAY });
  });

  it('caps at the scheduled wait when that is longer than the cap', () => {
    // Retry 9 waits 24 h; jittered up it is above the one-day cap, and the schedule wins.
    const d = decide(rejected(503, 30 * DAY), 9, null, NOW, policy, () => 0.75).delivery;
    expect(d).toEqual({ kind: 'retry', at: NOW + Math.round(24 * HOUR * 1.1) });
  });

  it('ignores a Retry-After that is not a finite number', () => {
    expect(decide(rejected(503, Number.NaN), 2, null, NOW, policy, centred).delivery).toEqual({ kind: 'retry', at: NOW + 5 * MIN });
    expect(decide(rejected(503, Number.POSITIVE_INFINITY), 2, null, NOW, policy, centred).delivery)
      .toEqual({ kind: 'retry', at: NOW + 5 * MIN });
  });

  it('does not extend the schedule: with no retry left the delivery fails', () => {
    expect(decide(rejected(429, 5_000), MAX_ATTEMPTS, null, NOW, policy, centred).delivery).toEqual({ kind: 'failed' });
  });
});

suite('decide: webhook health and auto-disable', () => {
  const at = (firstFailureAt: number | null, now = NOW, result: AttemptResult = rejected()) =>
    decide(result, 2, firstFailureAt, now, policy, centred);

  it('starts the failure run at the first failure', () => {
    expect(at(null).webhook).toStrictEqual({ firstFailureAt: NOW });
    expect(at(null, NOW, unreachable()).webhook).toStrictEqual({ firstFailureAt: NOW });
  });

  it('keeps the start of the run across later failures', () => {
    let firstFailureAt: number | null = null;
    let now = NOW;
    for (let attempt = 1; attempt <= 5; attempt++) {
      const d = decide(attempt % 2 ? rejected(500) : unreachable(true), attempt, firstFailureAt, now, policy, centred);
      expect(d.webhook.firstFailureAt).toBe(NOW);
      firstFailureAt = d.webhook.firstFailureAt;
      now = d.delivery.kind === 'retry' ? d.delivery.at : now;
    }
    // One success ends the run; the next failure starts a new one.
    const success = decide(ok(), 6, firstFailureAt, now + 1, policy, centred);
    expect(success.webhook.firstFailureAt).toBeNull();
    expect(decide(rejected(), 1, success.webhook.firstFailureAt, now + 2, policy, centred).webhook.firstFailureAt).toBe(now + 2);
  });

  it('disables as failing exactly when the webhook has failed for disableAfterMs', () => {
    const limit = policy.disableAfterMs;
    expect(at(NOW - limit + 1).webhook).toStrictEqual({ firstFailureAt: NOW - limit + 1 });
    expect(at(NOW - limit).webhook).toStrictEqual({ firstFailureAt: NOW - limit, disable: 'failing' });
    expect(at(NOW - limit - 1).webhook).toStrictEqual({ firstFailureAt: NOW - limit - 1, disable: 'failing' });
  });

  it('disables for unreachable endpoints too, and still decides the delivery by its schedule', () => {
    const d = decide(unreachable(), 2, NOW - 6 * DAY, NOW, policy, centred);
    expect(d).toStrictEqual({
      delivery: { kind: 'retry', at: NOW + 5 * MIN }, webhook: { firstFailureAt: NOW - 6 * DAY, disable: 'failing' },
    });
    expect(decide(rejected(), MAX_ATTEMPTS, NOW - 6 * DAY, NOW, policy, centred)).toStrictEqual({
      delivery: { kind: 'failed' }, webhook: { firstFailureAt: NOW - 6 * DAY, disable: 'failing' },
    });
  });

  it('follows the policy threshold', () => {
    const short = { ...policy, disableAfterMs: 1_000 };
    expect(decide(rejected(), 1, NOW - 999, NOW, short, centred).webhook.disable).toBeUndefined();
    expect(decide(rejected(), 1, NOW - 1_000, NOW, short, centred).webhook.disable).toBe('failing');
  });

  it('never disables on the first failure of a run (unless the threshold is zero)', () => {
    expect(at(null).webhook.disable).toBeUndefined();
    expect(decide(rejected(), 1, null, NOW, { ...policy, disableAfterMs: 0 }, centred).webhook)
      .toStrictEqual({ firstFailureAt: NOW, disable: 'failing' });
  });
});

suite('describe', () => {
  it('keeps status and excerpt of an acknowledgement, with no error', () => {
    expect(describe({ kind: 'acknowledged', statusCode: 202, excerpt: 'accepted' }))
      .toStrictEqual({ statusCode: 202, error: null, excerpt: 'accepted' });
    expect(describe({ kind: 'acknowledged', statusCode: 204, excerpt: '' }))
      .toStrictEqual({ statusCode: 204, error: null, excerpt: '' });
  });

  it('says a 410 disabled the webhook', () => {
    expect(describe({ kind: 'gone', statusCode: 410, excerpt: 'bye' }))
      .toStrictEqual({ statusCode: 410, error: 'endpoint answered 410 Gone; webhook disabled', excerpt: 'bye' });
  });

  it('names the status code of a rejection', () => {
    for (const code of [302, 404, 429, 500, 503]) {
      expect(describe({ kind: 'rejected', statusCode: code, excerpt: `body ${code}`, overloaded: code === 429, retryAfterMs: 1_000 }))
        .toStrictEqual({ statusCode: code, error: `endpoint answered ${code}`, excerpt: `body ${code}` });
    }
  });

  it('keeps the network error of an unreachable endpoint, with no status or excerpt', () => {
    expect(describe({ kind: 'unreachable', error: 'timeout: request timed out', overloaded: true }))
      .toStrictEqual({ statusCode: null, error: 'timeout: request timed out', excerpt: null });
    expect(describe({ kind: 'unreachable', error: 'refused_private_address: refusing to connect', overloaded: false }))
      .toStrictEqual({ statusCode: null, error: 'refused_private_address: refusing to connect', excerpt: null });
  });
});
