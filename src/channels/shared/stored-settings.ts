import type { Channel } from '../../domain/records.js';

/**
 * Reading a stored channel back (every connector's `configOf`). Values were checked when
 * saved, but a missing or empty one still reads as undefined, so that each connector
 * states its own fallback and its send refuses to go without a credential.
 */
export function settingOf(channel: Channel, key: string): string | undefined {
  const v = channel.settings[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export const secretOf = (channel: Channel, key: string): string | undefined => channel.secrets[key] || undefined;
