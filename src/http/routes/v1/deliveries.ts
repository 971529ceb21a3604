import type { FastifyInstance } from 'fastify';
import { invalid, notFound } from '../../../domain/errors.js';
import { DELIVERY_STATES } from '../../../domain/records.js';
import type { DeliveryState } from '../../../domain/records.js';
import { attemptV1, deliveryV1 } from '../../../domain/views-v1.js';
import { recover, redeliver } from '../../../delivery/manual.js';
import type { AppDeps } from '../../app.js';
import { listEnvelope, offsetLimit } from '../../pagination.js';
import { attributesOf } from '../../request-body.js';
import { pathId } from './ids.js';

type P = { Params: { id: string } };
type PD = { Params: { id: string; deliveryId: string } };

/** The delivery log of a webhook, manual redelivery and recovery. */
export function deliveryRoutes(deps: AppDeps) {
  return async function (app: FastifyInstance) {
    app.get<P>('/webhooks/:id/deliveries', async (req) => {
      const query = req.query as Record<string, unknown>;
      const { offset, limit } = offsetLimit(query);
      let state: DeliveryState | undefined;
      if (query.status !== undefined && query.status !== '') {
        if (!DELIVERY_STATES.includes(query.status as DeliveryState)) throw invalid('status', `must be one of ${DELIVERY_STATES.join(', ')}`);
        state = query.status as DeliveryState;
      }
      const ws = req.caller.workspace.id;
      const webhookId = pathId<'webhook'>(req.params.id, 'webhook');
      if (!(await deps.store.getWebhook(ws, webhookId))) throw notFound('webhook');
      const page = await deps.store.listDeliveries(ws, webhookId, state, offset, limit);
      return listEnvelope(offset, limit, page.items.map(deliveryV1), page.total);
    });

    app.get<PD>('/webhooks/:id/deliveries/:deliveryId', async (req) => {
      const ws = req.caller.workspace.id;
      const delivery = await deps.store.getDelivery(ws, pathId(req.params.id, 'webhook'), pathId(req.params.deliveryId, 'delivery'));
      if (!delivery) throw notFound('delivery');
      const [attempts, event] = await Promise.all([deps.store.listAttempts(delivery.id), deps.store.getEvent(ws, delivery.eventId)]);
      return { ...deliveryV1(delivery), payload: event ? JSON.parse(event.payload) : null, attemptsLog: attempts.map(attemptV1) };
    });

    app.post<PD>('/webhooks/:id/deliveries/:deliveryId/redeliver', async (req) => {
      const ws = req.caller.workspace;
      const webhookId = pathId<'webhook'>(req.params.id, 'webhook');
      const deliveryId = pathId<'delivery'>(req.params.deliveryId, 'delivery');
      await redeliver(deps.manual, ws, webhookId, deliveryId);
      const delivery = await deps.store.getDelivery(ws.id, webhookId, deliveryId);
      if (!delivery) throw notFound('delivery');
      const attempts = await deps.store.listAttempts(deliveryId);
      return { ...deliveryV1(delivery), attemptsLog: attempts.map(attemptV1) };
    });

    app.post<P>('/webhooks/:id/recover', async (req, reply) => {
      const recovered = await recover(deps, req.caller.workspace, pathId(req.params.id, 'webhook'), attributesOf(req));
      deps.onEventsCommitted();
      return reply.code(202).send({ recovered });
    });
  };
}
