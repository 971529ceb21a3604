import { hashAccessKey } from '../../src/auth/access-keys.js';
import { newId } from '../../src/domain/ids.js';
import type {
  AccessKeyId, AttemptId, ChannelId, ContactId, ConversationId, DeliveryId, EventId, MessageId, WebhookId, WorkspaceId,
} from '../../src/domain/ids.js';
import type {
  Channel, Contact, Conversation, DeliveryAttempt, KeyMode, Message, OutboxEvent, Webhook, Workspace,
} from '../../src/domain/records.js';
import type { NewDelivery, Tx } from '../../src/store/store.js';

/**
 * Small record factories for store tests. Every factory returns a complete, valid record
 * with fresh ids; pass overrides for the fields a test cares about. Times default to a
 * fixed instant so that assertions on round-tripped records are exact.
 */

export const T0 = 1_700_000_000_000;

export function workspace(over: Partial<Workspace> = {}): Workspace {
  return { id: newId<'workspace'>(), name: 'Acme', signingKey: `sk_${newId()}`, createdAt: T0, ...over };
}

export function accessKey(ws: WorkspaceId, mode: KeyMode = 'live', key = `${mode}_${newId()}`) {
  return {
    key,
    record: { id: newId<'access_key'>() as AccessKeyId, workspaceId: ws, keyHash: hashAccessKey(key), mode, createdAt: T0 },
  };
}

export function channel(ws: WorkspaceId, over: Partial<Channel> = {}): Channel {
  return {
    id: newId<'channel'>() as ChannelId,
    workspaceId: ws,
    name: 'Sandbox line',
    platformId: 'sandbox',
    status: 'active',
    settings: { fromNumber: '+14155550100', nested: { a: [1, 2] } },
    secrets: { apiKey: 'secret-api-key' },
    createdAt: T0,
    updatedAt: null,
    ...over,
  };
}

let phoneCounter = 0;
/** A distinct E.164 number per call within one process (+316 followed by 8 digits). */
export function uniquePhone(): string {
  phoneCounter += 1;
  return `+316${String(phoneCounter).padStart(8, '0')}`;
}

export function contact(ws: WorkspaceId, over: Partial<Contact> = {}): Contact {
  return {
    id: newId<'contact'>() as ContactId,
    workspaceId: ws,
    msisdn: uniquePhone(),
    displayName: 'Jane Doe',
    firstName: 'Jane',
    lastName: 'Doe',
    customDetails: { tier: 'gold', tags: ['a', 'b'] },
    createdAt: T0,
    updatedAt: null,
    ...over,
  };
}

export function conversation(ws: WorkspaceId, contactId: ContactId, channelId: ChannelId, over: Partial<Conversation> = {}): Conversation {
  return {
    id: newId<'conversation'>() as ConversationId,
    workspaceId: ws,
    contactId,
    status: 'active',
    channelIds: [channelId],
    lastUsedChannelId: channelId,
    lastInboundChannelId: null,
    lastReceivedAt: null,
    lastMessageId: null,
    messageCount: 0,
    createdAt: T0,
    updatedAt: null,
    ...over,
  };
}

export function message(c: Conversation, channelId: ChannelId, over: Partial<Message> = {}): Message {
  return {
    id: newId<'message'>() as MessageId,
    workspaceId: c.workspaceId,
    conversationId: c.id,
    channelId,
    platform: 'sandbox',
    direction: 'received',
    status: 'received',
    type: 'text',
    content: { text: 'Hello' },
    from: '+31612345678',
    to: '+14155550100',
    providerMessageId: `prov-${newId()}`,
    mode: 'live',
    error: null,
    source: null,
    tag: null,
    reportUrl: null,
    createdAt: T0,
    updatedAt: null,
    ...over,
  };
}

export function webhook(ws: WorkspaceId, over: Partial<Webhook> = {}): Webhook {
  return {
    id: newId<'webhook'>() as WebhookId,
    workspaceId: ws,
    channelId: null,
    url: 'https://customer.example/hook',
    events: ['message.created', 'message.updated'],
    status: 'enabled',
    settings: null,
    firstFailureAt: null,
    disabledReason: null,
    createdAt: T0,
    updatedAt: null,
    ...over,
  };
}

export function outboxEvent(ws: WorkspaceId, conversationId: ConversationId, over: Partial<OutboxEvent> = {}): OutboxEvent {
  return {
    id: newId<'event'>() as EventId,
    workspaceId: ws,
    type: 'message.created',
    channelId: null,
    conversationId,
    payload: JSON.stringify({ type: 'message.created', n: 1 }),
    createdAt: T0,
    ...over,
  };
}

/** A new delivery of `event` to `webhookId` (what the outbox fan-out inserts). */
export function delivery(event: OutboxEvent, webhookId: WebhookId, over: Partial<NewDelivery> = {}): NewDelivery {
  return {
    id: newId<'delivery'>() as DeliveryId,
    workspaceId: event.workspaceId,
    webhookId,
    eventId: event.id,
    eventType: event.type,
    conversationId: event.conversationId,
    createdAt: event.createdAt,
    ...over,
  };
}

/** One logged attempt of a delivery. */
export function attempt(d: { id: DeliveryId; webhookId: WebhookId }, over: Partial<DeliveryAttempt> = {}): DeliveryAttempt {
  return {
    id: newId<'attempt'>() as AttemptId,
    deliveryId: d.id,
    webhookId: d.webhookId,
    url: 'https://customer.example/hook',
    attemptedAt: T0,
    durationMs: 12,
    statusCode: 200,
    responseExcerpt: 'ok',
    error: null,
    trigger: 'scheduled',
    ...over,
  };
}

/**
 * Inserts what one due delivery needs (a contact, its conversation, a `message.created`
 * event) and the delivery to `webhookId`, all created at `at`; returns the delivery's id.
 */
export async function addDelivery(tx: Tx, ws: WorkspaceId, channelId: ChannelId, webhookId: WebhookId, at = Date.now()): Promise<DeliveryId> {
  const ct = contact(ws);
  await tx.insertContact(ct, []);
  const conv = conversation(ws, ct.id, channelId);
  await tx.insertConversation(conv);
  const event = outboxEvent(ws, conv.id, { createdAt: at });
  await tx.insertEvent(event);
  const d = delivery(event, webhookId, { createdAt: at });
  await tx.insertDelivery(d);
  return d.id;
}
