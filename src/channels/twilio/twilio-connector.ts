import type { Connector } from '../connector.js';
import { phoneIdentifier } from '../shared/identifiers.js';
import { verifyTwilio } from './auth.js';
import { parseTwilio } from './inbound.js';
import { sendViaTwilio } from './send.js';
import { configOf, parseTwilioSettings, phoneOfAddress, withoutChannelPrefix } from './settings.js';

/**
 * Twilio Programmable Messaging: SMS, MMS and WhatsApp through Twilio, reference §1.
 * Inbound: form-encoded webhooks signed with `X-Twilio-Signature` (incoming messages and
 * status callbacks, both to the channel's inbound URL), answered with empty TwiML.
 * Outbound: POST /2010-04-01/Accounts/{AccountSid}/Messages.json.
 *
 * Addresses are E.164 everywhere in Roost: `whatsapp:+31612345678` on the wire is
 * `+31612345678` in Roost, so the same person over SMS and WhatsApp is one contact.
 */
export const twilioConnector: Connector = {
  platform: 'twilio',
  parseSettings: parseTwilioSettings,
  verify: verifyTwilio,
  parse: parseTwilio,
  identifierFor: (address) => phoneIdentifier(phoneOfAddress(address)),
  ownAddress: (channel) => withoutChannelPrefix(configOf(channel).fromNumber),
  send: sendViaTwilio,
};
