import type {
  AttemptId, ChannelId, ContactId, ConversationId, DeliveryId, EventId, MessageId, WebhookId, WorkspaceId,
} from './ids.js';
import type { MessageContent, MessageType } from './content.js';
import type { MessageStatus } from './status.js';

/** Plain records as the Store returns them. Times are epoch milliseconds. */

export type KeyMode = 'live' | 'test';

export interface Workspace {
  id: WorkspaceId;
  name: string;
  signingKey: string;
  createdAt: number;
}

export type ChannelStatus = 'active' | 'inactive' | 'pending' | 'deleted';

export interface Channel {
  id: ChannelId;
  workspaceId: WorkspaceId;
  name: string;
  platformId: string;
  status: ChannelStatus;
  /** Public settings, returned by the API. */
  settings: Record<string, unknown>;
  /** Write-only settings (API keys, signing secrets); never serialised. */
  secrets: Record<string, string>;
  createdAt: number;
  updatedAt: number | null;
}

/** How a contact is reached: `phonenumber` (E.164, shared by SMS/WhatsApp/iMessage) or a platform-specific id. */
export interface ContactIdentifier {
  key: string;
  value: string;
}

export interface Contact {
  id: ContactId;
  workspaceId: WorkspaceId;
  msisdn: string | null; // E.164, when the contact has a phone number
  displayName: string | null;
  firstName: string | null;
  lastName: string | null;
  customDetails: Record<string, unknown>;
  createdAt: number;
  updatedAt: number | null;
}

export const CONVERSATION_STATUSES = ['active', 'archived'] as const;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];

export interface Conversation {
  id: ConversationId;
  workspaceId: WorkspaceId;
  contactId: ContactId;
  status: ConversationStatus;
  channelIds: ChannelId[];
  lastUsedChannelId: ChannelId | null;
  /** The channel the contact last wrote from: where a reply goes by default. */
  lastInboundChannelId: ChannelId | null;
  lastReceivedAt: number | null;
  lastMessageId: MessageId | null;
  messageCount: number;
  createdAt: number;
  updatedAt: number | null;
}

export type Direction = 'sent' | 'received';

export interface MessageError {
  code: number;
  description: string;
}

export interface Message {
  id: MessageId;
  workspaceId: WorkspaceId;
  conversationId: ConversationId;
  channelId: ChannelId;
  platform: string;
  direction: Direction;
  status: MessageStatus;
  type: MessageType;
  content: MessageContent;
  from: string;
  to: string;
  providerMessageId: string | null;
  mode: KeyMode;
  error: MessageError | null;
  source: Record<string, unknown> | null;
  tag: string | null;
  reportUrl: string | null;
  createdAt: number;
  updatedAt: number | null;
}

export const WEBHOOK_EVENTS = ['conversation.created', 'conversation.updated', 'message.created', 'message.updated'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];
export type WebhookStatus = 'enabled' | 'disabled';

export interface Webhook {
  id: WebhookId;
  workspaceId: WorkspaceId;
  channelId: ChannelId | null; // null = generic (all channels)
  url: string;
  events: WebhookEventType[];
  status: WebhookStatus;
  settings: Record<string, unknown> | null;
  /** Start of the current run of failed attempts; null after any success. */
  firstFailureAt: number | null;
  /** Why Roost disabled the webhook by itself (`gone`, `failing`), null otherwise. */
  disabledReason: string | null;
  createdAt: number;
  updatedAt: number | null;
}

/**
 * One event for one webhook. State machine (per webhook and conversation, only the oldest
 * unfinished delivery is `pending`; later ones wait as `queued`, which keeps order):
 *
 *   queued -> pending -> succeeded
 *                 \----> failed   (schedule exhausted, or 410 Gone)
 */
export const DELIVERY_STATES = ['queued', 'pending', 'succeeded', 'failed'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

export interface Delivery {
  id: DeliveryId;
  workspaceId: WorkspaceId;
  webhookId: WebhookId;
  eventId: EventId;
  eventType: WebhookEventType;
  conversationId: ConversationId;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: number | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

export type AttemptTrigger = 'scheduled' | 'manual';

export interface DeliveryAttempt {
  id: AttemptId;
  deliveryId: DeliveryId;
  webhookId: WebhookId;
  url: string;
  attemptedAt: number;
  durationMs: number;
  statusCode: number | null;
  responseExcerpt: string | null;
  error: string | null;
  trigger: AttemptTrigger;
}

/** A change that webhook subscribers hear about; written to the outbox with the change itself. */
export interface OutboxEvent {
  id: EventId;
  workspaceId: WorkspaceId;
  type: WebhookEventType;
  channelId: ChannelId | null;
  conversationId: ConversationId;
  /** The v1 JSON body, serialised once at commit time. */
  payload: string;
  createdAt: number;
}
