import type { MessageError } from '../../domain/records.js';
import type { OutboundStatus } from '../../domain/status.js';
import { isObject } from '../shared/json.js';
import { firstText, numericCode } from '../shared/provider-error.js';
import { lookupStatus } from '../shared/status-lookup.js';

/**
 * Conversations API message statuses (reference messagebird §1.7; §8 of the channel
 * reference) mapped to Roost's. `received`, `deleted`, `unknown` and the e-mail tracking
 * statuses say nothing about delivery and are ignored rather than guessed.
 */
const CONVERSATION_STATUS: Readonly<Record<string, OutboundStatus>> = {
  accepted: 'pending',
  pending: 'pending',
  buffered: 'pending',
  transmitted: 'sent',
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  failed: 'failed',
  rejected: 'failed',
  delivery_failed: 'failed',
  expired: 'failed',
};

/** SMS status-report statuses (reference §5.2). */
const SMS_STATUS: Readonly<Record<string, OutboundStatus>> = {
  scheduled: 'pending',
  buffered: 'pending',
  sent: 'sent',
  delivered: 'delivered',
  expired: 'failed',
  delivery_failed: 'failed',
};

const lowerCase = (status: string) => status.toLowerCase();
export const mapConversationStatus = (status: unknown): OutboundStatus | undefined => lookupStatus(CONVERSATION_STATUS, status, lowerCase);
export const mapSmsStatus = (status: unknown): OutboundStatus | undefined => lookupStatus(SMS_STATUS, status, lowerCase);

/** `{code, description}` from a message's `error` or a response's `errors[0]`, with fallbacks. */
export function messageBirdError(value: unknown, fallbackCode: number, fallbackDescription: string): MessageError {
  const o = isObject(value) ? value : {};
  const description = firstText(o.description, o.message) ?? fallbackDescription;
  return { code: numericCode(o.code) ?? fallbackCode, description };
}
