import { nextRetryDelay } from '../domain/retry.js';
import type { RetryPolicy } from '../domain/retry.js';
import type { AttemptResult } from './attempt.js';

export interface DeliveryPolicy {
  retry: RetryPolicy;
  /** Least wait after an overload signal (timeout, 429, 503). */
  overloadFloorMs: number;
  /** A webhook that has only failed for this long is disabled. */
  disableAfterMs: number;
}

/** What to do after a scheduled attempt: pure, so the rules are tested without servers. */
export interface Decision {
  delivery: { kind: 'succeeded' } | { kind: 'failed' } | { kind: 'retry'; at: number };
  webhook: { firstFailureAt: number | null; disable?: 'gone' | 'failing' };
}

export function decide(
  result: AttemptResult, attempts: number, firstFailureAt: number | null, now: number, policy: DeliveryPolicy,
  random: () => number = Math.random,
): Decision {
  if (result.kind === 'acknowledged') return { delivery: { kind: 'succeeded' }, webhook: { firstFailureAt: null } };
  const failingSince = firstFailureAt ?? now;
  if (result.kind === 'gone') return { delivery: { kind: 'failed' }, webhook: { firstFailureAt: failingSince, disable: 'gone' } };
  const retryAfter = result.kind === 'rejected' ? result.retryAfterMs : undefined;
  const delay = nextRetryDelay(policy.retry, attempts, retryAfter, random, result.overloaded ? policy.overloadFloorMs : 0);
  const disable = now - failingSince >= policy.disableAfterMs ? ('failing' as const) : undefined;
  return {
    delivery: delay === undefined ? { kind: 'failed' } : { kind: 'retry', at: now + delay },
    webhook: disable ? { firstFailureAt: failingSince, disable } : { firstFailureAt: failingSince },
  };
}

/** The short text kept in the attempt log and on the delivery. */
export function describe(result: AttemptResult): { statusCode: number | null; error: string | null; excerpt: string | null } {
  switch (result.kind) {
    case 'acknowledged':
      return { statusCode: result.statusCode, error: null, excerpt: result.excerpt };
    case 'gone':
      return { statusCode: 410, error: 'endpoint answered 410 Gone; webhook disabled', excerpt: result.excerpt };
    case 'rejected':
      return { statusCode: result.statusCode, error: `endpoint answered ${result.statusCode}`, excerpt: result.excerpt };
    case 'unreachable':
      return { statusCode: null, error: result.error, excerpt: null };
  }
}
