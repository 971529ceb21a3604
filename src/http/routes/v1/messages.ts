import type { FastifyInstance } from 'fastify';
import { invalid, notFound } from '../../../domain/errors.js';
import { messageV1 } from '../../../domain/views-v1.js';
import { replyToConversation, sendMessage } from '../../../send/outbound.js';
import type { AppDeps } from '../../app.js';
import { listEnvelope, offsetLimit } from '../../pagination.js';
import { attributesOf } from '../../request-body.js';
import { pathId } from './ids.js';

type P = { Params: { id: string } };

export function messageRoutes(deps: AppDeps) {
  return async function (app: FastifyInstance) {
    /** Newest first, as MessageBird lists a conversation's history. */
    app.get<P>('/conversations/:id/messages', async (req) => {
      const query = req.query as Record<string, unknown>;
      const { offset, limit } = offsetLimit(query);
      const ws = req.caller.workspace.id;
      const conversationId = pathId<'conversation'>(req.params.id, 'conversation');
      let excludePlatforms: string[] | undefined;
      if (query.excludePlatforms !== undefined) {
        if (typeof query.excludePlatforms !== 'string') throw invalid('excludePlatforms', 'must be a comma-separated list');
        excludePlatforms = query.excludePlatforms.split(',').map((s) => s.trim()).filter((s) => s !== '').slice(0, 50);
      }
      const conversation = await deps.store.getConversation(ws, conversationId);
      if (!conversation) throw notFound('conversation');
      const page = await deps.store.listMessages(ws, { conversationId, excludePlatforms, offset, limit });
      return listEnvelope(offset, limit, page.items.map(messageV1), page.total);
    });

    app.post<P>('/conversations/:id/messages', async (req, reply) => {
      const id = pathId<'conversation'>(req.params.id, 'conversation');
      const { message } = await replyToConversation(deps, req.caller, id, attributesOf(req));
      return reply.code(201).send(messageV1(message));
    });

    app.get<P>('/messages/:id', async (req) => {
      const message = await deps.store.getMessage(req.caller.workspace.id, pathId(req.params.id, 'message'));
      if (!message) throw notFound('message');
      return messageV1(message);
    });

    /**
     * Answers both shapes the SDKs read: `{id, status, fallback}` (Go, Java, PHP) and
     * `{message: {id, status}}` (Node types), plus the conversation it landed in.
     */
    app.post('/send', async (req, reply) => {
      const { message, conversation } = await sendMessage(deps, req.caller, attributesOf(req));
      return reply.code(202).send({
        id: message.id,
        status: message.status,
        fallback: null,
        conversationId: conversation.id,
        message: { id: message.id, status: message.status },
      });
    });
  };
}
