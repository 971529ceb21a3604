import type { Logger } from 'pino';
import { notFound, RoostError } from '../domain/errors.js';
import type { ChannelId } from '../domain/ids.js';
import type { Channel } from '../domain/records.js';
import type { Clock } from '../domain/time.js';
import type { ChannelContext, Connector, InboundItem, InboundRequest, InboundResponse } from '../channels/connector.js';
import type { Store } from '../store/store.js';
import { storeInbound } from './store-inbound.js';

export interface InboundDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  connectorFor(platformId: string): Connector | undefined;
  contextFor(channel: Channel): ChannelContext;
  /** Called after a commit that wrote events, so deliveries start without waiting for a poll. */
  onCommitted(): void;
}

/**
 * The transaction key of a request carrying one message: its contact (an identifier is
 * one contact, with one active conversation), so requests from different contacts may
 * be interleaved by the store. Anything else runs alone.
 */
function contactKey(channel: Channel, items: readonly InboundItem[]): string | undefined {
  const [item, ...rest] = items;
  if (!item || rest.length > 0 || item.kind !== 'message') return undefined;
  return `contact\u0000${channel.workspaceId}\u0000${item.contact.key}\u0000${item.contact.value}`;
}

const OK: InboundResponse = { status: 200, contentType: 'application/json; charset=utf-8', body: '{"status":"ok"}' };

/**
 * A provider's webhook, end to end: authenticate with the provider's scheme, parse, then
 * store everything it carries in one transaction. The answer is sent only after that
 * transaction is durable, so a provider never sees an acknowledgement for lost data;
 * anything that fails before the commit gets a non-2xx and the provider retries.
 */
export async function handleInbound(deps: InboundDeps, channelId: ChannelId, req: InboundRequest): Promise<InboundResponse> {
  const channel = await deps.store.getChannelForInbound(channelId);
  if (!channel) throw notFound('channel');
  const connector = deps.connectorFor(channel.platformId);
  if (!connector) throw notFound('channel');
  const ctx = deps.contextFor(channel);

  const verdict = connector.verify(req, ctx);
  if (!verdict.ok) {
    deps.log.warn({ channelId, platform: channel.platformId, reason: verdict.reason }, 'inbound webhook refused');
    // The provider's own conventions: Twilio answers 400 for a missing and 403 for a bad
    // signature, Meta 403 for a wrong verify token; 401 otherwise.
    switch (verdict.status) {
      case 405:
        throw new RoostError('method_not_allowed', verdict.reason);
      case 400:
        throw new RoostError('bad_request', `request not authenticated: ${verdict.reason}`);
      case 403:
        throw new RoostError('forbidden', `request not authenticated: ${verdict.reason}`);
      default:
        throw new RoostError('unauthorized', `request not authenticated: ${verdict.reason}`);
    }
  }

  const parsed = connector.parse(req, ctx);
  const replay = verdict.replayKey;
  if (parsed.items.length > 0 || replay) {
    // Logs wait for the commit: a body may run twice (see Store.transaction).
    const stored = await deps.store.run(storeInbound, {
      channel: { id: channel.id, workspaceId: channel.workspaceId, platformId: channel.platformId },
      items: parsed.items, replay, now: deps.clock.now(),
    }, {
      key: contactKey(channel, parsed.items),
    });
    if (stored === 'replayed') {
      deps.log.warn({ channelId, platform: channel.platformId }, 'inbound webhook refused: replayed signature');
      throw new RoostError('unauthorized', 'request not authenticated: signature already used (replay)');
    }
    for (const providerMessageId of stored) {
      deps.log.info({ channelId, providerMessageId }, 'status callback for an unknown message ignored');
    }
    deps.onCommitted();
  }
  return parsed.response ?? OK;
}
