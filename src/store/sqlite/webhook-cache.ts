import type { ChannelId, WebhookId, WorkspaceId } from '../../domain/ids.js';
import type { Webhook } from '../../domain/records.js';

/**
 * The webhooks the writer connection reads inside its group commits: every inbound
 * message asks which webhooks of its workspace are enabled for its channel, and every
 * delivery's record reads its webhook's health, two statements a message for rows that
 * change rarely. Kept true by three rules:
 * - every webhook write of this connection clears it (`clear`), before the write;
 * - a rollback (of a group or of one callback's savepoint) clears it, since what was
 *   read after a write that is now undone may have been cached;
 * - each group starts with `sync(PRAGMA data_version)`, which changes when another
 *   connection (another process on the same file) has committed: then it starts empty.
 * Entries are frozen: they are shared by every reader until the next clear.
 */
export class WebhookCache {
  readonly #byId = new Map<string, Webhook | undefined>();
  readonly #enabled = new Map<string, readonly Webhook[]>();
  #dataVersion: number | undefined;

  constructor(readonly maxEntries = 10_000) {}

  /** At the start of a group, with the connection's `PRAGMA data_version`. */
  sync(dataVersion: number): void {
    if (dataVersion !== this.#dataVersion) this.clear();
    this.#dataVersion = dataVersion;
  }

  clear(): void {
    this.#byId.clear();
    this.#enabled.clear();
  }

  webhook(ws: WorkspaceId, id: WebhookId, load: () => Webhook | undefined): Webhook | undefined {
    const key = `${ws}\u0000${id}`;
    if (this.#byId.has(key)) return this.#byId.get(key);
    const found = load();
    const value = found && frozen(found);
    this.#room();
    this.#byId.set(key, value);
    return value;
  }

  /** The workspace's enabled webhooks for a channel (its own and the generic ones). */
  enabled(ws: WorkspaceId, channelId: ChannelId | null, load: () => Webhook[]): readonly Webhook[] {
    const key = `${ws}\u0000${channelId ?? ''}`;
    const hit = this.#enabled.get(key);
    if (hit) return hit;
    const hooks = Object.freeze(load().map(frozen));
    this.#room();
    this.#enabled.set(key, hooks);
    return hooks;
  }

  #room(): void {
    if (this.#byId.size + this.#enabled.size >= this.maxEntries) this.clear();
  }
}

function frozen(w: Webhook): Webhook {
  Object.freeze(w.events);
  return Object.freeze(w);
}
