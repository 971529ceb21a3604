import type { Connector } from './connector.js';
import { sandboxConnector } from './sandbox/sandbox-connector.js';
import { sendblueConnector } from './sendblue/sendblue-connector.js';

/** Every connector Roost ships, by platform id (the `platformId` of a channel). */
export const connectors: ReadonlyMap<string, Connector> = new Map(
  [sendblueConnector, sandboxConnector].map((c) => [c.platform, c] as const),
);

export function connectorFor(platformId: string): Connector | undefined {
  return connectors.get(platformId);
}
