import { describe, expect, it } from 'vitest';
import { canAdvance, OUTBOUND_STATUSES } from '../../../src/domain/status.js';
import type { MessageStatus, OutboundStatus } from '../../../src/domain/status.js';

/**
 * The full transition matrix, written out by hand rather than derived from a rank table,
 * so a change to the implementation's ordering cannot silently change the expectation.
 * Rows: current status. Columns: next status, in OUTBOUND_STATUSES order.
 */
const NEXT: readonly OutboundStatus[] = ['accepted', 'pending', 'sent', 'delivered', 'read', 'failed'];
const MATRIX: Record<MessageStatus, readonly boolean[]> = {
  //          accepted pending sent   delivered read   failed
  accepted: [false, true, true, true, true, true],
  pending: [false, false, true, true, true, true],
  sent: [false, false, false, true, true, true],
  delivered: [false, false, false, false, true, false],
  read: [false, false, false, false, false, false],
  failed: [false, false, false, false, false, false],
  received: [false, false, false, false, false, false],
  deleted: [false, false, false, false, false, false],
};

describe('canAdvance', () => {
  it('covers every outbound status as a target', () => {
    expect([...OUTBOUND_STATUSES].sort()).toEqual([...NEXT].sort());
  });

  const cases = Object.entries(MATRIX).flatMap(([current, row]) =>
    NEXT.map((next, i) => ({ current: current as MessageStatus, next, expected: row[i]! })),
  );

  it.each(cases)('$current -> $next is $expected', ({ current, next, expected }) => {
    expect(canAdvance(current, next)).toBe(expected);
  });

  it('never allows staying on the same status', () => {
    for (const s of OUTBOUND_STATUSES) expect(canAdvance(s, s)).toBe(false);
  });

  it('applies out-of-order callbacks so that the furthest status wins', () => {
    // delivered arrives before sent: the late "sent" must be ignored.
    let status: MessageStatus = 'accepted';
    for (const next of ['delivered', 'sent', 'pending', 'read', 'failed'] as const) {
      if (canAdvance(status, next)) status = next;
    }
    expect(status).toBe('read');
  });

  it('lets failed win over in-flight statuses but not over a late delivery report', () => {
    let status: MessageStatus = 'sent';
    for (const next of ['failed', 'delivered', 'read'] as const) {
      if (canAdvance(status, next)) status = next;
    }
    expect(status).toBe('failed');
  });
});
