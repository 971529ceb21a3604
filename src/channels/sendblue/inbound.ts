import { hasNonHttpScheme, MAX_TEXT_LENGTH } from '../../domain/content.js';
import type { MessageContent, MessageType } from '../../domain/content.js';
import { RoostError } from '../../domain/errors.js';
import { parseId } from '../../domain/ids.js';
import { toE164 } from '../../domain/phone.js';
import type { ChannelContext, InboundMessage, InboundRequest, ParsedInbound, StatusUpdate } from '../connector.js';
import { callbackMessageId } from '../shared/callback-token.js';
import { parseJsonBody } from '../shared/json.js';
import { authenticate } from './auth.js';
import { mediaTypeOf } from './media-kind.js';
import { configOf } from './settings.js';
import { mapSendblueStatus, sendblueError } from './status-map.js';

type Body = Record<string, unknown>;

const bad = (description: string) => new RoostError('bad_request', `Sendblue webhook: ${description}`);

/**
 * One Sendblue webhook body is one item: a received message (`is_outbound: false`,
 * status RECEIVED) or a status change of a message we sent (`is_outbound: true`).
 */
export function parseSendblue(req: InboundRequest, ctx: ChannelContext): ParsedInbound {
  const body = parseJsonBody(req.rawBody, bad);
  const auth = authenticate(req, ctx);
  const outbound = body.is_outbound === true || (body.is_outbound === undefined && req.query.message !== undefined);
  const inbound = !outbound && (body.is_outbound === false || body.status === 'RECEIVED');

  if (inbound) {
    // A status-callback token vouches for one outbound message, nothing else.
    if (auth === 'token') throw new RoostError('unauthorized', 'a status-callback URL only accepts status updates');
    const message = inboundMessage(body, ctx);
    return { items: message ? [message] : [] };
  }
  if (!outbound) throw bad('is_outbound must be a boolean');
  const update = statusUpdate(body, req, ctx);
  return { items: update ? [update] : [] };
}

function handleOf(body: Body): string {
  const handle = body.message_handle;
  if (typeof handle !== 'string' || handle.trim() === '' || handle.length > 256) {
    throw bad('message_handle must be a non-empty string');
  }
  return handle;
}

function inboundMessage(body: Body, ctx: ChannelContext): InboundMessage | undefined {
  const providerMessageId = handleOf(body);
  // Roost conversations are one contact each; a group message has no such conversation to
  // land in, and a reply would go to the sender alone. Acknowledge it and drop it.
  if (body.message_type === 'group' || (typeof body.group_id === 'string' && body.group_id !== '')) return undefined;

  const rawFrom = typeof body.number === 'string' && body.number !== '' ? body.number : body.from_number;
  const from = typeof rawFrom === 'string' ? toE164(rawFrom) : undefined;
  if (from === undefined) throw bad('number (or from_number) must be a phone number');
  const to = phoneOf(body.to_number) ?? phoneOf(body.sendblue_number) ?? configOf(ctx.channel).fromNumber;

  const { type, content } = contentOf(body);
  return { kind: 'message', providerMessageId, contact: { key: 'phonenumber', value: from }, from, to, type, content };
}

function phoneOf(v: unknown): string | undefined {
  return typeof v === 'string' ? toE164(v) : undefined;
}

/** Text from `content`; a non-empty `media_url` makes it a media message captioned with the text. */
function contentOf(body: Body): { type: MessageType; content: MessageContent } {
  if (body.content !== undefined && body.content !== null && typeof body.content !== 'string') throw bad('content must be a string');
  if (body.media_url !== undefined && body.media_url !== null && typeof body.media_url !== 'string') {
    throw bad('media_url must be a string');
  }
  const text = typeof body.content === 'string' ? body.content : '';
  const mediaUrl = typeof body.media_url === 'string' ? body.media_url.trim() : '';
  if (text.length > MAX_TEXT_LENGTH) throw bad(`content must be at most ${MAX_TEXT_LENGTH} characters`);
  if (mediaUrl.length > 2048) throw bad('media_url is too long');
  if (hasNonHttpScheme(mediaUrl)) throw bad('media_url must be an http(s) URL');

  if (mediaUrl !== '') {
    const type = mediaTypeOf(mediaUrl);
    const media = text !== '' ? { url: mediaUrl, caption: text } : { url: mediaUrl };
    return { type, content: { [type]: media } as MessageContent };
  }
  // message_type "location" has no documented payload shape; its text is kept as text.
  if (text === '') throw bad('message has neither content nor media_url');
  return { type: 'text', content: { text } };
}

function statusUpdate(body: Body, req: InboundRequest, ctx: ChannelContext): StatusUpdate | undefined {
  const providerMessageId = handleOf(body);
  const status = mapSendblueStatus(body.status);
  if (status === undefined) return undefined; // statuses we do not know are not worth a retry storm
  // The message id is only trusted when the callback token proves the URL is ours.
  const messageId = parseId<'message'>(callbackMessageId(req, ctx));
  const update: StatusUpdate = { kind: 'status', providerMessageId, status };
  if (messageId !== undefined) update.messageId = messageId;
  if (status === 'failed') update.error = sendblueError(body, 0, String(body.status));
  return update;
}
