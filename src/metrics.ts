import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics, one registry per Roost instance, served on `GET /metrics`. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'roost_' });
  return {
    registry,
    deliveryAttempts: new Counter({
      name: 'roost_webhook_attempts_total',
      help: 'Webhook delivery attempts by result (acknowledged, rejected, unreachable, gone)',
      labelNames: ['result', 'trigger'] as const,
      registers: [registry],
    }),
    deliveriesFailed: new Counter({
      name: 'roost_webhook_deliveries_failed_total',
      help: 'Deliveries that ended failed after their last attempt',
      registers: [registry],
    }),
    webhooksDisabled: new Counter({
      name: 'roost_webhooks_auto_disabled_total',
      help: 'Webhooks Roost disabled by itself, by reason (gone = 410, failing = only failures for the configured time)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    inboundMessages: new Counter({
      name: 'roost_inbound_requests_total',
      help: 'Provider webhooks handled, by platform and outcome',
      labelNames: ['platform', 'outcome'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
