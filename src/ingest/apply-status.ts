import type { MessageId } from '../domain/ids.js';
import type { Message, MessageError } from '../domain/records.js';
import { canAdvance } from '../domain/status.js';
import type { OutboundStatus } from '../domain/status.js';
import { recordMessageEvent } from '../conversations/outbox.js';
import type { Tx } from '../store/store.js';
import type { InboundChannel } from './ingest-message.js';

export type StatusResult = 'applied' | 'stale' | 'unknown_message';

export interface StatusChange {
  status: OutboundStatus;
  error?: MessageError | undefined;
  providerMessageId?: string | undefined;
}

/**
 * Moves an outbound message's status forward and records `message.updated`. Updates that
 * would move it backwards (callbacks arrive out of order) are `stale` and change nothing.
 */
export async function applyStatus(tx: Tx, seen: Message, change: StatusChange, now: number): Promise<StatusResult> {
  // Decide on the stored row, not the caller's copy: a provider callback may have moved
  // the message on while the caller was waiting for the provider's answer.
  return advance(tx, (await tx.getMessage(seen.workspaceId, seen.id)) ?? seen, change, now);
}

/** The rule itself, on a message read inside this transaction. */
async function advance(tx: Tx, message: Message, change: StatusChange, now: number): Promise<StatusResult> {
  if (message.direction !== 'sent' || !canAdvance(message.status, change.status)) {
    if (change.providerMessageId && !message.providerMessageId) {
      await tx.updateMessageStatus(message.id, message.status, message.error, change.providerMessageId, message.updatedAt ?? now);
    }
    return 'stale';
  }
  const error = change.status === 'failed' ? (change.error ?? { code: 0, description: 'failed' }) : null;
  await tx.updateMessageStatus(message.id, change.status, error, change.providerMessageId ?? null, now);
  const conversation = await tx.getConversation(message.workspaceId, message.conversationId);
  if (conversation) {
    const updated: Message = {
      ...message,
      status: change.status,
      error,
      providerMessageId: change.providerMessageId ?? message.providerMessageId,
      updatedAt: now,
    };
    await recordMessageEvent(tx, 'message.updated', conversation, updated, now);
  }
  return 'applied';
}

/** A provider's status callback: find the message by provider id (or Roost id from the callback URL). */
export async function applyStatusCallback(
  tx: Tx,
  channel: InboundChannel,
  update: { providerMessageId: string; messageId?: MessageId | undefined; status: OutboundStatus; error?: MessageError | undefined },
  now: number,
): Promise<StatusResult> {
  let message = await tx.findMessageByProviderId(channel.id, update.providerMessageId);
  if (!message && update.messageId) {
    const byId = await tx.getMessage(channel.workspaceId, update.messageId);
    if (byId && byId.channelId === channel.id) message = byId;
  }
  if (!message) return 'unknown_message';
  // Read in this very transaction: no need to read it again.
  return advance(tx, message, { status: update.status, error: update.error, providerMessageId: update.providerMessageId }, now);
}
