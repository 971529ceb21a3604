import { invalid } from '../../domain/errors.js';
import type { Channel } from '../../domain/records.js';
import type { SettingsInput } from '../connector.js';
import { isUnset, optionalPhone, picker, rejectUnknownKeys } from '../shared/settings-fields.js';
import { settingOf } from '../shared/stored-settings.js';

export const DEFAULT_SANDBOX_NUMBER = '+10000000000';
const KNOWN_KEYS = new Set(['fromNumber', 'secret']);

/**
 * Public: fromNumber (default +10000000000). Secret: secret. Absent keys keep their
 * previous value on PATCH; `null` or "" resets a key to its default.
 */
export function parseSandboxSettings(input: Record<string, unknown>, previous?: SettingsInput): SettingsInput {
  rejectUnknownKeys(input, KNOWN_KEYS, 'sandbox');
  const pick = picker(input, previous);
  const fromNumber = optionalPhone('fromNumber', pick('fromNumber', 'settings')) ?? DEFAULT_SANDBOX_NUMBER;

  const secrets: Record<string, string> = {};
  const secret = pick('secret', 'secrets');
  if (!isUnset(secret)) {
    if (typeof secret !== 'string' || secret.length > 1024) throw invalid('settings.secret', 'must be a string of at most 1024 characters');
    secrets.secret = secret;
  }
  return { settings: { fromNumber }, secrets };
}

export function sandboxNumberOf(channel: Channel): string {
  return settingOf(channel, 'fromNumber') ?? DEFAULT_SANDBOX_NUMBER;
}
