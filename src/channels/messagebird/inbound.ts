import { hasNonHttpScheme, MAX_TEXT_LENGTH } from '../../domain/content.js';
import type { MessageContent, MessageType } from '../../domain/content.js';
import { RoostError } from '../../domain/errors.js';
import { parseId } from '../../domain/ids.js';
import { toE164 } from '../../domain/phone.js';
import type {
  ChannelContext, InboundMessage, InboundRequest, InboundResponse, ParsedInbound, StatusUpdate,
} from '../connector.js';
import { callbackMessageId } from '../shared/callback-token.js';
import { isObject, parseJsonBody } from '../shared/json.js';
import { locationOf } from '../shared/location.js';
import { firstText, numericCode } from '../shared/provider-error.js';
import { configOf } from './settings.js';
import { mapConversationStatus, mapSmsStatus, messageBirdError } from './status-map.js';

type Obj = Record<string, unknown>;

const bad = (description: string) => new RoostError('bad_request', `MessageBird webhook: ${description}`);

/** What MessageBird expects back from a status report (courier answers the same). */
export const STATUS_REPORT_RESPONSE: InboundResponse = { status: 200, contentType: 'text/plain; charset=utf-8', body: 'OK' };

/** Platforms whose contacts are phone numbers; on the others `from` is a platform id. */
const PHONE_PLATFORMS = new Set(['sms', 'whatsapp', 'whatsapp_sandbox']);
const MEDIA_TYPES = new Set<MessageType>(['image', 'video', 'audio', 'file']);

/**
 * Two kinds of request reach a MessageBird channel's inbound URL:
 * - Conversations webhooks (POST JSON `{type, conversation, message}`, reference §1.10):
 *   `message.created` of a received message is a new message (provider id = MessageBird's
 *   message id); `message.created`/`message.updated` of a sent message is a status update;
 *   `conversation.*` events and messages of other MessageBird channels are acknowledged
 *   and dropped.
 * - SMS status reports (GET with query parameters, or a form POST; reference §5.2), also
 *   sent to the per-message `reportUrl`. They are answered `OK` in plain text.
 */
export function parseMessageBird(req: InboundRequest, ctx: ChannelContext): ParsedInbound {
  if (req.method.toUpperCase() === 'GET') return statusReport(req.query, req, ctx);
  const contentType = (req.headers['content-type'] ?? '').toLowerCase();
  const text = req.rawBody.toString('utf8');
  if (contentType.startsWith('application/x-www-form-urlencoded') && !/^\s*[{[]/.test(text)) {
    return statusReport(Object.fromEntries(new URLSearchParams(text)), req, ctx);
  }
  return conversationEvent(parseJsonBody(text, bad), req, ctx);
}

function conversationEvent(body: Obj, req: InboundRequest, ctx: ChannelContext): ParsedInbound {
  if (typeof body.type !== 'string' || body.type === '') throw bad('type must be a non-empty string');
  if (body.type !== 'message.created' && body.type !== 'message.updated') return { items: [] };
  const message = body.message;
  if (!isObject(message)) throw bad('message must be an object');
  const id = stringField(message, 'id', 256);
  // A generic (all-channel) MessageBird webhook also reports the account's other channels:
  // Roost could not answer those from this one.
  const channelId = configOf(ctx.channel).channelId;
  if (typeof message.channelId === 'string' && message.channelId !== '' && message.channelId !== channelId) return { items: [] };

  if (message.direction === 'received') {
    if (body.type !== 'message.created') return { items: [] };
    const item = inboundMessage(id, message, body.contact, ctx);
    return { items: item ? [item] : [] };
  }
  if (message.direction !== 'sent') throw bad('message.direction must be sent or received');
  const status = mapConversationStatus(message.status);
  if (status === undefined) return { items: [] };
  const update: StatusUpdate = { kind: 'status', providerMessageId: id, status };
  const messageId = parseId<'message'>(callbackMessageId(req, ctx));
  if (messageId !== undefined) update.messageId = messageId;
  if (status === 'failed') update.error = messageBirdError(message.error, 0, `MessageBird reported ${String(message.status)}`);
  return { items: [update] };
}

function inboundMessage(id: string, message: Obj, contact: unknown, ctx: ChannelContext): InboundMessage | undefined {
  const config = configOf(ctx.channel);
  const from = stringField(message, 'from', 256);
  const platform = typeof message.platform === 'string' && message.platform !== '' ? message.platform.toLowerCase() : undefined;
  const phoneBased = platform === undefined || PHONE_PLATFORMS.has(platform);
  const e164 = phoneBased ? toE164(from) : undefined;

  const parsed = contentOf(message);
  if (parsed === undefined) return undefined; // interactive replies, stickers, e-mail…: nothing Roost can hold

  const rawTo = typeof message.to === 'string' && message.to.trim() !== '' ? message.to.trim().slice(0, 256) : undefined;
  const to = rawTo === undefined ? (config.fromNumber ?? config.channelId) : ((phoneBased ? toE164(rawTo) : undefined) ?? rawTo);
  const item: InboundMessage = {
    kind: 'message',
    providerMessageId: id,
    contact: e164 !== undefined ? { key: 'phonenumber', value: e164 } : { key: 'messagebird', value: from },
    from: e164 ?? from,
    to,
    type: parsed.type,
    content: parsed.content,
  };
  const name = nameOf(contact);
  if (name !== undefined) item.contactName = name;
  return item;
}

/** Newer deliveries carry a `contact` object beside the message (reference §1.10). */
function nameOf(contact: unknown): string | undefined {
  if (!isObject(contact)) return undefined;
  const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
  const full = [text(contact.firstName), text(contact.lastName)].filter((p) => p !== undefined).join(' ');
  return (text(contact.displayName) ?? (full || undefined))?.slice(0, 200);
}

/** Conversations content is Roost's shape already (one key named after the type): checked, then kept. */
function contentOf(message: Obj): { type: MessageType; content: MessageContent } | undefined {
  const type = message.type;
  const content = message.content;
  if (typeof type !== 'string') throw bad('message.type must be a string');
  if (!isObject(content)) throw bad('message.content must be an object');
  if (type === 'text') {
    const text = content.text;
    if (typeof text !== 'string' || text === '') throw bad('message.content.text must be a non-empty string');
    if (text.length > MAX_TEXT_LENGTH) throw bad(`message.content.text must be at most ${MAX_TEXT_LENGTH} characters`);
    return { type, content: { text } };
  }
  if (MEDIA_TYPES.has(type as MessageType)) {
    const media = content[type];
    if (!isObject(media) || typeof media.url !== 'string' || media.url === '' || media.url.length > 2048) {
      throw bad(`message.content.${type}.url must be a non-empty string`);
    }
    if (hasNonHttpScheme(media.url)) throw bad(`message.content.${type}.url must be an http(s) URL`);
    if (media.caption !== undefined && media.caption !== null && typeof media.caption !== 'string') {
      throw bad(`message.content.${type}.caption must be a string`);
    }
    const kept = typeof media.caption === 'string' && media.caption !== '' ? { url: media.url, caption: media.caption } : { url: media.url };
    return { type: type as MessageType, content: { [type]: kept } as MessageContent };
  }
  if (type === 'location') {
    const location = locationOf(content.location);
    if (location === undefined) throw bad('message.content.location must have a latitude and a longitude');
    return { type, content: { location } };
  }
  return undefined;
}

/**
 * An SMS status report. `reference` is the caller's reference; when it is a Roost message
 * id it finds the message even before the send response recorded MessageBird's id.
 */
function statusReport(params: Record<string, string>, req: InboundRequest, ctx: ChannelContext): ParsedInbound {
  const id = params.id;
  if (id === undefined || id.trim() === '' || id.length > 256) throw bad('status report: id is required');
  if (params.status === undefined || params.status === '') throw bad('status report: status is required');
  const status = mapSmsStatus(params.status);
  if (status === undefined) return { items: [], response: STATUS_REPORT_RESPONSE };
  const update: StatusUpdate = { kind: 'status', providerMessageId: id, status };
  const messageId = parseId<'message'>(callbackMessageId(req, ctx)) ?? parseId<'message'>(params.reference);
  if (messageId !== undefined) update.messageId = messageId;
  if (status === 'failed') {
    update.error = {
      code: numericCode(params.statusErrorCode) ?? 0,
      description: firstText(params.statusReason) ?? params.status,
    };
  }
  return { items: [update], response: STATUS_REPORT_RESPONSE };
}

function stringField(o: Obj, key: string, max: number): string {
  const v = o[key];
  if (typeof v !== 'string' || v.trim() === '' || v.length > max) throw bad(`message.${key} must be a non-empty string`);
  return v.trim();
}
