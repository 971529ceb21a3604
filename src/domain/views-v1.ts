import { rfc3339 } from './time.js';
import { msisdnOf } from './phone.js';
import type {
  Channel, Contact, Conversation, Delivery, DeliveryAttempt, Message, Webhook, WebhookEventType,
} from './records.js';

/**
 * Serialisers for the MessageBird Conversations API v1 surface. One function per object,
 * each an explicit allow-list of fields, so a new column never leaks by accident.
 */

const iso = (ms: number | null) => (ms === null ? null : rfc3339(ms));

export function channelSummaryV1(c: Channel) {
  return {
    id: c.id,
    name: c.name,
    platformId: c.platformId,
    status: c.status,
    createdDatetime: rfc3339(c.createdAt),
    updatedDatetime: iso(c.updatedAt),
  };
}

export function channelV1(c: Channel, publicUrl: string) {
  return {
    ...channelSummaryV1(c),
    settings: c.settings,
    inboundUrl: `${publicUrl}/inbound/${c.id}`,
  };
}

export function contactV1(c: Contact, publicUrl: string) {
  return {
    id: c.id,
    href: `${publicUrl}/v1/contacts/${c.id}`,
    msisdn: c.msisdn === null ? null : msisdnOf(c.msisdn),
    displayName: c.displayName,
    firstName: c.firstName,
    lastName: c.lastName,
    customDetails: c.customDetails,
    createdDatetime: rfc3339(c.createdAt),
    updatedDatetime: iso(c.updatedAt),
  };
}

/** The short conversation shape of webhook payloads (seed 000, AsyncAPI ConversationEvent). */
export function conversationEventV1(c: Conversation) {
  const out: Record<string, unknown> = {
    id: c.id,
    contactId: c.contactId,
    status: c.status,
    createdDatetime: rfc3339(c.createdAt),
    updatedDatetime: rfc3339(c.updatedAt ?? c.createdAt),
  };
  if (c.lastReceivedAt !== null) out.lastReceivedDatetime = rfc3339(c.lastReceivedAt);
  return out;
}

export function conversationV1(c: Conversation, contact: Contact, channels: Channel[], publicUrl: string) {
  return {
    id: c.id,
    contactId: c.contactId,
    contact: contactV1(contact, publicUrl),
    channels: channels.map(channelSummaryV1),
    status: c.status,
    createdDatetime: rfc3339(c.createdAt),
    updatedDatetime: rfc3339(c.updatedAt ?? c.createdAt),
    lastReceivedDatetime: iso(c.lastReceivedAt),
    lastUsedChannelId: c.lastUsedChannelId,
    messages: {
      totalCount: c.messageCount,
      href: `${publicUrl}/v1/conversations/${c.id}/messages`,
      lastMessageId: c.lastMessageId,
    },
  };
}

export function messageV1(m: Message) {
  const out: Record<string, unknown> = {
    id: m.id,
    conversationId: m.conversationId,
    channelId: m.channelId,
    platform: m.platform,
    to: m.to,
    from: m.from,
    direction: m.direction,
    status: m.status,
    type: m.type,
    content: m.content,
    createdDatetime: rfc3339(m.createdAt),
    updatedDatetime: rfc3339(m.updatedAt ?? m.createdAt),
  };
  if (m.error) out.error = m.error;
  if (m.source) out.source = m.source;
  if (m.tag) out.tag = m.tag;
  return out;
}

export function webhookV1(w: Webhook) {
  return {
    id: w.id,
    channelId: w.channelId,
    url: w.url,
    events: w.events,
    status: w.status,
    settings: w.settings ?? undefined,
    createdDatetime: rfc3339(w.createdAt),
    updatedDatetime: iso(w.updatedAt),
    // Only when Roost disabled the webhook by itself: `gone` (410) or `failing` (days of failures).
    ...(w.disabledReason ? { disabledReason: w.disabledReason } : {}),
  };
}

/** Webhook bodies: `{type, conversation, message}` for message events, `{type, conversation}` otherwise. */
export function messageEventBody(type: Extract<WebhookEventType, `message.${string}`>, c: Conversation, m: Message): string {
  return JSON.stringify({ type, conversation: conversationEventV1(c), message: messageV1(m) });
}

export function conversationEventBody(type: Extract<WebhookEventType, `conversation.${string}`>, c: Conversation): string {
  return JSON.stringify({ type, conversation: conversationEventV1(c) });
}

/** Delivery log entries (Roost's own extension of the v1 surface). */
export function deliveryV1(d: Delivery) {
  return {
    id: d.id,
    webhookId: d.webhookId,
    eventId: d.eventId,
    event: d.eventType,
    conversationId: d.conversationId,
    status: d.state,
    attempts: d.attempts,
    nextAttemptDatetime: iso(d.nextAttemptAt),
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    createdDatetime: rfc3339(d.createdAt),
    updatedDatetime: rfc3339(d.updatedAt),
  };
}

export function attemptV1(a: DeliveryAttempt) {
  return {
    id: a.id,
    url: a.url,
    attemptedDatetime: rfc3339(a.attemptedAt),
    durationMs: a.durationMs,
    statusCode: a.statusCode,
    responseExcerpt: a.responseExcerpt,
    error: a.error,
    trigger: a.trigger,
  };
}
