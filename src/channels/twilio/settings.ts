import { invalid, missing } from '../../domain/errors.js';
import { toE164 } from '../../domain/phone.js';
import type { Channel } from '../../domain/records.js';
import type { SettingsInput } from '../connector.js';
import { httpBaseUrl, isUnset, picker, rejectUnknownKeys, requiredMatch, requiredSecret } from '../shared/settings-fields.js';
import { secretOf, settingOf } from '../shared/stored-settings.js';

export const DEFAULT_BASE_URL = 'https://api.twilio.com';
const KNOWN_KEYS = new Set(['accountSid', 'authToken', 'fromNumber', 'baseUrl']);
const ACCOUNT_SID = /^AC[0-9a-f]{32}$/i;
const WHATSAPP_PREFIX = /^whatsapp:/i;

/** The settings a Twilio channel works with, read back from a stored channel. */
export interface TwilioConfig {
  accountSid: string;
  authToken: string | undefined;
  /** `+E164`, or `whatsapp:+E164` for a WhatsApp sender. */
  fromNumber: string;
  /** True when the channel sends from a WhatsApp sender (`whatsapp:` prefix on From and To). */
  whatsapp: boolean;
  baseUrl: string;
}

export function configOf(channel: Channel): TwilioConfig {
  const fromNumber = settingOf(channel, 'fromNumber') ?? '';
  return {
    accountSid: settingOf(channel, 'accountSid') ?? '',
    authToken: secretOf(channel, 'authToken'),
    fromNumber,
    whatsapp: WHATSAPP_PREFIX.test(fromNumber),
    baseUrl: settingOf(channel, 'baseUrl') ?? DEFAULT_BASE_URL,
  };
}

/** A Twilio address without its channel prefix: `whatsapp:+14155238886` is `+14155238886`. */
export function withoutChannelPrefix(address: string): string {
  return address.trim().replace(WHATSAPP_PREFIX, '');
}

/** The E.164 number behind a Twilio address (`+1…`, `whatsapp:+1…`), or undefined. */
export function phoneOfAddress(address: string): string | undefined {
  return toE164(withoutChannelPrefix(address));
}

/**
 * Public: accountSid, fromNumber, baseUrl. Secret: authToken.
 * On PATCH a key that is absent keeps its previous value; `null` (or "") clears an
 * optional key and is refused for a required one.
 */
export function parseTwilioSettings(input: Record<string, unknown>, previous?: SettingsInput): SettingsInput {
  rejectUnknownKeys(input, KNOWN_KEYS, 'Twilio');
  const pick = picker(input, previous);

  const accountSid = requiredMatch(
    'accountSid', pick('accountSid', 'settings'), ACCOUNT_SID, 'must be a Twilio Account SID (AC followed by 32 hexadecimal digits)',
  );
  const authToken = requiredSecret('authToken', pick('authToken', 'secrets'));
  const fromNumber = sender('fromNumber', pick('fromNumber', 'settings'));
  const baseUrl = httpBaseUrl('baseUrl', pick('baseUrl', 'settings'), DEFAULT_BASE_URL);
  return { settings: { accountSid, fromNumber, baseUrl }, secrets: { authToken } };
}

/** `+E164` (SMS/MMS) or `whatsapp:+E164` (WhatsApp sender), normalised. */
function sender(key: string, value: unknown): string {
  if (isUnset(value)) throw missing(`settings.${key}`);
  if (typeof value !== 'string') throw invalid(`settings.${key}`, 'must be a phone number in E.164 format, or whatsapp:+E164');
  const e164 = phoneOfAddress(value);
  if (e164 === undefined) throw invalid(`settings.${key}`, 'must be a phone number in E.164 format, or whatsapp:+E164');
  return WHATSAPP_PREFIX.test(value.trim()) ? `whatsapp:${e164}` : e164;
}
