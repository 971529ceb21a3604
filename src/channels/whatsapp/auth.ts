import { createHmac } from 'node:crypto';
import type { ChannelContext, InboundRequest, Verification } from '../connector.js';
import { safeEqual } from '../shared/safe-equal.js';
import { configOf } from './settings.js';

export const SIGNATURE_HEADER = 'x-hub-signature-256';
const SIGNATURE_FORMAT = /^sha256=[0-9a-f]{64}$/i;

/** `sha256=<hex HMAC-SHA256(appSecret, rawBody)>`, as Meta computes it over the raw bytes (reference §3.2). */
export function hubSignature(appSecret: string, rawBody: Buffer): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}

/**
 * GET is Meta's subscription handshake: `hub.mode=subscribe` and the configured verify
 * token. POST is an event notification signed with `X-Hub-Signature-256` over the raw
 * body; never re-serialised JSON, since Meta escapes non-ASCII characters (`\u00e9`).
 */
export function verifyWhatsApp(req: InboundRequest, ctx: ChannelContext): Verification {
  const method = req.method.toUpperCase();
  const config = configOf(ctx.channel);
  if (method === 'GET') {
    if (req.query['hub.mode'] !== 'subscribe') return { ok: false, status: 403, reason: 'hub.mode must be subscribe' };
    const token = req.query['hub.verify_token'];
    if (!config.verifyToken || token === undefined || !safeEqual(token, config.verifyToken)) {
      return { ok: false, status: 403, reason: 'hub.verify_token does not match' };
    }
    return { ok: true };
  }
  if (method !== 'POST') return { ok: false, status: 405, reason: 'WhatsApp webhooks are GET (verification) or POST requests' };
  if (!config.appSecret) return { ok: false, status: 403, reason: 'the channel has no appSecret to check X-Hub-Signature-256 with' };
  const presented = req.headers[SIGNATURE_HEADER];
  if (presented === undefined || presented === '') return { ok: false, status: 401, reason: 'missing X-Hub-Signature-256 header' };
  if (!SIGNATURE_FORMAT.test(presented.trim())) return { ok: false, status: 403, reason: 'X-Hub-Signature-256 is not sha256=<64 hex digits>' };
  if (!safeEqual(presented.trim().toLowerCase(), hubSignature(config.appSecret, req.rawBody))) {
    return { ok: false, status: 403, reason: 'X-Hub-Signature-256 does not match' };
  }
  return { ok: true };
}
