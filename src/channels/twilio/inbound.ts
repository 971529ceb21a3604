import { isHttpUrl, MAX_TEXT_LENGTH } from '../../domain/content.js';
import type { MessageContent, MessageType } from '../../domain/content.js';
import { RoostError } from '../../domain/errors.js';
import { parseId } from '../../domain/ids.js';
import type { ChannelContext, InboundItem, InboundMessage, InboundRequest, InboundResponse, ParsedInbound, StatusUpdate } from '../connector.js';
import { callbackMessageId } from '../shared/callback-token.js';
import { configOf, phoneOfAddress } from './settings.js';
import { decodeForm } from './signature.js';
import type { TwilioParams } from './signature.js';
import { mapTwilioStatus, mediaTypeOfContentType, twilioCallbackError } from './status-map.js';

/** Twilio wants TwiML back; an empty `<Response/>` means "no reply" (reference §1.1). */
export const EMPTY_TWIML: InboundResponse = {
  status: 200,
  contentType: 'text/xml',
  body: '<?xml version="1.0" encoding="UTF-8"?><Response/>',
};

const MAX_MEDIA = 10; // Twilio's own limit per message
const INBOUND_STATUSES = new Set(['received', 'receiving']);

const bad = (description: string) => new RoostError('bad_request', `Twilio webhook: ${description}`);

/**
 * One Twilio webhook is an incoming message (SMS, MMS or WhatsApp; `SmsStatus=received`)
 * or a status callback about a message we sent (`MessageStatus`). Both come to the
 * channel's inbound URL, status callbacks with our `?message=&token=` query.
 */
export function parseTwilio(req: InboundRequest, ctx: ChannelContext): ParsedInbound {
  const fields = fieldsOf(req);
  const status = (one(fields, 'MessageStatus') ?? one(fields, 'SmsStatus') ?? '').trim().toLowerCase();
  if (status === '' || INBOUND_STATUSES.has(status)) {
    // `receiving` is a status callback about an inbound message still in transit: nothing to store yet.
    const items = status === 'receiving' ? [] : inboundMessages(fields, ctx);
    return { items, response: EMPTY_TWIML };
  }
  const update = statusUpdate(fields, status, req, ctx);
  return { items: update ? [update] : [], response: EMPTY_TWIML };
}

/** A POST carries the fields as a form body; a GET webhook in its query string. */
function fieldsOf(req: InboundRequest): TwilioParams {
  if (req.method.toUpperCase() === 'GET') {
    const q = req.url.indexOf('?');
    return decodeForm(q === -1 ? '' : req.url.slice(q + 1));
  }
  return decodeForm(req.rawBody.toString('utf8'));
}

/** The (first) value of a field; Twilio sends each field once. */
function one(fields: TwilioParams, key: string): string | undefined {
  const v = fields[key];
  return Array.isArray(v) ? v[0] : v;
}

function messageSidOf(fields: TwilioParams): string {
  const sid = one(fields, 'MessageSid') ?? one(fields, 'SmsMessageSid') ?? one(fields, 'SmsSid');
  if (sid === undefined || sid.trim() === '' || sid.length > 64) throw bad('MessageSid must be a non-empty string');
  return sid.trim();
}

function inboundMessages(fields: TwilioParams, ctx: ChannelContext): InboundItem[] {
  const sid = messageSidOf(fields);
  const rawFrom = one(fields, 'From');
  const from = rawFrom === undefined ? undefined : phoneOfAddress(rawFrom);
  if (from === undefined) throw bad('From must be a phone number (optionally prefixed with whatsapp:)');
  const rawTo = one(fields, 'To');
  const to = (rawTo === undefined ? undefined : phoneOfAddress(rawTo)) ?? phoneOfAddress(configOf(ctx.channel).fromNumber) ?? '';
  const profileName = one(fields, 'ProfileName')?.trim().slice(0, 200);

  const base = (providerMessageId: string, type: MessageType, content: MessageContent): InboundMessage => {
    const m: InboundMessage = { kind: 'message', providerMessageId, contact: { key: 'phonenumber', value: from }, from, to, type, content };
    if (profileName) m.contactName = profileName;
    return m;
  };

  const body = one(fields, 'Body') ?? '';
  if (body.length > MAX_TEXT_LENGTH) throw bad(`Body must be at most ${MAX_TEXT_LENGTH} characters`);

  const media = mediaOf(fields);
  if (media.length > 0) {
    // The first medium carries the Body as its caption. Roost messages hold one medium each,
    // so further media become messages of their own, with ids derived from the MessageSid
    // (`{sid}/1`, `{sid}/2`, …) so that a retried webhook still de-duplicates.
    return media.map(({ url, type }, i) => {
      const item = i === 0 && body !== '' ? { url, caption: body } : { url };
      return base(i === 0 ? sid : `${sid}/${i}`, type, { [type]: item } as MessageContent);
    });
  }
  const location = locationOf(fields);
  if (location) return [base(sid, 'location', { location })];
  // An empty message (a WhatsApp type Roost cannot show, say) has nothing to store.
  if (body === '') return [];
  return [base(sid, 'text', { text: body })];
}

/** `MediaUrl{N}` / `MediaContentType{N}` for N < NumMedia (reference §1.1). */
function mediaOf(fields: TwilioParams): Array<{ url: string; type: Extract<MessageType, 'image' | 'video' | 'audio' | 'file'> }> {
  const rawCount = one(fields, 'NumMedia') ?? '0';
  if (!/^\d{1,3}$/.test(rawCount.trim())) throw bad('NumMedia must be a number');
  const count = Math.min(Number(rawCount.trim()), MAX_MEDIA);
  const media = [];
  for (let n = 0; n < count; n++) {
    const url = one(fields, `MediaUrl${n}`)?.trim();
    if (url === undefined || url === '') continue;
    if (!isHttpUrl(url)) throw bad(`MediaUrl${n} must be an http(s) URL`);
    media.push({ url, type: mediaTypeOfContentType(one(fields, `MediaContentType${n}`)) });
  }
  return media;
}

/** A WhatsApp location: `Latitude` and `Longitude` as decimal strings. */
function locationOf(fields: TwilioParams): { latitude: number; longitude: number } | undefined {
  const lat = one(fields, 'Latitude')?.trim();
  const lon = one(fields, 'Longitude')?.trim();
  if (!lat && !lon) return undefined;
  const latitude = Number(lat);
  const longitude = Number(lon);
  if (!lat || !Number.isFinite(latitude) || latitude < -90 || latitude > 90) throw bad('Latitude must be a number between -90 and 90');
  if (!lon || !Number.isFinite(longitude) || longitude < -180 || longitude > 180) throw bad('Longitude must be a number between -180 and 180');
  return { latitude, longitude };
}

function statusUpdate(fields: TwilioParams, wireStatus: string, req: InboundRequest, ctx: ChannelContext): StatusUpdate | undefined {
  const providerMessageId = messageSidOf(fields);
  const status = mapTwilioStatus(wireStatus);
  if (status === undefined) return undefined; // partially_delivered and statuses Twilio adds later: not worth a retry storm
  const update: StatusUpdate = { kind: 'status', providerMessageId, status };
  // The message id is only trusted when the callback token proves the URL is ours.
  const messageId = parseId<'message'>(callbackMessageId(req, ctx));
  if (messageId !== undefined) update.messageId = messageId;
  if (status === 'failed') update.error = twilioCallbackError(wireStatus, one(fields, 'ErrorCode'), one(fields, 'ErrorMessage'));
  return update;
}
