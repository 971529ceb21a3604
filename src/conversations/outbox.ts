import { newId } from '../domain/ids.js';
import type { Conversation, Message, OutboxEvent, Webhook } from '../domain/records.js';
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
  await fanOut(tx, event, await tx.insertEvent(event));
}

/** One delivery per subscriber of a stored event (requested together: a pipelining engine sends them at once). */
export async function fanOut(tx: Tx, event: OutboxEvent, subscribers: Webhook[]): Promise<void> {
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

/** A `message.*` event, its body serialised once. */
export function messageEvent(
  type: 'message.created' | 'message.updated', conversation: Conversation, message: Message, at: number,
): OutboxEvent {
  return {
    id: newId(),
    workspaceId: message.workspaceId,
    type,
    channelId: message.channelId,
    conversationId: conversation.id,
    payload: messageEventBody(type, conversation, message),
    createdAt: at,
  };
}

/** A `conversation.*` event, its body serialised once. */
export function conversationEvent(
  type: 'conversation.created' | 'conversation.updated', conversation: Conversation, at: number,
): OutboxEvent {
  return {
    id: newId(),
    workspaceId: conversation.workspaceId,
    type,
    channelId: conversation.lastUsedChannelId,
    conversationId: conversation.id,
    payload: conversationEventBody(type, conversation),
    createdAt: at,
  };
}

export async function recordMessageEvent(
  tx: Tx, type: 'message.created' | 'message.updated', conversation: Conversation, message: Message, at: number,
): Promise<void> {
  await recordEvent(tx, messageEvent(type, conversation, message, at));
}

export async function recordConversationEvent(
  tx: Tx, type: 'conversation.created' | 'conversation.updated', conversation: Conversation, at: number,
): Promise<void> {
  await recordEvent(tx, conversationEvent(type, conversation, at));
}
