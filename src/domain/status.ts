/**
 * Message statuses and the one rule about them: an outbound message's status only moves
 * forward, whatever order provider callbacks arrive in.
 *
 *   accepted -> pending -> sent -> delivered -> read
 *       \__________\_________\________\___________> failed (final)
 *
 * Inbound messages are `received` and never change.
 */
export const OUTBOUND_STATUSES = ['accepted', 'pending', 'sent', 'delivered', 'read', 'failed'] as const;
export type OutboundStatus = (typeof OUTBOUND_STATUSES)[number];
export type MessageStatus = OutboundStatus | 'received' | 'deleted';

const RANK: Record<OutboundStatus, number> = {
  accepted: 0,
  pending: 1,
  sent: 2,
  delivered: 3,
  read: 4,
  failed: 5,
};

/** True when moving from `current` to `next` is a forward step. */
export function canAdvance(current: MessageStatus, next: OutboundStatus): boolean {
  if (current === 'received' || current === 'deleted' || current === 'failed') return false;
  if (next === 'failed') return current !== 'read' && current !== 'delivered';
  return RANK[next] > RANK[current];
}
