import type { ChannelContext, InboundRequest, Verification } from '../connector.js';
import { safeEqual } from '../shared/safe-equal.js';
import { configOf } from './settings.js';

/** Telegram echoes setWebhook's `secret_token` in this header on every update (reference §2.2). */
export const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

/**
 * Telegram's only authenticity scheme: a static secret header, compared in constant time.
 * Replays need no extra guard: every update is keyed on its own ids, so a replayed update
 * is a duplicate and stores nothing.
 */
export function verifyTelegram(req: InboundRequest, ctx: ChannelContext): Verification {
  if (req.method.toUpperCase() !== 'POST') return { ok: false, status: 405, reason: 'Telegram webhooks are POST requests' };
  const secret = configOf(ctx.channel).secretToken;
  if (!secret) return { ok: false, status: 401, reason: 'the channel has no secret token' };
  const presented = req.headers[SECRET_HEADER];
  if (presented === undefined) return { ok: false, status: 401, reason: `missing ${SECRET_HEADER} header` };
  if (!safeEqual(presented, secret)) return { ok: false, status: 401, reason: `${SECRET_HEADER} does not match` };
  return { ok: true };
}
