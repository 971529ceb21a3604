import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * Normalises a phone number to E.164 so that one person writing over SMS, WhatsApp and
 * iMessage is one contact. Returns undefined when the input is not a plausible number.
 * Numbers without a leading `+` are read as international (MSISDN style, `31612345678`).
 */
export function toE164(raw: string): string | undefined {
  // Parsing with full metadata is the costliest step of an inbound message; the same
  // numbers come back again and again, so results are remembered (bounded).
  const hit = cache.get(raw);
  if (hit !== undefined || cache.has(raw)) return hit;
  const result = parseE164(raw);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(raw, result);
  return result;
}

const CACHE_LIMIT = 50_000;
const cache = new Map<string, string | undefined>();

function parseE164(raw: string): string | undefined {
  const trimmed = raw.trim();
  if (trimmed === '') return undefined;
  const candidate = trimmed.startsWith('+') ? trimmed : trimmed.startsWith('00') ? `+${trimmed.slice(2)}` : `+${trimmed}`;
  if (!/^\+[0-9 ()\-.]{4,24}$/.test(candidate)) return undefined;
  const parsed = parsePhoneNumberFromString(candidate);
  if (parsed?.isPossible()) return parsed.number;
  const digits = candidate.replace(/[^0-9]/g, '');
  return digits.length >= 5 && digits.length <= 15 && digits[0] !== '0' ? `+${digits}` : undefined;
}

/** The MSISDN form MessageBird puts in `contact.msisdn`: E.164 digits as a number. */
export function msisdnOf(e164: string): number {
  return Number(e164.replace(/^\+/, ''));
}
