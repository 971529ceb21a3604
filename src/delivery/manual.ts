import { invalid, missing, notFound } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { DeliveryId, WebhookId } from '../domain/ids.js';
import type { Workspace } from '../domain/records.js';
import type { Clock } from '../domain/time.js';
import type { Metrics } from '../metrics.js';
import type { HttpClient } from '../net/http-client.js';
import type { Store } from '../store/store.js';
import { attemptDelivery } from './attempt.js';
import { describe } from './outcome.js';

export interface ManualDeps {
  store: Store;
  http: HttpClient;
  clock: Clock;
  metrics: Metrics;
  timeoutMs: number;
}

/**
 * `POST /v1/webhooks/{id}/deliveries/{deliveryId}/redeliver`: one attempt now, whatever the
 * delivery's state, logged with trigger `manual`. A manual attempt never re-arms the
 * retry schedule: a failed delivery that is acknowledged becomes succeeded, one that is
 * not stays failed.
 */
export async function redeliver(deps: ManualDeps, ws: Workspace, webhookId: WebhookId, deliveryId: DeliveryId) {
  const webhook = await deps.store.getWebhook(ws.id, webhookId);
  if (!webhook) throw notFound('webhook');
  const delivery = await deps.store.getDelivery(ws.id, webhookId, deliveryId);
  if (!delivery) throw notFound('delivery');
  const event = await deps.store.getEvent(ws.id, delivery.eventId);
  const workspace = await deps.store.getWorkspace(ws.id);
  if (!event || !workspace) throw notFound('delivery');

  const started = deps.clock.now();
  const t0 = performance.now();
  const claim = { delivery, url: webhook.url, payload: event.payload, signingKey: workspace.signingKey, lockedUntil: 0 };
  const result = await attemptDelivery(deps.http, claim, started, deps.timeoutMs);
  const durationMs = Math.round(performance.now() - t0);
  const text = describe(result);
  await deps.store.transaction(async (tx) => {
    const current = await tx.getDelivery(ws.id, webhookId, deliveryId);
    if (!current) return; // the webhook was deleted meanwhile, with its log
    await tx.recordAttempt({
      id: newId(), deliveryId, webhookId, url: webhook.url, attemptedAt: started, durationMs,
      statusCode: text.statusCode, responseExcerpt: text.excerpt, error: text.error, trigger: 'manual',
    });
    if (result.kind === 'acknowledged' && current.state !== 'succeeded') {
      await tx.finishDelivery(deliveryId, 'succeeded', text.statusCode, null, deps.clock.now());
      await tx.setWebhookHealth(webhookId, null);
    }
  });
  deps.metrics.deliveryAttempts.inc({ result: result.kind, trigger: 'manual' });
  return result;
}

/** `POST /v1/webhooks/{id}/recover`: re-queues every failed delivery created since `since`. */
export async function recover(deps: { store: Store; clock: Clock }, ws: Workspace, webhookId: WebhookId, body: Record<string, unknown>) {
  const raw = body.since;
  if (raw === undefined || raw === null || raw === '') throw missing('since');
  const since = typeof raw === 'string' ? Date.parse(raw) : NaN;
  if (typeof raw !== 'string' || Number.isNaN(since) || !/^\d{4}-\d\d-\d\dT/.test(raw)) {
    throw invalid('since', 'must be an RFC 3339 time, e.g. 2026-01-31T00:00:00Z');
  }
  const webhook = await deps.store.getWebhook(ws.id, webhookId);
  if (!webhook) throw notFound('webhook');
  const now = deps.clock.now();
  return deps.store.transaction((tx) => tx.recoverDeliveries(ws.id, webhookId, since, now));
}
