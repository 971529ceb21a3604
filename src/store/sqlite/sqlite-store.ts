import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import type { ChannelId, ContactId, ConversationId, MessageId, WebhookId, WorkspaceId } from '../../domain/ids.js';
import type { Channel, Contact, ContactIdentifier, Conversation, Message, MessageError, OutboxEvent, Webhook } from '../../domain/records.js';
import type { MessageStatus } from '../../domain/status.js';
import type { ConversationFilter, MessageFilter, Page, SendJob, Store, Tx } from '../store.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import {
  conversationParams, messageParams, toChannel, toContact, toConversation, toEvent, toMessage, toWebhook,
  toWorkspace, webhookParams,
} from './rows.js';

interface Pending {
  fn: (tx: Tx) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** Most callbacks one group commit takes; bounds the latency a large batch adds. */
const MAX_BATCH = 512;

/**
 * The embedded engine: one SQLite file in WAL mode with `synchronous=FULL`, so a commit
 * is on disk before the promise of `transaction()` resolves.
 *
 * Group commit: transactions requested in the same turn of the event loop are run one
 * after another inside one `BEGIN IMMEDIATE ... COMMIT`, each in its own SAVEPOINT so a
 * failing callback rolls back alone. One fsync then makes the whole group durable,
 * which is how a durable acknowledgement per webhook stays cheap under load.
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

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma('foreign_keys = ON');
    this.#db.pragma('busy_timeout = 5000');
    migrate(this.#db);
    this.#s = prepare(this.#db);
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('store is closed'));
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
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    const tx = this.#tx;
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      for (const item of batch) {
        this.#db.exec('SAVEPOINT op');
        try {
          const value = await item.fn(tx);
          this.#db.exec('RELEASE op');
          outcomes.push({ ok: true, value });
        } catch (error) {
          this.#db.exec('ROLLBACK TO op');
          this.#db.exec('RELEASE op');
          outcomes.push({ ok: false, error });
        }
      }
      this.#db.exec('COMMIT');
    } catch (error) {
      // The commit itself failed (disk full, I/O error): nothing in the batch is durable.
      if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
      for (const item of batch) item.reject(error);
      this.#afterFlush();
      return;
    }
    batch.forEach((item, i) => {
      const o = outcomes[i]!;
      if (o.ok) item.resolve(o.value);
      else item.reject(o.error);
    });
    this.#afterFlush();
  }

  #afterFlush(): void {
    this.#flushing = false;
    if (this.#queue.length > 0) this.#schedule();
  }

  async close(): Promise<void> {
    this.#closed = true;
    while (this.#flushing || this.#scheduled || this.#queue.length > 0) {
      await new Promise((r) => setTimeout(r, 5));
    }
    this.#db.close();
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

  getChannelForInbound = async (id: ChannelId) => {
    const r = this.#s.getChannelForInbound.get(id);
    return r ? toChannel(r) : undefined;
  };

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

  getConversation = async (ws: WorkspaceId, id: ConversationId) => {
    const r = this.#s.getConversation.get(id, ws);
    return r ? toConversation(r) : undefined;
  };

  findActiveConversation = async (ws: WorkspaceId, contactId: ContactId) => {
    const r = this.#s.findActiveConversation.get(contactId, ws);
    return r ? toConversation(r) : undefined;
  };

  listConversations = async (ws: WorkspaceId, f: ConversationFilter) => {
    const where = ['workspace_id = ?'];
    const args: unknown[] = [ws];
    if (f.status) {
      where.push('status = ?');
      args.push(f.status);
    }
    if (f.ids) {
      if (f.ids.length === 0) return { items: [], total: 0 };
      where.push(`id IN (${f.ids.map(() => '?').join(',')})`);
      args.push(...f.ids);
    }
    const w = where.join(' AND ');
    const items = this.#cached(`SELECT * FROM conversations WHERE ${w} ORDER BY sort_at DESC, id DESC LIMIT ? OFFSET ?`)
      .all(...args, f.limit, f.offset)
      .map(toConversation);
    const total = (this.#cached(`SELECT count(*) AS n FROM conversations WHERE ${w}`).get(...args) as { n: number }).n;
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

  listMessages = async (ws: WorkspaceId, f: MessageFilter): Promise<Page<Message>> => {
    const exclude = f.excludePlatforms ?? [];
    if (exclude.length === 0) {
      const items = this.#s.listMessages.all(f.conversationId, ws, f.limit, f.offset).map(toMessage);
      const total = (this.#s.countMessages.get(f.conversationId, ws) as { n: number }).n;
      return { items, total };
    }
    const notIn = `platform NOT IN (${exclude.map(() => '?').join(',')})`;
    const items = this.#cached(
      `SELECT * FROM messages WHERE conversation_id = ? AND workspace_id = ? AND ${notIn} ORDER BY id DESC LIMIT ? OFFSET ?`,
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
      this.#s.insertChannel.run(channelRow(c));
    },
    updateChannel: async (c: Channel) => {
      this.#s.updateChannel.run(channelRow(c));
    },
    insertContact: async (c: Contact, identifiers: ContactIdentifier[]) => {
      this.#s.insertContact.run({
        id: c.id, workspace_id: c.workspaceId, msisdn: c.msisdn, display_name: c.displayName, first_name: c.firstName,
        last_name: c.lastName, custom_details: JSON.stringify(c.customDetails), created_at: c.createdAt, updated_at: c.updatedAt,
      });
      for (const i of identifiers) this.#s.insertIdentifier.run(c.workspaceId, i.key, i.value, c.id);
    },
    addContactIdentifier: async (ws: WorkspaceId, contactId: ContactId, i: ContactIdentifier) => {
      this.#s.insertIdentifier.run(ws, i.key, i.value, contactId);
    },
    insertConversation: async (c: Conversation) => {
      this.#s.insertConversation.run(conversationParams(c));
    },
    updateConversation: async (c: Conversation) => {
      this.#s.updateConversation.run(conversationParams(c));
    },
    insertMessage: async (m: Message) => this.#s.insertMessage.run(messageParams(m)).changes === 1,
    updateMessageStatus: async (id: MessageId, status: MessageStatus, error: MessageError | null, providerMessageId: string | null, at: number) => {
      this.#s.updateMessageStatus.run(status, error ? JSON.stringify(error) : null, providerMessageId, at, id);
    },
    insertSendJob: async (messageId: MessageId, ws: WorkspaceId, runAt: number) => {
      this.#s.insertSendJob.run(messageId, ws, runAt);
    },
    claimSendJobs: async (now: number, leaseMs: number, limit: number) =>
      (this.#s.claimSendJobs.all(now + leaseMs, now, now, limit) as Array<Record<string, unknown>>).map((r): SendJob => ({
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
      this.#s.insertWebhook.run(webhookParams(w));
    },
    updateWebhook: async (w: Webhook) => {
      this.#s.updateWebhook.run(webhookParams(w));
    },
    deleteWebhook: async (ws: WorkspaceId, id: WebhookId) => this.#s.deleteWebhook.run(id, ws).changes === 1,
    insertEvent: async (e: OutboxEvent) => {
      this.#s.insertEvent.run({
        id: e.id, workspace_id: e.workspaceId, type: e.type, channel_id: e.channelId,
        conversation_id: e.conversationId, payload: e.payload, created_at: e.createdAt,
      });
    },
  };

  readonly #tx: Tx = Object.assign(Object.create(null), {
    ...this.#readsObject(),
    ...this.#writes,
  }) as Tx;

  #readsObject() {
    return {
      findAccessKey: this.findAccessKey, getWorkspace: this.getWorkspace, countWorkspaces: this.countWorkspaces,
      getDefaultWorkspace: this.getDefaultWorkspace,
      getChannel: this.getChannel, getChannelForInbound: this.getChannelForInbound, getChannels: this.getChannels,
      listChannels: this.listChannels, getContact: this.getContact, getContacts: this.getContacts,
      findContactByIdentifier: this.findContactByIdentifier, getContactIdentifiers: this.getContactIdentifiers,
      getConversation: this.getConversation, findActiveConversation: this.findActiveConversation,
      listConversations: this.listConversations, getMessage: this.getMessage,
      findMessageByProviderId: this.findMessageByProviderId, listMessages: this.listMessages,
      getWebhook: this.getWebhook, listWebhooks: this.listWebhooks, countWebhooks: this.countWebhooks,
      countEvents: this.countEvents, listEvents: this.listEvents,
    };
  }
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

function prepare(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    findAccessKey: p(`SELECT k.id, k.mode, k.workspace_id, w.name, w.signing_key, w.created_at AS ws_created_at
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
    listChannels: p(`SELECT * FROM channels WHERE workspace_id = ? AND status <> 'deleted' ORDER BY id LIMIT ? OFFSET ?`),
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
                      VALUES (@id, @workspace_id, @msisdn, @display_name, @first_name, @last_name, @custom_details, @created_at, @updated_at)`),
    insertIdentifier: p('INSERT OR IGNORE INTO contact_identifiers (workspace_id, key, value, contact_id) VALUES (?, ?, ?, ?)'),

    getConversation: p('SELECT * FROM conversations WHERE id = ? AND workspace_id = ?'),
    findActiveConversation: p(`SELECT * FROM conversations WHERE contact_id = ? AND workspace_id = ? AND status = 'active'`),
    insertConversation: p(`INSERT INTO conversations (id, workspace_id, contact_id, status, channel_ids, last_used_channel_id,
                           last_inbound_channel_id, last_received_at, last_message_id, message_count, created_at, updated_at, sort_at)
                           VALUES (@id, @workspace_id, @contact_id, @status, @channel_ids, @last_used_channel_id,
                           @last_inbound_channel_id, @last_received_at, @last_message_id, @message_count, @created_at, @updated_at, @sort_at)`),
    updateConversation: p(`UPDATE conversations SET status = @status, channel_ids = @channel_ids,
                           last_used_channel_id = @last_used_channel_id,
                           last_inbound_channel_id = @last_inbound_channel_id, last_received_at = @last_received_at,
                           last_message_id = @last_message_id, message_count = @message_count, updated_at = @updated_at,
                           sort_at = @sort_at WHERE id = @id AND workspace_id = @workspace_id`),

    getMessage: p('SELECT * FROM messages WHERE id = ? AND workspace_id = ?'),
    findMessageByProviderId: p('SELECT * FROM messages WHERE channel_id = ? AND provider_message_id = ?'),
    listMessages: p('SELECT * FROM messages WHERE conversation_id = ? AND workspace_id = ? ORDER BY id DESC LIMIT ? OFFSET ?'),
    countMessages: p('SELECT count(*) AS n FROM messages WHERE conversation_id = ? AND workspace_id = ?'),
    insertMessage: p(`INSERT INTO messages (id, workspace_id, conversation_id, channel_id, platform, direction, status, type, content,
                      from_addr, to_addr, provider_message_id, mode, error, source, tag, report_url, created_at, updated_at)
                      VALUES (@id, @workspace_id, @conversation_id, @channel_id, @platform, @direction, @status, @type, @content,
                      @from_addr, @to_addr, @provider_message_id, @mode, @error, @source, @tag, @report_url, @created_at, @updated_at)
                      ON CONFLICT (channel_id, provider_message_id) WHERE provider_message_id IS NOT NULL DO NOTHING`),
    updateMessageStatus: p(`UPDATE messages SET status = ?, error = ?, provider_message_id = coalesce(?, provider_message_id),
                            updated_at = ? WHERE id = ?`),

    insertSendJob: p('INSERT INTO send_jobs (message_id, workspace_id, run_at) VALUES (?, ?, ?)'),
    claimSendJobs: p(`UPDATE send_jobs SET locked_until = ?, attempts = attempts + 1
                      WHERE message_id IN (SELECT message_id FROM send_jobs WHERE run_at <= ? AND locked_until <= ?
                                           ORDER BY run_at LIMIT ?)
                      RETURNING message_id, workspace_id, attempts, locked_until`),
    deleteSendJob: p('DELETE FROM send_jobs WHERE message_id = ?'),
    rescheduleSendJob: p('UPDATE send_jobs SET run_at = ?, locked_until = 0, last_error = ? WHERE message_id = ?'),

    getWebhook: p('SELECT * FROM webhooks WHERE id = ? AND workspace_id = ?'),
    listWebhooks: p('SELECT * FROM webhooks WHERE workspace_id = ? ORDER BY id LIMIT ? OFFSET ?'),
    countAllWebhooks: p('SELECT count(*) AS n FROM webhooks WHERE workspace_id = ?'),
    countWebhooks: p(`SELECT sum(channel_id IS NOT NULL) AS specific, sum(channel_id IS NULL) AS generic
                      FROM webhooks WHERE workspace_id = ?`),
    insertWebhook: p(`INSERT INTO webhooks (id, workspace_id, channel_id, url, events, status, settings, created_at, updated_at)
                      VALUES (@id, @workspace_id, @channel_id, @url, @events, @status, @settings, @created_at, @updated_at)`),
    updateWebhook: p(`UPDATE webhooks SET channel_id = @channel_id, url = @url, events = @events, status = @status,
                      settings = @settings, updated_at = @updated_at WHERE id = @id AND workspace_id = @workspace_id`),
    deleteWebhook: p('DELETE FROM webhooks WHERE id = ? AND workspace_id = ?'),

    insertEvent: p(`INSERT INTO events (id, workspace_id, type, channel_id, conversation_id, payload, created_at)
                    VALUES (@id, @workspace_id, @type, @channel_id, @conversation_id, @payload, @created_at)`),
    countEvents: p('SELECT count(*) AS n FROM events WHERE workspace_id = ?'),
    listEvents: p('SELECT * FROM events WHERE workspace_id = ? AND id > ? ORDER BY id LIMIT ?'),
  };
}
