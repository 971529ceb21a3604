import type { MessageError } from '../../domain/records.js';
import type { OutboundStatus } from '../../domain/status.js';
import { firstText, numericCode } from '../shared/provider-error.js';
import { lookupStatus } from '../shared/status-lookup.js';

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

export const mapSendblueStatus = (status: unknown): OutboundStatus | undefined => lookupStatus(STATUS_MAP, status, (s) => s.toUpperCase());

/** The error of a failed message, from a status callback or a send response body. */
export function sendblueError(body: Record<string, unknown>, fallbackCode: number, fallbackDescription: string): MessageError {
  return {
    code: numericCode(body.error_code) ?? fallbackCode,
    description: firstText(body.error_message, body.error_detail, body.error_reason, body.message) ?? fallbackDescription,
  };
}
