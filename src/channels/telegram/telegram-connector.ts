import type { Connector } from '../connector.js';
import { verifyTelegram } from './auth.js';
import { parseTelegram } from './inbound.js';
import { registerTelegramWebhook } from './register.js';
import { sendViaTelegram } from './send.js';
import { botIdOf, parseTelegramSettings } from './settings.js';

/** A chat id: a user's id, or a negative group/channel id. `@channelusername` is not a contact Roost can key on. */
const CHAT_ID = /^-?[0-9]{1,16}$/;

/**
 * Telegram Bot API, reference §2. Inbound: one JSON `Update` per POST, authenticated by the
 * `X-Telegram-Bot-Api-Secret-Token` header that setWebhook asked for. Outbound: sendMessage
 * and the media methods. Contacts are Telegram chats (`{key: 'telegram', value: chat id}`).
 * Received media are stored as `tg://file/<file_id>` (see inbound.ts): Telegram's download
 * URLs carry the bot token.
 */
export const telegramConnector: Connector = {
  platform: 'telegram',
  parseSettings: parseTelegramSettings,
  verify: verifyTelegram,
  parse: parseTelegram,
  identifierFor(address) {
    const value = address.trim();
    return CHAT_ID.test(value) && Number.isSafeInteger(Number(value)) ? { key: 'telegram', value: String(Number(value)) } : undefined;
  },
  ownAddress: botIdOf,
  register: registerTelegramWebhook,
  send: sendViaTelegram,
};
