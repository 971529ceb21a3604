import { randomBytes } from 'node:crypto';
import { invalid, missing } from '../../domain/errors.js';
import type { Channel } from '../../domain/records.js';
import type { SettingsInput } from '../connector.js';

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
  const s = channel.settings;
  return {
    botToken: channel.secrets.botToken || undefined,
    secretToken: channel.secrets.secretToken || undefined,
    baseUrl: typeof s.baseUrl === 'string' && s.baseUrl !== '' ? s.baseUrl : DEFAULT_BASE_URL,
    registerWebhook: s.registerWebhook !== false,
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
  for (const key of Object.keys(input)) {
    if (!KNOWN_KEYS.has(key)) throw invalid(`settings.${key}`, 'is not a Telegram setting');
  }
  const given = (key: string) => key in input && input[key] !== undefined;
  const pick = (key: string, from: 'settings' | 'secrets'): unknown => (given(key) ? input[key] : previous?.[from][key]);

  const botToken = pick('botToken', 'secrets');
  if (botToken === undefined || botToken === null || botToken === '') throw missing('settings.botToken');
  if (typeof botToken !== 'string' || !BOT_TOKEN.test(botToken)) {
    throw invalid('settings.botToken', 'must be a Telegram bot token (<bot id>:<secret>, as BotFather gives it)');
  }
  const registerWebhook = booleanOf('registerWebhook', pick('registerWebhook', 'settings'));
  const baseUrl = httpBaseUrl('baseUrl', pick('baseUrl', 'settings'));

  const rawSecret = given('secretToken') ? input.secretToken : previous?.secrets.secretToken;
  let secretToken: string;
  if (rawSecret === undefined || rawSecret === null || rawSecret === '') {
    if (!registerWebhook) throw missing('settings.secretToken');
    secretToken = generateSecretToken();
  } else {
    if (typeof rawSecret !== 'string' || !SECRET_TOKEN.test(rawSecret)) {
      throw invalid('settings.secretToken', 'must be 1-256 characters of A-Z, a-z, 0-9, _ and -');
    }
    secretToken = rawSecret;
  }
  return { settings: { baseUrl, registerWebhook }, secrets: { botToken, secretToken } };
}

function booleanOf(key: string, value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value !== 'boolean') throw invalid(`settings.${key}`, 'must be a boolean');
  return value;
}

function httpBaseUrl(key: string, value: unknown): string {
  if (value === undefined || value === null || value === '') return DEFAULT_BASE_URL;
  if (typeof value !== 'string' || value.length > 2048) throw invalid(`settings.${key}`, 'must be an http(s) URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`settings.${key}`, 'must be an http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(`settings.${key}`, 'must be an http(s) URL');
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw invalid(`settings.${key}`, 'must not carry credentials, a query or a fragment');
  }
  return value.replace(/\/+$/, '');
}
