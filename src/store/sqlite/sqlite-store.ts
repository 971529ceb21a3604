import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import type { ChannelId, ContactId, ConversationId, DeliveryId, EventId, MessageId, WebhookId, WorkspaceId } from '../../domain/ids.js';
import type {
  Channel, Contact, ContactIdentifier, Conversation, DeliveryAttempt, DeliveryState, Message, MessageError, OutboxEvent, Webhook,
  WebhookEventType,
} from '../../domain/records.js';
import { CONVERSATION_STATUSES, DELIVERY_STATES } from '../../domain/records.js';
import type { MessageStatus } from '../../domain/status.js';
import type { Procedure } from '../procedure.js';
import type { ClaimedDelivery, ConversationFilter, MessageCursor, MessageFilter, NewDelivery, Page, Reads, SendJob, Store, TransactionOptions, Tx } from '../store.js';
import { assertAppendable } from '../appendable.js';
import { ChannelCache } from '../channel-cache.js';
import { WebhookCache } from './webhook-cache.js';
import { settle } from '../group-commit.js';
import type { Outcome, Pending } from '../group-commit.js';
import { Checkpointer } from './checkpointer.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import { WalSync } from './wal-sync.js';
import type { SyncFn, SyncNowFn } from './wal-sync.js';
import {
  conversationParams, dueUnlessParked, messageParams, PARKED_AT, toAttempt, toChannel, toContact, toConversation, toDelivery, toEvent, toMessage,
  toWebhook, toWorkspace, webhookParams,
} from '../rows.js';

/** A due delivery's row with what its attempt needs (events and workspaces left-joined). */
type ClaimRow = {
  id: DeliveryId; attempts: number; claim_payload: string | null; claim_url: string; claim_signing_key: string | null;
} & Record<string, unknown>;

/** A work-finding body waiting for a group that gives it something (see `hold`). */
interface Held {
  fn: (tx: Tx, now: number) => Promise<unknown[]>;
  timer: NodeJS.Timeout;
  resolve: (v: unknown[]) => void;
  reject: (e: unknown) => void;
}

/** `result`, with `end` called at once if `signal` aborts before it settles (see `runWhenFound`). */
export function endedOnAbort<T>(signal: AbortSignal, end: () => void, result: Promise<T>): Promise<T> {
  if (signal.aborted) end();
  else signal.addEventListener('abort', end, { once: true });
  return result.finally(() => signal.removeEventListener('abort', end));
}

/** Most callbacks one group commit takes; bounds the latency a large batch adds. */
const MAX_BATCH = 512;

/**
 * The embedded engine: one SQLite file in WAL mode; a commit is on disk before the
 * promise of `transaction()` resolves (WalSync flushes the WAL: off the event loop, or
 * on the writer thread itself, see `flush`).
 *
 * Group commit: transactions requested in the same turn of the event loop are run one
 * after another inside one `BEGIN IMMEDIATE ... COMMIT`. One fsync then makes the whole
 * group durable, which is how a durable acknowledgement per webhook stays cheap under
 * load; on the event loop the next group runs while the previous one is being flushed.
 *
 * A group first runs without savepoints: a SAVEPOINT makes SQLite copy every page a
 * callback touches into a sub-journal (~20 pages per inbound message), which cost more
 * than the inserts themselves. If a callback fails, the group is rolled back and run
 * again with each callback in its own SAVEPOINT, so the failure stays that callback's
 * (the same scheme as the PostgreSQL engine).
 */
export class SqliteStore implements Store {
  readonly engine = 'sqlite' as const;
  readonly #db: Database.Database;
  readonly #queue: Pending[] = [];
  #scheduled = false;
  #flushing = false;
  #closed = false;
  readonly #s: ReturnType<typeof prepare>;
  readonly #stmtCache = new Map<string, Statement>();
  #replayWrites = 0;
  readonly #checkpointer: Checkpointer | undefined;
  readonly #walSync: WalSync | undefined;
  readonly #flushInline: boolean;
  readonly #channels = new ChannelCache();
  readonly #webhooks = new WebhookCache();

  readonly #reader: boolean;

  /**
   * `syncWal` / `syncWalNow` replace fdatasync (tests hold or fail them to watch
   * durability). `reader`: a second connection that only reads (the writer thread's
   * main-thread side, see threaded-store.ts): no migrations, no checkpoints, and no
   * transactions. `flush: 'inline'`: each group's WAL flush runs on the calling thread,
   * right after its COMMIT and before its transactions settle, for the writer thread: it
   * then answers the event loop itself, one hop instead of two through a flushing
   * thread, and the groups that arrive meanwhile wait, as they would for the next flush.
   */
  constructor(path: string, options: { syncWal?: SyncFn; syncWalNow?: SyncNowFn; reader?: boolean; flush?: 'background' | 'inline' } = {}) {
    this.#reader = options.reader === true;
    this.#flushInline = options.flush === 'inline';
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    // NORMAL: a COMMIT writes the WAL without flushing it; WalSync flushes it off the
    // event loop before any transaction's promise resolves (as durable as FULL).
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('foreign_keys = ON');
    this.#db.pragma('busy_timeout = 5000');
    // The checkpointer thread keeps the WAL short; this threshold is only its safety net.
    this.#db.pragma('wal_autocheckpoint = 20000');
    // Sub-journals (savepoints) and temporary sort space in memory: on disk, a savepoint
    // past 64 KiB spilled to a temporary file, two write(2) calls per page it touched.
    this.#db.pragma('temp_store = MEMORY');
    if (!this.#reader) migrate(this.#db);
    if (path !== ':memory:' && !this.#reader) {
      this.#checkpointer = new Checkpointer(path, () => this.#finishPass());
      this.#walSync = new WalSync(path, options.syncWal, options.syncWalNow);
    }
    this.#s = prepare(this.#db);
    // Transaction control, prepared once (a group in savepoint mode runs two per callback).
    const p = (sql: string) => this.#db.prepare(sql);
    this.#control = {
      begin: p('BEGIN IMMEDIATE'), commit: p('COMMIT'), rollback: p('ROLLBACK'), savepoint: p('SAVEPOINT op'),
      release: p('RELEASE op'), rollbackTo: p('ROLLBACK TO op'),
    };
  }

  readonly #control: Record<'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollbackTo', Statement>;

  /** Options are ignored: better-sqlite3 runs one statement at a time, so interleaving gains nothing. */
  run<A, R>(procedure: Procedure<A, R>, args: A, options?: TransactionOptions): Promise<R> {
    return this.transaction((tx) => procedure.body(tx, args), options);
  }

  runWhenFound<A extends { now: number }, R>(procedure: Procedure<A, R[]>, args: A, holdMs: number, signal: AbortSignal): Promise<R[]> {
    const held = this.hold((tx, now) => procedure.body(tx, { ...args, now }), holdMs);
    return endedOnAbort(signal, held.release, held.result);
  }

  /**
   * Runs `fn` at the end of every group commit, inside it and after its callbacks, until
   * it returns a non-empty list; that group's commit then settles it with the list. It
   * runs in a SAVEPOINT of its own, so a failure (which settles it with the error) leaves
   * the group's callbacks alone. After `ms`, or at `release()`, it settles with nothing,
   * without running: the caller looks for work its usual way (an idle server then reads
   * once per interval instead of writing a transaction). `fn` gets the time it runs at
   * (`Date.now()`, the clock rows are stamped with: a row the group created at its time
   * is never in `fn`'s future, as it could be for a `now` fixed earlier plus a timer).
   */
  hold<R>(fn: (tx: Tx, now: number) => Promise<R[]>, ms: number): { result: Promise<R[]>; release: () => void } {
    let held!: Held;
    const result = new Promise<R[]>((resolve, reject) => {
      held = { fn, timer: undefined as unknown as NodeJS.Timeout, resolve: resolve as (v: unknown[]) => void, reject };
    });
    const release = () => this.#endHeld(held);
    held.timer = setTimeout(release, ms);
    held.timer.unref();
    this.#held.add(held);
    return { result, release };
  }

  readonly #held = new Set<Held>();

  /** A held body that no group gave anything: it ends with nothing. */
  #endHeld(h: Held): void {
    if (!this.#held.delete(h)) return;
    clearTimeout(h.timer);
    h.resolve([]);
  }

  /** The held bodies at the end of a group; those that found something (or failed) leave. */
  async #probeHeld(): Promise<Array<{ held: Held; outcome: Outcome }>> {
    const c = this.#control;
    const found: Array<{ held: Held; outcome: Outcome }> = [];
    for (const h of [...this.#held]) {
      c.savepoint.run();
      try {
        const value = await h.fn(this.#tx, Date.now());
        c.release.run();
        if (value.length > 0) found.push({ held: h, outcome: { ok: true, value } });
      } catch (error) {
        this.#rollbackTo();
        c.release.run();
        found.push({ held: h, outcome: { ok: false, error } });
      }
    }
    for (const { held } of found) {
      this.#held.delete(held);
      clearTimeout(held.timer);
    }
    return found;
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>, _options?: TransactionOptions): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('store is closed'));
    if (this.#reader) return Promise.reject(new Error('this SQLite connection only reads'));
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    const batch = this.#queue.splice(0, MAX_BATCH);
    let outcomes: Outcome[];
    let found: Array<{ held: Held; outcome: Outcome }> = [];
    const c = this.#control;
    try {
      c.begin.run();
      this.#webhooks.sync(this.#s.dataVersion.get() as number);
      let run = await this.#runOptimistic(batch);
      if (run === 'rerun') {
        // A failed callback may have left half its writes: start the group over.
        this.#rollback();
        c.begin.run();
        run = await this.#runWithSavepoints(batch);
      }
      outcomes = run;
      // A lone callback that failed has nothing to commit.
      if (outcomes.length === 1 && !outcomes[0]!.ok) this.#rollback();
      else {
        if (this.#held.size > 0) found = await this.#probeHeld();
        c.commit.run();
      }
    } catch (error) {
      // The commit itself failed (disk full, I/O error): nothing in the batch is durable.
      this.#webhooks.clear();
      try {
        if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
      } catch {
        // SQLite already rolled back; every callback of the batch is rejected below.
      }
      for (const item of batch) item.reject(error);
      for (const { held } of found) held.reject(error);
      this.#afterFlush();
      return;
    }
    const done = () => {
      settle(batch, outcomes);
      for (const { held, outcome } of found) {
        if (outcome.ok) held.resolve(outcome.value as unknown[]);
        else held.reject(outcome.error);
      }
    };
    // Not known to be on disk: every transaction of the group fails (none is retried here).
    const lost = (err: unknown) => {
      for (const item of batch) item.reject(err);
      for (const { held } of found) held.reject(err);
    };
    if (this.#walSync && this.#flushInline) {
      try {
        this.#walSync.flushNow();
        done();
      } catch (err) {
        lost(err);
      }
      this.#afterFlush();
      return;
    }
    // The next group commit may run while this one is flushed to disk.
    this.#afterFlush();
    if (!this.#walSync) return done();
    this.#walSync.durable().then(done, lost);
  }

  /** Rolls the group back; what its callbacks cached of the webhooks goes too. */
  #rollback(): void {
    this.#webhooks.clear();
    this.#control.rollback.run();
  }

  /** Rolls one callback's savepoint back, as `#rollback` does the group. */
  #rollbackTo(): void {
    this.#webhooks.clear();
    this.#control.rollbackTo.run();
  }

  /** Callbacks one after another in the open transaction; `rerun` at the first failure. */
  async #runOptimistic(batch: Pending[]): Promise<Outcome[] | 'rerun'> {
    const outcomes: Outcome[] = [];
    for (const item of batch) {
      try {
        outcomes.push({ ok: true, value: await item.fn(this.#tx) });
      } catch (error) {
        // Alone in its group, a failed callback's outcome is final: the group rolls back.
        if (batch.length === 1) return [{ ok: false, error }];
        return 'rerun';
      }
    }
    return outcomes;
  }

  /** Each callback in its own SAVEPOINT: a failure rolls back that callback only. */
  async #runWithSavepoints(batch: Pending[]): Promise<Outcome[]> {
    const c = this.#control;
    const outcomes: Outcome[] = [];
    for (const item of batch) {
      c.savepoint.run();
      try {
        const value = await item.fn(this.#tx);
        c.release.run();
        outcomes.push({ ok: true, value });
      } catch (error) {
        this.#rollbackTo();
        c.release.run();
        outcomes.push({ ok: false, error });
      }
    }
    return outcomes;
  }

  /**
   * Copies into the database file what the checkpointer's last pass left, so that the next
   * transaction restarts the WAL (see checkpointer.ts). Between groups only: never inside
   * one. PASSIVE takes no lock a reader or the checkpointer is waited for; busy, it is
   * simply skipped until the next pass.
   */
  #finishPass(): void {
    if (this.#closed) return;
    if (this.#flushing) {
      this.#passToFinish = true;
      return;
    }
    this.#passToFinish = false;
    try {
      this.#db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Busy or I/O trouble: the checkpointer's next pass and the safety net remain.
    }
  }

  #passToFinish = false;

  #afterFlush(): void {
    this.#flushing = false;
    if (this.#passToFinish) this.#finishPass();
    if (this.#queue.length === 0) return;
    // Inline, the next group blocks this thread in its own flush: it is scheduled from the
    // next turn, in which the caller hands this group's results on (the writer thread
    // sends them at the end of its turn), so that they do not wait for it.
    if (this.#flushInline) setImmediate(() => this.#schedule());
    else this.#schedule();
  }

  /** Drops cached channels another connection of this process wrote (the writer thread's). */
  forgetChannels(ids: readonly ChannelId[]): void {
    for (const id of ids) this.#channels.forget(id);
  }

  async close(): Promise<void> {
    for (const h of [...this.#held]) this.#endHeld(h);
    this.#closed = true;
    while (this.#flushing || this.#scheduled || this.#queue.length > 0) {
      await new Promise((r) => setTimeout(r, 5));
    }
    await this.#walSync?.close();
    await this.#checkpointer?.stop();
    this.#db.close();
  }

  /**
   * Inserts a message at the position after its conversation's last (the caller then
   * counts it); false, writing nothing, for a provider id the channel already has.
   */
  #insertMessageRow(m: Message): boolean {
    // Positional: binding by name looks every parameter up on the object (better-sqlite3),
    // and this is the widest statement of every inbound message.
    const p = messageParams(m);
    return this.#s.insertMessage.run(p.id, p.workspace_id, p.conversation_id, p.channel_id, p.platform, p.direction,
      p.status, p.type, p.content, p.from_addr, p.to_addr, p.provider_message_id, p.mode, p.error, p.source, p.tag, p.report_url,
      p.created_at, p.updated_at, p.conversation_id).changes === 1;
  }

  #cached(sql: string): Statement {
    let st = this.#stmtCache.get(sql);
    if (!st) {
      st = this.#db.prepare(sql);
      this.#stmtCache.set(sql, st);
    }
    return st;
  }

  // ---- reads -------------------------------------------------------------------------

  findAccessKey = async (keyHash: Buffer) => {
    const r = this.#s.findAccessKey.get(keyHash) as Record<string, unknown> | undefined;
    if (!r) return undefined;
    return {
      keyHash: r.key_hash as Buffer,
      workspace: toWorkspace({ id: r.workspace_id, name: r.name, signing_key: r.signing_key, created_at: r.ws_created_at }),
      keyId: r.id as never,
      mode: r.mode as 'live' | 'test',
    };
  };

  getWorkspace = async (id: WorkspaceId) => {
    const r = this.#s.getWorkspace.get(id);
    return r ? toWorkspace(r) : undefined;
  };

  countWorkspaces = async () => (this.#s.countWorkspaces.get() as { n: number }).n;

  getDefaultWorkspace = async () => {
    const r = this.#s.getDefaultWorkspace.get();
    return r ? toWorkspace(r) : undefined;
  };

  getChannel = async (ws: WorkspaceId, id: ChannelId) => {
    const r = this.#s.getChannel.get(id, ws);
    return r ? toChannel(r) : undefined;
  };

  getChannelForInbound = (id: ChannelId) => this.#channels.get(id, async () => {
    const r = this.#s.getChannelForInbound.get(id);
    return r ? toChannel(r) : undefined;
  });

  getChannels = async (ws: WorkspaceId, ids: ChannelId[]) => {
    if (ids.length === 0) return [];
    const rows = this.#cached(`SELECT * FROM channels WHERE workspace_id = ? AND id IN (${ids.map(() => '?').join(',')})`)
      .all(ws, ...ids);
    const byId = new Map(rows.map((r) => [(r as { id: string }).id, toChannel(r as never)]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  };

  listChannels = async (ws: WorkspaceId, offset: number, limit: number) => ({
    items: this.#s.listChannels.all(ws, limit, offset).map(toChannel),
    total: (this.#s.countChannels.get(ws) as { n: number }).n,
  });

  getContact = async (ws: WorkspaceId, id: ContactId) => {
    const r = this.#s.getContact.get(id, ws);
    return r ? toContact(r) : undefined;
  };

  getContacts = async (ws: WorkspaceId, ids: ContactId[]) => {
    if (ids.length === 0) return [];
    const unique = [...new Set(ids)];
    return this.#cached(`SELECT * FROM contacts WHERE workspace_id = ? AND id IN (${unique.map(() => '?').join(',')})`)
      .all(ws, ...unique)
      .map(toContact);
  };

  findContactByIdentifier = async (ws: WorkspaceId, identifier: ContactIdentifier) => {
    const r = this.#s.findContactByIdentifier.get(ws, identifier.key, identifier.value);
    return r ? toContact(r) : undefined;
  };

  getContactIdentifiers = async (ws: WorkspaceId, id: ContactId) =>
    this.#s.getContactIdentifiers.all(ws, id) as ContactIdentifier[];

  inboundContext = async (ws: WorkspaceId, channelId: ChannelId, providerMessageId: string, identifier: ContactIdentifier) => {
    // One statement for the three questions (each statement costs ~10 us of calls alone).
    const { statement, names, contactAt, conversationAt } = this.#s.inboundContext;
    const values = statement.get(channelId, providerMessageId, ws, identifier.key, identifier.value, ws) as unknown[];
    if (values[0] !== null) {
      const duplicate = await this.findMessageByProviderId(channelId, providerMessageId);
      if (duplicate) return { duplicate };
    }
    if (values[contactAt] === null) return {};
    const contact = toContact(rowOf(names, values, contactAt, conversationAt));
    if (values[conversationAt] === null) return { contact };
    return { contact, conversation: toConversation(rowOf(names, values, conversationAt, values.length)) };
  };

  getConversation = async (ws: WorkspaceId, id: ConversationId) => {
    const r = this.#s.getConversation.get(id, ws);
    return r ? toConversation(r) : undefined;
  };

  findActiveConversation = async (ws: WorkspaceId, contactId: ContactId) => {
    const r = this.#s.findActiveConversation.get(contactId, ws);
    return r ? toConversation(r) : undefined;
  };

  listConversations = async (ws: WorkspaceId, f: ConversationFilter) => {
    // By ids, the primary key finds the rows and the rest only filters: a unary `+` keeps
    // SQLite from walking the workspace's list index instead (every conversation of it).
    const plain = f.ids ? '+' : '';
    const where = [`${plain}workspace_id = ?`];
    const args: unknown[] = [ws];
    if (f.status) {
      where.push(`${plain}status = ?`);
      args.push(f.status);
    }
    if (f.ids) {
      if (f.ids.length === 0) return { items: [], total: 0 };
      where.push(`id IN (${f.ids.map(() => '?').join(',')})`);
      args.push(...f.ids);
    }
    const w = where.join(' AND ');
    // Unfiltered, the statuses' ranges of the list index, merged (see mergedRanges).
    const rows = f.ids || f.status
      ? this.#cached(`SELECT * FROM conversations WHERE ${w} ORDER BY sort_at DESC, id DESC LIMIT (?+0) OFFSET ?`).all(...args, f.limit, f.offset)
      : this.#s.listAllConversations.all({ ws, limit: f.limit, offset: f.offset });
    const items = rows.map(toConversation);
    // Without ids, the total is the engine-kept counter (migration 7), not a count of rows.
    const total = f.ids
      ? (this.#cached(`SELECT count(*) AS n FROM conversations WHERE ${w}`).get(...args) as { n: number }).n
      : f.status
        ? ((this.#s.countConversationsByStatus.get(ws, f.status) as { n: number } | undefined)?.n ?? 0)
        : (this.#s.countConversations.get(ws) as { n: number }).n;
    return { items, total };
  };

  getMessage = async (ws: WorkspaceId, id: MessageId) => {
    const r = this.#s.getMessage.get(id, ws);
    return r ? toMessage(r) : undefined;
  };

  findMessageByProviderId = async (channelId: ChannelId, providerMessageId: string) => {
    const r = this.#s.findMessageByProviderId.get(channelId, providerMessageId);
    return r ? toMessage(r) : undefined;
  };

  pageMessages = async (ws: WorkspaceId, c: MessageCursor) => {
    const rows = c.order === 'desc'
      ? this.#s.pageMessagesDesc.all(c.conversationId, ws, c.after ?? 2_147_483_647, c.limit)
      : this.#s.pageMessagesAsc.all(c.conversationId, ws, c.after ?? 0, c.limit);
    return (rows as Array<Record<string, unknown>>).map((r) => ({ seq: r.seq as number, message: toMessage(r) }));
  };

  listMessages = async (ws: WorkspaceId, f: MessageFilter): Promise<Page<Message>> => {
    const exclude = f.excludePlatforms ?? [];
    if (exclude.length === 0) {
      const items = this.#s.listMessages.all(f.conversationId, ws, f.offset, f.limit).map(toMessage);
      const total = (this.#s.countMessages.get(f.conversationId, ws) as { n: number } | undefined)?.n ?? 0;
      return { items, total };
    }
    const notIn = `platform NOT IN (${exclude.map(() => '?').join(',')})`;
    const items = this.#cached(
      `SELECT * FROM messages WHERE conversation_id = ? AND workspace_id = ? AND ${notIn} ORDER BY seq DESC LIMIT (?+0) OFFSET ?`,
    ).all(f.conversationId, ws, ...exclude, f.limit, f.offset).map(toMessage);
    const total = (this.#cached(
      `SELECT count(*) AS n FROM messages WHERE conversation_id = ? AND workspace_id = ? AND ${notIn}`,
    ).get(f.conversationId, ws, ...exclude) as { n: number }).n;
    return { items, total };
  };

  getWebhook = async (ws: WorkspaceId, id: WebhookId) => {
    const r = this.#s.getWebhook.get(id, ws);
    return r ? toWebhook(r) : undefined;
  };

  listWebhooks = async (ws: WorkspaceId, offset: number, limit: number) => ({
    items: this.#s.listWebhooks.all(ws, limit, offset).map(toWebhook),
    total: (this.#s.countAllWebhooks.get(ws) as { n: number }).n,
  });

  countWebhooks = async (ws: WorkspaceId) => {
    const r = this.#s.countWebhooks.get(ws) as { specific: number | null; generic: number | null };
    return { channelSpecific: r.specific ?? 0, generic: r.generic ?? 0 };
  };

  matchingWebhooks = async (ws: WorkspaceId, channelId: ChannelId | null, type: WebhookEventType) =>
    this.#s.matchingWebhooks.all(ws, channelId).map(toWebhook).filter((w) => w.events.includes(type));

  listDeliveries = async (ws: WorkspaceId, webhookId: WebhookId, state: DeliveryState | undefined, offset: number, limit: number) => {
    if (state) {
      return {
        items: this.#s.listDeliveriesByState.all(webhookId, ws, state, limit, offset).map(toDelivery),
        total: (this.#s.countDeliveriesByState.get(webhookId, ws, state) as { n: number }).n,
      };
    }
    return {
      items: this.#s.listAllDeliveries.all({ webhook: webhookId, ws, limit, offset }).map(toDelivery),
      total: (this.#s.countDeliveries.get(webhookId, ws) as { n: number }).n,
    };
  };

  getDelivery = async (ws: WorkspaceId, webhookId: WebhookId, id: DeliveryId) => {
    const r = this.#s.getDelivery.get(id, webhookId, ws);
    return r ? toDelivery(r) : undefined;
  };

  listAttempts = async (deliveryId: DeliveryId) => this.#s.listAttempts.all(deliveryId).map(toAttempt);

  getEvent = async (ws: WorkspaceId, id: EventId) => {
    const r = this.#s.getEvent.get(id, ws);
    return r ? toEvent(r) : undefined;
  };

  nextDeliveryDue = async () => (this.#s.nextDeliveryDue.get() as { t: number | null }).t;

  nextSendJobDue = async () => (this.#s.nextSendJobDue.get() as { t: number | null }).t;

  // The outbox in id order, for tools and tests; nothing on a request's path reads it, so
  // it has no index of its own (migration 9) and walks the events' primary key.
  countEvents = async (ws: WorkspaceId) => (this.#s.countEvents.get(ws) as { n: number }).n;

  listEvents = async (ws: WorkspaceId, afterId: string | null, limit: number) =>
    this.#s.listEvents.all(ws, afterId ?? '', limit).map(toEvent);

  // ---- writes (only reachable through the Tx given to transaction callbacks) --------

  readonly #writes = {
    insertWorkspace: async (w: { id: WorkspaceId; name: string; signingKey: string; createdAt: number }) => {
      this.#s.insertWorkspace.run({ id: w.id, name: w.name, signing_key: w.signingKey, created_at: w.createdAt });
    },
    setSigningKey: async (ws: WorkspaceId, key: string) => {
      this.#s.setSigningKey.run(key, ws);
    },
    insertAccessKey: async (k: { id: string; workspaceId: WorkspaceId; keyHash: Buffer; mode: string; createdAt: number }) => {
      this.#s.insertAccessKey.run({ id: k.id, workspace_id: k.workspaceId, key_hash: k.keyHash, mode: k.mode, created_at: k.createdAt });
    },
    deleteAccessKeys: async (ws: WorkspaceId) => {
      this.#s.deleteAccessKeys.run(ws);
    },
    insertChannel: async (c: Channel) => {
      this.#channels.forget(c.id);
      this.#s.insertChannel.run(channelRow(c));
    },
    updateChannel: async (c: Channel) => {
      this.#channels.forget(c.id);
      this.#s.updateChannel.run(channelRow(c));
    },
    insertContact: async (c: Contact, identifiers: ContactIdentifier[]) => {
      this.#s.insertContact.run(c.id, c.workspaceId, c.msisdn, c.displayName, c.firstName, c.lastName,
        JSON.stringify(c.customDetails), c.createdAt, c.updatedAt);
      for (const i of identifiers) this.#s.insertIdentifier.run(c.workspaceId, i.key, i.value, c.id);
    },
    addContactIdentifier: async (ws: WorkspaceId, contactId: ContactId, i: ContactIdentifier) => {
      this.#s.insertIdentifier.run(ws, i.key, i.value, contactId);
    },
    insertConversation: async (c: Conversation) => {
      this.#s.insertConversation.run(conversationValues(c));
    },
    updateConversation: async (c: Conversation) => {
      // Nearly every update keeps the status: leaving it out of SET keeps the counters'
      // trigger (AFTER UPDATE OF status) from running, ~35 us per update even when its WHEN
      // is false. Only when no row kept that status does the full update run.
      const values = conversationSet(c);
      if (this.#s.updateConversationSameStatus.run(values).changes === 0) this.#s.updateConversation.run(values);
    },
    insertMessage: async (m: Message) => {
      if (!this.#insertMessageRow(m)) return false;
      this.#s.countMessage.run(m.conversationId);
      return true;
    },
    appendMessage: async (m: Message, c: Conversation, events: OutboxEvent[]) => {
      assertAppendable(m, c, events);
      if (!this.#insertMessageRow(m)) return null;
      // The conversation's update counts the message too: one UPDATE of its row, not two.
      const values = conversationSet(c);
      if (this.#s.appendSameStatus.run(values).changes === 0) this.#s.appendChangingStatus.run(values);
      for (const e of events) this.#s.insertEvent.run(e.id, e.workspaceId, e.type, e.channelId, e.conversationId, e.payload, e.createdAt);
      return events.map((e) => this.#enabledWebhooks(e.workspaceId, e.channelId).filter((w) => w.events.includes(e.type)));
    },
    updateMessageStatus: async (id: MessageId, status: MessageStatus, error: MessageError | null, providerMessageId: string | null, at: number) => {
      this.#s.updateMessageStatus.run(status, error ? JSON.stringify(error) : null, providerMessageId, at, id);
    },
    insertSendJob: async (messageId: MessageId, ws: WorkspaceId, runAt: number) => {
      this.#s.insertSendJob.run(messageId, ws, runAt);
    },
    claimSendJobs: async (now: number, leaseMs: number, limit: number) =>
      (this.#s.claimSendJobs.all(now + leaseMs, now + leaseMs, now, now, limit) as Array<Record<string, unknown>>).map((r): SendJob => ({
        messageId: r.message_id as MessageId,
        workspaceId: r.workspace_id as WorkspaceId,
        attempts: r.attempts as number,
        lockedUntil: r.locked_until as number,
      })),
    deleteSendJob: async (messageId: MessageId) => {
      this.#s.deleteSendJob.run(messageId);
    },
    rescheduleSendJob: async (messageId: MessageId, runAt: number, lastError: string) => {
      this.#s.rescheduleSendJob.run(runAt, lastError, messageId);
    },
    insertWebhook: async (w: Webhook) => {
      this.#webhooks.clear();
      this.#s.insertWebhook.run(webhookParams(w));
    },
    updateWebhook: async (w: Webhook) => {
      this.#webhooks.clear();
      this.#s.updateWebhook.run(webhookParams(w));
      this.#park(w.id, w.updatedAt ?? w.createdAt);
    },
    deleteWebhook: async (ws: WorkspaceId, id: WebhookId) => {
      this.#webhooks.clear();
      if (this.#s.deleteWebhook.run(id, ws).changes !== 1) return false;
      // Its pending deliveries are dropped, and its log goes with it.
      this.#s.deleteWebhookAttempts.run(id);
      this.#s.deleteWebhookDeliveries.run(id);
      return true;
    },
    insertEvent: async (e: OutboxEvent) => {
      this.#s.insertEvent.run(e.id, e.workspaceId, e.type, e.channelId, e.conversationId, e.payload, e.createdAt);
      return this.#enabledWebhooks(e.workspaceId, e.channelId).filter((w) => w.events.includes(e.type));
    },
    // Inside a group, webhooks come from the writer's cache (see webhook-cache.ts).
    getWebhook: async (ws: WorkspaceId, id: WebhookId) => this.#webhooks.webhook(ws, id, () => {
      const r = this.#s.getWebhook.get(id, ws);
      return r ? toWebhook(r) : undefined;
    }),
    insertDelivery: async (d: NewDelivery) => {
      const state: DeliveryState = this.#s.chainOpen.get(d.webhookId, d.conversationId) ? 'queued' : 'pending';
      const at = d.createdAt;
      this.#s.insertDelivery.run(d.id, d.workspaceId, d.webhookId, d.eventId, d.eventType, d.conversationId, state, at, at, at);
      return state;
    },
    claimDeliveries: async (now: number, leaseMs: number, limit: number, skipWebhooks: WebhookId[]) => {
      // A SELECT of the due rows with what an attempt needs, then an UPDATE of each by id:
      // about half the cost of one UPDATE … WHERE id IN (subquery) RETURNING * (which
      // builds ephemeral tables for the subquery and the returned rows) plus a lookup per
      // row. Atomic all the same: the writer runs it inside its transaction.
      const skip = skipWebhooks.length > 0 ? `AND d.webhook_id NOT IN (${skipWebhooks.map(() => '?').join(',')})` : '';
      const rows = this.#cached(`SELECT d.*, e.payload AS claim_payload, w.url AS claim_url, ws.signing_key AS claim_signing_key
        FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
        LEFT JOIN events e ON e.id = d.event_id LEFT JOIN workspaces ws ON ws.id = d.workspace_id
        WHERE d.state = 'pending' AND d.next_attempt_at <= ? AND d.locked_until <= ? AND w.status = 'enabled' ${skip}
        ORDER BY d.next_attempt_at LIMIT (?+0)`).all(now, now, ...skipWebhooks, limit) as ClaimRow[];
      const lockedUntil = now + leaseMs;
      return rows.flatMap((row): ClaimedDelivery[] => {
        this.#s.claimDelivery.run(lockedUntil, lockedUntil, row.id);
        if (row.claim_payload === null || row.claim_signing_key === null) return [];
        const delivery = { ...toDelivery(row), attempts: row.attempts + 1, nextAttemptAt: lockedUntil };
        return [{ delivery, url: row.claim_url, payload: row.claim_payload, signingKey: row.claim_signing_key, lockedUntil }];
      });
    },
    unclaimDeliveries: async (ids: DeliveryId[], now: number) => {
      for (const id of ids) this.#s.unclaimDelivery.run(now, id);
    },
    recordAttempt: async (a: DeliveryAttempt) => {
      this.#s.insertAttempt.run({
        id: a.id, delivery_id: a.deliveryId, webhook_id: a.webhookId, url: a.url, attempted_at: a.attemptedAt,
        duration_ms: a.durationMs, status_code: a.statusCode, response_excerpt: a.responseExcerpt, error: a.error, trigger: a.trigger,
      });
    },
    finishDelivery: async (id: DeliveryId, state: 'succeeded' | 'failed', statusCode: number | null, error: string | null, now: number) => {
      const chain = this.#s.finishDelivery.get(state, statusCode, error, now, id) as
        { webhook_id: string; conversation_id: string; queued: number } | undefined;
      if (chain?.queued) this.#promote(chain.webhook_id, chain.conversation_id, now);
    },
    retryDelivery: async (id: DeliveryId, nextAttemptAt: number, statusCode: number | null, error: string | null, now: number) => {
      this.#s.retryDelivery.run(nextAttemptAt, statusCode, error, now, id);
    },
    setWebhookHealth: async (id: WebhookId, firstFailureAt: number | null) => {
      this.#webhooks.clear();
      this.#s.setWebhookHealth.run(firstFailureAt, id);
    },
    disableWebhook: async (id: WebhookId, reason: string, now: number) => {
      this.#webhooks.clear();
      if (this.#s.disableWebhook.run(reason, now, id).changes !== 1) return false;
      this.#park(id, now);
      return true;
    },
    recoverDeliveries: async (ws: WorkspaceId, webhookId: WebhookId, since: number, now: number) => {
      const chains = this.#s.failedChains.all(ws, webhookId, since) as Array<{ conversation_id: string }>;
      const n = this.#s.recoverDeliveries.run(now, now, ws, webhookId, since).changes;
      for (const c of chains) this.#promote(webhookId, c.conversation_id, now);
      this.#park(webhookId, now); // recovered while disabled: parked until enabled
      return n;
    },
    rememberReplayKey: async (channelId: ChannelId, key: string, expiresAt: number, now: number) => {
      const seen = this.#s.findReplayKey.get(channelId, key) as { expires_at: number } | undefined;
      if (seen && seen.expires_at > now) return false;
      this.#s.upsertReplayKey.run(channelId, key, expiresAt);
      if (++this.#replayWrites % 1000 === 0) this.#s.pruneReplayKeys.run(now); // keep the table small
      return true;
    },
    releaseLeases: async (now: number) => {
      this.#s.releaseDeliveryLeases.run(now);
      this.#s.releaseSendLeases.run(now);
    },
  };

  /** The workspace's enabled webhooks for a channel, inside a group (cached). */
  #enabledWebhooks(ws: WorkspaceId, channelId: ChannelId | null): readonly Webhook[] {
    return this.#webhooks.enabled(ws, channelId, () => this.#s.matchingWebhooks.all(ws, channelId).map(toWebhook));
  }

  /** Parks a disabled webhook's pending deliveries, or makes an enabled one's parked deliveries due at `now`. */
  #park(webhookId: string, now: number): void {
    this.#s.parkIfDisabled.run(webhookId, webhookId);
    this.#s.unparkIfEnabled.run(now, webhookId, webhookId);
  }

  /** Makes the oldest queued delivery of a chain pending, unless one already is. */
  #promote(webhookId: string, conversationId: string, now: number): void {
    this.#s.promote.run(now, now, webhookId, conversationId, webhookId, conversationId);
  }

  /**
   * What transaction callbacks get: the writes, over a prototype link to the store itself
   * for every read (one connection, so reads inside a batch see its uncommitted writes).
   */
  readonly #tx: Tx = Object.assign(Object.create(this) as Reads, this.#writes);
}

function channelRow(c: Channel) {
  return {
    id: c.id, workspace_id: c.workspaceId, name: c.name, platform_id: c.platformId, status: c.status,
    settings: JSON.stringify(c.settings), secrets: JSON.stringify(c.secrets), created_at: c.createdAt, updated_at: c.updatedAt,
  };
}

function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const applied = new Set((db.prepare('SELECT id FROM migrations').all() as Array<{ id: number }>).map((r) => r.id));
  for (const m of SQLITE_MIGRATIONS) {
    if (applied.has(m.id)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO migrations (id, name, applied_at) VALUES (?, ?, ?)').run(m.id, m.name, Date.now());
    }).immediate();
  }
}

/** What a conversation's update writes besides its status (see updateConversation). */
// Hot statements bind by position: by name, better-sqlite3 looks every parameter up on
// the object (binding was 17 % of the store's instructions under callgrind).
const CONVERSATION_SET = `channel_ids = ?, last_used_channel_id = ?, last_inbound_channel_id = ?, last_received_at = ?,
  last_message_id = ?, updated_at = ?, sort_at = ?`;

/** The values of CONVERSATION_SET, then the status, id and workspace of the row. */
function conversationSet(c: Conversation): unknown[] {
  const p = conversationParams(c);
  return [p.channel_ids, p.last_used_channel_id, p.last_inbound_channel_id, p.last_received_at, p.last_message_id,
    p.updated_at, p.sort_at, p.status, p.id, p.workspace_id];
}

/** A conversation's row in `insertConversation`'s column order. */
function conversationValues(c: Conversation): unknown[] {
  const p = conversationParams(c);
  return [p.id, p.workspace_id, p.contact_id, p.status, p.channel_ids, p.last_used_channel_id, p.last_inbound_channel_id,
    p.last_received_at, p.last_message_id, p.message_count, p.created_at, p.updated_at, p.sort_at];
}

/**
 * `inboundContext` in one statement: whether the channel has the provider id, then the
 * contact known by the identifier and its active conversation, as one row of raw values
 * (`contactAt` and `conversationAt` are where each table's columns start; null there
 * when there is none).
 */
function inboundContextStatement(db: Database.Database) {
  const statement = db.prepare(`SELECT (SELECT 1 FROM messages WHERE channel_id = ? AND provider_message_id = ?) AS seen, c.*, v.*
    FROM (SELECT 1) AS one
    LEFT JOIN contact_identifiers i ON i.workspace_id = ? AND i.key = ? AND i.value = ?
    LEFT JOIN contacts c ON c.id = i.contact_id
    LEFT JOIN conversations v ON v.contact_id = c.id AND v.workspace_id = ? AND v.status = 'active'`).raw(true);
  const columns = statement.columns();
  return {
    statement, names: columns.map((c) => c.name),
    contactAt: columns.findIndex((c) => c.table === 'contacts'), conversationAt: columns.findIndex((c) => c.table === 'conversations'),
  };
}

/** The row of `values[from, to)` by column name. */
function rowOf(names: string[], values: unknown[], from: number, to: number): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (let i = from; i < to; i++) row[names[i]!] = values[i];
  return row;
}

/**
 * A newest-first page over every value of `column` (the table's CHECK lists them all):
 * one range of the (…, column, order) index per value, merged by a compound SELECT
 * without a sort, so a list without that filter needs no index of its own (migrations 8
 * and 9). Named parameters: those of `where`, `@limit` and `@offset`.
 */
function mergedRanges(table: string, where: string, column: string, values: readonly string[], orderBy: string): string {
  return `${values.map((v) => `SELECT * FROM ${table} WHERE ${where} AND ${column} = '${v}'`).join(' UNION ALL ')}
          ORDER BY ${orderBy} LIMIT (@limit+0) OFFSET @offset`;
}

/**
 * Every statement a store runs, prepared once. A limit is written `LIMIT (?+0)`, never a
 * bare parameter: with one, a run of the statement on SQLite 3.53 (as better-sqlite3 12
 * bundles it) cost what preparing it does, as if prepared again every time (an empty
 * claim ~40 µs instead of ~4; see BENCHMARKS.md). With an expression it keeps its plan.
 */
function prepare(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    findAccessKey: p(`SELECT k.id, k.key_hash, k.mode, k.workspace_id, w.name, w.signing_key, w.created_at AS ws_created_at
                      FROM access_keys k JOIN workspaces w ON w.id = k.workspace_id WHERE k.key_hash = ?`),
    getWorkspace: p('SELECT * FROM workspaces WHERE id = ?'),
    countWorkspaces: p('SELECT count(*) AS n FROM workspaces'),
    getDefaultWorkspace: p('SELECT * FROM workspaces ORDER BY created_at, id LIMIT 1'),
    insertWorkspace: p('INSERT INTO workspaces (id, name, signing_key, created_at) VALUES (@id, @name, @signing_key, @created_at)'),
    setSigningKey: p('UPDATE workspaces SET signing_key = ? WHERE id = ?'),
    insertAccessKey: p('INSERT INTO access_keys (id, workspace_id, key_hash, mode, created_at) VALUES (@id, @workspace_id, @key_hash, @mode, @created_at)'),
    deleteAccessKeys: p('DELETE FROM access_keys WHERE workspace_id = ?'),

    getChannel: p(`SELECT * FROM channels WHERE id = ? AND workspace_id = ? AND status <> 'deleted'`),
    getChannelForInbound: p(`SELECT * FROM channels WHERE id = ? AND status <> 'deleted'`),
    listAllConversations: p(mergedRanges('conversations', 'workspace_id = @ws', 'status', CONVERSATION_STATUSES, 'sort_at DESC, id DESC')),
    listChannels: p(`SELECT * FROM channels WHERE workspace_id = ? AND status <> 'deleted' ORDER BY id LIMIT (?+0) OFFSET ?`),
    countChannels: p(`SELECT count(*) AS n FROM channels WHERE workspace_id = ? AND status <> 'deleted'`),
    insertChannel: p(`INSERT INTO channels (id, workspace_id, name, platform_id, status, settings, secrets, created_at, updated_at)
                      VALUES (@id, @workspace_id, @name, @platform_id, @status, @settings, @secrets, @created_at, @updated_at)`),
    updateChannel: p(`UPDATE channels SET name = @name, status = @status, settings = @settings, secrets = @secrets,
                      updated_at = @updated_at WHERE id = @id AND workspace_id = @workspace_id`),

    getContact: p('SELECT * FROM contacts WHERE id = ? AND workspace_id = ?'),
    findContactByIdentifier: p(`SELECT c.* FROM contact_identifiers i JOIN contacts c ON c.id = i.contact_id
                                WHERE i.workspace_id = ? AND i.key = ? AND i.value = ?`),
    getContactIdentifiers: p('SELECT key, value FROM contact_identifiers WHERE workspace_id = ? AND contact_id = ?'),
    insertContact: p(`INSERT INTO contacts (id, workspace_id, msisdn, display_name, first_name, last_name, custom_details, created_at, updated_at)
                      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    insertIdentifier: p('INSERT OR IGNORE INTO contact_identifiers (workspace_id, key, value, contact_id) VALUES (?, ?, ?, ?)'),

    getConversation: p('SELECT * FROM conversations WHERE id = ? AND workspace_id = ?'),
    countConversations: p('SELECT coalesce(sum(n), 0) AS n FROM conversation_counts WHERE workspace_id = ?'),
    countConversationsByStatus: p('SELECT n FROM conversation_counts WHERE workspace_id = ? AND status = ?'),
    findActiveConversation: p(`SELECT * FROM conversations WHERE contact_id = ? AND workspace_id = ? AND status = 'active'`),
    insertConversation: p(`INSERT INTO conversations (id, workspace_id, contact_id, status, channel_ids, last_used_channel_id,
                           last_inbound_channel_id, last_received_at, last_message_id, message_count, created_at, updated_at, sort_at)
                           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    // Both take conversationSet()'s values (better-sqlite3 binds numbered parameters by name).
    updateConversationSameStatus: p(`UPDATE conversations SET ${CONVERSATION_SET} WHERE status = ? AND id = ? AND workspace_id = ?`),
    updateConversation: p(`UPDATE conversations SET ${CONVERSATION_SET}, status = ? WHERE id = ? AND workspace_id = ?`),

    getMessage: p('SELECT * FROM messages WHERE id = ? AND workspace_id = ?'),
    findMessageByProviderId: p('SELECT * FROM messages WHERE channel_id = ? AND provider_message_id = ?'),
    // Newest first by position: offset N is the range seq <= count - N, one index probe at
    // any depth (seq runs 1..message_count without gaps; messages are never removed).
    listMessages: p(`SELECT m.* FROM conversations c JOIN messages m ON m.conversation_id = c.id
                     WHERE c.id = ? AND c.workspace_id = ? AND m.seq <= c.message_count - ?
                     ORDER BY m.seq DESC LIMIT (?+0)`),
    // The conversation keeps its own count, in the same transaction as every insert.
    countMessages: p('SELECT message_count AS n FROM conversations WHERE id = ? AND workspace_id = ?'),
    // A keyset range on (conversation_id, seq): one probe at any depth.
    pageMessagesDesc: p(`SELECT * FROM messages WHERE conversation_id = ? AND workspace_id = ? AND seq < ?
                         ORDER BY seq DESC LIMIT (?+0)`),
    pageMessagesAsc: p(`SELECT * FROM messages WHERE conversation_id = ? AND workspace_id = ? AND seq > ?
                        ORDER BY seq ASC LIMIT (?+0)`),
    insertMessage: p(`INSERT INTO messages (id, workspace_id, conversation_id, channel_id, platform, direction, status, type, content,
                      from_addr, to_addr, provider_message_id, mode, error, source, tag, report_url, created_at, updated_at, seq)
                      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
                              (SELECT message_count + 1 FROM conversations WHERE id = ?))
                      ON CONFLICT (channel_id, provider_message_id) WHERE provider_message_id IS NOT NULL DO NOTHING`),
    countMessage: p('UPDATE conversations SET message_count = message_count + 1 WHERE id = ?'),
    appendSameStatus: p(`UPDATE conversations SET message_count = message_count + 1, ${CONVERSATION_SET}
                         WHERE status = ? AND id = ? AND workspace_id = ?`),
    appendChangingStatus: p(`UPDATE conversations SET message_count = message_count + 1, ${CONVERSATION_SET}, status = ?
                             WHERE id = ? AND workspace_id = ?`),
    inboundContext: inboundContextStatement(db),
    // The first provider id recorded stays: a later callback may carry another id of the same message.
    updateMessageStatus: p(`UPDATE messages SET status = ?, error = ?, provider_message_id = coalesce(provider_message_id, ?),
                            updated_at = ? WHERE id = ?`),

    insertSendJob: p('INSERT INTO send_jobs (message_id, workspace_id, run_at) VALUES (?, ?, ?)'),
    // In flight a job is due at its lease's end, like a delivery (see Writes.claimDeliveries).
    claimSendJobs: p(`UPDATE send_jobs SET locked_until = ?, run_at = ?, attempts = attempts + 1
                      WHERE message_id IN (SELECT message_id FROM send_jobs WHERE run_at <= ? AND locked_until <= ?
                                           ORDER BY run_at LIMIT (?+0))
                      RETURNING message_id, workspace_id, attempts, locked_until`),
    deleteSendJob: p('DELETE FROM send_jobs WHERE message_id = ?'),
    rescheduleSendJob: p('UPDATE send_jobs SET run_at = ?, locked_until = 0, last_error = ? WHERE message_id = ?'),

    getWebhook: p('SELECT * FROM webhooks WHERE id = ? AND workspace_id = ?'),
    listWebhooks: p('SELECT * FROM webhooks WHERE workspace_id = ? ORDER BY id LIMIT (?+0) OFFSET ?'),
    countAllWebhooks: p('SELECT count(*) AS n FROM webhooks WHERE workspace_id = ?'),
    countWebhooks: p(`SELECT sum(channel_id IS NOT NULL) AS specific, sum(channel_id IS NULL) AS generic
                      FROM webhooks WHERE workspace_id = ?`),
    insertWebhook: p(`INSERT INTO webhooks (id, workspace_id, channel_id, url, events, status, settings, first_failure_at,
                      disabled_reason, created_at, updated_at)
                      VALUES (@id, @workspace_id, @channel_id, @url, @events, @status, @settings, @first_failure_at,
                      @disabled_reason, @created_at, @updated_at)`),
    updateWebhook: p(`UPDATE webhooks SET channel_id = @channel_id, url = @url, events = @events, status = @status,
                      settings = @settings, first_failure_at = @first_failure_at, disabled_reason = @disabled_reason,
                      updated_at = @updated_at WHERE id = @id AND workspace_id = @workspace_id`),
    deleteWebhook: p('DELETE FROM webhooks WHERE id = ? AND workspace_id = ?'),
    deleteWebhookAttempts: p('DELETE FROM delivery_attempts WHERE webhook_id = ?'),
    deleteWebhookDeliveries: p('DELETE FROM deliveries WHERE webhook_id = ?'),
    matchingWebhooks: p(`SELECT * FROM webhooks WHERE workspace_id = ? AND status = 'enabled' AND (channel_id IS NULL OR channel_id = ?)`),
    setWebhookHealth: p('UPDATE webhooks SET first_failure_at = ? WHERE id = ?'),
    disableWebhook: p(`UPDATE webhooks SET status = 'disabled', disabled_reason = ?, updated_at = ? WHERE id = ? AND status = 'enabled'`),
    // See PARKED_AT: the webhook's status decides, so every caller parks the same way.
    parkIfDisabled: p(`UPDATE deliveries SET next_attempt_at = ${PARKED_AT} WHERE webhook_id = ? AND state = 'pending'
                       AND next_attempt_at < ${PARKED_AT} AND EXISTS (SELECT 1 FROM webhooks WHERE id = ? AND status = 'disabled')`),
    unparkIfEnabled: p(`UPDATE deliveries SET next_attempt_at = ? WHERE webhook_id = ? AND state = 'pending'
                        AND next_attempt_at >= ${PARKED_AT} AND EXISTS (SELECT 1 FROM webhooks WHERE id = ? AND status = 'enabled')`),

    chainOpen: p(`SELECT 1 FROM deliveries WHERE webhook_id = ? AND conversation_id = ? AND state IN ('queued','pending') LIMIT 1`),
    insertDelivery: p(`INSERT INTO deliveries (id, workspace_id, webhook_id, event_id, event_type, conversation_id, state,
                       next_attempt_at, created_at, updated_at)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    // Lease, next attempt at the lease's end, attempt counted (see Writes.claimDeliveries).
    claimDelivery: p('UPDATE deliveries SET locked_until = ?, next_attempt_at = ?, attempts = attempts + 1 WHERE id = ?'),
    unclaimDelivery: p('UPDATE deliveries SET locked_until = 0, next_attempt_at = ?, attempts = attempts - 1 WHERE id = ?'),
    insertAttempt: p(`INSERT INTO delivery_attempts (id, delivery_id, webhook_id, url, attempted_at, duration_ms, status_code,
                      response_excerpt, error, trigger)
                      VALUES (@id, @delivery_id, @webhook_id, @url, @attempted_at, @duration_ms, @status_code,
                      @response_excerpt, @error, @trigger)`),
    // With whether the chain has a queued delivery to promote: most have none, and the
    // promotion is a statement of its own. The IN restates deliveries_chain's WHERE so that
    // the lookup may use that partial index.
    finishDelivery: p(`UPDATE deliveries SET state = ?, last_status_code = ?, last_error = ?, updated_at = ?, locked_until = 0
                       WHERE id = ? RETURNING webhook_id, conversation_id,
                       EXISTS (SELECT 1 FROM deliveries q WHERE q.webhook_id = deliveries.webhook_id
                               AND q.conversation_id = deliveries.conversation_id
                               AND q.state IN ('queued','pending') AND q.state = 'queued') AS queued`),
    retryDelivery: p(`UPDATE deliveries SET next_attempt_at = ${dueUnlessParked('?')}, last_status_code = ?, last_error = ?, updated_at = ?,
                      locked_until = 0 WHERE id = ?`),
    promote: p(`UPDATE deliveries SET state = 'pending', next_attempt_at = ${dueUnlessParked('?')}, updated_at = ?
                WHERE id = (SELECT id FROM deliveries WHERE webhook_id = ? AND conversation_id = ?
                            AND state IN ('queued','pending') AND state = 'queued' ORDER BY id LIMIT 1)
                AND NOT EXISTS (SELECT 1 FROM deliveries WHERE webhook_id = ? AND conversation_id = ?
                                AND state IN ('queued','pending') AND state = 'pending')`),
    failedChains: p(`SELECT DISTINCT conversation_id FROM deliveries
                     WHERE workspace_id = ? AND webhook_id = ? AND state = 'failed' AND created_at >= ?`),
    recoverDeliveries: p(`UPDATE deliveries SET state = 'queued', attempts = 0, next_attempt_at = ?, updated_at = ?
                          WHERE workspace_id = ? AND webhook_id = ? AND state = 'failed' AND created_at >= ?`),
    findReplayKey: p('SELECT expires_at FROM inbound_replay_keys WHERE channel_id = ? AND key = ?'),
    upsertReplayKey: p(`INSERT INTO inbound_replay_keys (channel_id, key, expires_at) VALUES (?, ?, ?)
                        ON CONFLICT (channel_id, key) DO UPDATE SET expires_at = excluded.expires_at`),
    pruneReplayKeys: p('DELETE FROM inbound_replay_keys WHERE expires_at <= ?'),
    // A lease held when the process stopped: its attempt never reported, so it is due now.
    // A parked one (its webhook disabled) stays parked.
    releaseDeliveryLeases: p(`UPDATE deliveries SET locked_until = 0, next_attempt_at = CASE
                                WHEN state = 'pending' AND next_attempt_at < ${PARKED_AT} THEN ? ELSE next_attempt_at END
                              WHERE locked_until > 0`),
    releaseSendLeases: p('UPDATE send_jobs SET locked_until = 0, run_at = ? WHERE locked_until > 0'),
    listAllDeliveries: p(mergedRanges('deliveries', 'webhook_id = @webhook AND workspace_id = @ws', 'state', DELIVERY_STATES, 'id DESC')),
    countDeliveries: p('SELECT count(*) AS n FROM deliveries WHERE webhook_id = ? AND workspace_id = ?'),
    listDeliveriesByState: p('SELECT * FROM deliveries WHERE webhook_id = ? AND workspace_id = ? AND state = ? ORDER BY id DESC LIMIT (?+0) OFFSET ?'),
    countDeliveriesByState: p('SELECT count(*) AS n FROM deliveries WHERE webhook_id = ? AND workspace_id = ? AND state = ?'),
    getDelivery: p('SELECT * FROM deliveries WHERE id = ? AND webhook_id = ? AND workspace_id = ?'),
    listAttempts: p('SELECT * FROM delivery_attempts WHERE delivery_id = ? ORDER BY id'),
    getEvent: p('SELECT * FROM events WHERE id = ? AND workspace_id = ?'),

    insertEvent: p(`INSERT INTO events (id, workspace_id, type, channel_id, conversation_id, payload, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)`),
    nextDeliveryDue: p(`SELECT min(next_attempt_at) AS t FROM deliveries WHERE state = 'pending' AND next_attempt_at < ${PARKED_AT}`),
    nextSendJobDue: p('SELECT min(run_at) AS t FROM send_jobs'),
    // Changes when another connection has committed (see webhook-cache.ts).
    dataVersion: db.prepare('PRAGMA data_version').pluck(),
    countEvents: p('SELECT count(*) AS n FROM events WHERE workspace_id = ?'),
    listEvents: p('SELECT * FROM events WHERE workspace_id = ? AND id > ? ORDER BY id LIMIT (?+0)'),
  };
}
