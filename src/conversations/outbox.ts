import { newId } from '../domain/ids.js';
import type { Conversation, Message, OutboxEvent } from '../domain/records.js';
import { conversationEventBody, messageEventBody } from '../domain/views-v1.js';
import type { Tx } from '../store/store.js';

/**
 * Writes webhook events into the outbox inside the caller's transaction, so an event
 * exists if and only if the change it describes was committed. The body is serialised
 * here, once, and delivered byte for byte to every subscriber.
 *
 * Fan-out happens here too: one delivery per enabled webhook that subscribes to the
 * event (a channel-specific webhook for its channel, a generic one for all), in the
 * same transaction, so a committed event can never miss its deliveries.
 */
async function recordEvent(tx: Tx, event: OutboxEvent): Promise<void> {
  // Requested together (in this order): an engine that pipelines sends them at once.
  const subscribers = await tx.insertEvent(event);
  await Promise.all(subscribers.map((webhook) => tx.insertDelivery({
    id: newId(),
    workspaceId: event.workspaceId,
    webhookId: webhook.id,
    eventId: event.id,
    eventType: event.type,
    conversationId: event.conversationId,
    createdAt: event.createdAt,
  })));
}

export async function recordMessageEvent(
  tx: Tx, type: 'message.created' | 'message.updated', conversation: Conversation, message: Message, at: number,
): Promise<void> {
  await recordEvent(tx, {
    id: newId(),
    workspaceId: message.workspaceId,
    type,
    channelId: message.channelId,
    conversationId: conversation.id,
    payload: messageEventBody(type, conversation, message),
    createdAt: at,
  });
}

export async function recordConversationEvent(
  tx: Tx, type: 'conversation.created' | 'conversation.updated', conversation: Conversation, at: number,
): Promise<void> {
  await recordEvent(tx, {
    id: newId(),
    workspaceId: conversation.workspaceId,
    type,
    channelId: conversation.lastUsedChannelId,
    conversationId: conversation.id,
    payload: conversationEventBody(type, conversation),
    createdAt: at,
  });
}
