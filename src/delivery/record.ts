import { newId } from '../domain/ids.js';
import type { Delivery } from '../domain/records.js';
import { procedure } from '../store/procedure.js';
import type { AttemptResult } from './attempt.js';
import { decide, describe } from './outcome.js';
import type { Decision, DeliveryPolicy } from './outcome.js';

export interface RecordArgs {
  delivery: Delivery;
  url: string;
  result: AttemptResult;
  attemptedAt: number;
  durationMs: number;
  now: number;
  policy: DeliveryPolicy;
}

/**
 * A scheduled attempt's aftermath in one transaction: the attempt joins the log, the
 * delivery succeeds, fails or is rescheduled, and the webhook's health follows. Null when
 * there was nothing to decide (the webhook or delivery is gone, or a manual redelivery
 * settled it meanwhile); `disabledNow` only for the attempt that disabled the webhook.
 */
export const recordDeliveryAttempt = procedure(import.meta.url, 'recordDeliveryAttempt', async (tx, a: RecordArgs): Promise<{ decision: Decision; disabledNow: boolean } | null> => {
  const d = a.delivery;
  const text = describe(a.result);
  // Deleted meanwhile (its deliveries and log went with it): nothing to record.
  const [webhook, current] = await Promise.all([tx.getWebhook(d.workspaceId, d.webhookId), tx.getDelivery(d.workspaceId, d.webhookId, d.id)]);
  if (!webhook || !current) return null;
  await tx.recordAttempt({
    id: newId(), deliveryId: d.id, webhookId: d.webhookId, url: a.url, attemptedAt: a.attemptedAt, durationMs: a.durationMs,
    statusCode: text.statusCode, responseExcerpt: text.excerpt, error: text.error, trigger: 'scheduled',
  });
  // A manual redelivery may have settled it while this attempt was in flight: its
  // verdict stands, this attempt only joins the log.
  if (current.state !== 'pending') return null;
  const decision = decide(a.result, d.attempts, webhook.firstFailureAt, a.now, a.policy);
  if (decision.delivery.kind === 'retry') {
    await tx.retryDelivery(d.id, decision.delivery.at, text.statusCode, text.error, a.now);
  } else {
    await tx.finishDelivery(d.id, decision.delivery.kind, text.statusCode, text.error, a.now);
  }
  if (decision.webhook.firstFailureAt !== webhook.firstFailureAt) await tx.setWebhookHealth(d.webhookId, decision.webhook.firstFailureAt);
  // Only the attempt that flips the switch disables (and counts): others in flight see it done.
  const disabledNow = decision.webhook.disable !== undefined && (await tx.disableWebhook(d.webhookId, decision.webhook.disable, a.now));
  return { decision, disabledNow };
});
