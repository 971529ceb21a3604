import type { MessageType } from '../../domain/content.js';
import type { MessageError } from '../../domain/records.js';
import type { OutboundStatus } from '../../domain/status.js';
import { firstText, numericCode } from '../shared/provider-error.js';
import { lookupStatus } from '../shared/status-lookup.js';

/**
 * Twilio's `MessageStatus` values (twilio-node `MessageStatus`; reference §1.4 and §8)
 * mapped to Roost's. `receiving`/`received` belong to inbound messages and
 * `partially_delivered` has no Roost equivalent: unknown statuses are ignored.
 */
const STATUS_MAP: Readonly<Record<string, OutboundStatus>> = {
  queued: 'pending',
  accepted: 'pending',
  scheduled: 'pending',
  sending: 'pending',
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  failed: 'failed',
  undelivered: 'failed',
  canceled: 'failed',
};

export const mapTwilioStatus = (status: unknown): OutboundStatus | undefined => lookupStatus(STATUS_MAP, status, (s) => s.trim().toLowerCase());

/** The error of a failed message from a status callback's `ErrorCode` and `ErrorMessage`. */
export function twilioCallbackError(status: string, errorCode: unknown, errorMessage: unknown): MessageError {
  const code = numericCode(errorCode);
  const message = firstText(errorMessage);
  return {
    code: code ?? 0,
    description: message ?? (code === undefined ? `Twilio reported the message ${status}` : `Twilio reported the message ${status} (error ${code})`),
  };
}

/** A Twilio REST error body `{code, message, more_info, status}`, with fallbacks. */
export function twilioApiError(body: Record<string, unknown>, fallbackCode: number, fallbackDescription: string): MessageError {
  return { code: numericCode(body.code) ?? fallbackCode, description: firstText(body.message) ?? fallbackDescription };
}

/** The Roost message type of a media item, from its MIME type (`MediaContentType{N}`). */
export function mediaTypeOfContentType(contentType: string | undefined): Extract<MessageType, 'image' | 'video' | 'audio' | 'file'> {
  const major = (contentType ?? '').trim().toLowerCase().split('/')[0];
  if (major === 'image') return 'image';
  if (major === 'video') return 'video';
  if (major === 'audio') return 'audio';
  return 'file';
}
