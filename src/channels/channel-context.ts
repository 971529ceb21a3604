import { createHmac, timingSafeEqual } from 'node:crypto';
import type { MessageId } from '../domain/ids.js';
import type { Channel } from '../domain/records.js';
import type { ChannelContext } from './connector.js';

/** Secret key under which the core keeps a channel's callback-signing key; connectors never see it set by users. */
export const CALLBACK_KEY = '_callbackKey';

function tokenFor(key: string, messageId: string): string {
  return createHmac('sha256', key).update(messageId).digest('base64url').slice(0, 32);
}

/**
 * Builds the per-channel helpers given to connectors. Status-callback URLs carry an HMAC
 * of the message id so that a provider callback without its own signature still proves
 * it came through a URL Roost handed out for that very message.
 */
export function channelContext(channel: Channel, publicUrl: string): ChannelContext {
  const key = channel.secrets[CALLBACK_KEY] ?? '';
  return {
    channel,
    inboundUrl: `${publicUrl}/inbound/${channel.id}`,
    statusCallbackUrl(messageId: MessageId) {
      return `${publicUrl}/inbound/${channel.id}?message=${messageId}&token=${tokenFor(key, messageId)}`;
    },
    verifyCallbackToken(messageId: string, token: string) {
      if (key === '') return false;
      const expected = Buffer.from(tokenFor(key, messageId));
      const given = Buffer.from(token);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}
