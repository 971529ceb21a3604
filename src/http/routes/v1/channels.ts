import type { FastifyInstance } from 'fastify';
import { notFound } from '../../../domain/errors.js';
import { channelV1 } from '../../../domain/views-v1.js';
import { createChannel, deleteChannel, updateChannel } from '../../../management/channels.js';
import type { AppDeps } from '../../app.js';
import { listEnvelope, offsetLimit } from '../../pagination.js';
import { attributesOf } from '../../request-body.js';
import { pathId } from './ids.js';

type P = { Params: { id: string } };

export function channelRoutes(deps: AppDeps) {
  return async function (app: FastifyInstance) {
    app.post('/channels', async (req, reply) => {
      const channel = await createChannel(deps, req.caller.workspace, attributesOf(req));
      return reply.code(201).send(channelV1(channel, deps.publicUrl()));
    });

    app.get('/channels', async (req) => {
      const { offset, limit } = offsetLimit(req.query as Record<string, unknown>);
      const page = await deps.store.listChannels(req.caller.workspace.id, offset, limit);
      return listEnvelope(offset, limit, page.items.map((c) => channelV1(c, deps.publicUrl())), page.total);
    });

    app.get<P>('/channels/:id', async (req) => {
      const channel = await deps.store.getChannel(req.caller.workspace.id, pathId(req.params.id, 'channel'));
      if (!channel) throw notFound('channel');
      return channelV1(channel, deps.publicUrl());
    });

    app.patch<P>('/channels/:id', async (req) => {
      const channel = await updateChannel(deps, req.caller.workspace, pathId(req.params.id, 'channel'), attributesOf(req));
      return channelV1(channel, deps.publicUrl());
    });

    app.delete<P>('/channels/:id', async (req, reply) => {
      await deleteChannel(deps, req.caller.workspace, pathId(req.params.id, 'channel'));
      return reply.code(204).send();
    });
  };
}
