import { toE164 } from '../../domain/phone.js';
import type { ContactIdentifier } from '../../domain/records.js';

/** A phone contact, keyed on E.164 so that one person is one contact across channels. */
export const phoneIdentifier = (e164: string | undefined): ContactIdentifier | undefined =>
  e164 === undefined ? undefined : { key: 'phonenumber', value: e164 };

/**
 * A phone contact when the address is a phone number; else, on platforms that address
 * people by id, the address itself under `platformKey` (exactly as given: non-blank, no
 * surrounding spaces, at most 256 characters).
 */
export function phoneOrPlatformIdentifier(address: string, platformKey: string): ContactIdentifier | undefined {
  const byPhone = phoneIdentifier(toE164(address));
  if (byPhone !== undefined) return byPhone;
  const trimmed = address.trim();
  return trimmed !== '' && trimmed === address && address.length <= 256 ? { key: platformKey, value: address } : undefined;
}
