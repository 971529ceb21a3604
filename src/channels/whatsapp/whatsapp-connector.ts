import { toE164 } from '../../domain/phone.js';
import type { Connector } from '../connector.js';
import { phoneIdentifier } from '../shared/identifiers.js';
import { verifyWhatsApp } from './auth.js';
import { parseWhatsApp } from './inbound.js';
import { sendViaWhatsApp } from './send.js';
import { configOf, parseWhatsAppSettings } from './settings.js';

/**
 * WhatsApp Business Cloud API (Meta Graph), reference §3. Inbound: the GET subscription
 * handshake (`hub.verify_token`) and JSON event notifications signed with
 * `X-Hub-Signature-256` (messages and statuses, batched). Outbound:
 * POST {baseUrl}/{phoneNumberId}/messages with a Bearer token.
 *
 * Contacts are keyed by phone number (`wa_id` as E.164), so a person is the same contact
 * over WhatsApp, SMS and iMessage.
 */
export const whatsappConnector: Connector = {
  platform: 'whatsapp',
  parseSettings: parseWhatsAppSettings,
  verify: verifyWhatsApp,
  parse: parseWhatsApp,
  identifierFor: (address) => phoneIdentifier(toE164(address.trim().replace(/^whatsapp:/i, ''))),
  ownAddress(channel) {
    const config = configOf(channel);
    return config.fromNumber ?? config.phoneNumberId;
  },
  send: sendViaWhatsApp,
};
