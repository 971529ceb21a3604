import type { Conversation, Message, OutboxEvent } from '../domain/records.js';

/**
 * `appendMessage`'s precondition, checked by both engines: the message and its events
 * belong to the conversation the write updates. Anything else is a bug in the caller,
 * and would count a message in one conversation while storing it in another.
 */
export function assertAppendable(m: Message, c: Conversation, events: OutboxEvent[]): void {
  if (m.conversationId !== c.id || m.workspaceId !== c.workspaceId
    || events.some((e) => e.conversationId !== c.id || e.workspaceId !== c.workspaceId)) {
    throw new Error('appendMessage: the message and its events must belong to the conversation');
  }
}
