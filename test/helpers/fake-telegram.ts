import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { bodyField, jsonRequest, startFakeProvider } from './fake-provider.js';
import type { FakeApi, FakeResponse, JsonRequest, ResponderOf } from './fake-provider.js';

/**
 * A stand-in for api.telegram.org on 127.0.0.1: records every Bot API call and answers
 * setWebhook and the send methods like Telegram does (reference §2.1, §2.3), unless told
 * otherwise. Paths are `/bot<token>/<method>`; each recorded request has both parsed out.
 */

export interface TelegramCall extends JsonRequest {
  /** The bot token of the path (`/bot<token>/…`), '' when the path has none. */
  token: string;
  /** The Bot API method of the path (`sendMessage`, `setWebhook`, …). */
  apiMethod: string;
}

export type { FakeResponse } from './fake-provider.js';
export type Responder = ResponderOf<TelegramCall>;

export interface FakeTelegram extends FakeApi<TelegramCall> {
  /** The recorded calls of one Bot API method. */
  calls(apiMethod: string): TelegramCall[];
  /** Answers used, in order, before the responder (e.g. a 429 then the default). */
  queue(...answers: Array<FakeResponse | Responder>): void;
  /** Like queue, for the calls whose `chat_id` is `chatId` only (used before the shared queue). */
  queueFor(chatId: number | string, ...answers: Array<FakeResponse | Responder>): void;
  /** The recorded calls of one method to one chat. */
  callsTo(chatId: number | string, apiMethod?: string): TelegramCall[];
  /** POSTs an Update to an inbound URL as Telegram does, with the secret header unless `null`. */
  postUpdate(inboundUrl: string, update: unknown, secretToken: string | null): Promise<{ status: number; body: string }>;
}

/** The bot the fake impersonates. */
export const FAKE_BOT = { id: 7012345678, is_bot: true, first_name: 'Roost support', username: 'roost_support_bot' };

const SEND_METHODS = new Set(['sendMessage', 'sendPhoto', 'sendVideo', 'sendAudio', 'sendVoice', 'sendDocument', 'sendLocation']);

export const telegramError = (status: number, description: string, parameters?: Record<string, unknown>): FakeResponse => ({
  status,
  json: { ok: false, error_code: status, description, ...(parameters ? { parameters } : {}) },
});

export async function startFakeTelegram(): Promise<FakeTelegram> {
  const chatOf = (call: TelegramCall) => bodyField(call.body, 'chat_id');
  const nextMessageId = new Map<string, number>();

  const defaultResponder: Responder = (req) => {
    if (req.token === '') return telegramError(404, 'Not Found');
    if (req.apiMethod === 'setWebhook') return { status: 200, json: { ok: true, result: true, description: 'Webhook was set' } };
    if (req.apiMethod === 'getMe') return { status: 200, json: { ok: true, result: FAKE_BOT } };
    if (!SEND_METHODS.has(req.apiMethod)) return telegramError(404, 'Not Found: method not found');
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    if (body.chat_id === undefined) return telegramError(400, 'Bad Request: chat_id is empty');
    const chatId = String(body.chat_id);
    const id = (nextMessageId.get(chatId) ?? 100) + 1;
    nextMessageId.set(chatId, id);
    const { chat_id: _chat, ...rest } = body;
    return {
      status: 200,
      json: {
        ok: true,
        result: { message_id: id, from: FAKE_BOT, chat: { id: Number(chatId), type: 'private' }, date: Math.floor(Date.now() / 1000), ...rest },
      },
    };
  };

  const fake = await startFakeProvider<TelegramCall>({
    record: (base, text) => {
      const match = /^\/(?:.*\/)?bot([^/]+)\/([A-Za-z]+)$/.exec(base.path.split('?')[0] ?? '');
      return { ...jsonRequest(base, text), token: match?.[1] ?? '', apiMethod: match?.[2] ?? '' };
    },
    defaultResponder,
    errorBody: (err) => ({ ok: false, error_code: 500, description: String(err) }),
    keyOf: chatOf,
  });
  const requests = fake.requests;

  return {
    url: fake.origin,
    requests,
    calls: (apiMethod) => requests.filter((r) => r.apiMethod === apiMethod),
    respondWith: fake.respondWith,
    queue: fake.queue,
    queueFor: (chatId, ...answers) => fake.queueFor(String(chatId), ...answers),
    callsTo: (chatId, apiMethod) => requests.filter((r) => chatOf(r) === String(chatId) && (apiMethod === undefined || r.apiMethod === apiMethod)),
    async postUpdate(inboundUrl, update, secretToken) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (secretToken !== null) headers['x-telegram-bot-api-secret-token'] = secretToken;
      const res = await fetch(inboundUrl, { method: 'POST', headers, body: typeof update === 'string' ? update : JSON.stringify(update) });
      return { status: res.status, body: await res.text() };
    },
    close: fake.close,
  };
}

const FIXTURES = resolve(import.meta.dirname, '../fixtures/telegram');

/** A recorded-format Update from test/fixtures/telegram (parsed afresh on every call). */
export function telegramFixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(resolve(FIXTURES, `${name}.json`), 'utf8')) as Record<string, unknown>;
}

/**
 * A fixture Update moved to another chat and update: `chatId` replaces the chat (and the
 * sender) id, `updateId` the update id, `name` the person's first name; `patch` is merged
 * into the message object.
 */
export function telegramUpdate(
  name: string, o: { chatId?: number; updateId?: number; messageId?: number; firstName?: string; patch?: Record<string, unknown> } = {},
): Record<string, unknown> {
  const update = telegramFixture(name);
  if (o.updateId !== undefined) update.update_id = o.updateId;
  const key = 'message' in update ? 'message' : 'edited_message';
  const message = update[key] as Record<string, unknown> | undefined;
  if (message === undefined) return update; // callback queries and other kinds: nothing to move
  const chat = message.chat as Record<string, unknown>;
  const from = message.from as Record<string, unknown> | undefined;
  if (o.chatId !== undefined) {
    chat.id = o.chatId;
    if (from) from.id = o.chatId;
  }
  if (o.firstName !== undefined) {
    chat.first_name = o.firstName;
    if (from) from.first_name = o.firstName;
  }
  if (o.messageId !== undefined) message.message_id = o.messageId;
  Object.assign(message, o.patch ?? {});
  return update;
}
