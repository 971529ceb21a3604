import { MAX_TEXT_LENGTH } from '../../domain/content.js';
import type { MessageContent, MessageType } from '../../domain/content.js';
import { RoostError } from '../../domain/errors.js';
import type { ChannelContext, InboundMessage, InboundRequest, ParsedInbound } from '../connector.js';
import { isObject, parseJsonBody } from '../shared/json.js';
import { locationOf } from '../shared/location.js';
import { botIdOf } from './settings.js';

type Obj = Record<string, unknown>;

const bad = (description: string) => new RoostError('bad_request', `Telegram update: ${description}`);

/**
 * Where a received file is: Telegram only gives a `file_id`, and its download URL
 * (`{baseUrl}/file/bot<token>/<file_path>`, after a getFile call) carries the bot token,
 * which must never be stored or pushed to webhooks. So media keep a token-free reference,
 * `tg://file/<file_id>`; a consumer resolves it with getFile and its own copy of the token.
 */
export const FILE_URL_PREFIX = 'tg://file/';
export const fileUrlOf = (fileId: string): string => `${FILE_URL_PREFIX}${encodeURIComponent(fileId)}`;

/** Media fields of a Message, in the order they are looked at, and the Roost type each becomes. */
const MEDIA_FIELDS: ReadonlyArray<readonly [string, Extract<MessageType, 'image' | 'video' | 'audio' | 'file'>]> = [
  // `animation` comes with a `document` copy of itself, so it is looked at first.
  ['animation', 'video'],
  ['video', 'video'],
  ['video_note', 'video'],
  ['voice', 'audio'],
  ['audio', 'audio'],
  ['document', 'file'],
];

/**
 * One webhook request is one Bot API `Update`. `message` and `edited_message` (the only
 * kinds setWebhook asks for) become messages; everything else is acknowledged and dropped.
 *
 * Provider ids are derived from the chat and message ids, so a retried update (same
 * `update_id`, same content) always maps to the same id and is stored once:
 * - `message`: `<chat_id>:<message_id>` (the same shape as the ids of sent messages);
 * - `edited_message`: `<chat_id>:<message_id>:edit:<edit_date>`, a new message carrying the
 *   edited content (Roost messages are immutable), one per edit.
 */
export function parseTelegram(req: InboundRequest, ctx: ChannelContext): ParsedInbound {
  const update = parseJsonBody(req.rawBody, bad);
  if (!isIntegerIn(update.update_id, 0, Number.MAX_SAFE_INTEGER)) throw bad('update_id must be a non-negative integer');
  const edited = update.message === undefined || update.message === null;
  const raw = edited ? update.edited_message : update.message;
  if (raw === undefined || raw === null) return { items: [] };
  if (!isObject(raw)) throw bad(`${edited ? 'edited_message' : 'message'} must be an object`);
  const message = inboundMessage(raw, edited, ctx);
  return { items: message ? [message] : [] };
}

function inboundMessage(msg: Obj, edited: boolean, ctx: ChannelContext): InboundMessage | undefined {
  const field = edited ? 'edited_message' : 'message';
  if (!isIntegerIn(msg.message_id, 0, Number.MAX_SAFE_INTEGER)) throw bad(`${field}.message_id must be an integer`);
  const chat = msg.chat;
  if (!isObject(chat) || !isIntegerIn(chat.id, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)) {
    throw bad(`${field}.chat.id must be an integer`);
  }
  let providerMessageId = `${chat.id}:${msg.message_id}`;
  if (edited) {
    if (!isIntegerIn(msg.edit_date, 0, Number.MAX_SAFE_INTEGER)) throw bad('edited_message.edit_date must be an integer');
    // A shared live location is an edited_message every few seconds: not a new message each time.
    if (msg.location !== undefined) return undefined;
    providerMessageId += `:edit:${msg.edit_date}`;
  }
  const parsed = contentOf(msg, field);
  if (parsed === undefined) return undefined; // stickers, polls, contacts, service messages: nothing to keep

  const address = String(chat.id);
  const item: InboundMessage = {
    kind: 'message',
    providerMessageId,
    contact: { key: 'telegram', value: address },
    from: address,
    to: botIdOf(ctx.channel),
    type: parsed.type,
    content: parsed.content,
  };
  const name = nameOf(chat, msg.from);
  if (name !== undefined) item.contactName = name;
  return item;
}

/** A private chat is named after the person (first and last name, else username); a group by its title. */
function nameOf(chat: Obj, from: unknown): string | undefined {
  const sender = isObject(from) ? from : {};
  const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
  let name: string | undefined;
  if (chat.type === undefined || chat.type === 'private') {
    const first = text(chat.first_name) ?? text(sender.first_name);
    const last = text(chat.last_name) ?? text(sender.last_name);
    name = [first, last].filter((p) => p !== undefined).join(' ') || text(chat.username) || text(sender.username);
  } else {
    name = text(chat.title) ?? text(chat.username);
  }
  return name?.slice(0, 200);
}

function contentOf(msg: Obj, field: string): { type: MessageType; content: MessageContent } | undefined {
  if (msg.text !== undefined) {
    if (typeof msg.text !== 'string') throw bad(`${field}.text must be a string`);
    if (msg.text.length > MAX_TEXT_LENGTH) throw bad(`${field}.text is too long`);
    if (msg.text !== '') return { type: 'text', content: { text: msg.text } };
  }
  if (msg.caption !== undefined && typeof msg.caption !== 'string') throw bad(`${field}.caption must be a string`);
  const caption = typeof msg.caption === 'string' && msg.caption !== '' ? msg.caption : undefined;
  const media = (type: MessageType, fileId: string) => ({
    type,
    content: { [type]: caption === undefined ? { url: fileUrlOf(fileId) } : { url: fileUrlOf(fileId), caption } } as MessageContent,
  });

  if (msg.photo !== undefined) return media('image', largestPhoto(msg.photo, `${field}.photo`));
  for (const [key, type] of MEDIA_FIELDS) {
    if (msg[key] !== undefined) return media(type, fileIdOf(msg[key], `${field}.${key}`));
  }
  if (msg.location !== undefined) {
    const location = locationOf(msg.location);
    if (location === undefined) throw bad(`${field}.location must have a latitude and a longitude`);
    return { type: 'location', content: { location } };
  }
  return undefined;
}

/** `photo` is an array of PhotoSize, smallest first; the largest is kept. */
function largestPhoto(sizes: unknown, where: string): string {
  if (!Array.isArray(sizes) || sizes.length === 0) throw bad(`${where} must be a non-empty array`);
  let best: { fileId: string; size: number } | undefined;
  for (const [i, s] of sizes.entries()) {
    const fileId = fileIdOf(s, `${where}[${i}]`);
    const o = s as Obj;
    const size = typeof o.file_size === 'number'
      ? o.file_size
      : (typeof o.width === 'number' ? o.width : 0) * (typeof o.height === 'number' ? o.height : 0);
    if (best === undefined || size >= best.size) best = { fileId, size };
  }
  return best!.fileId;
}

function fileIdOf(value: unknown, where: string): string {
  if (!isObject(value) || typeof value.file_id !== 'string' || value.file_id === '' || value.file_id.length > 1024) {
    throw bad(`${where}.file_id must be a non-empty string`);
  }
  return value.file_id;
}

function isIntegerIn(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;
}
