import type { Channel } from '../../domain/records.js';
import type { SettingsInput } from '../connector.js';
import { httpBaseUrl, optionalPhone, picker, rejectUnknownKeys, requiredMatch, requiredSecret } from '../shared/settings-fields.js';
import { secretOf, settingOf } from '../shared/stored-settings.js';

export const DEFAULT_BASE_URL = 'https://conversations.messagebird.com/v1';
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
  return {
    accessKey: secretOf(channel, 'accessKey'),
    signingKey: secretOf(channel, 'signingKey'),
    channelId: settingOf(channel, 'channelId') ?? '',
    fromNumber: settingOf(channel, 'fromNumber'),
    baseUrl: settingOf(channel, 'baseUrl') ?? DEFAULT_BASE_URL,
  };
}

/**
 * Public: channelId, fromNumber (optional), baseUrl. Secret: accessKey, signingKey.
 * On PATCH a key that is absent keeps its previous value; `null` (or "") clears an
 * optional key and is refused for a required one.
 */
export function parseMessageBirdSettings(input: Record<string, unknown>, previous?: SettingsInput): SettingsInput {
  rejectUnknownKeys(input, KNOWN_KEYS, 'MessageBird');
  const pick = picker(input, previous);

  const accessKey = requiredSecret('accessKey', pick('accessKey', 'secrets'));
  // Without the signing key no inbound request can be authenticated, so it is not optional.
  const signingKey = requiredSecret('signingKey', pick('signingKey', 'secrets'));
  const channelId = requiredMatch('channelId', pick('channelId', 'settings'), CHANNEL_ID, 'must be a MessageBird channel id');
  const fromNumber = optionalPhone('fromNumber', pick('fromNumber', 'settings'));
  const baseUrl = httpBaseUrl('baseUrl', pick('baseUrl', 'settings'), DEFAULT_BASE_URL);

  const settings: Record<string, unknown> = { channelId, baseUrl };
  if (fromNumber !== undefined) settings.fromNumber = fromNumber;
  return { settings, secrets: { accessKey, signingKey } };
}
