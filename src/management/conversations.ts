import { invalid, missing, notFound } from '../domain/errors.js';
import type { ConversationId } from '../domain/ids.js';
import type { Conversation, Workspace } from '../domain/records.js';
import type { Clock } from '../domain/time.js';
import { recordConversationEvent } from '../conversations/outbox.js';
import type { Store } from '../store/store.js';

/** `PATCH /v1/conversations/{id}`: archive or re-activate, recording `conversation.updated`. */
export async function updateConversationStatus(
  deps: { store: Store; clock: Clock }, ws: Workspace, id: ConversationId, body: Record<string, unknown>,
): Promise<Conversation> {
  const status = body.status;
  if (status === undefined || status === null || status === '') throw missing('status');
  if (status !== 'active' && status !== 'archived') throw invalid('status', 'must be active or archived');
  return deps.store.transaction(async (tx) => {
    const current = await tx.getConversation(ws.id, id);
    if (!current) throw notFound('conversation');
    if (current.status === status) return current;
    if (status === 'active') {
      const other = await tx.findActiveConversation(ws.id, current.contactId);
      if (other) throw invalid('status', `the contact already has an active conversation (${other.id})`);
    }
    const now = deps.clock.now();
    const updated: Conversation = { ...current, status, updatedAt: now };
    await tx.updateConversation(updated);
    await recordConversationEvent(tx, 'conversation.updated', updated, now);
    return updated;
  });
}
