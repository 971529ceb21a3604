import type { MessageId } from '../domain/ids.js';
import type { MessageContent, MessageType } from '../domain/content.js';
import type { Channel, ContactIdentifier, Message, MessageError } from '../domain/records.js';
import type { OutboundStatus } from '../domain/status.js';
import type { HttpClient } from '../net/http-client.js';

/**
 * The contract every channel connector implements. A connector only translates between
 * a provider's wire format and Roost's normalised items: it never touches the Store and
 * never imports the HTTP layer. Inbound requests reach it as plain data.
 */

export interface InboundRequest {
  method: string;
  /** The full URL the provider called, as Roost's public URL plus path and query. */
  url: string;
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  query: Record<string, string>;
  rawBody: Buffer;
}

/** Per-channel helpers the core gives a connector. */
export interface ChannelContext {
  channel: Channel;
  /** The channel's inbound URL, as providers must call it (Roost's public URL + /inbound/{id}). */
  inboundUrl: string;
  /** URL for provider status callbacks about one outbound message, carrying an unguessable token. */
  statusCallbackUrl(messageId: MessageId): string;
  /** Checks a status-callback token taken from the callback URL's query. */
  verifyCallbackToken(messageId: string, token: string): boolean;
}

/**
 * The verdict on an inbound request. `replayKey` asks the core to accept the request only
 * once: it is remembered (per channel, until `expiresAt`) in the transaction that stores
 * what the request carries, and a second request with the same key is refused.
 */
export type Verification =
  | { ok: true; replayKey?: { key: string; expiresAt: number } }
  | { ok: false; status: number; reason: string };

export interface InboundMessage {
  kind: 'message';
  providerMessageId: string;
  /** How Roost finds or creates the contact: `phonenumber` with an E.164 value, or a platform id. */
  contact: ContactIdentifier;
  contactName?: string;
  from: string;
  to: string;
  type: MessageType;
  content: MessageContent;
}

export interface StatusUpdate {
  kind: 'status';
  providerMessageId: string;
  /** Roost's own message id when the callback URL carried it (it may beat the send response). */
  messageId?: MessageId;
  status: OutboundStatus;
  error?: MessageError;
}

export type InboundItem = InboundMessage | StatusUpdate;

export interface InboundResponse {
  status: number;
  contentType: string;
  body: string;
}

export interface ParsedInbound {
  items: InboundItem[];
  /** What to answer the provider; JSON `{"status":"ok"}` when absent. */
  response?: InboundResponse;
}

export interface OutboundRequest {
  message: Message;
  channel: Channel;
  ctx: ChannelContext;
}

/**
 * What became of one send attempt:
 * - `accepted`: the provider took it (status `accepted`, `pending` or `sent`);
 * - `failed`: the provider refused it for good (bad number, bad credentials);
 * - `retry`: a transient failure (network, 5xx, 429); the send worker tries again later.
 */
export type SendOutcome =
  | { kind: 'accepted'; providerMessageId: string; status: OutboundStatus }
  | { kind: 'failed'; error: MessageError }
  | { kind: 'retry'; error: MessageError; retryAfterMs?: number };

export interface SettingsInput {
  settings: Record<string, unknown>;
  secrets: Record<string, string>;
}

export interface Connector {
  readonly platform: string;
  /**
   * Validates settings given to `POST/PATCH /v1/channels` and splits them into public
   * settings and write-only secrets. `previous` holds the current values on PATCH, so a
   * partial update keeps what it does not name. Throws a RoostError on bad input.
   */
  parseSettings(input: Record<string, unknown>, previous?: SettingsInput): SettingsInput;
  /** Authenticates an inbound request before anything is parsed or stored. */
  verify(req: InboundRequest, ctx: ChannelContext): Verification;
  /** Parses an authenticated inbound request. Throws a RoostError (bad_request) on malformed input. */
  parse(req: InboundRequest, ctx: ChannelContext): ParsedInbound;
  /** The contact identifier for an address given to the API (`to` of start/send), or undefined if invalid. */
  identifierFor(address: string): ContactIdentifier | undefined;
  /** The address this channel sends from, for the `from` of outbound messages. */
  ownAddress(channel: Channel): string;
  /**
   * Called when a channel is created or its settings change, before it is saved: a
   * connector that must tell its provider where to send webhooks (Telegram's setWebhook)
   * does it here. Throws a RoostError (shown to the API caller) when the provider refuses.
   */
  register?(ctx: ChannelContext, http: HttpClient): Promise<void>;
  /** Hands one outbound message to the provider. Never throws: every failure is an outcome. */
  send(req: OutboundRequest, http: HttpClient): Promise<SendOutcome>;
  /**
   * Simulated channels (the sandbox) have no provider: after `send`, the send worker moves
   * the message through these statuses by itself.
   */
  readonly simulatedProgress?: readonly OutboundStatus[];
}
