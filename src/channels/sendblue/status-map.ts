import type { MessageError } from '../../domain/records.js';
import type { OutboundStatus } from '../../domain/status.js';

/**
 * Sendblue's upper-case statuses (SDK enums, docs, third-party crate; reference §4.4 and §8)
 * mapped to Roost's. RECEIVED belongs to inbound messages and SUCCESS has no documented
 * meaning, so neither is here: unknown statuses are ignored rather than guessed.
 */
const STATUS_MAP: Readonly<Record<string, OutboundStatus>> = {
  QUEUED: 'pending',
  REGISTERED: 'pending',
  PENDING: 'pending',
  ACCEPTED: 'pending',
  SENT: 'sent',
  DELIVERED: 'delivered',
  READ: 'read',
  ERROR: 'failed',
  FAILED: 'failed',
  DECLINED: 'failed',
};

export function mapSendblueStatus(status: unknown): OutboundStatus | undefined {
  if (typeof status !== 'string') return undefined;
  return Object.hasOwn(STATUS_MAP, status.toUpperCase()) ? STATUS_MAP[status.toUpperCase()] : undefined;
}

/** The error of a failed message, from a status callback or a send response body. */
export function sendblueError(body: Record<string, unknown>, fallbackCode: number, fallbackDescription: string): MessageError {
  return {
    code: numericCode(body.error_code) ?? fallbackCode,
    description: firstText(body.error_message, body.error_detail, body.error_reason, body.message) ?? fallbackDescription,
  };
}

function numericCode(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d{1,9}$/.test(v.trim())) return Number(v.trim());
  return undefined;
}

function firstText(...values: unknown[]): string | undefined {
  for (const v of values) {
    if (typeof v === 'string' && v.trim() !== '') return v.slice(0, 1000);
  }
  return undefined;
}
