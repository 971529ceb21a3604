import type { ChannelContext, InboundRequest, Verification } from '../connector.js';
import { callbackMessageId } from '../shared/callback-token.js';
import { safeEqual } from '../shared/safe-equal.js';
import { configOf } from './settings.js';

export const SIGNING_HEADER = 'sb-signing-secret';

/**
 * How an inbound Sendblue request proved itself:
 * - `secret`: it carried the configured `sb-signing-secret` header;
 * - `token`: it came to a status-callback URL with a valid per-message token, so it may
 *   only update that one message (Sendblue does not document whether status callbacks
 *   carry the signing header, reference §4.2);
 * - `open`: the channel has no signing secret, so nothing can be checked. Sendblue makes
 *   the secret optional; operators should set one.
 * - `none`: a signing secret is configured and neither check passed.
 */
export type SendblueAuth = 'secret' | 'token' | 'open' | 'none';

export function authenticate(req: InboundRequest, ctx: ChannelContext): SendblueAuth {
  const secret = configOf(ctx.channel).signingSecret;
  const header = req.headers[SIGNING_HEADER];
  if (secret && header !== undefined && safeEqual(header, secret)) return 'secret';
  if (callbackMessageId(req, ctx) !== undefined) return 'token';
  return secret ? 'none' : 'open';
}

export function verifySendblue(req: InboundRequest, ctx: ChannelContext): Verification {
  if (req.method.toUpperCase() !== 'POST') return { ok: false, status: 405, reason: 'Sendblue webhooks are POST requests' };
  const auth = authenticate(req, ctx);
  if (auth === 'none') {
    const reason = req.headers[SIGNING_HEADER] === undefined ? `missing ${SIGNING_HEADER} header` : `${SIGNING_HEADER} does not match`;
    return { ok: false, status: 401, reason };
  }
  return { ok: true };
}
