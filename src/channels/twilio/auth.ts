import type { ChannelContext, InboundRequest, Verification } from '../connector.js';
import { configOf } from './settings.js';
import { decodeForm, validBodyHash, validTwilioSignature } from './signature.js';
import type { TwilioParams } from './signature.js';

export const SIGNATURE_HEADER = 'x-twilio-signature';

/**
 * The parameters Twilio signed besides the URL: the decoded form fields of a POST. A GET
 * webhook carries its parameters in the query, which the URL already covers, and a
 * JSON-body webhook (`bodySHA256` in the URL) is signed over the URL alone (reference §1.2).
 */
export function signedParams(req: InboundRequest): TwilioParams {
  if (req.method.toUpperCase() !== 'POST' || req.query.bodySHA256 !== undefined) return {};
  return decodeForm(req.rawBody.toString('utf8'));
}

/**
 * Twilio signs every webhook (messages and status callbacks alike) over the exact URL it
 * called, which for a status callback includes our `?message=&token=` query. Statuses
 * follow Twilio's own middleware: 400 without the header, 403 when it does not match.
 */
export function verifyTwilio(req: InboundRequest, ctx: ChannelContext): Verification {
  const method = req.method.toUpperCase();
  if (method !== 'POST' && method !== 'GET') return { ok: false, status: 405, reason: 'Twilio webhooks are POST (or GET) requests' };
  const { authToken } = configOf(ctx.channel);
  if (!authToken) return { ok: false, status: 403, reason: 'the channel has no authToken to check X-Twilio-Signature with' };
  const signature = req.headers[SIGNATURE_HEADER];
  if (signature === undefined || signature === '') return { ok: false, status: 400, reason: 'missing X-Twilio-Signature header' };

  if (!validTwilioSignature(authToken, signature, req.url, signedParams(req))) {
    return { ok: false, status: 403, reason: 'X-Twilio-Signature does not match' };
  }
  const bodyHash = req.query.bodySHA256;
  if (bodyHash !== undefined && !validBodyHash(req.rawBody, bodyHash)) {
    return { ok: false, status: 403, reason: 'bodySHA256 does not match the request body' };
  }
  return { ok: true };
}
