import { newId } from '../domain/ids.js';
import type { ChannelId, WorkspaceId } from '../domain/ids.js';
import type { Contact, ContactIdentifier, Conversation, Message } from '../domain/records.js';
import type { Tx } from '../store/store.js';
import { recordConversationEvent } from './outbox.js';

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

/** Applies a newly stored message to its conversation and records `conversation.created` when new. */
export async function threadMessage(
  tx: Tx, conversation: Conversation, created: boolean, message: Message, now: number,
): Promise<Conversation> {
  const updated: Conversation = {
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
  await tx.updateConversation(updated);
  if (created) await recordConversationEvent(tx, 'conversation.created', updated, now);
  return updated;
}
