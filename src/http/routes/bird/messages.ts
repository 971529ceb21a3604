import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalid, notFound, RoostError } from '../../../domain/errors.js';
import { parseId } from '../../../domain/ids.js';
import type { ConversationId, WorkspaceId } from '../../../domain/ids.js';
import { messageBird } from '../../../domain/views-bird.js';
import type { AppDeps } from '../../app.js';
import { pageToken, positionAfter } from './page-token.js';
import type { Order } from './page-token.js';

type P = { Params: { workspaceId: string; conversationId: string; messageId?: string } };

/** Bird's `limit`: 1–100, 10 when absent (seed 003). */
function limitOf(raw: unknown): number {
  if (raw === undefined || raw === '') return 10;
  const n = typeof raw === 'string' && /^\d{1,3}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= 100)) throw invalid('limit', 'must be an integer from 1 to 100');
  return n;
}

function reverseOf(raw: unknown): boolean {
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  throw invalid('reverse', 'must be true or false');
}

/** The caller's workspace, when the path names it (in either id spelling); another's is 403, as Bird answers. */
function workspaceOf(req: FastifyRequest<P>): WorkspaceId {
  const ws = req.caller.workspace.id;
  if (parseId<'workspace'>(req.params.workspaceId) !== ws) {
    throw new RoostError('forbidden', 'User has no access to the requested resource');
  }
  return ws;
}

async function conversationOf(deps: AppDeps, ws: WorkspaceId, raw: string) {
  const id = parseId<'conversation'>(raw);
  const conversation = id && (await deps.store.getConversation(ws, id));
  if (!conversation) throw notFound('conversation');
  const contact = await deps.store.getContact(ws, conversation.contactId);
  if (!contact) throw notFound('conversation');
  return { conversation, contact };
}

/**
 * Bird's conversation messages (seed 003): newest first, oldest first with
 * `reverse=true`, pages of `limit` chained by `nextPageToken` (absent on the last page).
 * Pages are keyed by position, so a message that arrives while a client pages through
 * never makes one repeat or go missing.
 */
export function birdMessageRoutes(deps: AppDeps) {
  return async function (app: FastifyInstance) {
    app.get<P>('/:workspaceId/conversations/:conversationId/messages', async (req) => {
      const ws = workspaceOf(req);
      const query = req.query as Record<string, unknown>;
      const limit = limitOf(query.limit);
      const order: Order = reverseOf(query.reverse) ? 'asc' : 'desc';
      const { conversation, contact } = await conversationOf(deps, ws, req.params.conversationId);
      const conversationId: ConversationId = conversation.id;
      const after = positionAfter(query.pageToken, conversationId, order);
      // One more than a page: whether another page follows, without counting.
      const rows = await deps.store.pageMessages(ws, { conversationId, after, order, limit: limit + 1 });
      const page = rows.slice(0, limit);
      return {
        results: page.map((r) => messageBird(r.message, conversation, contact)),
        ...(rows.length > limit ? { nextPageToken: pageToken(conversationId, order, page[page.length - 1]!.seq) } : {}),
      };
    });

    app.get<P>('/:workspaceId/conversations/:conversationId/messages/:messageId', async (req) => {
      const ws = workspaceOf(req);
      const { conversation, contact } = await conversationOf(deps, ws, req.params.conversationId);
      const id = parseId<'message'>(req.params.messageId);
      const message = id && (await deps.store.getMessage(ws, id));
      if (!message || message.conversationId !== conversation.id) throw notFound('message');
      return messageBird(message, conversation, contact);
    });
  };
}
