import { randomBytes } from 'node:crypto';
import { invalid } from '../../domain/errors.js';
import type { Channel } from '../../domain/records.js';
import type { SettingsInput } from '../connector.js';
import { httpBaseUrl, isUnset, picker, rejectUnknownKeys, requiredMatch } from '../shared/settings-fields.js';
import { secretOf, settingOf } from '../shared/stored-settings.js';

export const DEFAULT_BASE_URL = 'https://api.telegram.org';
const KNOWN_KEYS = new Set(['botToken', 'secretToken', 'baseUrl', 'registerWebhook']);
/** `<bot id>:<secret>`. The charset is checked because the token becomes part of every API path. */
const BOT_TOKEN = /^[0-9]{1,20}:[A-Za-z0-9_-]{1,256}$/;
/** setWebhook's `secret_token`: 1-256 characters `A-Z a-z 0-9 _ -` (reference §2.1). */
const SECRET_TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

/** The settings a Telegram channel works with, read back from a stored channel. */
export interface TelegramConfig {
  botToken: string | undefined;
  secretToken: string | undefined;
  baseUrl: string;
  registerWebhook: boolean;
}

export function configOf(channel: Channel): TelegramConfig {
  return {
    botToken: secretOf(channel, 'botToken'),
    secretToken: secretOf(channel, 'secretToken'),
    baseUrl: settingOf(channel, 'baseUrl') ?? DEFAULT_BASE_URL,
    registerWebhook: channel.settings.registerWebhook !== false,
  };
}

/** The bot's own user id: the part of the token before the colon (public, unlike the rest). */
export function botIdOf(channel: Channel): string {
  return channel.secrets.botToken?.split(':')[0] ?? '';
}

export const generateSecretToken = (): string => randomBytes(32).toString('base64url');

/**
 * Public: baseUrl, registerWebhook. Secret: botToken, secretToken.
 * On PATCH a key that is absent keeps its previous value. `secretToken` is generated when
 * not given (`null` or "" asks for a fresh one), except with `registerWebhook: false`:
 * then the operator calls setWebhook and must choose the token, since secrets are write-only.
 */
export function parseTelegramSettings(input: Record<string, unknown>, previous?: SettingsInput): SettingsInput {
  rejectUnknownKeys(input, KNOWN_KEYS, 'Telegram');
  const pick = picker(input, previous);

  const botToken = requiredMatch(
    'botToken', pick('botToken', 'secrets'), BOT_TOKEN, 'must be a Telegram bot token (<bot id>:<secret>, as BotFather gives it)',
  );
  const registerWebhook = booleanOf('registerWebhook', pick('registerWebhook', 'settings'));
  const baseUrl = httpBaseUrl('baseUrl', pick('baseUrl', 'settings'), DEFAULT_BASE_URL);

  // Unset, it is generated; unless the operator registers the webhook, and so must know it.
  const rawSecret = pick('secretToken', 'secrets');
  const secretToken = isUnset(rawSecret) && registerWebhook
    ? generateSecretToken()
    : requiredMatch('secretToken', rawSecret, SECRET_TOKEN, 'must be 1-256 characters of A-Z, a-z, 0-9, _ and -');
  return { settings: { baseUrl, registerWebhook }, secrets: { botToken, secretToken } };
}

function booleanOf(key: string, value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value !== 'boolean') throw invalid(`settings.${key}`, 'must be a boolean');
  return value;
}
