import type { Connector } from '../connector.js';
import { phoneOrPlatformIdentifier } from '../shared/identifiers.js';
import { verifyMessageBird } from './auth.js';
import { parseMessageBird } from './inbound.js';
import { sendViaMessageBird } from './send.js';
import { configOf, parseMessageBirdSettings } from './settings.js';

/**
 * MessageBird itself as an upstream provider: one MessageBird Conversations channel
 * (`channelId`) behind one Roost channel. Inbound: Conversations webhooks (create a
 * channel-specific MessageBird webhook for `message.created` and `message.updated` pointing
 * at the inbound URL) and SMS status reports, all authenticated with the signing key.
 * Outbound: POST /send with the access key.
 *
 * Contacts are phone numbers (E.164) on SMS and WhatsApp, and `{key: 'messagebird', value:
 * <from>}` on platforms that address people by platform id.
 */
export const messagebirdConnector: Connector = {
  platform: 'messagebird',
  parseSettings: parseMessageBirdSettings,
  verify: (req, ctx) => verifyMessageBird(req, ctx),
  parse: parseMessageBird,
  identifierFor: (address) => phoneOrPlatformIdentifier(address, 'messagebird'),
  ownAddress: (channel) => {
    const config = configOf(channel);
    return config.fromNumber ?? config.channelId;
  },
  send: sendViaMessageBird,
};
