import { newId } from '../domain/ids.js';
import type { Channel, Conversation, Message } from '../domain/records.js';

/** What storing an inbound item needs of its channel (no settings, no secrets). */
export type InboundChannel = Pick<Channel, 'id' | 'workspaceId' | 'platformId'>;
import type { InboundMessage } from '../channels/connector.js';
import { appendMessage, createContact, openConversation } from '../conversations/threading.js';
import type { Tx } from '../store/store.js';

export type IngestResult =
  | { kind: 'stored'; message: Message; conversation: Conversation }
  | { kind: 'duplicate'; message: Message };

/**
 * The one inbound step every channel goes through: contact, conversation, message and
 * their events in the caller's transaction. The same provider message id on a channel
 * is stored once; a retry gets `duplicate` and changes nothing.
 */
export async function ingestMessage(tx: Tx, channel: InboundChannel, item: InboundMessage, now: number): Promise<IngestResult> {
  // One read for what the three questions need: seen before? which contact? which conversation?
  const known = await tx.inboundContext(channel.workspaceId, channel.id, item.providerMessageId, item.contact);
  if (known.duplicate) return { kind: 'duplicate', message: known.duplicate };

  const contact = known.contact ?? (await createContact(tx, channel.workspaceId, item.contact, item.contactName ?? null, now));
  const created = !known.conversation;
  const conversation = known.conversation ?? (await openConversation(tx, contact, channel.id, now));
  const message: Message = {
    id: newId(),
    workspaceId: channel.workspaceId,
    conversationId: conversation.id,
    channelId: channel.id,
    platform: channel.platformId,
    direction: 'received',
    status: 'received',
    type: item.type,
    content: item.content,
    from: item.from,
    to: item.to,
    providerMessageId: item.providerMessageId,
    mode: 'live',
    error: null,
    source: null,
    tag: null,
    reportUrl: null,
    createdAt: now,
    updatedAt: now,
  };
  const threadedConversation = await appendMessage(tx, conversation, created, message, now);
  if (!threadedConversation) {
    // Lost a race with a concurrent copy of the same webhook; the unique index kept one.
    const winner = await tx.findMessageByProviderId(channel.id, item.providerMessageId);
    return { kind: 'duplicate', message: winner ?? message };
  }
  return { kind: 'stored', message, conversation: threadedConversation };
}
