import { parseId } from '../../domain/ids.js';
import type { MessageId } from '../../domain/ids.js';
import type { ChannelContext } from '../connector.js';

/**
 * WhatsApp echoes a send request's `biz_opaque_callback_data` in that message's status
 * notifications (reference §3.4). Roost puts its message id there with the same
 * unguessable token as a status-callback URL, so a status that beats the send response
 * still finds its message, and a value Roost did not write is never trusted.
 */
const PREFIX = 'roost:';

export function opaqueDataFor(ctx: ChannelContext, messageId: MessageId): string {
  const token = new URL(ctx.statusCallbackUrl(messageId)).searchParams.get('token') ?? '';
  return `${PREFIX}${messageId}:${token}`;
}

export function messageIdOfOpaqueData(value: unknown, ctx: ChannelContext): MessageId | undefined {
  if (typeof value !== 'string' || !value.startsWith(PREFIX) || value.length > 512) return undefined;
  const [id, token] = value.slice(PREFIX.length).split(':', 2);
  if (!id || !token || !ctx.verifyCallbackToken(id, token)) return undefined;
  return parseId<'message'>(id);
}
