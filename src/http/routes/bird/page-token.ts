import { invalid } from '../../../domain/errors.js';
import type { ConversationId } from '../../../domain/ids.js';

/** Bird's `pageToken` is opaque and at most 8,000 characters (seed 003). */
const MAX_TOKEN_LENGTH = 8000;

export type Order = 'desc' | 'asc';

const MAX_POSITION = 2_147_483_647;

/**
 * A page token: the last position a page gave, with the list it belongs to (the
 * conversation and the order), as base64url JSON. A token of another list, or one that
 * does not decode, is refused rather than read as a position it never named.
 */
export function pageToken(conversationId: ConversationId, order: Order, after: number): string {
  return Buffer.from(JSON.stringify([conversationId, order, after])).toString('base64url');
}

export function positionAfter(raw: unknown, conversationId: ConversationId, order: Order): number | null {
  if (raw === undefined || raw === '') return null;
  const bad = () => invalid('pageToken', 'is not a page token of this list (pass nextPageToken back as it was given, with the same reverse)');
  if (typeof raw !== 'string' || raw.length > MAX_TOKEN_LENGTH) throw bad();
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(decoded) || decoded.length !== 3) throw bad();
  const [conversation, tokenOrder, after] = decoded as unknown[];
  // Positions are 32-bit on PostgreSQL: a larger one was never given.
  if (conversation !== conversationId || tokenOrder !== order || !Number.isInteger(after) || (after as number) < 0 || (after as number) > MAX_POSITION) throw bad();
  return after as number;
}
