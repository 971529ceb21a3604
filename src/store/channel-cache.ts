import type { ChannelId } from '../domain/ids.js';
import type { Channel } from '../domain/records.js';

/**
 * Channels as inbound webhooks look them up: every provider request names one, and they
 * change rarely. The engine forgets an entry when it writes that channel, so this node
 * sees its own changes at once; a change made by another node (or another process on the
 * same SQLite file) is seen within `ttlMs`. Only channels that exist are kept, so random
 * ids in hostile requests neither fill the cache nor hide a channel created elsewhere.
 */
export class ChannelCache {
  readonly #entries = new Map<ChannelId, { channel: Channel; until: number }>();

  constructor(readonly ttlMs = 1000, readonly maxEntries = 10_000) {}

  async get(id: ChannelId, load: (id: ChannelId) => Promise<Channel | undefined>): Promise<Channel | undefined> {
    const now = Date.now();
    const hit = this.#entries.get(id);
    if (hit && hit.until > now) return hit.channel;
    const channel = await load(id);
    if (!channel) {
      this.#entries.delete(id);
      return undefined;
    }
    if (this.#entries.size >= this.maxEntries) this.#entries.clear();
    this.#entries.set(id, { channel, until: now + this.ttlMs });
    return channel;
  }

  forget(id: ChannelId): void {
    this.#entries.delete(id);
  }
}
