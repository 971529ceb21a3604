import { invalid, missing } from '../../domain/errors.js';
import { toE164 } from '../../domain/phone.js';
import type { Channel } from '../../domain/records.js';
import type { SettingsInput } from '../connector.js';

export const DEFAULT_BASE_URL = 'https://graph.facebook.com/v21.0';
const MAX_SECRET_LENGTH = 1024;
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
  const s = channel.settings;
  return {
    phoneNumberId: typeof s.phoneNumberId === 'string' ? s.phoneNumberId : '',
    fromNumber: typeof s.fromNumber === 'string' && s.fromNumber !== '' ? s.fromNumber : undefined,
    baseUrl: typeof s.baseUrl === 'string' && s.baseUrl !== '' ? s.baseUrl : DEFAULT_BASE_URL,
    accessToken: channel.secrets.accessToken || undefined,
    appSecret: channel.secrets.appSecret || undefined,
    verifyToken: channel.secrets.verifyToken || undefined,
  };
}

/**
 * Public: phoneNumberId, fromNumber (optional), baseUrl (optional, includes the Graph API
 * version). Secret: accessToken, appSecret, verifyToken.
 * On PATCH a key that is absent keeps its previous value; `null` (or "") clears an
 * optional key and is refused for a required one.
 */
export function parseWhatsAppSettings(input: Record<string, unknown>, previous?: SettingsInput): SettingsInput {
  for (const key of Object.keys(input)) {
    if (!KNOWN_KEYS.has(key)) throw invalid(`settings.${key}`, 'is not a WhatsApp setting');
  }
  const pick = (key: string, from: 'settings' | 'secrets'): unknown =>
    key in input && input[key] !== undefined ? input[key] : previous?.[from][key];

  const phoneNumberId = phoneNumberIdOf('phoneNumberId', pick('phoneNumberId', 'settings'));
  const fromNumber = optionalPhone('fromNumber', pick('fromNumber', 'settings'));
  const baseUrl = httpBaseUrl('baseUrl', pick('baseUrl', 'settings'));
  const secrets: Record<string, string> = {};
  for (const key of SECRET_KEYS) secrets[key] = requiredSecret(key, pick(key, 'secrets'));

  const settings: Record<string, unknown> = { phoneNumberId, baseUrl };
  if (fromNumber !== undefined) settings.fromNumber = fromNumber;
  return { settings, secrets };
}

/** Meta's phone number ID: digits, given as a string (or a safe integer). */
function phoneNumberIdOf(key: string, value: unknown): string {
  if (value === undefined || value === null || value === '') throw missing(`settings.${key}`);
  const text = typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? String(value) : value;
  if (typeof text !== 'string' || !/^\d{1,32}$/.test(text)) throw invalid(`settings.${key}`, 'must be the numeric WhatsApp phone number ID');
  return text;
}

function optionalPhone(key: string, value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const e164 = typeof value === 'string' ? toE164(value) : undefined;
  if (e164 === undefined) throw invalid(`settings.${key}`, 'must be a phone number in E.164 format');
  return e164;
}

function requiredSecret(key: string, value: unknown): string {
  if (value === undefined || value === null || value === '') throw missing(`settings.${key}`);
  if (typeof value !== 'string') throw invalid(`settings.${key}`, 'must be a string');
  if (value.trim() !== value || value.length > MAX_SECRET_LENGTH) {
    throw invalid(`settings.${key}`, `must be at most ${MAX_SECRET_LENGTH} characters without surrounding spaces`);
  }
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
