import { invalid, missing } from '../../domain/errors.js';
import type { Channel } from '../../domain/records.js';
import type { SettingsInput } from '../connector.js';
import { httpBaseUrl, isUnset, optionalPhone, picker, rejectUnknownKeys, requiredSecret } from '../shared/settings-fields.js';
import { secretOf, settingOf } from '../shared/stored-settings.js';

export const DEFAULT_BASE_URL = 'https://graph.facebook.com/v21.0';
const SECRET_KEYS = ['accessToken', 'appSecret', 'verifyToken'] as const;
const KNOWN_KEYS = new Set(['phoneNumberId', 'fromNumber', 'baseUrl', ...SECRET_KEYS]);

/** The settings a WhatsApp Cloud API channel works with, read back from a stored channel. */
export interface WhatsAppConfig {
  phoneNumberId: string;
  /** The business number in E.164, when the operator gave it; used as the `from` of sent messages. */
  fromNumber: string | undefined;
  baseUrl: string;
  accessToken: string | undefined;
  appSecret: string | undefined;
  verifyToken: string | undefined;
}

export function configOf(channel: Channel): WhatsAppConfig {
  return {
    phoneNumberId: settingOf(channel, 'phoneNumberId') ?? '',
    fromNumber: settingOf(channel, 'fromNumber'),
    baseUrl: settingOf(channel, 'baseUrl') ?? DEFAULT_BASE_URL,
    accessToken: secretOf(channel, 'accessToken'),
    appSecret: secretOf(channel, 'appSecret'),
    verifyToken: secretOf(channel, 'verifyToken'),
  };
}

/**
 * Public: phoneNumberId, fromNumber (optional), baseUrl (optional, includes the Graph API
 * version). Secret: accessToken, appSecret, verifyToken.
 * On PATCH a key that is absent keeps its previous value; `null` (or "") clears an
 * optional key and is refused for a required one.
 */
export function parseWhatsAppSettings(input: Record<string, unknown>, previous?: SettingsInput): SettingsInput {
  rejectUnknownKeys(input, KNOWN_KEYS, 'WhatsApp');
  const pick = picker(input, previous);

  const phoneNumberId = phoneNumberIdOf('phoneNumberId', pick('phoneNumberId', 'settings'));
  const fromNumber = optionalPhone('fromNumber', pick('fromNumber', 'settings'));
  const baseUrl = httpBaseUrl('baseUrl', pick('baseUrl', 'settings'), DEFAULT_BASE_URL);
  const secrets: Record<string, string> = {};
  for (const key of SECRET_KEYS) secrets[key] = requiredSecret(key, pick(key, 'secrets'));

  const settings: Record<string, unknown> = { phoneNumberId, baseUrl };
  if (fromNumber !== undefined) settings.fromNumber = fromNumber;
  return { settings, secrets };
}

/** Meta's phone number ID: digits, given as a string (or a safe integer). */
function phoneNumberIdOf(key: string, value: unknown): string {
  if (isUnset(value)) throw missing(`settings.${key}`);
  const text = typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? String(value) : value;
  if (typeof text !== 'string' || !/^\d{1,32}$/.test(text)) throw invalid(`settings.${key}`, 'must be the numeric WhatsApp phone number ID');
  return text;
}
