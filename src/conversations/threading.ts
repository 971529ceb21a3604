import { newId } from '../domain/ids.js';
import type { ChannelId, WorkspaceId } from '../domain/ids.js';
import type { Contact, ContactIdentifier, Conversation, Message } from '../domain/records.js';
import type { Tx } from '../store/store.js';
import { conversationEvent, fanOut, messageEvent } from './outbox.js';

/**
 * Threading rules shared by inbound and outbound paths:
 * - one identifier (an E.164 number, a Telegram id, ...) is one contact per workspace;
 * - a contact has at most one active conversation; writing to a contact whose
 *   conversations are all archived opens a new one.
 */

export async function findOrCreateContact(
  tx: Tx, ws: WorkspaceId, identifier: ContactIdentifier, displayName: string | null, now: number,
): Promise<Contact> {
  return (await tx.findContactByIdentifier(ws, identifier)) ?? createContact(tx, ws, identifier, displayName, now);
}

/** A new contact known by `identifier` (the caller has checked there is none). */
export async function createContact(
  tx: Tx, ws: WorkspaceId, identifier: ContactIdentifier, displayName: string | null, now: number,
): Promise<Contact> {
  const contact: Contact = {
    id: newId(),
    workspaceId: ws,
    msisdn: identifier.key === 'phonenumber' ? identifier.value : null,
    displayName,
    firstName: null,
    lastName: null,
    customDetails: {},
    createdAt: now,
    updatedAt: null,
  };
  await tx.insertContact(contact, [identifier]);
  return contact;
}

/** The contact's active conversation, or a new one. `created` tells whether it is new. */
export async function activeConversationFor(
  tx: Tx, contact: Contact, channelId: ChannelId, now: number,
): Promise<{ conversation: Conversation; created: boolean }> {
  const existing = await tx.findActiveConversation(contact.workspaceId, contact.id);
  if (existing) return { conversation: existing, created: false };
  return { conversation: await openConversation(tx, contact, channelId, now), created: true };
}

/** A new active conversation with the contact (the caller has checked there is none). */
export async function openConversation(tx: Tx, contact: Contact, channelId: ChannelId, now: number): Promise<Conversation> {
  const conversation: Conversation = {
    id: newId(),
    workspaceId: contact.workspaceId,
    contactId: contact.id,
    status: 'active',
    channelIds: [channelId],
    lastUsedChannelId: channelId,
    lastInboundChannelId: null,
    lastReceivedAt: null,
    lastMessageId: null,
    messageCount: 0,
    createdAt: now,
    updatedAt: now,
  };
  await tx.insertConversation(conversation);
  return conversation;
}

/** The conversation as a new message leaves it (its count includes the message). */
export function threaded(conversation: Conversation, message: Message, now: number): Conversation {
  return {
    ...conversation,
    channelIds: conversation.channelIds.includes(message.channelId)
      ? conversation.channelIds
      : [...conversation.channelIds, message.channelId],
    lastUsedChannelId: message.channelId,
    lastInboundChannelId: message.direction === 'received' ? message.channelId : conversation.lastInboundChannelId,
    lastReceivedAt: message.direction === 'received' ? message.createdAt : conversation.lastReceivedAt,
    lastMessageId: message.id,
    messageCount: conversation.messageCount + 1,
    updatedAt: now,
  };
}

/**
 * Stores a new message in its conversation with the events it causes
 * (`conversation.created` when the conversation is `created` by this message, then
 * `message.created`) and their deliveries, as one store write. Returns the conversation
 * as the message leaves it, or null, writing nothing, when the message's channel already
 * has its provider id.
 */
export async function appendMessage(
  tx: Tx, conversation: Conversation, created: boolean, message: Message, now: number,
): Promise<Conversation | null> {
  const updated = threaded(conversation, message, now);
  const events = created
    ? [conversationEvent('conversation.created', updated, now), messageEvent('message.created', updated, message, now)]
    : [messageEvent('message.created', updated, message, now)];
  const subscribers = await tx.appendMessage(message, updated, events);
  if (!subscribers) return null;
  await Promise.all(events.map((e, i) => fanOut(tx, e, subscribers[i]!)));
  return updated;
}
