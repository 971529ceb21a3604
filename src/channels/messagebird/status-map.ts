import type { MessageError } from '../../domain/records.js';
import type { OutboundStatus } from '../../domain/status.js';

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

const lookup = (map: Readonly<Record<string, OutboundStatus>>, status: unknown): OutboundStatus | undefined => {
  if (typeof status !== 'string') return undefined;
  const key = status.toLowerCase();
  return Object.hasOwn(map, key) ? map[key] : undefined;
};

export const mapConversationStatus = (status: unknown): OutboundStatus | undefined => lookup(CONVERSATION_STATUS, status);
export const mapSmsStatus = (status: unknown): OutboundStatus | undefined => lookup(SMS_STATUS, status);

/** `{code, description}` from a message's `error` or a response's `errors[0]`, with fallbacks. */
export function messageBirdError(value: unknown, fallbackCode: number, fallbackDescription: string): MessageError {
  const o = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const description = firstText(o.description, o.message) ?? fallbackDescription;
  return { code: numericCode(o.code) ?? fallbackCode, description };
}

export function numericCode(v: unknown): number | undefined {
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
