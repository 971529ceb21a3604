import { invalid, notFound, RoostError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { ConversationId } from '../domain/ids.js';
import type { Channel, Contact, Conversation, KeyMode, Message, Workspace } from '../domain/records.js';
import type { Clock } from '../domain/time.js';
import type { Connector } from '../channels/connector.js';
import { activeConversationFor, appendMessage, findOrCreateContact } from '../conversations/threading.js';
import type { Store, Tx } from '../store/store.js';
import {
  optionalChannelId, parseOutboundFields, requiredChannelId, requiredRecipient,
} from './outbound-request.js';
import type { OutboundFields } from './outbound-request.js';

/** Who is asking: the workspace of the access key, and whether it is a test key. */
export interface Caller {
  workspace: Workspace;
  mode: KeyMode;
}

export interface OutboundDeps {
  store: Store;
  clock: Clock;
  connectorFor(platformId: string): Connector | undefined;
  /** Wakes the send worker after a commit, so hand-off does not wait for the next poll. */
  notifySendWorker(): void;
}

type Body = Record<string, unknown>;

/**
 * The one outbound step: every start, reply and send stores the message as `accepted`,
 * a durable send job and `message.created` in one transaction. The send worker hands it
 * to the provider afterwards; nothing here talks to a provider.
 */
async function createOutbound(
  tx: Tx, deps: OutboundDeps, caller: Caller, channel: Channel, contact: Contact, to: string, fields: OutboundFields,
): Promise<{ message: Message; conversation: Conversation }> {
  const now = deps.clock.now();
  const connector = deps.connectorFor(channel.platformId)!;
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

async function usableChannel(tx: Tx, deps: OutboundDeps, caller: Caller, id: Channel['id'], field: string) {
  const channel = await tx.getChannel(caller.workspace.id, id);
  if (!channel) throw new RoostError('not_found', 'channel not found', field);
  if (channel.status !== 'active') throw invalid(field, `refers to a channel that is ${channel.status}`);
  const connector = deps.connectorFor(channel.platformId);
  if (!connector) throw invalid(field, `refers to a channel of unsupported platform ${channel.platformId}`);
  return { channel, connector };
}

async function contactByAddress(tx: Tx, caller: Caller, connector: Connector, rawTo: string, now: number) {
  const identifier = connector.identifierFor(rawTo);
  if (!identifier) throw invalid('to', `is not a valid recipient for a ${connector.platform} channel`);
  const contact = await findOrCreateContact(tx, caller.workspace.id, identifier, null, now);
  return { contact, to: identifier.value };
}

/** `POST /v1/conversations/start`: resumes the recipient's active conversation or opens one. */
export async function startConversation(deps: OutboundDeps, caller: Caller, body: Body) {
  const channelId = requiredChannelId(body, 'channelId');
  const rawTo = requiredRecipient(body, 'to');
  const fields = parseOutboundFields(body);
  const result = await deps.store.transaction(async (tx) => {
    const { channel, connector } = await usableChannel(tx, deps, caller, channelId, 'channelId');
    const { contact, to } = await contactByAddress(tx, caller, connector, rawTo, deps.clock.now());
    return createOutbound(tx, deps, caller, channel, contact, to, fields);
  });
  deps.notifySendWorker();
  return result;
}

/** `POST /v1/send`: like start, but `from` names the channel and the answer is the message. */
export async function sendMessage(deps: OutboundDeps, caller: Caller, body: Body) {
  const channelId = requiredChannelId(body, 'from');
  const rawTo = requiredRecipient(body, 'to');
  const fields = parseOutboundFields(body);
  const result = await deps.store.transaction(async (tx) => {
    const { channel, connector } = await usableChannel(tx, deps, caller, channelId, 'from');
    const { contact, to } = await contactByAddress(tx, caller, connector, rawTo, deps.clock.now());
    return createOutbound(tx, deps, caller, channel, contact, to, fields);
  });
  deps.notifySendWorker();
  return result;
}

/**
 * `POST /v1/conversations/{id}/messages`: replies on the named channel, else on the one the
 * contact last wrote from (else the one last used). Replying into an archived conversation continues in the contact's
 * active conversation (a new one when there is none), as MessageBird does.
 */
export async function replyToConversation(deps: OutboundDeps, caller: Caller, conversationId: ConversationId, body: Body) {
  const requestedChannel = optionalChannelId(body, 'channelId');
  const fields = parseOutboundFields(body);
  const result = await deps.store.transaction(async (tx) => {
    const conversation = await tx.getConversation(caller.workspace.id, conversationId);
    if (!conversation) throw notFound('conversation');
    const channelId = requestedChannel ?? conversation.lastInboundChannelId ?? conversation.lastUsedChannelId;
    if (!channelId) throw invalid('channelId', 'is required: the conversation has no channel yet');
    const { channel, connector } = await usableChannel(tx, deps, caller, channelId, 'channelId');
    const contact = await tx.getContact(caller.workspace.id, conversation.contactId);
    if (!contact) throw notFound('contact');
    const identifiers = await tx.getContactIdentifiers(caller.workspace.id, contact.id);
    const reachable = identifiers.find((i) => connector.identifierFor(i.value)?.key === i.key);
    if (!reachable) throw invalid('channelId', `cannot reach this contact: no ${connector.platform} address known`);
    return createOutbound(tx, deps, caller, channel, contact, reachable.value, fields);
  });
  deps.notifySendWorker();
  return result;
}
