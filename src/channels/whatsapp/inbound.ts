import { MAX_TEXT_LENGTH } from '../../domain/content.js';
import type { MessageContent, MessageType } from '../../domain/content.js';
import { RoostError } from '../../domain/errors.js';
import { toE164 } from '../../domain/phone.js';
import type { ChannelContext, InboundItem, InboundMessage, InboundRequest, ParsedInbound, StatusUpdate } from '../connector.js';
import { isObject, parseJsonBody } from '../shared/json.js';
import { messageIdOfOpaqueData } from './opaque-data.js';
import { configOf } from './settings.js';
import type { WhatsAppConfig } from './settings.js';
import { mapWhatsAppStatus, metaError } from './status-map.js';

type Obj = Record<string, unknown>;

const bad = (description: string) => new RoostError('bad_request', `WhatsApp webhook: ${description}`);

/** Media message types and the Roost type each becomes. */
const MEDIA_TYPES: Readonly<Record<string, Extract<MessageType, 'image' | 'video' | 'audio' | 'file'>>> = {
  image: 'image',
  sticker: 'image',
  video: 'video',
  audio: 'audio',
  voice: 'audio',
  document: 'file',
};

/**
 * GET: the subscription handshake, answered with `hub.challenge` verbatim. POST: one event
 * notification, which may batch several `entry[]` × `changes[]` × `messages[]`/`statuses[]`
 * (reference §3.2). Meta retries a refused notification for days, so an envelope that
 * cannot be read is refused (400) but single items Roost cannot use are skipped: changes
 * for another phone number, message types without a Roost equivalent (reactions, orders,
 * shared contacts, …), statuses Roost does not track.
 */
export function parseWhatsApp(req: InboundRequest, ctx: ChannelContext): ParsedInbound {
  if (req.method.toUpperCase() === 'GET') {
    const challenge = req.query['hub.challenge'];
    if (challenge === undefined || challenge === '' || challenge.length > 1024) throw bad('hub.challenge is missing');
    return { items: [], response: { status: 200, contentType: 'text/plain; charset=utf-8', body: challenge } };
  }
  const body = parseJsonBody(req.rawBody, bad);
  if (typeof body.object !== 'string') throw bad('object must be a string');
  // Another Graph object (a Page, Instagram) sent to this URL by mistake: acknowledged, not ours.
  if (body.object !== 'whatsapp_business_account') return { items: [] };
  if (!Array.isArray(body.entry)) throw bad('entry must be an array');

  const config = configOf(ctx.channel);
  const items: InboundItem[] = [];
  for (const entry of body.entry) {
    if (!isObject(entry) || !Array.isArray(entry.changes)) continue;
    for (const change of entry.changes) {
      if (!isObject(change) || (change.field !== undefined && change.field !== 'messages') || !isObject(change.value)) continue;
      const value = change.value;
      const metadata = isObject(value.metadata) ? value.metadata : {};
      // Routing is by phone number ID: an app subscribed for several numbers gets them all.
      if (String(metadata.phone_number_id ?? '') !== config.phoneNumberId) continue;
      const to = phoneOf(metadata.display_phone_number) ?? config.fromNumber ?? config.phoneNumberId;
      const names = profileNames(value.contacts);
      for (const m of arrayOf(value.messages)) {
        const item = inboundMessage(m, to, names, config);
        if (item) items.push(item);
      }
      for (const s of arrayOf(value.statuses)) {
        const item = statusUpdate(s, ctx);
        if (item) items.push(item);
      }
    }
  }
  return { items };
}

function arrayOf(v: unknown): Obj[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}

function phoneOf(v: unknown): string | undefined {
  return typeof v === 'string' || typeof v === 'number' ? toE164(String(v)) : undefined;
}

/** `contacts[].profile.name` by `wa_id`. */
function profileNames(contacts: unknown): Map<string, string> {
  const names = new Map<string, string>();
  for (const c of arrayOf(contacts)) {
    const name = isObject(c.profile) ? text(c.profile.name) : undefined;
    if (name !== undefined && (typeof c.wa_id === 'string' || typeof c.wa_id === 'number')) names.set(String(c.wa_id), name.trim().slice(0, 200));
  }
  return names;
}

function inboundMessage(m: Obj, to: string, names: Map<string, string>, config: WhatsAppConfig): InboundMessage | undefined {
  const id = text(m.id);
  if (id === undefined || id.length > 256) return undefined;
  // `from` is the sender's WhatsApp number (E.164 digits). Business-scoped user ids alone
  // (`from_user_id`) name no phone number, so no Roost contact: skipped.
  const from = phoneOf(m.from);
  if (from === undefined) return undefined;
  const content = contentOf(m, config.baseUrl);
  if (content === undefined) return undefined;
  const message: InboundMessage = { kind: 'message', providerMessageId: id, contact: { key: 'phonenumber', value: from }, from, to, ...content };
  const name = names.get(String(m.from)) ?? (names.size === 1 ? [...names.values()][0] : undefined);
  if (name !== undefined) message.contactName = name;
  return message;
}

function contentOf(m: Obj, baseUrl: string): { type: MessageType; content: MessageContent } | undefined {
  const type = typeof m.type === 'string' ? m.type : '';
  if (type === 'text') {
    const body = isObject(m.text) ? text(m.text.body) : undefined;
    return body === undefined ? undefined : { type: 'text', content: { text: body.slice(0, MAX_TEXT_LENGTH) } };
  }
  if (Object.hasOwn(MEDIA_TYPES, type)) {
    const media = m[type];
    const mediaId = isObject(media) ? media.id : undefined;
    if (!isObject(media) || (typeof mediaId !== 'string' && typeof mediaId !== 'number') || String(mediaId) === '') return undefined;
    const rType = MEDIA_TYPES[type]!;
    // Media never come inline: the Graph media URL is fetched with the channel's access token.
    const item: { url: string; caption?: string } = { url: `${baseUrl}/${encodeURIComponent(String(mediaId))}` };
    const caption = text(media.caption);
    if (caption !== undefined) item.caption = caption;
    return { type: rType, content: { [rType]: item } as MessageContent };
  }
  if (type === 'location') {
    const latitude = isObject(m.location) ? coordinate(m.location.latitude, 90) : undefined;
    const longitude = isObject(m.location) ? coordinate(m.location.longitude, 180) : undefined;
    if (latitude === undefined || longitude === undefined) return undefined;
    return { type: 'location', content: { location: { latitude, longitude } } };
  }
  // Replies to buttons and lists are what the person chose: kept as its text.
  let reply: string | undefined;
  if (type === 'button' && isObject(m.button)) reply = text(m.button.text) ?? text(m.button.payload);
  if (type === 'interactive' && isObject(m.interactive)) {
    const i = m.interactive;
    if (isObject(i.button_reply)) reply = text(i.button_reply.title);
    else if (isObject(i.list_reply)) reply = text(i.list_reply.title);
    else if (isObject(i.nfm_reply)) reply = text(i.nfm_reply.body) ?? text(i.nfm_reply.response_json);
  }
  return reply === undefined ? undefined : { type: 'text', content: { text: reply.slice(0, MAX_TEXT_LENGTH) } };
}

/** A latitude or longitude: a number (or numeric string) within ±limit. */
function coordinate(v: unknown, limit: number): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) && Math.abs(n) <= limit ? n : undefined;
}

function statusUpdate(s: Obj, ctx: ChannelContext): StatusUpdate | undefined {
  const providerMessageId = text(s.id);
  const status = mapWhatsAppStatus(s.status);
  if (providerMessageId === undefined || status === undefined) return undefined;
  const update: StatusUpdate = { kind: 'status', providerMessageId, status };
  const messageId = messageIdOfOpaqueData(s.biz_opaque_callback_data, ctx);
  if (messageId !== undefined) update.messageId = messageId;
  if (status === 'failed') {
    const [first] = arrayOf(s.errors);
    update.error = first ? metaError(first, 0, 'WhatsApp reported the message failed') : { code: 0, description: 'WhatsApp reported the message failed' };
  }
  return update;
}
