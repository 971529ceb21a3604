import { invalid, missing } from '../../domain/errors.js';
import { toE164 } from '../../domain/phone.js';
import type { Channel } from '../../domain/records.js';
import type { SettingsInput } from '../connector.js';

export const DEFAULT_BASE_URL = 'https://conversations.messagebird.com/v1';
const MAX_SECRET_LENGTH = 1024;
const KNOWN_KEYS = new Set(['accessKey', 'signingKey', 'channelId', 'fromNumber', 'baseUrl']);
/** MessageBird channel ids are 32 hex digits; anything URL-safe and short is let through. */
const CHANNEL_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** The settings a MessageBird channel works with, read back from a stored channel. */
export interface MessageBirdConfig {
  accessKey: string | undefined;
  signingKey: string | undefined;
  /** The MessageBird channel Roost sends from (the `from` of POST /send). */
  channelId: string;
  /** The channel's phone number, when it has one: the `from` Roost shows on sent messages. */
  fromNumber: string | undefined;
  baseUrl: string;
}

export function configOf(channel: Channel): MessageBirdConfig {
  const s = channel.settings;
  return {
    accessKey: channel.secrets.accessKey || undefined,
    signingKey: channel.secrets.signingKey || undefined,
    channelId: typeof s.channelId === 'string' ? s.channelId : '',
    fromNumber: typeof s.fromNumber === 'string' && s.fromNumber !== '' ? s.fromNumber : undefined,
    baseUrl: typeof s.baseUrl === 'string' && s.baseUrl !== '' ? s.baseUrl : DEFAULT_BASE_URL,
  };
}

/**
 * Public: channelId, fromNumber (optional), baseUrl. Secret: accessKey, signingKey.
 * On PATCH a key that is absent keeps its previous value; `null` (or "") clears an
 * optional key and is refused for a required one.
 */
export function parseMessageBirdSettings(input: Record<string, unknown>, previous?: SettingsInput): SettingsInput {
  for (const key of Object.keys(input)) {
    if (!KNOWN_KEYS.has(key)) throw invalid(`settings.${key}`, 'is not a MessageBird setting');
  }
  const pick = (key: string, from: 'settings' | 'secrets'): unknown =>
    key in input && input[key] !== undefined ? input[key] : previous?.[from][key];

  const accessKey = requiredSecret('accessKey', pick('accessKey', 'secrets'));
  // Without the signing key no inbound request can be authenticated, so it is not optional.
  const signingKey = requiredSecret('signingKey', pick('signingKey', 'secrets'));
  const channelId = pick('channelId', 'settings');
  if (channelId === undefined || channelId === null || channelId === '') throw missing('settings.channelId');
  if (typeof channelId !== 'string' || !CHANNEL_ID.test(channelId)) {
    throw invalid('settings.channelId', 'must be a MessageBird channel id');
  }
  const fromNumber = optionalPhone('fromNumber', pick('fromNumber', 'settings'));
  const baseUrl = httpBaseUrl('baseUrl', pick('baseUrl', 'settings'));

  const settings: Record<string, unknown> = { channelId, baseUrl };
  if (fromNumber !== undefined) settings.fromNumber = fromNumber;
  return { settings, secrets: { accessKey, signingKey } };
}

function requiredSecret(key: string, value: unknown): string {
  if (value === undefined || value === null || value === '') throw missing(`settings.${key}`);
  if (typeof value !== 'string') throw invalid(`settings.${key}`, 'must be a string');
  if (value.trim() !== value || value.length > MAX_SECRET_LENGTH) {
    throw invalid(`settings.${key}`, `must be at most ${MAX_SECRET_LENGTH} characters without surrounding spaces`);
  }
  return value;
}

function optionalPhone(key: string, value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const e164 = typeof value === 'string' ? toE164(value) : undefined;
  if (e164 === undefined) throw invalid(`settings.${key}`, 'must be a phone number in E.164 format');
  return e164;
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
