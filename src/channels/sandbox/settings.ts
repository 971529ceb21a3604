import { invalid } from '../../domain/errors.js';
import { toE164 } from '../../domain/phone.js';
import type { Channel } from '../../domain/records.js';
import type { SettingsInput } from '../connector.js';

export const DEFAULT_SANDBOX_NUMBER = '+10000000000';
const KNOWN_KEYS = new Set(['fromNumber', 'secret']);

/**
 * Public: fromNumber (default +10000000000). Secret: secret. Absent keys keep their
 * previous value on PATCH; `null` or "" resets a key to its default.
 */
export function parseSandboxSettings(input: Record<string, unknown>, previous?: SettingsInput): SettingsInput {
  for (const key of Object.keys(input)) {
    if (!KNOWN_KEYS.has(key)) throw invalid(`settings.${key}`, 'is not a sandbox setting');
  }
  const pick = (key: string, from: 'settings' | 'secrets'): unknown =>
    key in input && input[key] !== undefined ? input[key] : previous?.[from][key];

  const rawNumber = pick('fromNumber', 'settings');
  let fromNumber = DEFAULT_SANDBOX_NUMBER;
  if (rawNumber !== undefined && rawNumber !== null && rawNumber !== '') {
    const e164 = typeof rawNumber === 'string' ? toE164(rawNumber) : undefined;
    if (e164 === undefined) throw invalid('settings.fromNumber', 'must be a phone number in E.164 format');
    fromNumber = e164;
  }

  const secrets: Record<string, string> = {};
  const secret = pick('secret', 'secrets');
  if (secret !== undefined && secret !== null && secret !== '') {
    if (typeof secret !== 'string' || secret.length > 1024) throw invalid('settings.secret', 'must be a string of at most 1024 characters');
    secrets.secret = secret;
  }
  return { settings: { fromNumber }, secrets };
}

export function sandboxNumberOf(channel: Channel): string {
  const n = channel.settings.fromNumber;
  return typeof n === 'string' && n !== '' ? n : DEFAULT_SANDBOX_NUMBER;
}
