import type { InboundItem } from '../channels/connector.js';
import { procedure } from '../store/procedure.js';
import { applyStatusCallback } from './apply-status.js';
import { ingestMessage } from './ingest-message.js';
import type { InboundChannel } from './ingest-message.js';

export interface StoreInboundArgs {
  /** Only what storing needs: the channel's settings and secrets stay on the event loop. */
  channel: InboundChannel;
  items: InboundItem[];
  /** The request's one-time signature key (MessageBird's JWT `jti`), remembered in the same write. */
  replay: { key: string; expiresAt: number } | undefined;
  now: number;
}

/**
 * Everything one provider request carries, in one transaction: `replayed` when its
 * signature was already used, else the provider ids of status callbacks for messages
 * Roost does not know (the caller logs them after the commit).
 */
export const storeInbound = procedure(import.meta.url, 'storeInbound', async (tx, a: StoreInboundArgs): Promise<'replayed' | string[]> => {
  // Remembered with what the request carries: a request that failed to store can be retried.
  if (a.replay && !(await tx.rememberReplayKey(a.channel.id, a.replay.key, a.replay.expiresAt, a.now))) return 'replayed';
  const unknown: string[] = [];
  for (const item of a.items) {
    if (item.kind === 'message') await ingestMessage(tx, a.channel, item, a.now);
    else if ((await applyStatusCallback(tx, a.channel, item, a.now)) === 'unknown_message') unknown.push(item.providerMessageId);
  }
  return unknown;
});
