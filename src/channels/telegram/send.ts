import type { Message } from '../../domain/records.js';
import type { HttpClient, HttpResponse } from '../../net/http-client.js';
import type { OutboundRequest, SendOutcome } from '../connector.js';
import { jsonObject } from '../shared/json.js';
import { failedOutcome, isSuccessStatus, refusedOutcome, retryOutcome, sendRequest } from '../shared/send-outcome.js';
import { botApiRetryAfterMs, callBotApi, failureText, telegramError } from './bot-api.js';
import { configOf } from './settings.js';

type Call = { method: string; params: Record<string, unknown> };

/**
 * sendMessage, sendPhoto, sendVideo, sendAudio, sendDocument or sendLocation (reference
 * §2.3). Telegram has no delivery receipts, so a message it took is `sent` for good, with
 * provider id `<chat_id>:<message_id>`. Never throws: every failure is an outcome.
 */
export async function sendViaTelegram(req: OutboundRequest, http: HttpClient): Promise<SendOutcome> {
  const { message, channel } = req;
  const config = configOf(channel);
  const botToken = config.botToken;
  if (!botToken) return failedOutcome('Telegram channel is missing its botToken');
  const call = callFor(message);
  if (call === undefined) return failedOutcome(`Telegram cannot send messages of type ${message.type}`);
  return sendRequest(
    'Telegram',
    () => callBotApi(http, config.baseUrl, botToken, call.method, call.params),
    (res) => outcomeOf(res, message.to),
    (err) => failureText(err, botToken),
  );
}

/** A numeric chat id goes out as a number; `@channelusername` as the string it is. */
function chatIdOf(to: string): number | string {
  return /^-?[0-9]{1,16}$/.test(to) && Number.isSafeInteger(Number(to)) ? Number(to) : to;
}

function callFor(message: Message): Call | undefined {
  const chat_id = chatIdOf(message.to);
  const c = message.content;
  if ('text' in c) return { method: 'sendMessage', params: { chat_id, text: c.text } };
  if ('location' in c) return { method: 'sendLocation', params: { chat_id, latitude: c.location.latitude, longitude: c.location.longitude } };
  const withMedia = (method: string, field: string, media: { url: string; caption?: string }): Call => {
    const params: Record<string, unknown> = { chat_id, [field]: media.url };
    if (media.caption !== undefined && media.caption !== '') params.caption = media.caption;
    return { method, params };
  };
  if ('image' in c) return withMedia('sendPhoto', 'photo', c.image);
  if ('video' in c) return withMedia('sendVideo', 'video', c.video);
  if ('audio' in c) return withMedia('sendAudio', 'audio', c.audio);
  if ('file' in c) return withMedia('sendDocument', 'document', c.file);
  return undefined; // hsm templates are a WhatsApp notion
}

function outcomeOf(res: HttpResponse, to: string): SendOutcome {
  const json = jsonObject(res.body);
  if (!isSuccessStatus(res.status) || json.ok !== true) {
    return refusedOutcome(res, telegramError(json, res.status), { retryAfterMs: botApiRetryAfterMs(json) });
  }
  const result = typeof json.result === 'object' && json.result !== null ? (json.result as Record<string, unknown>) : {};
  const chat = typeof result.chat === 'object' && result.chat !== null ? (result.chat as Record<string, unknown>) : {};
  if (typeof result.message_id !== 'number' || !Number.isInteger(result.message_id)) {
    return retryOutcome(`Telegram answered ${res.status} without a message_id`);
  }
  const chatId = typeof chat.id === 'number' && Number.isInteger(chat.id) ? String(chat.id) : to;
  return { kind: 'accepted', providerMessageId: `${chatId}:${result.message_id}`, status: 'sent' };
}
