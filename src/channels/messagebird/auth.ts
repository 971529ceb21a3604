import { JwtVerificationError, verifyMessageBirdJwt } from '../../delivery/signing/messagebird-jwt.js';
import { verifyMessageBirdLegacy } from '../../delivery/signing/messagebird-legacy.js';
import type { ChannelContext, InboundRequest, Verification } from '../connector.js';
import { configOf } from './settings.js';

export const JWT_HEADER = 'messagebird-signature-jwt';
export const LEGACY_SIGNATURE_HEADER = 'messagebird-signature';
export const LEGACY_TIMESTAMP_HEADER = 'messagebird-request-timestamp';
/** Clock tolerance on the JWT's nbf/exp: the Node SDK's (reference messagebird §3.1). */
export const JWT_LEEWAY_S = 5;
/** How far a legacy `MessageBird-Request-Timestamp` may be from our clock, either way. */
export const LEGACY_WINDOW_S = 300;

/**
 * MessageBird's authenticity schemes (reference messagebird §3.1, §3.3), keyed with the
 * channel's signing key:
 * - `MessageBird-Signature-JWT` on every request: the token covers the exact URL (query
 *   included, so a status report's parameters are signed) and the raw body. Its `jti` is
 *   handed to the core as the replay key, kept until the token can no longer be valid.
 * - the legacy `MessageBird-Signature` + `MessageBird-Request-Timestamp` pair, for the SMS
 *   status-report GETs of older accounts only: it signs the sorted query and the body but
 *   not the path, so it is not accepted for conversation webhooks. Timestamps more than
 *   five minutes away from now are refused; the signature itself is the replay key.
 * A request carrying a JWT is judged on the JWT alone.
 */
export function verifyMessageBird(req: InboundRequest, ctx: ChannelContext, nowMs: number = Date.now()): Verification {
  const method = req.method.toUpperCase();
  if (method !== 'POST' && method !== 'GET') {
    return { ok: false, status: 405, reason: 'MessageBird webhooks are POST requests and status reports GET requests' };
  }
  const key = configOf(ctx.channel).signingKey;
  if (!key) return { ok: false, status: 401, reason: 'the channel has no signing key' };

  const token = req.headers[JWT_HEADER];
  if (token !== undefined) return verifyJwt(token.trim(), req, key, nowMs);

  const signature = req.headers[LEGACY_SIGNATURE_HEADER];
  const timestamp = req.headers[LEGACY_TIMESTAMP_HEADER];
  if (signature === undefined && timestamp === undefined) return { ok: false, status: 401, reason: `missing ${JWT_HEADER} header` };
  if (method !== 'GET') {
    return { ok: false, status: 401, reason: `the legacy ${LEGACY_SIGNATURE_HEADER} is only accepted on status reports; expected ${JWT_HEADER}` };
  }
  return verifyLegacy(signature, timestamp, req, key, nowMs);
}

function verifyJwt(token: string, req: InboundRequest, key: string, nowMs: number): Verification {
  try {
    const claims = verifyMessageBirdJwt(token, req.url, req.rawBody.length > 0 ? req.rawBody : null, key, {
      nowSeconds: Math.floor(nowMs / 1000),
      leewaySeconds: JWT_LEEWAY_S,
    });
    // Remembered until the token expires (plus the leeway): after that it is refused anyway.
    return { ok: true, replayKey: { key: `jwt:${claims.jti}`, expiresAt: (claims.exp + JWT_LEEWAY_S) * 1000 } };
  } catch (err) {
    const reason = err instanceof JwtVerificationError ? err.message : 'invalid jwt';
    return { ok: false, status: 401, reason: `${JWT_HEADER}: ${reason}` };
  }
}

function verifyLegacy(
  signature: string | undefined, timestamp: string | undefined, req: InboundRequest, key: string, nowMs: number,
): Verification {
  if (!signature) return { ok: false, status: 401, reason: `missing ${LEGACY_SIGNATURE_HEADER} header` };
  if (!timestamp) return { ok: false, status: 401, reason: `missing ${LEGACY_TIMESTAMP_HEADER} header` };
  if (!/^[0-9]{1,12}$/.test(timestamp)) return { ok: false, status: 401, reason: `${LEGACY_TIMESTAMP_HEADER} is not a Unix time` };
  const skew = nowMs / 1000 - Number(timestamp);
  if (skew > LEGACY_WINDOW_S) return { ok: false, status: 401, reason: `${LEGACY_TIMESTAMP_HEADER} is too old` };
  if (skew < -LEGACY_WINDOW_S) return { ok: false, status: 401, reason: `${LEGACY_TIMESTAMP_HEADER} is in the future` };

  // A `+` in statusDatetime's offset often arrives unencoded and so decoded as a space;
  // MessageBird's Node SDK puts it back before checking, and so does this.
  const candidates = [req.query];
  const when = req.query.statusDatetime;
  if (when !== undefined && when.includes(' ')) candidates.push({ ...req.query, statusDatetime: when.replaceAll(' ', '+') });
  if (!candidates.some((q) => verifyMessageBirdLegacy(signature, timestamp, q, req.rawBody, key))) {
    return { ok: false, status: 401, reason: `${LEGACY_SIGNATURE_HEADER} does not match` };
  }
  return { ok: true, replayKey: { key: `legacy:${signature}`, expiresAt: (Number(timestamp) + LEGACY_WINDOW_S + 1) * 1000 } };
}
