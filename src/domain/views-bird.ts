import type { Media, MessageContent } from './content.js';
import type { Contact, Conversation, Message } from './records.js';
import type { MessageStatus } from './status.js';

/**
 * Roost's records as Bird's Conversations API shows them (api.bird.com, seed 003 and the
 * reference's §4.3): ids as dashed UUIDs, the sender as a participant, the content as a
 * `body`, times in ISO 8601 with milliseconds. Only what Roost knows is filled in: no
 * drafts, no interactions, no template.
 */

/** Roost's ids are UUIDs written as 32 hex digits; Bird writes the same 128 bits dashed. */
export function dashed(id: string): string {
  return `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`;
}

/**
 * Bird's lifecycle is `accepted → processing → sent → delivered`, failures
 * `sending_failed`; a received message is shown `delivered`, as in seed 003's example.
 * Read receipts are interactions in Bird, not a status: `read` stays `delivered`.
 */
const STATUS: Record<MessageStatus, string> = {
  accepted: 'accepted',
  pending: 'processing',
  sent: 'sent',
  delivered: 'delivered',
  read: 'delivered',
  failed: 'sending_failed',
  received: 'delivered',
  deleted: 'deleted',
};

/** The contact as a participant's identifier: its phone number, else its address on the message's platform. */
function identifierOf(contact: Contact, m: Message): { identifierKey: string; identifierValue: string; platformAddress: string } {
  const address = m.direction === 'received' ? m.from : m.to;
  return contact.msisdn !== null
    ? { identifierKey: 'phonenumber', identifierValue: contact.msisdn, platformAddress: address }
    : { identifierKey: m.platform, identifierValue: address, platformAddress: address };
}

function displayNameOf(contact: Contact, fallback: string): string {
  const full = [contact.firstName, contact.lastName].filter((p) => p).join(' ');
  return contact.displayName ?? (full || fallback);
}

/**
 * Bird's `body` for Roost's content (its text, image, file and location shapes), or its
 * `template` for a MessageBird HSM: a message has one or the other.
 */
function contentOf(content: MessageContent): { body: Record<string, unknown> } | { template: Record<string, unknown> } {
  if ('text' in content) return { body: { type: 'text', text: { text: content.text } } };
  if ('hsm' in content) return { template: content.hsm };
  if ('location' in content) return { body: { type: 'location', location: { coordinates: content.location } } };
  const [kind, media] = Object.entries(content)[0] as ['image' | 'video' | 'audio' | 'file', Media];
  const caption = media.caption ? { text: media.caption } : {};
  return kind === 'image'
    ? { body: { type: 'image', image: { images: [{ mediaUrl: media.url }], ...caption } } }
    : { body: { type: 'file', file: { files: [{ mediaUrl: media.url }], ...caption } } };
}

export function messageBird(m: Message, conversation: Conversation, contact: Contact): Record<string, unknown> {
  const identifier = identifierOf(contact, m);
  const name = displayNameOf(contact, identifier.identifierValue);
  const contactId = dashed(conversation.contactId);
  const received = m.direction === 'received';
  return {
    id: dashed(m.id),
    conversationId: dashed(m.conversationId),
    channelId: dashed(m.channelId),
    reference: m.tag ?? '',
    // Roost does not note which of a workspace's keys sent a message: the workspace speaks.
    sender: received
      ? { id: contactId, type: 'contact', status: 'active', displayName: name, avatarUrl: '', contact: identifier }
      : { id: dashed(m.workspaceId), type: 'accessKey', status: 'active', displayName: 'Roost API', avatarUrl: '' },
    draft: false,
    ...(received ? {} : { recipients: [{ type: 'to', id: contactId, ...identifier, contactAnnotation: { name } }] }),
    status: STATUS[m.status],
    ...(m.error ? { reason: m.error.description } : {}),
    source: received ? 'channels' : 'conversations',
    ...contentOf(m.content),
    interactions: null,
    createdAt: new Date(m.createdAt).toISOString(),
    updatedAt: new Date(m.updatedAt ?? m.createdAt).toISOString(),
  };
}
