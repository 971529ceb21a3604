import type { Channel } from '../../domain/records.js';
import type { SettingsInput } from '../connector.js';
import { httpBaseUrl, optionalSecret, picker, rejectUnknownKeys, requiredPhone, requiredSecret } from '../shared/settings-fields.js';
import { secretOf, settingOf } from '../shared/stored-settings.js';

export const DEFAULT_BASE_URL = 'https://api.sendblue.co';
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
  return {
    apiKeyId: secretOf(channel, 'apiKeyId'),
    apiSecretKey: secretOf(channel, 'apiSecretKey'),
    fromNumber: settingOf(channel, 'fromNumber') ?? '',
    baseUrl: settingOf(channel, 'baseUrl') ?? DEFAULT_BASE_URL,
    signingSecret: secretOf(channel, 'signingSecret'),
  };
}

/**
 * Public: fromNumber, baseUrl. Secret: apiKeyId, apiSecretKey, signingSecret.
 * On PATCH a key that is absent keeps its previous value; `null` (or "") clears an
 * optional key and is refused for a required one.
 */
export function parseSendblueSettings(input: Record<string, unknown>, previous?: SettingsInput): SettingsInput {
  rejectUnknownKeys(input, KNOWN_KEYS, 'Sendblue');
  const pick = picker(input, previous);

  const apiKeyId = requiredSecret('apiKeyId', pick('apiKeyId', 'secrets'));
  const apiSecretKey = requiredSecret('apiSecretKey', pick('apiSecretKey', 'secrets'));
  const signingSecret = optionalSecret('signingSecret', pick('signingSecret', 'secrets'));
  const fromNumber = requiredPhone('fromNumber', pick('fromNumber', 'settings'));
  const baseUrl = httpBaseUrl('baseUrl', pick('baseUrl', 'settings'), DEFAULT_BASE_URL);

  const secrets: Record<string, string> = { apiKeyId, apiSecretKey };
  if (signingSecret !== undefined) secrets.signingSecret = signingSecret;
  return { settings: { fromNumber, baseUrl }, secrets };
}
