import { toE164 } from '../../domain/phone.js';
import type { Connector } from '../connector.js';
import { phoneIdentifier } from '../shared/identifiers.js';
import { verifySendblue } from './auth.js';
import { parseSendblue } from './inbound.js';
import { sendViaSendblue } from './send.js';
import { configOf, parseSendblueSettings } from './settings.js';

/**
 * Sendblue (iMessage / SMS / RCS), reference §4. Inbound: the `receive` webhook and the
 * per-message `status_callback`, both JSON POSTs. Outbound: POST /api/send-message.
 * Operators should configure a webhook secret in Sendblue and give it as `signingSecret`;
 * without one, inbound requests cannot be authenticated.
 */
export const sendblueConnector: Connector = {
  platform: 'sendblue',
  parseSettings: parseSendblueSettings,
  verify: verifySendblue,
  parse: parseSendblue,
  identifierFor: (address) => phoneIdentifier(toE164(address)),
  ownAddress: (channel) => configOf(channel).fromNumber,
  send: sendViaSendblue,
};
