import { invalid, missing } from '../../domain/errors.js';
import { toE164 } from '../../domain/phone.js';
import type { Channel } from '../../domain/records.js';
import type { SettingsInput } from '../connector.js';

export const DEFAULT_BASE_URL = 'https://api.sendblue.co';
const MAX_SECRET_LENGTH = 1024;
const KNOWN_KEYS = new Set(['apiKeyId', 'apiSecretKey', 'fromNumber', 'signingSecret', 'baseUrl']);

/** The settings a Sendblue channel works with, read back from a stored channel. */
export interface SendblueConfig {
  apiKeyId: string | undefined;
  apiSecretKey: string | undefined;
  fromNumber: string;
  baseUrl: string;
  signingSecret: string | undefined;
}

export function configOf(channel: Channel): SendblueConfig {
  const s = channel.settings;
  return {
    apiKeyId: channel.secrets.apiKeyId,
    apiSecretKey: channel.secrets.apiSecretKey,
    fromNumber: typeof s.fromNumber === 'string' ? s.fromNumber : '',
    baseUrl: typeof s.baseUrl === 'string' && s.baseUrl !== '' ? s.baseUrl : DEFAULT_BASE_URL,
    signingSecret: channel.secrets.signingSecret || undefined,
  };
}

/**
 * Public: fromNumber, baseUrl. Secret: apiKeyId, apiSecretKey, signingSecret.
 * On PATCH a key that is absent keeps its previous value; `null` (or "") clears an
 * optional key and is refused for a required one.
 */
export function parseSendblueSettings(input: Record<string, unknown>, previous?: SettingsInput): SettingsInput {
  for (const key of Object.keys(input)) {
    if (!KNOWN_KEYS.has(key)) throw invalid(`settings.${key}`, 'is not a Sendblue setting');
  }
  const pick = (key: string, from: 'settings' | 'secrets'): unknown =>
    key in input && input[key] !== undefined ? input[key] : previous?.[from][key];

  const apiKeyId = requiredSecret('apiKeyId', pick('apiKeyId', 'secrets'));
  const apiSecretKey = requiredSecret('apiSecretKey', pick('apiSecretKey', 'secrets'));
  const signingSecret = optionalSecret('signingSecret', pick('signingSecret', 'secrets'));
  const fromNumber = phone('fromNumber', pick('fromNumber', 'settings'));
  const baseUrl = httpBaseUrl('baseUrl', pick('baseUrl', 'settings'));

  const secrets: Record<string, string> = { apiKeyId, apiSecretKey };
  if (signingSecret !== undefined) secrets.signingSecret = signingSecret;
  return { settings: { fromNumber, baseUrl }, secrets };
}

function requiredSecret(key: string, value: unknown): string {
  if (value === undefined || value === null || value === '') throw missing(`settings.${key}`);
  return secretString(key, value);
}

function optionalSecret(key: string, value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return secretString(key, value);
}

function secretString(key: string, value: unknown): string {
  if (typeof value !== 'string') throw invalid(`settings.${key}`, 'must be a string');
  if (value.trim() !== value || value.length > MAX_SECRET_LENGTH) {
    throw invalid(`settings.${key}`, `must be at most ${MAX_SECRET_LENGTH} characters without surrounding spaces`);
  }
  return value;
}

function phone(key: string, value: unknown): string {
  if (value === undefined || value === null || value === '') throw missing(`settings.${key}`);
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
