import type { FastifyInstance } from 'fastify';
import { notFound } from '../../../domain/errors.js';
import { webhookV1 } from '../../../domain/views-v1.js';
import { createWebhook, deleteWebhook, updateWebhook } from '../../../management/webhooks.js';
import type { AppDeps } from '../../app.js';
import { listEnvelope, offsetLimit } from '../../pagination.js';
import { attributesOf } from '../../request-body.js';
import { pathId } from './ids.js';

type P = { Params: { id: string } };

export function webhookRoutes(deps: AppDeps) {
  return async function (app: FastifyInstance) {
    const mdeps = { store: deps.store, clock: deps.clock, allowPrivateUrls: deps.allowPrivateUrls };

    app.post('/webhooks', async (req, reply) => {
      const webhook = await createWebhook(mdeps, req.caller.workspace, attributesOf(req));
      return reply.code(201).send(webhookV1(webhook));
    });

    app.get('/webhooks', async (req) => {
      const { offset, limit } = offsetLimit(req.query as Record<string, unknown>);
      const page = await deps.store.listWebhooks(req.caller.workspace.id, offset, limit);
      return listEnvelope(offset, limit, page.items.map(webhookV1), page.total);
    });

    app.get<P>('/webhooks/:id', async (req) => {
      const webhook = await deps.store.getWebhook(req.caller.workspace.id, pathId(req.params.id, 'webhook'));
      if (!webhook) throw notFound('webhook');
      return webhookV1(webhook);
    });

    app.patch<P>('/webhooks/:id', async (req) => {
      const webhook = await updateWebhook(mdeps, req.caller.workspace, pathId(req.params.id, 'webhook'), attributesOf(req));
      // Enabled again, its parked deliveries are due now: wake the dispatcher.
      if (webhook.status === 'enabled') deps.onEventsCommitted();
      return webhookV1(webhook);
    });

    app.delete<P>('/webhooks/:id', async (req, reply) => {
      await deleteWebhook(mdeps, req.caller.workspace, pathId(req.params.id, 'webhook'));
      return reply.code(204).send();
    });
  };
}
