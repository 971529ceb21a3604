import type {
  AccessKeyId, ChannelId, ContactId, ConversationId, DeliveryId, EventId, MessageId, WebhookId, WorkspaceId,
} from '../domain/ids.js';
import type {
  Channel, Contact, ContactIdentifier, Conversation, ConversationStatus, Delivery, DeliveryAttempt, DeliveryState,
  KeyMode, Message, MessageError, OutboxEvent, Webhook, WebhookEventType, Workspace,
} from '../domain/records.js';
import type { MessageStatus } from '../domain/status.js';
import type { Procedure } from './procedure.js';

/**
 * The Store: domain verbs over one database. Every engine implements it and passes the
 * same conformance suite (test/store). Writes happen only inside `transaction`, whose
 * callback receives an explicit `Tx`; the returned promise settles after the commit is
 * durable, so a caller that acknowledges on resolution never acknowledges lost work.
 *
 * Contract for transaction callbacks: they may await only Tx methods (no network, no
 * timers). Engines rely on it to group many callbacks into one durable commit. A
 * callback may run more than once: when another callback of its group fails, the group
 * is rolled back and run again with a savepoint per callback. Only the last run's
 * writes commit and only its result is returned, so callbacks keep side effects out.
 */

export interface Page<T> {
  items: T[];
  total: number;
}

export interface AuthenticatedKey {
  /** The stored hash, for the constant-time comparison in the auth layer. */
  keyHash: Buffer;
  workspace: Workspace;
  keyId: AccessKeyId;
  mode: KeyMode;
}

export interface ConversationFilter {
  status?: ConversationStatus;
  ids?: ConversationId[];
  offset: number;
  limit: number;
}

export interface MessageFilter {
  conversationId: ConversationId;
  excludePlatforms?: string[];
  offset: number;
  limit: number;
}

/**
 * A keyset page of a conversation's messages by position (`seq`, 1 for its first): the
 * messages after position `after` in `order` (`desc`: newest first, positions below
 * `after`; `asc`: oldest first, above it; `after` null starts at the newest or oldest).
 * Stable while messages are added, unlike an offset: a cursor names a position, and
 * new messages only ever take higher ones.
 */
export interface MessageCursor {
  conversationId: ConversationId;
  after: number | null;
  order: 'desc' | 'asc';
  limit: number;
}

export interface SendJob {
  messageId: MessageId;
  workspaceId: WorkspaceId;
  attempts: number;
  lockedUntil: number;
}

export interface InboundContext {
  duplicate?: Message;
  contact?: Contact;
  conversation?: Conversation;
}

export interface WebhookCounts {
  channelSpecific: number;
  generic: number;
}

export interface Reads {
  findAccessKey(keyHash: Buffer): Promise<AuthenticatedKey | undefined>;
  getWorkspace(id: WorkspaceId): Promise<Workspace | undefined>;
  countWorkspaces(): Promise<number>;
  /** The first workspace created: the one the ROOST_* keys configure. */
  getDefaultWorkspace(): Promise<Workspace | undefined>;

  getChannel(ws: WorkspaceId, id: ChannelId): Promise<Channel | undefined>;
  /** For inbound webhooks, which name a channel but carry no workspace. */
  getChannelForInbound(id: ChannelId): Promise<Channel | undefined>;
  getChannels(ws: WorkspaceId, ids: ChannelId[]): Promise<Channel[]>;
  listChannels(ws: WorkspaceId, offset: number, limit: number): Promise<Page<Channel>>;

  getContact(ws: WorkspaceId, id: ContactId): Promise<Contact | undefined>;
  getContacts(ws: WorkspaceId, ids: ContactId[]): Promise<Contact[]>;
  findContactByIdentifier(ws: WorkspaceId, identifier: ContactIdentifier): Promise<Contact | undefined>;
  getContactIdentifiers(ws: WorkspaceId, id: ContactId): Promise<ContactIdentifier[]>;

  /**
   * What ingesting a provider message needs, in one read: the message when the channel
   * already has this provider id, the contact known by `identifier`, and that contact's
   * active conversation (only when the contact exists).
   */
  inboundContext(ws: WorkspaceId, channelId: ChannelId, providerMessageId: string, identifier: ContactIdentifier): Promise<InboundContext>;

  getConversation(ws: WorkspaceId, id: ConversationId): Promise<Conversation | undefined>;
  findActiveConversation(ws: WorkspaceId, contactId: ContactId): Promise<Conversation | undefined>;
  listConversations(ws: WorkspaceId, filter: ConversationFilter): Promise<Page<Conversation>>;

  getMessage(ws: WorkspaceId, id: MessageId): Promise<Message | undefined>;
  findMessageByProviderId(channelId: ChannelId, providerMessageId: string): Promise<Message | undefined>;
  listMessages(ws: WorkspaceId, filter: MessageFilter): Promise<Page<Message>>;
  /** Messages with their positions, for a cursor (see MessageCursor). */
  pageMessages(ws: WorkspaceId, cursor: MessageCursor): Promise<Array<{ seq: number; message: Message }>>;

  getWebhook(ws: WorkspaceId, id: WebhookId): Promise<Webhook | undefined>;
  listWebhooks(ws: WorkspaceId, offset: number, limit: number): Promise<Page<Webhook>>;
  countWebhooks(ws: WorkspaceId): Promise<WebhookCounts>;

  /** Enabled webhooks of the workspace that subscribe to `type` for events of `channelId`. */
  matchingWebhooks(ws: WorkspaceId, channelId: ChannelId | null, type: WebhookEventType): Promise<Webhook[]>;
  listDeliveries(ws: WorkspaceId, webhookId: WebhookId, state: DeliveryState | undefined, offset: number, limit: number): Promise<Page<Delivery>>;
  getDelivery(ws: WorkspaceId, webhookId: WebhookId, id: DeliveryId): Promise<Delivery | undefined>;
  listAttempts(deliveryId: DeliveryId): Promise<DeliveryAttempt[]>;
  getEvent(ws: WorkspaceId, id: EventId): Promise<OutboxEvent | undefined>;

  /**
   * Earliest time any work of the kind is due (claimed or not), or null when there is none:
   * a cheap read that lets idle workers skip the claim transaction.
   */
  nextDeliveryDue(): Promise<number | null>;
  nextSendJobDue(): Promise<number | null>;

  countEvents(ws: WorkspaceId): Promise<number>;
  listEvents(ws: WorkspaceId, afterId: string | null, limit: number): Promise<OutboxEvent[]>;
}

export interface Writes {
  insertWorkspace(w: Workspace): Promise<void>;
  setSigningKey(ws: WorkspaceId, key: string): Promise<void>;
  insertAccessKey(k: { id: AccessKeyId; workspaceId: WorkspaceId; keyHash: Buffer; mode: KeyMode; createdAt: number }): Promise<void>;
  deleteAccessKeys(ws: WorkspaceId): Promise<void>;

  insertChannel(c: Channel): Promise<void>;
  updateChannel(c: Channel): Promise<void>;

  insertContact(c: Contact, identifiers: ContactIdentifier[]): Promise<void>;
  addContactIdentifier(ws: WorkspaceId, contactId: ContactId, identifier: ContactIdentifier): Promise<void>;

  insertConversation(c: Conversation): Promise<void>;
  updateConversation(c: Conversation): Promise<void>;

  /**
   * Returns false, writing nothing, when the channel already has this provider message id.
   * The engine counts the message in its conversation's `messageCount` (which
   * `updateConversation` never overwrites) and gives it that number as its position, so
   * list totals need no count query and a page at any offset is one index range.
   */
  insertMessage(m: Message): Promise<boolean>;
  /**
   * A new message with everything it changes, as one write: inserts `m` (counted and
   * positioned as `insertMessage` does), updates its conversation to `conversation` (as
   * `updateConversation`) and adds `events` to the outbox. Returns each event's
   * subscribers (as `insertEvent`), or null, writing nothing, when the channel already has
   * this provider message id.
   */
  appendMessage(m: Message, conversation: Conversation, events: OutboxEvent[]): Promise<Webhook[][] | null>;
  updateMessageStatus(id: MessageId, status: MessageStatus, error: MessageError | null, providerMessageId: string | null, at: number): Promise<void>;

  insertSendJob(messageId: MessageId, ws: WorkspaceId, runAt: number): Promise<void>;
  /**
   * Claims up to `limit` due jobs for `leaseMs`, counting the attempt at claim time. A
   * claimed job runs next at its lease's end: in flight it is not due (`nextSendJobDue`).
   */
  claimSendJobs(now: number, leaseMs: number, limit: number): Promise<SendJob[]>;
  deleteSendJob(messageId: MessageId): Promise<void>;
  rescheduleSendJob(messageId: MessageId, runAt: number, lastError: string): Promise<void>;

  insertWebhook(w: Webhook): Promise<void>;
  /**
   * Updates a webhook. Disabled, its pending deliveries are parked (no next attempt, out of
   * `nextDeliveryDue` and of every claim's walk); enabled, the parked ones are due at its
   * `updatedAt`.
   */
  updateWebhook(w: Webhook): Promise<void>;
  deleteWebhook(ws: WorkspaceId, id: WebhookId): Promise<boolean>;

  /**
   * Adds an event to the outbox and returns its subscribers: the webhooks `matchingWebhooks`
   * would give for it, read in the same round trip.
   */
  insertEvent(e: OutboxEvent): Promise<Webhook[]>;

  /**
   * Adds a delivery; the engine makes it `pending` when it is the oldest unfinished one of
   * its webhook and conversation, `queued` otherwise. Returns the state given.
   */
  insertDelivery(d: NewDelivery): Promise<DeliveryState>;
  /**
   * Claims due pending deliveries of enabled webhooks (not in `skipWebhooks`), counting the
   * attempt. A claimed delivery's next attempt is its lease's end: in flight it is not due
   * (neither `nextDeliveryDue` nor the next claim sees it), and it is due again by itself
   * if its attempt is never recorded.
   */
  claimDeliveries(now: number, leaseMs: number, limit: number, skipWebhooks: WebhookId[]): Promise<ClaimedDelivery[]>;
  /** Gives back claimed deliveries that were not attempted (lease and attempt count undone), due at `now`. */
  unclaimDeliveries(ids: DeliveryId[], now: number): Promise<void>;
  recordAttempt(a: DeliveryAttempt): Promise<void>;
  /** Ends a delivery and makes the next queued delivery of its chain pending. */
  finishDelivery(id: DeliveryId, state: 'succeeded' | 'failed', statusCode: number | null, error: string | null, now: number): Promise<void>;
  retryDelivery(id: DeliveryId, nextAttemptAt: number, statusCode: number | null, error: string | null, now: number): Promise<void>;
  setWebhookHealth(id: WebhookId, firstFailureAt: number | null): Promise<void>;
  /**
   * Disables an enabled webhook and parks its pending deliveries (see `updateWebhook`);
   * false when it was not enabled (another attempt got there first).
   */
  disableWebhook(id: WebhookId, reason: string, now: number): Promise<boolean>;
  /** Re-queues the webhook's failed deliveries created at or after `since`; returns how many. */
  recoverDeliveries(ws: WorkspaceId, webhookId: WebhookId, since: number, now: number): Promise<number>;
  /**
   * Remembers an inbound replay key (a MessageBird JWT `jti`) for a channel until
   * `expiresAt`; returns false, writing nothing, when it is already remembered.
   */
  rememberReplayKey(channelId: ChannelId, key: string, expiresAt: number, now: number): Promise<boolean>;
  /** Drops every lease, what was in flight due at `now` (single-node engines, at start: no other process can hold one). */
  releaseLeases(now: number): Promise<void>;
}

export type NewDelivery = Omit<Delivery, 'state' | 'attempts' | 'nextAttemptAt' | 'lastStatusCode' | 'lastError' | 'updatedAt'>;

export interface ClaimedDelivery {
  delivery: Delivery;
  url: string;
  payload: string;
  signingKey: string;
  lockedUntil: number;
}

export type Tx = Reads & Writes;

export interface TransactionOptions {
  /**
   * What the callback writes, as a key (e.g. the contact an inbound message is from):
   * callbacks with different keys touch disjoint rows, so an engine may interleave them
   * within one group (PostgreSQL then sends their statements together). Callbacks without
   * a key run one after another; callbacks sharing a key never overlap on one node, so
   * each reads what the previous one wrote.
   */
  key?: string;
}

export interface Store extends Reads {
  readonly engine: 'sqlite' | 'postgres';
  transaction<T>(fn: (tx: Tx) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * `transaction` for a body given as data: the same contract, but an engine may run it
   * where the database is instead of round-tripping each Tx call (the hot paths use it).
   */
  run<A, R>(procedure: Procedure<A, R>, args: A, options?: TransactionOptions): Promise<R>;
  /**
   * `run` for a body that looks for work (it returns a list, and takes `now`): the engine
   * runs it at the end of every group commit, inside it, until it finds something, so
   * work a group creates is found in that very group, without a transaction, a flush or
   * a round trip of its own. After `holdMs`, or when `signal` aborts, it settles with
   * nothing found, without running (the caller then looks for work as it would have).
   * Its `now` is the time it runs at, by the system clock (`Date.now()`, as rows are
   * stamped by `systemClock`).
   * Only engines whose groups all go through one writer (SQLite) have it.
   */
  runWhenFound?<A extends { now: number }, R>(procedure: Procedure<A, R[]>, args: A, holdMs: number, signal: AbortSignal): Promise<R[]>;
  close(): Promise<void>;
}
