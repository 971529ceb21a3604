import type {
  Channel, Contact, Conversation, Delivery, DeliveryAttempt, Message, OutboxEvent, Webhook, Workspace,
} from '../domain/records.js';

/** Row <-> record mapping for the SQLite engine. JSON columns are TEXT. */

/* eslint-disable @typescript-eslint/no-explicit-any */
type Row = any;

/**
 * The next attempt of a pending delivery whose webhook is disabled: parked past any
 * claim's reach and out of `nextDeliveryDue`, so a disabled webhook's backlog is never
 * walked by the claims of the others (it sorts first in the due index otherwise). The
 * largest time a Date holds, so it can never be a real schedule.
 */
export const PARKED_AT = 8_640_000_000_000_000;

/**
 * SQL for a delivery's next attempt at `at` (an SQL expression), parked instead when its
 * webhook is disabled: for the statements that make a delivery due without the webhook
 * in view (a retry or a chain's next delivery recorded after an attempt that was in
 * flight when the webhook was disabled). The updated table must be `deliveries`, unaliased.
 */
export const dueUnlessParked = (at: string) =>
  `CASE WHEN EXISTS (SELECT 1 FROM webhooks pw WHERE pw.id = deliveries.webhook_id AND pw.status = 'disabled') THEN ${PARKED_AT} ELSE ${at} END`;

const json = <T>(v: string | null): T | null => (v === null ? null : (JSON.parse(v) as T));

export const toWorkspace = (r: Row): Workspace => ({
  id: r.id, name: r.name, signingKey: r.signing_key, createdAt: r.created_at,
});

export const toChannel = (r: Row): Channel => ({
  id: r.id,
  workspaceId: r.workspace_id,
  name: r.name,
  platformId: r.platform_id,
  status: r.status,
  settings: JSON.parse(r.settings),
  secrets: JSON.parse(r.secrets),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const toContact = (r: Row): Contact => ({
  id: r.id,
  workspaceId: r.workspace_id,
  msisdn: r.msisdn,
  displayName: r.display_name,
  firstName: r.first_name,
  lastName: r.last_name,
  customDetails: JSON.parse(r.custom_details),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const toConversation = (r: Row): Conversation => ({
  id: r.id,
  workspaceId: r.workspace_id,
  contactId: r.contact_id,
  status: r.status,
  channelIds: JSON.parse(r.channel_ids),
  lastUsedChannelId: r.last_used_channel_id,
  lastInboundChannelId: r.last_inbound_channel_id,
  lastReceivedAt: r.last_received_at,
  lastMessageId: r.last_message_id,
  messageCount: r.message_count,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const conversationParams = (c: Conversation) => ({
  id: c.id,
  workspace_id: c.workspaceId,
  contact_id: c.contactId,
  status: c.status,
  channel_ids: JSON.stringify(c.channelIds),
  last_used_channel_id: c.lastUsedChannelId,
  last_inbound_channel_id: c.lastInboundChannelId,
  last_received_at: c.lastReceivedAt,
  last_message_id: c.lastMessageId,
  message_count: c.messageCount,
  created_at: c.createdAt,
  updated_at: c.updatedAt,
  sort_at: c.lastReceivedAt ?? c.createdAt,
});

export const toMessage = (r: Row): Message => ({
  id: r.id,
  workspaceId: r.workspace_id,
  conversationId: r.conversation_id,
  channelId: r.channel_id,
  platform: r.platform,
  direction: r.direction,
  status: r.status,
  type: r.type,
  content: JSON.parse(r.content),
  from: r.from_addr,
  to: r.to_addr,
  providerMessageId: r.provider_message_id,
  mode: r.mode,
  error: json(r.error),
  source: json(r.source),
  tag: r.tag,
  reportUrl: r.report_url,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const messageParams = (m: Message) => ({
  id: m.id,
  workspace_id: m.workspaceId,
  conversation_id: m.conversationId,
  channel_id: m.channelId,
  platform: m.platform,
  direction: m.direction,
  status: m.status,
  type: m.type,
  content: JSON.stringify(m.content),
  from_addr: m.from,
  to_addr: m.to,
  provider_message_id: m.providerMessageId,
  mode: m.mode,
  error: m.error ? JSON.stringify(m.error) : null,
  source: m.source ? JSON.stringify(m.source) : null,
  tag: m.tag,
  report_url: m.reportUrl,
  created_at: m.createdAt,
  updated_at: m.updatedAt,
});

export const toWebhook = (r: Row): Webhook => ({
  id: r.id,
  workspaceId: r.workspace_id,
  channelId: r.channel_id,
  url: r.url,
  events: JSON.parse(r.events),
  status: r.status,
  settings: json(r.settings),
  firstFailureAt: r.first_failure_at,
  disabledReason: r.disabled_reason,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const webhookParams = (w: Webhook) => ({
  id: w.id,
  workspace_id: w.workspaceId,
  channel_id: w.channelId,
  url: w.url,
  events: JSON.stringify(w.events),
  status: w.status,
  settings: w.settings ? JSON.stringify(w.settings) : null,
  first_failure_at: w.firstFailureAt,
  disabled_reason: w.disabledReason,
  created_at: w.createdAt,
  updated_at: w.updatedAt,
});

export const toEvent = (r: Row): OutboxEvent => ({
  id: r.id,
  workspaceId: r.workspace_id,
  type: r.type,
  channelId: r.channel_id,
  conversationId: r.conversation_id,
  payload: r.payload,
  createdAt: r.created_at,
});

export const toDelivery = (r: Row): Delivery => ({
  id: r.id,
  workspaceId: r.workspace_id,
  webhookId: r.webhook_id,
  eventId: r.event_id,
  eventType: r.event_type,
  conversationId: r.conversation_id,
  state: r.state,
  attempts: r.attempts,
  nextAttemptAt: (r.state === 'pending' || r.state === 'queued') && r.next_attempt_at < PARKED_AT ? r.next_attempt_at : null,
  lastStatusCode: r.last_status_code,
  lastError: r.last_error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const toAttempt = (r: Row): DeliveryAttempt => ({
  id: r.id,
  deliveryId: r.delivery_id,
  webhookId: r.webhook_id,
  url: r.url,
  attemptedAt: r.attempted_at,
  durationMs: r.duration_ms,
  statusCode: r.status_code,
  responseExcerpt: r.response_excerpt,
  error: r.error,
  trigger: r.trigger,
});
