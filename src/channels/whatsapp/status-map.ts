import type { MessageError } from '../../domain/records.js';
import type { OutboundStatus } from '../../domain/status.js';
import { numericCode } from '../shared/provider-error.js';
import { lookupStatus } from '../shared/status-lookup.js';

/**
 * `statuses[].status` values (reference §3.4 and §8) mapped to Roost's. `played` (a voice
 * message was played) implies read. `deleted` (legacy On-Prem) and anything new are ignored.
 */
const STATUS_MAP: Readonly<Record<string, OutboundStatus>> = {
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  played: 'read',
  failed: 'failed',
};

export const mapWhatsAppStatus = (status: unknown): OutboundStatus | undefined => lookupStatus(STATUS_MAP, status, (s) => s.trim().toLowerCase());

/**
 * Error codes that mean "not now" rather than "never": throttling (as courier treats
 * them: 4 app rate limit, 80007 WABA rate limit, 130429 throughput, 131048 spam rate
 * limit, 131056 pair rate limit, 133016 registration rate limit) and Meta's
 * temporarily-unavailable codes (2, 131016, 133004).
 */
export const TRANSIENT_CODES: ReadonlySet<number> = new Set([4, 80007, 130429, 131048, 131056, 133016, 2, 131016, 133004]);

type Obj = Record<string, unknown>;

/**
 * A Graph error object (`error` of an API answer, or `statuses[].errors[0]`) as a Roost
 * error: its code, and its message (or title) followed by `error_data.details` when those add something.
 */
export function metaError(err: Obj, fallbackCode: number, fallbackDescription: string): MessageError {
  const headline = text(err.message) ?? text(err.title);
  const data = typeof err.error_data === 'object' && err.error_data !== null ? (err.error_data as Obj) : {};
  const details = text(data.details);
  let description = headline ?? details ?? fallbackDescription;
  if (headline !== undefined && details !== undefined && !headline.includes(details)) description = `${headline}: ${details}`;
  return { code: numericCode(err.code) ?? fallbackCode, description: description.slice(0, 1000) };
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}
