import type { WebhookId } from '../domain/ids.js';
import { procedure } from '../store/procedure.js';
import type { ClaimedDelivery } from '../store/store.js';

export interface ClaimArgs {
  now: number;
  leaseMs: number;
  /** Free slots overall. */
  room: number;
  /** Requests one webhook may have in flight. */
  perWebhook: number;
  /** Requests in flight per webhook when the claim was asked for. */
  inFlight: Array<[WebhookId, number]>;
  /** Webhooks at their cap: not claimed for. */
  saturated: WebhookId[];
}

/**
 * Claims due deliveries, keeping at most each webhook's remaining share of slots and
 * handing the rest straight back in the same transaction.
 */
export const claimDeliveries = procedure(import.meta.url, 'claimDeliveries', async (tx, a: ClaimArgs): Promise<ClaimedDelivery[]> => {
  const inFlight = new Map(a.inFlight);
  // At most one webhook's remaining share per claim: a backlog on one webhook then
  // costs no give-backs, and the loop claims again at once for the others.
  const busiest = Math.max(0, ...inFlight.values());
  const share = inFlight.size <= 1 ? a.perWebhook - busiest : a.perWebhook;
  const all = await tx.claimDeliveries(a.now, a.leaseMs, Math.max(1, Math.min(a.room, share)), a.saturated);
  const taken = new Map<WebhookId, number>();
  const keep: ClaimedDelivery[] = [];
  const surplus: ClaimedDelivery[] = [];
  for (const c of all) {
    const w = c.delivery.webhookId;
    const n = (inFlight.get(w) ?? 0) + (taken.get(w) ?? 0);
    if (n < a.perWebhook) {
      taken.set(w, (taken.get(w) ?? 0) + 1);
      keep.push(c);
    } else surplus.push(c);
  }
  if (surplus.length > 0) await tx.unclaimDeliveries(surplus.map((c) => c.delivery.id), a.now);
  return keep;
});
