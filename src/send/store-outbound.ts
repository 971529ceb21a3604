import { invalid, notFound, RoostError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { ChannelId, ConversationId } from '../domain/ids.js';
import type { Channel, Contact, Conversation, KeyMode, Message, Workspace } from '../domain/records.js';
import { connectorFor } from '../channels/registry.js';
import { activeConversationFor, appendMessage, findOrCreateContact } from '../conversations/threading.js';
import { procedure } from '../store/procedure.js';
import type { Tx } from '../store/store.js';
import type { OutboundFields } from './outbound-request.js';

/** Who is asking: the workspace of the access key, and whether it is a test key. */
export interface Caller {
  workspace: Workspace;
  mode: KeyMode;
}

/** Where an outbound message goes: to an address on a channel, or into a conversation. */
export type OutboundTarget =
  | { kind: 'address'; channelId: ChannelId; field: 'channelId' | 'from'; rawTo: string }
  /** On `channelId`, else the channel the contact last wrote from, else the one last used. */
  | { kind: 'conversation'; conversationId: ConversationId; channelId: ChannelId | undefined };

export interface StoreOutboundArgs {
  caller: Caller;
  target: OutboundTarget;
  fields: OutboundFields;
  now: number;
}

/**
 * The one outbound step: every start, reply and send stores the message as `accepted`,
 * a durable send job and `message.created` in one transaction. The send worker hands it
 * to the provider afterwards; nothing here talks to a provider.
 */
export const storeOutbound = procedure(import.meta.url, 'storeOutbound', async (tx, a: StoreOutboundArgs) => {
  const { caller, target, now } = a;
  if (target.kind === 'address') {
    const { channel, connector } = await usableChannel(tx, caller, target.channelId, target.field);
    const identifier = connector.identifierFor(target.rawTo);
    if (!identifier) throw invalid('to', `is not a valid recipient for a ${connector.platform} channel`);
    const contact = await findOrCreateContact(tx, caller.workspace.id, identifier, null, now);
    return createOutbound(tx, caller, channel, contact, identifier.value, a.fields, now);
  }
  // Replying into an archived conversation continues in the contact's active conversation
  // (a new one when there is none), as MessageBird does.
  const conversation = await tx.getConversation(caller.workspace.id, target.conversationId);
  if (!conversation) throw notFound('conversation');
  const channelId = target.channelId ?? conversation.lastInboundChannelId ?? conversation.lastUsedChannelId;
  if (!channelId) throw invalid('channelId', 'is required: the conversation has no channel yet');
  const { channel, connector } = await usableChannel(tx, caller, channelId, 'channelId');
  const contact = await tx.getContact(caller.workspace.id, conversation.contactId);
  if (!contact) throw notFound('contact');
  const identifiers = await tx.getContactIdentifiers(caller.workspace.id, contact.id);
  const reachable = identifiers.find((i) => connector.identifierFor(i.value)?.key === i.key);
  if (!reachable) throw invalid('channelId', `cannot reach this contact: no ${connector.platform} address known`);
  return createOutbound(tx, caller, channel, contact, reachable.value, a.fields, now);
});

async function createOutbound(
  tx: Tx, caller: Caller, channel: Channel, contact: Contact, to: string, fields: OutboundFields, now: number,
): Promise<{ message: Message; conversation: Conversation }> {
  const connector = connectorFor(channel.platformId)!;
  const { conversation, created } = await activeConversationFor(tx, contact, channel.id, now);
  const message: Message = {
    id: newId(),
    workspaceId: caller.workspace.id,
    conversationId: conversation.id,
    channelId: channel.id,
    platform: channel.platformId,
    direction: 'sent',
    status: 'accepted',
    type: fields.type,
    content: fields.content,
    from: connector.ownAddress(channel),
    to,
    providerMessageId: null,
    mode: caller.mode,
    error: null,
    source: fields.source,
    tag: fields.tag,
    reportUrl: fields.reportUrl,
    createdAt: now,
    updatedAt: now,
  };
  const threaded = await appendMessage(tx, conversation, created, message, now);
  // Only a provider message id can be a duplicate, and an outbound message has none yet.
  if (!threaded) throw new Error(`outbound message ${message.id} was refused as a duplicate`);
  await tx.insertSendJob(message.id, caller.workspace.id, now);
  return { message, conversation: threaded };
}

async function usableChannel(tx: Tx, caller: Caller, id: ChannelId, field: string) {
  const channel = await tx.getChannel(caller.workspace.id, id);
  if (!channel) throw new RoostError('not_found', 'channel not found', field);
  if (channel.status !== 'active') throw invalid(field, `refers to a channel that is ${channel.status}`);
  const connector = connectorFor(channel.platformId);
  if (!connector) throw invalid(field, `refers to a channel of unsupported platform ${channel.platformId}`);
  return { channel, connector };
}
