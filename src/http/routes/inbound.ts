import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { notFound } from '../../domain/errors.js';
import { parseId } from '../../domain/ids.js';
import type { InboundRequest } from '../../channels/connector.js';
import { handleInbound } from '../../ingest/handle-inbound.js';
import type { AppDeps } from '../app.js';

/** Provider webhooks: `POST /inbound/{channelId}` (GET too, for providers that verify or report with GET). */
export function inboundRoutes(deps: AppDeps) {
  // Made once, not per request: the hot path allocates what changes only.
  const inboundDeps = { ...deps, onCommitted: deps.onEventsCommitted };
  return async function (app: FastifyInstance) {
    const handler = async (req: FastifyRequest<{ Params: { channelId: string } }>, reply: FastifyReply) => {
      const channelId = parseId<'channel'>(req.params.channelId);
      if (!channelId) throw notFound('channel');
      const response = await handleInbound(inboundDeps, channelId, toInboundRequest(req, deps.publicUrl()));
      return reply.code(response.status).type(response.contentType).send(response.body);
    };
    app.post('/:channelId', handler);
    app.get('/:channelId', handler);
  };
}

function toInboundRequest(req: FastifyRequest, publicUrl: string): InboundRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  const q = req.url.indexOf('?');
  const query: Record<string, string> = {};
  if (q !== -1) for (const [k, v] of new URLSearchParams(req.url.slice(q + 1))) query[k] = v;
  return {
    method: req.method,
    url: publicUrl + req.url,
    headers,
    query,
    rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
  };
}
