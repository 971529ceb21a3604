import type { Connector } from '../connector.js';
import { phoneOrPlatformIdentifier } from '../shared/identifiers.js';
import { safeEqual } from '../shared/safe-equal.js';
import { SIMULATED_FAILURE, parseSandbox } from './inbound.js';
import { parseSandboxSettings, sandboxNumberOf } from './settings.js';

export const SANDBOX_SECRET_HEADER = 'x-roost-sandbox-secret';

/**
 * The sandbox: a channel without a provider, for trying Roost and for tests.
 *
 * Settings: `fromNumber` (optional, default +10000000000) and `secret` (optional, write-only).
 * When a secret is set, inbound POSTs must carry it in the `x-roost-sandbox-secret` header.
 *
 * Inbound message, POSTed as JSON to the channel's inbound URL:
 *   {"from": "+31612345678", "text": "Hi"}
 *   {"from": "+31612345678", "type": "image", "content": {"image": {"url": "https://…"}}, "name": "Ann", "id": "m-1"}
 * `from` is a phone number (normalised to E.164) or any other string (a sandbox-only
 * contact). `id` is optional; without it every POST is a new message.
 *
 * Status update of a message sent on the channel:
 *   {"messageId": "<roost message id>", "status": "delivered"}
 *   {"id": "sandbox-<roost message id>", "status": "failed", "error": {"code": 7, "description": "…"}}
 *
 * Sending never touches the network: the message is accepted and then moves through
 * `sent` and `delivered` by itself. A text message of exactly `FAIL` fails instead.
 */
export const sandboxConnector: Connector = {
  platform: 'sandbox',
  parseSettings: parseSandboxSettings,
  verify(req, ctx) {
    if (req.method.toUpperCase() !== 'POST') return { ok: false, status: 405, reason: 'sandbox inbound requests are POST requests' };
    const secret = ctx.channel.secrets.secret;
    if (!secret) return { ok: true };
    const presented = req.headers[SANDBOX_SECRET_HEADER];
    if (presented === undefined) return { ok: false, status: 401, reason: `missing ${SANDBOX_SECRET_HEADER} header` };
    if (!safeEqual(presented, secret)) {
      return { ok: false, status: 401, reason: `${SANDBOX_SECRET_HEADER} does not match` };
    }
    return { ok: true };
  },
  parse: parseSandbox,
  // Mirrors parse(): non-phone sandbox users are reachable by the same string.
  identifierFor: (address) => phoneOrPlatformIdentifier(address, 'sandbox'),
  ownAddress: sandboxNumberOf,
  async send({ message }) {
    if ('text' in message.content && message.content.text === 'FAIL') return { kind: 'failed', error: SIMULATED_FAILURE };
    return { kind: 'accepted', providerMessageId: `sandbox-${message.id}`, status: 'accepted' };
  },
  simulatedProgress: ['sent', 'delivered'],
};
