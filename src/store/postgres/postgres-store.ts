import pg from 'pg';
import type { PoolClient, QueryResultRow } from 'pg';
import type { AccessKeyId, ChannelId, ContactId, DeliveryId, MessageId, WebhookId, WorkspaceId } from '../../domain/ids.js';
import type {
  Channel, Contact, ContactIdentifier, Conversation, DeliveryAttempt, DeliveryState, KeyMode, Message, MessageError,
  OutboxEvent, Webhook, WebhookEventType, Workspace,
} from '../../domain/records.js';
import type { MessageStatus } from '../../domain/status.js';
import {
  conversationParams, dueUnlessParked, messageParams, PARKED_AT, toAttempt, toChannel, toContact, toConversation, toDelivery, toEvent, toMessage,
  toWebhook, toWorkspace, webhookParams,
} from '../rows.js';
import type {
  AuthenticatedKey, ClaimedDelivery, ConversationFilter, MessageCursor, MessageFilter, NewDelivery, Page, Reads, SendJob, Store,
  TransactionOptions, Tx, Writes,
} from '../store.js';
import type { Procedure } from '../procedure.js';
import { assertAppendable } from '../appendable.js';
import { ChannelCache } from '../channel-cache.js';
import { settle } from '../group-commit.js';
import type { Outcome, Pending } from '../group-commit.js';
import { POSTGRES_MIGRATIONS } from './migrations.js';
import { appendBatch } from './append-batch.js';
import { chainKey } from './chain-key.js';
import { deliveryBatch } from './delivery-batch.js';
import { lookupBatch, toInboundContext } from './lookup-batch.js';
import { openingBatches } from './opening-batch.js';
import { recordBatches } from './record-batch.js';
import type { TurnQueryable } from './per-turn.js';
import { WriteBehind } from './write-behind.js';

/** Anything that runs a query: the pool (reads) or one client inside a transaction. */
interface Queryable {
  query<R extends QueryResultRow>(config: { name?: string; text: string; values?: unknown[] }): Promise<pg.QueryResult<R>>;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
type Row = any;

/** BIGINT (epoch ms, counts) as JS numbers: every value Roost stores fits in 53 bits. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/** A unique violation: the callback lost a race; run again, it then sees the winner's row. */
const RETRY_IN_SAVEPOINT = new Set(['23505']);
/**
 * Deadlock or serialization failure: locks taken by earlier callbacks of the batch are
 * part of the cycle, so the whole batch is rolled back and each callback re-run alone.
 */
const ABORT_BATCH = new Set(['40P01', '40001']);

class BatchAborted extends Error {}
const MAX_BATCH = 256;
/**
 * Batches in flight at once. A batch holds its connection for its whole run, so more of
 * them only means smaller ones: more BEGIN/COMMIT round trips and WAL flushes per
 * message. Measured on 2 cores (BENCHMARKS.md): 15 at once -> 2-4 at once, ingest
 * +40-60 % and p99 down by half or more.
 */
const MAX_CONCURRENT_BATCHES = 3;
const MIGRATION_LOCK = 7_202_611_001;

/**
 * The distributed engine: several Roost nodes on one PostgreSQL database.
 *
 * Group commit, as on SQLite: callbacks queued together run in one transaction, so one
 * durable commit (synchronous_commit on) covers many inbound webhooks. Several batches
 * run at once on separate pooled connections (at most MAX_CONCURRENT_BATCHES: the rest of
 * the pool serves reads). A batch first runs without savepoints
 * (every round trip counts); if one of its callbacks fails, it is rolled back and run
 * again with each callback in its own SAVEPOINT, so the failure stays that callback's.
 * A callback that hits a unique violation, a serialization failure or a deadlock (two
 * nodes racing for the same contact or conversation) is rolled back to its savepoint and
 * run again.
 *
 * Cross-node ordering of webhook deliveries relies on a transaction-scoped advisory lock
 * per (webhook, conversation) chain, taken wherever a chain's head can change.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class PostgresStore implements Store {
  readonly engine = 'postgres' as const;
  /** Reads outside transactions, and migrations. */
  readonly #pool: pg.Pool;
  /** One connection per batch in flight, in pipeline mode (statements of concurrent callbacks go out together). */
  readonly #writePool: pg.Pool;
  readonly #queue: Pending[] = [];
  /** Keys of callbacks in batches in flight. */
  readonly #busyKeys = new Set<string>();
  readonly #maxBatches: number;
  #activeBatches = 0;
  #closed = false;
  #idle: Array<() => void> = [];
  readonly #reads: Reads;
  readonly #channels = new ChannelCache();

  private constructor(pool: pg.Pool, writePool: pg.Pool, maxBatches: number) {
    this.#pool = pool;
    this.#writePool = writePool;
    this.#maxBatches = maxBatches;
    this.#reads = reads(pool, this.#channels);
    Object.assign(this, this.#reads);
  }

  static async open(url: string, poolSize = 10): Promise<PostgresStore> {
    // Batches get their own connections; at least one is left for reads.
    const maxBatches = Math.max(1, Math.min(MAX_CONCURRENT_BATCHES, poolSize - 1));
    const pool = new pg.Pool({ connectionString: url, max: poolSize - maxBatches, types });
    // Batches run point lookups and short index walks. A bitmap scan there only appears
    // when the planner expects a handful of rows where thousands wait (the claim, on a
    // table analyzed while nearly empty): it then reads and sorts every due delivery
    // instead of walking deliveries_due in order up to its limit. Sequential scans are off
    // for the same reason: a statement over a batch's rows (append-batch.ts) is planned
    // for ~100 input rows and would otherwise hash a whole small table, then keep that plan.
    const writePool = new pg.Pool({ connectionString: url, max: maxBatches, types, pipeline: true, options: '-c enable_bitmapscan=off -c enable_seqscan=off' });
    for (const p of [pool, writePool]) p.on('error', () => {}); // an idle client's connection dropped: the pool replaces it
    await migrate(pool);
    return new PostgresStore(pool, writePool, maxBatches);
  }

  run<A, R>(procedure: Procedure<A, R>, args: A, options?: TransactionOptions): Promise<R> {
    return this.transaction((tx) => procedure.body(tx, args), options);
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ fn, key: options.key, resolve: resolve as (v: unknown) => void, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#queue.length > 0 && this.#activeBatches < this.#maxBatches) {
      // A key already in flight waits for its batch to end: callbacks sharing a key never
      // overlap on this node (they read what the previous one wrote).
      const batch: Pending[] = [];
      const waiting: Pending[] = [];
      for (const p of this.#queue) {
        if (batch.length < MAX_BATCH && (p.key === undefined || !this.#busyKeys.has(p.key))) batch.push(p);
        else waiting.push(p);
      }
      if (batch.length === 0) return;
      this.#queue.splice(0, this.#queue.length, ...waiting);
      const keys = batch.flatMap((p) => (p.key === undefined ? [] : [p.key]));
      for (const k of keys) this.#busyKeys.add(k);
      this.#activeBatches++;
      void this.#run(batch).finally(() => {
        for (const k of keys) this.#busyKeys.delete(k);
        this.#activeBatches--;
        if (this.#activeBatches === 0 && this.#queue.length === 0) for (const r of this.#idle.splice(0)) r();
        this.#pump();
      });
    }
  }

  async #run(batch: Pending[]): Promise<void> {
    // Optimistic first: no SAVEPOINT round trips. Nearly every batch commits as is; one
    // whose callback fails is rolled back and run again with a savepoint per callback.
    let outcome = await this.#runBatch(batch, 'optimistic');
    if (outcome === 'rerun') outcome = await this.#runBatch(batch, 'savepoints');
    if (outcome !== 'aborted') return;
    // Alone, a callback holds only its own locks; a cycle with another node is retried.
    for (const p of batch) {
      for (let attempt = 1; ; attempt++) {
        if ((await this.#runBatch([p], attempt < 6 ? 'savepoints' : 'final')) === 'settled') break;
        await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
      }
    }
  }

  /**
   * Runs callbacks in one transaction and settles them, or returns without settling any:
   * `rerun` when an optimistic batch had a failing callback, `aborted` on a deadlock or
   * serialization failure. `final` settles whatever happens (no abort).
   */
  async #runBatch(batch: Pending[], mode: 'optimistic' | 'savepoints' | 'final'): Promise<'settled' | 'rerun' | 'aborted'> {
    let client: PoolClient;
    try {
      client = await this.#writePool.connect();
    } catch (err) {
      for (const p of batch) p.reject(err);
      return 'settled';
    }
    const outcomes: Outcome[] = [];
    let broken: unknown = null;
    let rerun = false;
    const touched = new Set<ChannelId>();
    try {
      // Not waited for either: the callbacks' statements follow it on the pipeline. BEGIN
      // fails only with its connection, and then every statement after it fails too.
      const begun = client.query('BEGIN');
      begun.catch(() => {});
      // Writes not waited for (WriteBehind) are the running callback's; callbacks run
      // interleaved share theirs (any failure among them re-runs the batch anyway).
      let behind = new WriteBehind();
      const tx = transactional(corked(client), (id) => touched.add(id), (write) => behind.send(write));
      const call = (p: Pending, own: boolean) => {
        if (own) behind = new WriteBehind();
        return behind.around(() => p.fn(tx));
      };
      if (mode === 'optimistic') {
        // Keyed callbacks with distinct keys touch disjoint rows: run them interleaved, so
        // their statements share round trips (the connection pipelines). The rest, and
        // any later callback with a key already taken, run one after another afterwards.
        const keys = new Set<string>();
        const together: number[] = [];
        const alone: number[] = [];
        batch.forEach((p, i) => {
          if (p.key !== undefined && !keys.has(p.key)) {
            keys.add(p.key);
            together.push(i);
          } else alone.push(i);
        });
        // Fewer than two to interleave: everything runs in order, as without keys.
        const interleaved = together.length > 1 ? together : [];
        const inOrder = together.length > 1 ? alone : batch.map((_, i) => i);
        const settled = await Promise.allSettled(interleaved.map(async (i) => call(batch[i]!, false)));
        settled.forEach((r, k) => {
          if (r.status === 'fulfilled') outcomes[interleaved[k]!] = { ok: true, value: r.value };
          else rerun = true;
        });
        for (const i of rerun ? [] : inOrder) {
          try {
            outcomes[i] = { ok: true, value: await call(batch[i]!, true) };
          } catch (error) {
            const code = (error as { code?: string }).code ?? '';
            // A lone callback that failed for good needs no second run: its rollback is the batch's.
            if (batch.length === 1 && !RETRY_IN_SAVEPOINT.has(code) && !ABORT_BATCH.has(code)) outcomes[i] = { ok: false, error };
            else rerun = true;
            break;
          }
        }
      } else {
        for (const p of batch) {
          for (let attempt = 1; ; attempt++) {
            await client.query('SAVEPOINT op');
            try {
              const value = await call(p, true);
              await client.query('RELEASE SAVEPOINT op');
              outcomes.push({ ok: true, value });
              break;
            } catch (error) {
              await client.query('ROLLBACK TO SAVEPOINT op');
              await client.query('RELEASE SAVEPOINT op');
              const code = (error as { code?: string }).code ?? '';
              if (RETRY_IN_SAVEPOINT.has(code) && attempt < 4) continue;
              if (ABORT_BATCH.has(code) && mode === 'savepoints') throw new BatchAborted();
              outcomes.push({ ok: false, error });
              break;
            }
          }
        }
      }
      // Optimistic: a failure (to re-run, or a lone callback's for good) discards the batch.
      // With savepoints, failures were already rolled back to theirs; the rest commits.
      const discard = mode === 'optimistic' && (rerun || outcomes.some((o) => !o.ok));
      await begun;
      await client.query(discard ? 'ROLLBACK' : 'COMMIT');
      // Forgotten again after the commit: a read in between may have cached the old row.
      for (const id of touched) this.#channels.forget(id);
    } catch (err) {
      broken = err;
      await client.query('ROLLBACK').catch(() => {});
    } finally {
      const dead = broken instanceof Error && !(broken instanceof BatchAborted) && !('code' in broken);
      client.release(dead ? (broken as Error) : undefined);
    }
    if (broken instanceof BatchAborted) return 'aborted';
    if (broken) {
      const code = (broken as { code?: string }).code ?? '';
      if (ABORT_BATCH.has(code) && mode !== 'final') return 'aborted'; // the COMMIT itself lost a serialization race
      for (const p of batch) p.reject(broken);
      return 'settled';
    }
    if (rerun) return 'rerun';
    settle(batch, outcomes);
    return 'settled';
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#activeBatches > 0 || this.#queue.length > 0) await new Promise<void>((r) => this.#idle.push(r));
    await Promise.all([this.#pool.end(), this.#writePool.end()]);
  }
}

// The read methods are mixed onto the instance in the constructor.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type
export interface PostgresStore extends Reads {}

async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
    const applied = new Set((await client.query<{ id: number }>('SELECT id FROM migrations')).rows.map((r) => r.id));
    for (const m of POSTGRES_MIGRATIONS) {
      if (applied.has(m.id)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO migrations (id, name, applied_at) VALUES ($1, $2, $3)', [m.id, m.name, Date.now()]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
    client.release();
  }
}

/** A named (server-side prepared, per connection) statement. */
function stmt(name: string, text: string) {
  return async <R extends QueryResultRow = Row>(db: Queryable, ...values: unknown[]): Promise<R[]> =>
    (await db.query<R>({ name, text, values })).rows;
}

/**
 * A statement planned at every run (unnamed), for the few whose right plan depends on how
 * many rows the table holds now. A prepared statement's generic plan is made once, after
 * five runs, and kept until the table is next analyzed: made while the deliveries table
 * was nearly empty, the claim walked every pending delivery of each webhook and sorted
 * them, and finding a chain's next delivery walked every delivery of the webhook.
 */
function planned(text: string) {
  return async <R extends QueryResultRow = Row>(db: Queryable, ...values: unknown[]): Promise<R[]> =>
    (await db.query<R>({ text, values })).rows;
}

/**
 * The workspace test of a conversation found by id or by contact, written so that no
 * index can serve it. Otherwise a generic plan made while the table is small may take a
 * list index, (workspace_id, [status,] sort_at, id), for `workspace_id = $2 AND id = $1`:
 * a walk over every conversation of the workspace, per statement. Measured: updating a
 * conversation took 4-8 ms at 10,000 conversations and a third of PostgreSQL's CPU
 * during ingest went to that walk.
 */
function sameWorkspace(column: string, param: string): string {
  return `(${column} || '') = ${param}::text`;
}

/**
 * The conversation list, one statement per combination of filters. A single statement
 * with `($3 IS NULL OR id = ANY($3))` gets a generic plan after five runs that cannot use
 * the primary key for `ids`: it walked the workspace's conversations (p50 6.5 ms by 10 ids).
 */
const conversationQueryCache = new Map<string, { list: ReturnType<typeof stmt>; count: ReturnType<typeof stmt> }>();
function conversationQueries(byStatus: boolean, byIds: boolean) {
  const name = `conversations${byStatus ? ':status' : ''}${byIds ? ':ids' : ''}`;
  let q = conversationQueryCache.get(name);
  if (!q) {
    let n = 1;
    // By ids, the primary key finds them; the workspace only filters.
    const where = [byIds ? sameWorkspace('workspace_id', '$1') : 'workspace_id = $1'];
    if (byStatus) where.push(`status = $${++n}`);
    if (byIds) where.push(`id = ANY($${++n}::text[])`);
    const w = where.join(' AND ');
    q = {
      list: stmt(`list:${name}`, `SELECT * FROM conversations WHERE ${w} ORDER BY sort_at DESC, id DESC LIMIT $${n + 1} OFFSET $${n + 2}`),
      count: stmt(`count:${name}`, `SELECT count(*)::int AS n FROM conversations WHERE ${w}`),
    };
    conversationQueryCache.set(name, q);
  }
  return q;
}

const S = {
  findAccessKey: stmt('findAccessKey', `SELECT k.id, k.key_hash, k.mode, w.id AS workspace_id, w.name, w.signing_key, w.created_at
    FROM access_keys k JOIN workspaces w ON w.id = k.workspace_id WHERE k.key_hash = $1`),
  getWorkspace: stmt('getWorkspace', 'SELECT * FROM workspaces WHERE id = $1'),
  countWorkspaces: stmt('countWorkspaces', 'SELECT count(*)::int AS n FROM workspaces'),
  getDefaultWorkspace: stmt('getDefaultWorkspace', 'SELECT * FROM workspaces ORDER BY created_at, id LIMIT 1'),
  getChannel: stmt('getChannel', `SELECT * FROM channels WHERE id = $1 AND workspace_id = $2 AND status <> 'deleted'`),
  getChannelForInbound: stmt('getChannelForInbound', `SELECT * FROM channels WHERE id = $1 AND status <> 'deleted'`),
  getChannels: stmt('getChannels', 'SELECT * FROM channels WHERE workspace_id = $1 AND id = ANY($2::text[])'),
  listChannels: stmt('listChannels', `SELECT * FROM channels WHERE workspace_id = $1 AND status <> 'deleted' ORDER BY id LIMIT $2 OFFSET $3`),
  countChannels: stmt('countChannels', `SELECT count(*)::int AS n FROM channels WHERE workspace_id = $1 AND status <> 'deleted'`),
  getContact: stmt('getContact', 'SELECT * FROM contacts WHERE id = $1 AND workspace_id = $2'),
  getContacts: stmt('getContacts', 'SELECT * FROM contacts WHERE workspace_id = $1 AND id = ANY($2::text[])'),
  findContactByIdentifier: stmt('findContactByIdentifier', `SELECT c.* FROM contact_identifiers i JOIN contacts c ON c.id = i.contact_id
    WHERE i.workspace_id = $1 AND i.key = $2 AND i.value = $3`),
  getContactIdentifiers: stmt('getContactIdentifiers', 'SELECT key, value FROM contact_identifiers WHERE workspace_id = $1 AND contact_id = $2'),
  // Three lookups, one round trip (rows as JSON, mapped like the plain ones).
  inboundContext: stmt('inboundContext', `SELECT
      (SELECT to_jsonb(m) FROM messages m WHERE m.channel_id = $1 AND m.provider_message_id = $2) AS duplicate,
      to_jsonb(c) AS contact,
      (SELECT to_jsonb(v) FROM conversations v WHERE v.contact_id = c.id AND ${sameWorkspace('v.workspace_id', '$3')} AND v.status = 'active') AS conversation
    FROM (SELECT 1) AS one
    LEFT JOIN (contact_identifiers i JOIN contacts c ON c.id = i.contact_id) ON i.workspace_id = $3 AND i.key = $4 AND i.value = $5`),
  getConversation: stmt('getConversation', `SELECT * FROM conversations WHERE id = $1 AND ${sameWorkspace('workspace_id', '$2')}`),
  findActiveConversation: stmt('findActiveConversation', `SELECT * FROM conversations WHERE contact_id = $1 AND ${sameWorkspace('workspace_id', '$2')}
    AND status = 'active'`),
  getMessage: stmt('getMessage', 'SELECT * FROM messages WHERE id = $1 AND workspace_id = $2'),
  findMessageByProviderId: stmt('findMessageByProviderId', 'SELECT * FROM messages WHERE channel_id = $1 AND provider_message_id = $2'),
  // Newest first by position: offset N is the range seq <= count - N, one probe at any depth.
  // (The bound is a scalar subquery so the planner sees a constant range on the index.)
  listMessages: stmt('listMessages', `SELECT * FROM messages WHERE conversation_id = $1
    AND seq <= (SELECT message_count FROM conversations WHERE id = $1 AND ${sameWorkspace('workspace_id', '$2')}) - $3 ORDER BY seq DESC LIMIT $4`),
  listMessagesExcluding: stmt('listMessagesExcluding', `SELECT * FROM messages WHERE conversation_id = $1 AND workspace_id = $2
    AND NOT (platform = ANY($3::text[])) ORDER BY seq DESC LIMIT $4 OFFSET $5`),
  // A keyset range on (conversation_id, seq): one probe at any depth.
  pageMessagesDesc: stmt('pageMessagesDesc', `SELECT * FROM messages WHERE conversation_id = $1 AND workspace_id = $2 AND seq < $3
    ORDER BY seq DESC LIMIT $4`),
  pageMessagesAsc: stmt('pageMessagesAsc', `SELECT * FROM messages WHERE conversation_id = $1 AND workspace_id = $2 AND seq > $3
    ORDER BY seq ASC LIMIT $4`),
  messageCount: stmt('messageCount', `SELECT message_count AS n FROM conversations WHERE id = $1 AND ${sameWorkspace('workspace_id', '$2')}`),
  countMessages: stmt('countMessages', `SELECT count(*)::int AS n FROM messages WHERE conversation_id = $1 AND workspace_id = $2
    AND NOT (platform = ANY($3::text[]))`),
  getWebhook: stmt('getWebhook', 'SELECT * FROM webhooks WHERE id = $1 AND workspace_id = $2'),
  listWebhooks: stmt('listWebhooks', 'SELECT * FROM webhooks WHERE workspace_id = $1 ORDER BY id LIMIT $2 OFFSET $3'),
  countAllWebhooks: stmt('countAllWebhooks', 'SELECT count(*)::int AS n FROM webhooks WHERE workspace_id = $1'),
  countWebhooks: stmt('countWebhooks', `SELECT count(*) FILTER (WHERE channel_id IS NOT NULL)::int AS specific,
    count(*) FILTER (WHERE channel_id IS NULL)::int AS generic FROM webhooks WHERE workspace_id = $1`),
  matchingWebhooks: stmt('matchingWebhooks', `SELECT * FROM webhooks WHERE workspace_id = $1 AND status = 'enabled'
    AND (channel_id IS NULL OR channel_id = $2) ORDER BY id`),
  listDeliveries: stmt('listDeliveries', `SELECT * FROM deliveries WHERE webhook_id = $1 AND workspace_id = $2
    AND ($3::text IS NULL OR state = $3) ORDER BY id DESC LIMIT $4 OFFSET $5`),
  countDeliveries: stmt('countDeliveries', `SELECT count(*)::int AS n FROM deliveries WHERE webhook_id = $1 AND workspace_id = $2
    AND ($3::text IS NULL OR state = $3)`),
  getDelivery: stmt('getDelivery', 'SELECT * FROM deliveries WHERE id = $1 AND webhook_id = $2 AND workspace_id = $3'),
  listAttempts: stmt('listAttempts', 'SELECT * FROM delivery_attempts WHERE delivery_id = $1 ORDER BY id'),
  getEvent: stmt('getEvent', 'SELECT * FROM events WHERE id = $1 AND workspace_id = $2'),
  nextDeliveryDue: stmt('nextDeliveryDue', `SELECT min(next_attempt_at) AS t FROM deliveries WHERE state = 'pending' AND next_attempt_at < ${PARKED_AT}`),
  nextSendJobDue: stmt('nextSendJobDue', 'SELECT min(run_at) AS t FROM send_jobs'),
  countEvents: stmt('countEvents', 'SELECT count(*)::int AS n FROM events WHERE workspace_id = $1'),
  listEvents: stmt('listEvents', 'SELECT * FROM events WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3'),
};

function reads(db: Queryable, channels?: ChannelCache): Reads {
  const one = <T>(rows: Row[], map: (r: Row) => T): T | undefined => (rows[0] ? map(rows[0]) : undefined);
  return {
    async findAccessKey(keyHash: Buffer): Promise<AuthenticatedKey | undefined> {
      const r = (await S.findAccessKey(db, keyHash))[0];
      if (!r) return undefined;
      const workspace = toWorkspace({ id: r.workspace_id, name: r.name, signing_key: r.signing_key, created_at: r.created_at });
      return { keyHash: r.key_hash as Buffer, workspace, keyId: r.id as AccessKeyId, mode: r.mode as KeyMode };
    },
    getWorkspace: async (id) => one(await S.getWorkspace(db, id), toWorkspace),
    countWorkspaces: async () => (await S.countWorkspaces(db))[0].n,
    getDefaultWorkspace: async () => one(await S.getDefaultWorkspace(db), toWorkspace),
    getChannel: async (ws, id) => one(await S.getChannel(db, id, ws), toChannel),
    getChannelForInbound: (id) => {
      const load = async (channelId: ChannelId) => one(await S.getChannelForInbound(db, channelId), toChannel);
      return channels ? channels.get(id, load) : load(id);
    },
    async getChannels(ws, ids) {
      if (ids.length === 0) return [];
      const byId = new Map((await S.getChannels(db, ws, ids)).map((r) => [r.id as string, toChannel(r)]));
      return ids.flatMap((id) => byId.get(id) ?? []);
    },
    async listChannels(ws, offset, limit) {
      const [items, count] = await Promise.all([S.listChannels(db, ws, limit, offset), S.countChannels(db, ws)]);
      return { items: items.map(toChannel), total: count[0].n };
    },
    getContact: async (ws, id) => one(await S.getContact(db, id, ws), toContact),
    getContacts: async (ws, ids) => (ids.length === 0 ? [] : (await S.getContacts(db, ws, [...new Set(ids)])).map(toContact)),
    findContactByIdentifier: async (ws, i) => one(await S.findContactByIdentifier(db, ws, i.key, i.value), toContact),
    getContactIdentifiers: async (ws, id) => (await S.getContactIdentifiers(db, ws, id)) as ContactIdentifier[],
    inboundContext: async (ws, channelId, providerMessageId, identifier) =>
      toInboundContext((await S.inboundContext(db, channelId, providerMessageId, ws, identifier.key, identifier.value))[0]),
    getConversation: async (ws, id) => one(await S.getConversation(db, id, ws), toConversation),
    findActiveConversation: async (ws, contactId) => one(await S.findActiveConversation(db, contactId, ws), toConversation),
    async listConversations(ws, f: ConversationFilter): Promise<Page<Conversation>> {
      if (f.ids && f.ids.length === 0) return { items: [], total: 0 };
      const q = conversationQueries(f.status !== undefined, f.ids !== undefined);
      const args = [ws, ...(f.status !== undefined ? [f.status] : []), ...(f.ids !== undefined ? [f.ids] : [])];
      const [items, count] = await Promise.all([q.list(db, ...args, f.limit, f.offset), q.count(db, ...args)]);
      return { items: items.map(toConversation), total: count[0].n };
    },
    getMessage: async (ws, id) => one(await S.getMessage(db, id, ws), toMessage),
    findMessageByProviderId: async (channelId, providerId) => one(await S.findMessageByProviderId(db, channelId, providerId), toMessage),
    async pageMessages(ws, c: MessageCursor) {
      const rows = c.order === 'desc'
        ? await S.pageMessagesDesc(db, c.conversationId, ws, c.after ?? 2_147_483_647, c.limit)
        : await S.pageMessagesAsc(db, c.conversationId, ws, c.after ?? 0, c.limit);
      return rows.map((r) => ({ seq: Number(r.seq), message: toMessage(r) }));
    },
    async listMessages(ws, f: MessageFilter): Promise<Page<Message>> {
      const exclude = f.excludePlatforms ?? [];
      if (exclude.length === 0) {
        // The conversation keeps its own count, in the same transaction as every insert.
        const [items, count] = await Promise.all([
          S.listMessages(db, f.conversationId, ws, f.offset, f.limit),
          S.messageCount(db, f.conversationId, ws),
        ]);
        return { items: items.map(toMessage), total: count[0]?.n ?? 0 };
      }
      const [items, count] = await Promise.all([
        S.listMessagesExcluding(db, f.conversationId, ws, exclude, f.limit, f.offset),
        S.countMessages(db, f.conversationId, ws, exclude),
      ]);
      return { items: items.map(toMessage), total: count[0].n };
    },
    getWebhook: async (ws, id) => one(await S.getWebhook(db, id, ws), toWebhook),
    async listWebhooks(ws, offset, limit) {
      const [items, count] = await Promise.all([S.listWebhooks(db, ws, limit, offset), S.countAllWebhooks(db, ws)]);
      return { items: items.map(toWebhook), total: count[0].n };
    },
    async countWebhooks(ws) {
      const r = (await S.countWebhooks(db, ws))[0];
      return { channelSpecific: r.specific, generic: r.generic };
    },
    matchingWebhooks: async (ws, channelId, type: WebhookEventType) =>
      (await S.matchingWebhooks(db, ws, channelId)).map(toWebhook).filter((w) => w.events.includes(type)),
    async listDeliveries(ws, webhookId, state, offset, limit) {
      const [items, count] = await Promise.all([
        S.listDeliveries(db, webhookId, ws, state ?? null, limit, offset),
        S.countDeliveries(db, webhookId, ws, state ?? null),
      ]);
      return { items: items.map(toDelivery), total: count[0].n };
    },
    getDelivery: async (ws, webhookId, id) => one(await S.getDelivery(db, id, webhookId, ws), toDelivery),
    listAttempts: async (deliveryId) => (await S.listAttempts(db, deliveryId)).map(toAttempt),
    getEvent: async (ws, id) => one(await S.getEvent(db, id, ws), toEvent),
    countEvents: async (ws) => (await S.countEvents(db, ws))[0].n,
    nextDeliveryDue: async () => (await S.nextDeliveryDue(db))[0].t,
    nextSendJobDue: async () => (await S.nextSendJobDue(db))[0].t,
    listEvents: async (ws, afterId, limit) => (await S.listEvents(db, ws, afterId ?? '', limit)).map(toEvent),
  };
}

// One round trip: the conversation's counter (its row lock serialises writers of one
// conversation) gives the message its position.
const INSERT_MESSAGE = `WITH counted AS (UPDATE conversations SET message_count = message_count + 1 WHERE id = $3
    RETURNING message_count)
  INSERT INTO messages (id, workspace_id, conversation_id, channel_id, platform, direction, status,
    type, content, from_addr, to_addr, provider_message_id, mode, error, source, tag, report_url, created_at, updated_at, seq)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
            (SELECT message_count FROM counted))
    ON CONFLICT (channel_id, provider_message_id) WHERE provider_message_id IS NOT NULL DO NOTHING`;

const W = {
  insertWorkspace: stmt('insertWorkspace', 'INSERT INTO workspaces (id, name, signing_key, created_at) VALUES ($1, $2, $3, $4)'),
  setSigningKey: stmt('setSigningKey', 'UPDATE workspaces SET signing_key = $1 WHERE id = $2'),
  insertAccessKey: stmt('insertAccessKey', 'INSERT INTO access_keys (id, workspace_id, key_hash, mode, created_at) VALUES ($1, $2, $3, $4, $5)'),
  deleteAccessKeys: stmt('deleteAccessKeys', 'DELETE FROM access_keys WHERE workspace_id = $1'),
  insertChannel: stmt('insertChannel', `INSERT INTO channels (id, workspace_id, name, platform_id, status, settings, secrets, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`),
  updateChannel: stmt('updateChannel', `UPDATE channels SET name = $3, status = $4, settings = $5, secrets = $6, updated_at = $7
    WHERE id = $1 AND workspace_id = $2`),
  // The contact and its identifiers in one statement (the keys are checked at its end).
  insertContact: stmt('insertContact', `WITH contact AS (INSERT INTO contacts (id, workspace_id, msisdn, display_name, first_name,
    last_name, custom_details, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9))
    INSERT INTO contact_identifiers (workspace_id, key, value, contact_id)
    SELECT $2, k, v, $1 FROM unnest($10::text[], $11::text[]) AS i(k, v)`),
  insertIdentifier: stmt('insertIdentifier', 'INSERT INTO contact_identifiers (workspace_id, key, value, contact_id) VALUES ($1, $2, $3, $4)'),
  insertConversation: stmt('insertConversation', `INSERT INTO conversations (id, workspace_id, contact_id, status, channel_ids,
    last_used_channel_id, last_inbound_channel_id, last_received_at, last_message_id, message_count, created_at, updated_at, sort_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`),
  // contact_id and created_at never change; matching them keeps every parameter typed.
  updateConversation: stmt('updateConversation', `UPDATE conversations SET status = $4, channel_ids = $5, last_used_channel_id = $6,
    last_inbound_channel_id = $7, last_received_at = $8, last_message_id = $9, updated_at = $12, sort_at = $13
    WHERE id = $1 AND ${sameWorkspace('workspace_id', '$2')} AND contact_id = $3 AND created_at = $11 AND $10::int IS NOT NULL`),
  uncountMessage: stmt('uncountMessage', 'UPDATE conversations SET message_count = message_count - 1 WHERE id = $1'),
  updateMessageStatus: stmt('updateMessageStatus', `UPDATE messages SET status = $1, error = $2,
    provider_message_id = coalesce(provider_message_id, $3), updated_at = $4 WHERE id = $5`),
  insertSendJob: stmt('insertSendJob', 'INSERT INTO send_jobs (message_id, workspace_id, run_at) VALUES ($1, $2, $3)'),
  // In flight a job is due at its lease's end, like a delivery (see Writes.claimDeliveries).
  claimSendJobs: stmt('claimSendJobs', `UPDATE send_jobs SET locked_until = $1, run_at = $1, attempts = attempts + 1
    WHERE message_id IN (SELECT message_id FROM send_jobs WHERE run_at <= $2 AND locked_until <= $2
                         ORDER BY run_at LIMIT $3 FOR UPDATE SKIP LOCKED)
    RETURNING message_id, workspace_id, attempts, locked_until`),
  deleteSendJob: stmt('deleteSendJob', 'DELETE FROM send_jobs WHERE message_id = $1'),
  rescheduleSendJob: stmt('rescheduleSendJob', 'UPDATE send_jobs SET run_at = $1, locked_until = 0, last_error = $2 WHERE message_id = $3'),
  insertWebhook: stmt('insertWebhook', `INSERT INTO webhooks (id, workspace_id, channel_id, url, events, status, settings,
    first_failure_at, disabled_reason, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`),
  updateWebhook: stmt('updateWebhook', `UPDATE webhooks SET channel_id = $3, url = $4, events = $5, status = $6, settings = $7,
    first_failure_at = $8, disabled_reason = $9, updated_at = $11 WHERE id = $1 AND workspace_id = $2 AND created_at = $10`),
  deleteWebhookAttempts: stmt('deleteWebhookAttempts', 'DELETE FROM delivery_attempts WHERE webhook_id = $1'),
  deleteWebhookDeliveries: stmt('deleteWebhookDeliveries', 'DELETE FROM deliveries WHERE webhook_id = $1'),
  // The event and its subscribers (as matchingWebhooks) in one round trip.
  insertEvent: stmt('insertEvent', `WITH added AS (INSERT INTO events (id, workspace_id, type, channel_id, conversation_id, payload,
    created_at) VALUES ($1, $2, $3, $4, $5, $6, $7))
    SELECT * FROM webhooks WHERE workspace_id = $2 AND status = 'enabled' AND (channel_id IS NULL OR channel_id = $4) ORDER BY id`),
  chainLock: stmt('chainLock', `SELECT pg_advisory_xact_lock(${chainKey('$1', '$2')})`),
  // After chainLock (its own statement, so this one's snapshot sees the chain as it is
  // once the lock is held): queued behind an unfinished delivery of the chain, else pending.
  insertDelivery: stmt('insertDelivery', `INSERT INTO deliveries (id, workspace_id, webhook_id, event_id, event_type, conversation_id, state,
    next_attempt_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6,
    (SELECT CASE WHEN EXISTS (SELECT 1 FROM deliveries WHERE webhook_id = $3 AND conversation_id = $6 AND state IN ('queued','pending'))
            THEN 'queued' ELSE 'pending' END), $7, $7, $7)
    RETURNING state`),
  // The claim and what an attempt needs (payload, URL, signing key) in one round trip.
  claimDeliveries: planned(`WITH claimed AS (UPDATE deliveries SET locked_until = $1, next_attempt_at = $1, attempts = attempts + 1
    WHERE id IN (SELECT d.id FROM deliveries d
                 WHERE d.state = 'pending' AND d.next_attempt_at <= $2 AND d.locked_until <= $2
                   AND NOT (d.webhook_id = ANY($4::text[]))
                   -- A subquery, not a join: a join let the planner start from the webhooks
                   -- and walk each one's deliveries; this way it reads deliveries_due in order.
                   AND (SELECT w.status FROM webhooks w WHERE w.id = d.webhook_id) = 'enabled'
                 ORDER BY d.next_attempt_at LIMIT $3 FOR UPDATE OF d SKIP LOCKED)
    RETURNING *)
    SELECT c.*, e.payload AS claim_payload, w.url AS claim_url, ws.signing_key AS claim_signing_key
    FROM claimed c JOIN events e ON e.id = c.event_id JOIN webhooks w ON w.id = c.webhook_id JOIN workspaces ws ON ws.id = c.workspace_id`),
  unclaimDeliveries: stmt('unclaimDeliveries', 'UPDATE deliveries SET locked_until = 0, next_attempt_at = $2, attempts = attempts - 1 WHERE id = ANY($1::text[])'),
  insertAttempt: stmt('insertAttempt', `INSERT INTO delivery_attempts (id, delivery_id, webhook_id, url, attempted_at, duration_ms,
    status_code, response_excerpt, error, trigger) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`),
  // The chain's lock found from one of its deliveries (the same key as chainLock), so
  // finishing needs no round trip to learn the chain first.
  lockChainOf: stmt('lockChainOf', `SELECT pg_advisory_xact_lock(${chainKey('webhook_id', 'conversation_id')}) FROM deliveries WHERE id = $1`),
  finishDelivery: stmt('finishDelivery', `UPDATE deliveries SET state = $1, last_status_code = $2, last_error = $3, updated_at = $4,
    locked_until = 0 WHERE id = $5`),
  retryDelivery: stmt('retryDelivery', `UPDATE deliveries SET next_attempt_at = ${dueUnlessParked('$1::bigint')}, last_status_code = $2, last_error = $3, updated_at = $4,
    locked_until = 0 WHERE id = $5`),
  promote: planned(`UPDATE deliveries SET state = 'pending', next_attempt_at = ${dueUnlessParked('$1::bigint')}, updated_at = $1
    WHERE id = (SELECT id FROM deliveries WHERE webhook_id = $2 AND conversation_id = $3 AND state = 'queued' ORDER BY id LIMIT 1)
    AND NOT EXISTS (SELECT 1 FROM deliveries WHERE webhook_id = $2 AND conversation_id = $3 AND state = 'pending')`),
  // promote, for the chain of delivery $2.
  promoteChainOf: planned(`UPDATE deliveries SET state = 'pending', next_attempt_at = ${dueUnlessParked('$1::bigint')}, updated_at = $1
    WHERE id = (SELECT q.id FROM deliveries d JOIN deliveries q ON q.webhook_id = d.webhook_id AND q.conversation_id = d.conversation_id
                WHERE d.id = $2 AND q.state = 'queued' ORDER BY q.id LIMIT 1)
    AND NOT EXISTS (SELECT 1 FROM deliveries d JOIN deliveries p ON p.webhook_id = d.webhook_id AND p.conversation_id = d.conversation_id
                    WHERE d.id = $2 AND p.state = 'pending')`),
  setWebhookHealth: stmt('setWebhookHealth', 'UPDATE webhooks SET first_failure_at = $1 WHERE id = $2'),
  disableWebhook: stmt('disableWebhook', `UPDATE webhooks SET status = 'disabled', disabled_reason = $1, updated_at = $2
    WHERE id = $3 AND status = 'enabled' RETURNING id`),
  // See PARKED_AT: the webhook's status decides, so every caller parks the same way.
  parkIfDisabled: stmt('parkIfDisabled', `UPDATE deliveries SET next_attempt_at = ${PARKED_AT} WHERE webhook_id = $1 AND state = 'pending'
    AND next_attempt_at < ${PARKED_AT} AND EXISTS (SELECT 1 FROM webhooks WHERE id = $1 AND status = 'disabled')`),
  unparkIfEnabled: stmt('unparkIfEnabled', `UPDATE deliveries SET next_attempt_at = $1 WHERE webhook_id = $2 AND state = 'pending'
    AND next_attempt_at >= ${PARKED_AT} AND EXISTS (SELECT 1 FROM webhooks WHERE id = $2 AND status = 'enabled')`),
  failedChains: stmt('failedChains', `SELECT DISTINCT conversation_id FROM deliveries
    WHERE workspace_id = $1 AND webhook_id = $2 AND state = 'failed' AND created_at >= $3 ORDER BY conversation_id`),
  rememberReplayKey: stmt('rememberReplayKey', `INSERT INTO inbound_replay_keys (channel_id, key, expires_at) VALUES ($1, $2, $3)
    ON CONFLICT (channel_id, key) DO UPDATE SET expires_at = excluded.expires_at WHERE inbound_replay_keys.expires_at <= $4
    RETURNING 1`),
  pruneReplayKeys: stmt('pruneReplayKeys', 'DELETE FROM inbound_replay_keys WHERE expires_at <= $1'),
  releaseDeliveryLeases: stmt('releaseDeliveryLeases', `UPDATE deliveries SET locked_until = 0,
    next_attempt_at = CASE WHEN state = 'pending' AND next_attempt_at < ${PARKED_AT} THEN $1 ELSE next_attempt_at END
    WHERE locked_until > 0`),
  releaseSendLeases: stmt('releaseSendLeases', 'UPDATE send_jobs SET locked_until = 0, run_at = $1 WHERE locked_until > 0'),
};

const channelArgs = (c: Channel) => [
  c.id, c.workspaceId, c.name, c.platformId, c.status, JSON.stringify(c.settings), JSON.stringify(c.secrets), c.createdAt, c.updatedAt,
];
const conversationArgs = (c: Conversation) => {
  const p = conversationParams(c);
  return [p.id, p.workspace_id, p.contact_id, p.status, p.channel_ids, p.last_used_channel_id, p.last_inbound_channel_id,
    p.last_received_at, p.last_message_id, p.message_count, p.created_at, p.updated_at, p.sort_at];
};
const webhookArgs = (w: Webhook) => {
  const p = webhookParams(w);
  return [p.id, p.workspace_id, p.channel_id, p.url, p.events, p.status, p.settings, p.first_failure_at, p.disabled_reason,
    p.created_at, p.updated_at];
};

/**
 * The batch's connection with its socket corked until the end of the event loop's turn:
 * the statements sent in one turn (by interleaved callbacks, and the writes they do not
 * wait for) leave in one write(2) instead of one each (~55 us apiece on the measured host).
 */
function corked(client: PoolClient): Queryable & TurnQueryable {
  const stream = (client as unknown as { connection: { stream: { cork(): void; uncork(): void } } }).connection.stream;
  let held = false;
  const atEnd: Array<{ fn: () => void; phase: number }> = [];
  let running = false;
  /** Runs the waiting hooks up to `maxPhase`, lowest phase first, each in the order it came. */
  const runHooks = (maxPhase: number) => {
    if (running) return; // a hook's own statement: the loop below keeps the order
    running = true;
    try {
      for (;;) {
        let next = -1;
        atEnd.forEach((h, i) => {
          if (h.phase <= maxPhase && (next < 0 || h.phase < atEnd[next]!.phase)) next = i;
        });
        if (next < 0) break;
        atEnd.splice(next, 1)[0]!.fn();
      }
    } finally {
      running = false;
    }
  };
  const release = () => {
    // Hooks first: what they send leaves in the same write.
    runHooks(Infinity);
    held = false;
    stream.uncork();
  };
  const hold = () => {
    if (held) return;
    held = true;
    stream.cork();
    setImmediate(release);
  };
  return {
    query(config) {
      // A statement sent now may need a row whose insert waits for the turn's end (a
      // contact, a conversation: phases 0 and 1): those go first.
      runHooks(1);
      hold();
      return client.query(config);
    },
    atTurnEnd(fn, phase) {
      hold();
      atEnd.push({ fn, phase });
    },
  };
}

let replayWrites = 0;

/**
 * The Tx of one callback: reads and writes on its transaction's own connection. Writes
 * whose result it does not need go through `later` (see WriteBehind): sent, not waited for.
 */
function transactional(
  db: Queryable & TurnQueryable, onChannelWrite: (id: ChannelId) => void, later: (write: Promise<unknown>) => Promise<void>,
): Tx {
  const base = reads(db);
  const appends = appendBatch(db);
  const deliveries = deliveryBatch(db, async (d) => {
    // Both sent at once; the insert's snapshot, taken after the lock's statement, sees the chain as it is.
    const [, [row]] = await Promise.all([
      W.chainLock(db, d.webhookId, d.conversationId),
      W.insertDelivery(db, d.id, d.workspaceId, d.webhookId, d.eventId, d.eventType, d.conversationId, d.createdAt),
    ]);
    return row.state as DeliveryState;
  });
  const records = recordBatches(db, {
    getDelivery: base.getDelivery,
    getWebhook: base.getWebhook,
    insertAttempt: async (a) => void (await W.insertAttempt(db, a.id, a.deliveryId, a.webhookId, a.url, a.attemptedAt, a.durationMs,
      a.statusCode, a.responseExcerpt, a.error, a.trigger)),
    // Three statements in this order on the connection: the chain's lock is held before it
    // changes, and the next delivery's promotion sees this one ended.
    finish: async (f) => void (await Promise.all([
      W.lockChainOf(db, f.id),
      W.finishDelivery(db, f.state, f.statusCode, f.error, f.now, f.id),
      W.promoteChainOf(db, f.now, f.id),
    ])),
  });
  const openings = openingBatches(db, {
    contact: ({ contact: c, identifiers }) => W.insertContact(db, c.id, c.workspaceId, c.msisdn, c.displayName, c.firstName, c.lastName,
      JSON.stringify(c.customDetails), c.createdAt, c.updatedAt, identifiers.map((i) => i.key), identifiers.map((i) => i.value)),
    conversation: (c) => W.insertConversation(db, ...conversationArgs(c)),
  });
  const lookups = lookupBatch(db, (l) => base.inboundContext(l.ws, l.channelId, l.providerMessageId, l.identifier));
  const promote = (webhookId: string, conversationId: string, now: number) => later(W.promote(db, now, webhookId, conversationId));
  /** Parks a disabled webhook's pending deliveries, or makes an enabled one's parked deliveries due at `now`. */
  const park = async (webhookId: string, now: number) => {
    await W.parkIfDisabled(db, webhookId);
    await W.unparkIfEnabled(db, now, webhookId);
  };
  const writes: Writes = {
    insertWorkspace: async (w: Workspace) => void (await W.insertWorkspace(db, w.id, w.name, w.signingKey, w.createdAt)),
    setSigningKey: async (ws, key) => void (await W.setSigningKey(db, key, ws)),
    insertAccessKey: async (k) => void (await W.insertAccessKey(db, k.id, k.workspaceId, k.keyHash, k.mode, k.createdAt)),
    deleteAccessKeys: async (ws) => void (await W.deleteAccessKeys(db, ws)),
    insertChannel: async (c) => {
      onChannelWrite(c.id);
      await W.insertChannel(db, ...channelArgs(c));
    },
    updateChannel: async (c) => {
      onChannelWrite(c.id);
      const a = channelArgs(c);
      await W.updateChannel(db, a[0], a[1], a[2], a[4], a[5], a[6], a[8]);
    },
    // A concurrent node may have claimed the identifier: the unique violation makes the
    // whole callback run again, and it then finds that contact.
    insertContact: (contact: Contact, identifiers: ContactIdentifier[]) => later(openings.contacts.add({ contact, identifiers })),
    addContactIdentifier: (ws: WorkspaceId, contactId: ContactId, i: ContactIdentifier) =>
      later(W.insertIdentifier(db, ws, i.key, i.value, contactId)),
    insertConversation: (c) => later(openings.conversations.add(c)),
    updateConversation: (c) => later(W.updateConversation(db, ...conversationArgs(c))),
    async insertMessage(m: Message) {
      // The conversation's counter gives the message its position (the row lock serialises
      // writers of one conversation); a duplicate gives it back.
      const p = messageParams(m);
      const res = await db.query({
        name: 'insertMessage',
        text: INSERT_MESSAGE,
        values: [p.id, p.workspace_id, p.conversation_id, p.channel_id, p.platform, p.direction, p.status, p.type, p.content,
          p.from_addr, p.to_addr, p.provider_message_id, p.mode, p.error, p.source, p.tag, p.report_url, p.created_at, p.updated_at],
      });
      if (res.rowCount === 1) return true;
      await W.uncountMessage(db, m.conversationId);
      return false;
    },
    async appendMessage(m: Message, c: Conversation, events: OutboxEvent[]) {
      assertAppendable(m, c, events);
      return appends.add({ message: m, conversation: c, events });
    },
    updateMessageStatus: (id: MessageId, status: MessageStatus, error: MessageError | null, providerId: string | null, at: number) =>
      later(W.updateMessageStatus(db, status, error ? JSON.stringify(error) : null, providerId, at, id)),
    insertSendJob: (messageId, ws, runAt) => later(W.insertSendJob(db, messageId, ws, runAt)),
    claimSendJobs: async (now, leaseMs, limit) =>
      (await W.claimSendJobs(db, now + leaseMs, now, limit)).map((r): SendJob => ({
        messageId: r.message_id, workspaceId: r.workspace_id, attempts: r.attempts, lockedUntil: r.locked_until,
      })),
    deleteSendJob: (messageId) => later(W.deleteSendJob(db, messageId)),
    rescheduleSendJob: (messageId, runAt, lastError) => later(W.rescheduleSendJob(db, runAt, lastError, messageId)),
    insertWebhook: async (w) => void (await W.insertWebhook(db, ...webhookArgs(w))),
    async updateWebhook(w) {
      await W.updateWebhook(db, ...webhookArgs(w));
      await park(w.id, w.updatedAt ?? w.createdAt);
    },
    async deleteWebhook(ws: WorkspaceId, id: WebhookId) {
      const res = await db.query({ name: 'deleteWebhookCount', text: 'DELETE FROM webhooks WHERE id = $1 AND workspace_id = $2', values: [id, ws] });
      if (res.rowCount !== 1) return false;
      await W.deleteWebhookAttempts(db, id);
      await W.deleteWebhookDeliveries(db, id);
      return true;
    },
    insertEvent: async (e: OutboxEvent) =>
      (await W.insertEvent(db, e.id, e.workspaceId, e.type, e.channelId, e.conversationId, e.payload, e.createdAt))
        .map(toWebhook).filter((w) => w.events.includes(e.type)),
    insertDelivery: (d: NewDelivery) => deliveries.add(d),
    async claimDeliveries(now, leaseMs, limit, skipWebhooks) {
      const rows = await W.claimDeliveries(db, now + leaseMs, now, limit, skipWebhooks);
      return rows.map((row): ClaimedDelivery => ({
        delivery: toDelivery(row), url: row.claim_url, payload: row.claim_payload, signingKey: row.claim_signing_key,
        lockedUntil: now + leaseMs,
      }));
    },
    unclaimDeliveries: (ids: DeliveryId[], now: number) => later(W.unclaimDeliveries(db, ids, now)),
    recordAttempt: (a: DeliveryAttempt) => later(records.insertAttempt.add(a)),
    finishDelivery: (id: DeliveryId, state, statusCode, error, now) => later(records.finish.add({ id, state, statusCode, error, now })),
    retryDelivery: (id, nextAt, statusCode, error, now) => later(W.retryDelivery(db, nextAt, statusCode, error, now, id)),
    setWebhookHealth: (id, firstFailureAt) => later(W.setWebhookHealth(db, firstFailureAt, id)),
    async disableWebhook(id, reason, now) {
      if ((await W.disableWebhook(db, reason, now, id)).length !== 1) return false;
      await park(id, now);
      return true;
    },
    async recoverDeliveries(ws, webhookId, since, now) {
      const chains = await W.failedChains(db, ws, webhookId, since);
      for (const c of chains) void later(W.chainLock(db, webhookId, c.conversation_id));
      const res = await db.query({
        name: 'recoverDeliveriesCount',
        text: `UPDATE deliveries SET state = 'queued', attempts = 0, next_attempt_at = $1, updated_at = $1
               WHERE workspace_id = $2 AND webhook_id = $3 AND state = 'failed' AND created_at >= $4`,
        values: [now, ws, webhookId, since],
      });
      for (const c of chains) void promote(webhookId, c.conversation_id, now);
      // Recovered while disabled: parked until enabled (sent after the promotions, in order).
      await park(webhookId, now);
      return res.rowCount ?? 0;
    },
    async rememberReplayKey(channelId: ChannelId, key: string, expiresAt: number, now: number) {
      const rows = await W.rememberReplayKey(db, channelId, key, expiresAt, now);
      if (++replayWrites % 1000 === 0) await W.pruneReplayKeys(db, now);
      return rows.length === 1;
    },
    async releaseLeases(now: number) {
      await W.releaseDeliveryLeases(db, now);
      await W.releaseSendLeases(db, now);
    },
  };
  // Inside a batch, lookups made in the same turn share one statement (lookup-batch.ts).
  const inboundContext: Tx['inboundContext'] = (ws, channelId, providerMessageId, identifier) =>
    lookups.add({ ws, channelId, providerMessageId, identifier });
  // Records of delivery attempts read their delivery and webhook the same way (record-batch.ts).
  const getDelivery: Tx['getDelivery'] = (ws, webhookId, id) => records.getDelivery.add({ ws, webhookId, id });
  const getWebhook: Tx['getWebhook'] = (ws, id) => records.getWebhook.add({ ws, id });
  return { ...base, ...writes, inboundContext, getDelivery, getWebhook };
}

