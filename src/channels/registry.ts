import type { Connector } from './connector.js';
import { messagebirdConnector } from './messagebird/messagebird-connector.js';
import { sandboxConnector } from './sandbox/sandbox-connector.js';
import { telegramConnector } from './telegram/telegram-connector.js';
import { sendblueConnector } from './sendblue/sendblue-connector.js';
import { twilioConnector } from './twilio/twilio-connector.js';
import { whatsappConnector } from './whatsapp/whatsapp-connector.js';

/** Every connector Roost ships, by platform id (the `platformId` of a channel). */
export const connectors: ReadonlyMap<string, Connector> = new Map(
  [sendblueConnector, twilioConnector, whatsappConnector, telegramConnector, messagebirdConnector, sandboxConnector].map((c) => [c.platform, c] as const),
);

export function connectorFor(platformId: string): Connector | undefined {
  return connectors.get(platformId);
}
