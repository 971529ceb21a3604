import type { FastifyInstance } from 'fastify';
import { invalid, notFound } from '../../../domain/errors.js';
import { parseId } from '../../../domain/ids.js';
import type { ConversationId, WorkspaceId } from '../../../domain/ids.js';
import type { Conversation } from '../../../domain/records.js';
import { conversationV1 } from '../../../domain/views-v1.js';
import { updateConversationStatus } from '../../../management/conversations.js';
import { startConversation } from '../../../send/outbound.js';
import type { Store } from '../../../store/store.js';
import type { AppDeps } from '../../app.js';
import { listEnvelope, offsetLimit } from '../../pagination.js';
import { attributesOf } from '../../request-body.js';
import { pathId } from './ids.js';

type P = { Params: { id: string } };

/**
 * Renders conversations with their contact and channels, fetching each kind in one query;
 * the two queries run at once (on PostgreSQL, one round trip instead of two).
 */
export async function renderConversations(store: Store, ws: WorkspaceId, list: Conversation[], publicUrl: string) {
  const channelIds = [...new Set(list.flatMap((c) => c.channelIds))];
  const [contactRows, channelRows] = await Promise.all([
    store.getContacts(ws, list.map((c) => c.contactId)),
    store.getChannels(ws, channelIds),
  ]);
  const contacts = new Map(contactRows.map((c) => [c.id, c]));
  const channels = new Map(channelRows.map((c) => [c.id, c]));
  return list.flatMap((c) => {
    const contact = contacts.get(c.contactId);
    if (!contact) return [];
    return [conversationV1(c, contact, c.channelIds.flatMap((id) => channels.get(id) ?? []), publicUrl)];
  });
}

async function renderOne(deps: AppDeps, ws: WorkspaceId, c: Conversation) {
  const [view] = await renderConversations(deps.store, ws, [c], deps.publicUrl());
  if (!view) throw notFound('conversation');
  return view;
}

export function conversationRoutes(deps: AppDeps) {
  return async function (app: FastifyInstance) {
    app.get('/conversations', async (req) => {
      const query = req.query as Record<string, unknown>;
      const { offset, limit } = offsetLimit(query);
      let status: 'active' | 'archived' | undefined;
      if (query.status !== undefined && query.status !== '') {
        if (query.status !== 'active' && query.status !== 'archived') throw invalid('status', 'must be active or archived');
        status = query.status;
      }
      let ids: ConversationId[] | undefined;
      if (typeof query.ids === 'string' && query.ids !== '') {
        const parts = query.ids.split(',').map((s) => s.trim()).filter((s) => s !== '');
        if (parts.length > 100) throw invalid('ids', 'may name at most 100 conversations');
        ids = parts.flatMap((s) => parseId<'conversation'>(s) ?? []);
      }
      const ws = req.caller.workspace.id;
      const page = await deps.store.listConversations(ws, { status, ids, offset, limit });
      return listEnvelope(offset, limit, await renderConversations(deps.store, ws, page.items, deps.publicUrl()), page.total);
    });

    app.post('/conversations/start', async (req, reply) => {
      const { conversation } = await startConversation(deps, req.caller, attributesOf(req));
      return reply.code(201).send(await renderOne(deps, req.caller.workspace.id, conversation));
    });

    app.get<P>('/conversations/:id', async (req) => {
      const ws = req.caller.workspace.id;
      const conversation = await deps.store.getConversation(ws, pathId(req.params.id, 'conversation'));
      if (!conversation) throw notFound('conversation');
      return renderOne(deps, ws, conversation);
    });

    app.patch<P>('/conversations/:id', async (req) => {
      const ws = req.caller.workspace;
      const updated = await updateConversationStatus(deps, ws, pathId(req.params.id, 'conversation'), attributesOf(req));
      return renderOne(deps, ws.id, updated);
    });
  };
}
