import type { DeliveryId, WebhookId, WorkspaceId } from '../../domain/ids.js';
import type { Delivery, DeliveryAttempt, Webhook } from '../../domain/records.js';
import { dueUnlessParked, toDelivery, toWebhook } from '../rows.js';
import { chainKey } from './chain-key.js';
import type { TurnQueryable } from './per-turn.js';
import { PerTurn } from './per-turn.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Row = any;

/**
 * What recording delivery attempts asks of a batch's connection, one statement per kind
 * and turn over all the batch's deliveries (see per-turn.ts): the dispatcher records each
 * attempt in a transaction of its own, keyed by its delivery, and a group commit holds
 * many of them. Each kind keeps the single-row statement for a lone request.
 */
export interface RecordBatches {
  getDelivery: PerTurn<{ ws: WorkspaceId; webhookId: WebhookId; id: DeliveryId }, Delivery | undefined>;
  getWebhook: PerTurn<{ ws: WorkspaceId; id: WebhookId }, Webhook | undefined>;
  insertAttempt: PerTurn<DeliveryAttempt, void>;
  finish: PerTurn<Finish, void>;
}

export interface Finish {
  id: DeliveryId;
  state: 'succeeded' | 'failed';
  statusCode: number | null;
  error: string | null;
  now: number;
}

export interface SingleRecords {
  getDelivery(ws: WorkspaceId, webhookId: WebhookId, id: DeliveryId): Promise<Delivery | undefined>;
  getWebhook(ws: WorkspaceId, id: WebhookId): Promise<Webhook | undefined>;
  insertAttempt(a: DeliveryAttempt): Promise<void>;
  finish(f: Finish): Promise<void>;
}

export function recordBatches(db: TurnQueryable, single: SingleRecords): RecordBatches {
  const rows = async (name: string, text: string, items: unknown[]) =>
    (await db.query<Row>({ name, text, values: [JSON.stringify(items)] })).rows;
  return {
    getDelivery: new PerTurn(db, async (items) => {
      if (items.length === 1) return [await single.getDelivery(items[0]!.ws, items[0]!.webhookId, items[0]!.id)];
      const found = new Map((await rows('getDeliveries', GET_DELIVERIES, items)).map((r) => [r.id, toDelivery(r)]));
      return items.map((q) => found.get(q.id));
    }),
    getWebhook: new PerTurn(db, async (items) => {
      if (items.length === 1) return [await single.getWebhook(items[0]!.ws, items[0]!.id)];
      const found = new Map((await rows('getWebhooks', GET_WEBHOOKS, items)).map((r) => [r.id, toWebhook(r)]));
      return items.map((q) => found.get(q.id));
    }),
    insertAttempt: new PerTurn(db, async (items) => {
      if (items.length === 1) return [await single.insertAttempt(items[0]!)];
      await rows('insertAttempts', INSERT_ATTEMPTS, items.map((a) => ({
        id: a.id, delivery_id: a.deliveryId, webhook_id: a.webhookId, url: a.url, attempted_at: a.attemptedAt,
        duration_ms: a.durationMs, status_code: a.statusCode, response_excerpt: a.responseExcerpt, error: a.error, trigger: a.trigger,
      })));
      return items.map(() => undefined);
    }),
    // A delivery in flight is its chain's only pending one, so the finishes of one turn are
    // of distinct chains; still, two of one delivery never share a statement.
    finish: new PerTurn(db, async (items) => {
      if (items.length === 1) return [await single.finish(items[0]!)];
      const values = [JSON.stringify(items.map((f) => ({
        id: f.id, state: f.state, status_code: f.statusCode, error: f.error, now: f.now,
      })))];
      // In this order on the connection: the chains' locks, the finishes, the promotions.
      await Promise.all([
        db.query({ name: 'lockChainsOf', text: LOCK_CHAINS_OF, values }),
        db.query({ name: 'finishDeliveries', text: FINISH_DELIVERIES, values }),
        db.query({ text: PROMOTE_CHAINS_OF, values }),
      ]);
      return items.map(() => undefined);
    }, { conflicts: (a, b) => a.id === b.id }),
  };
}

// Every table is reached through a lookup by key per input row (LATERAL or `= ANY`), so a
// plan made for ~100 input rows on small tables stays right as they grow.

const GET_DELIVERIES = `SELECT d.* FROM jsonb_to_recordset($1::jsonb) AS q(id text, "webhookId" text, ws text)
  CROSS JOIN LATERAL (SELECT * FROM deliveries WHERE id = q.id AND webhook_id = q."webhookId" AND workspace_id = q.ws) d`;

const GET_WEBHOOKS = `SELECT DISTINCT ON (w.id) w.* FROM jsonb_to_recordset($1::jsonb) AS q(id text, ws text)
  CROSS JOIN LATERAL (SELECT * FROM webhooks WHERE id = q.id AND workspace_id = q.ws) w ORDER BY w.id`;

const INSERT_ATTEMPTS = `INSERT INTO delivery_attempts (id, delivery_id, webhook_id, url, attempted_at, duration_ms, status_code,
    response_excerpt, error, trigger)
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS a(id text, delivery_id text, webhook_id text, url text, attempted_at bigint,
    duration_ms integer, status_code integer, response_excerpt text, error text, trigger text)`;

const FINISHES = `jsonb_to_recordset($1::jsonb) AS f(id text, state text, status_code integer, error text, now bigint)`;

/** The chains of the finished deliveries, locked in key order (the key chainLock uses). */
const LOCK_CHAINS_OF = `SELECT pg_advisory_xact_lock(k) FROM (
    SELECT DISTINCT ${chainKey('d.webhook_id', 'd.conversation_id')} AS k FROM ${FINISHES}
    CROSS JOIN LATERAL (SELECT webhook_id, conversation_id FROM deliveries WHERE id = f.id) d) s ORDER BY k`;

const FINISH_DELIVERIES = `UPDATE deliveries d SET state = f.state, last_status_code = f.status_code, last_error = f.error,
    updated_at = f.now, locked_until = 0
  FROM ${FINISHES} WHERE d.id = f.id AND d.id = ANY (ARRAY(SELECT id FROM jsonb_to_recordset($1::jsonb) AS x(id text)))`;

/** Each finished delivery's chain: its oldest queued delivery becomes pending unless one already is. */
const PROMOTE_CHAINS_OF = `UPDATE deliveries SET state = 'pending', next_attempt_at = ${dueUnlessParked('c.now')}, updated_at = c.now
  FROM (SELECT f.now, (SELECT q.id FROM deliveries q WHERE q.webhook_id = d.webhook_id AND q.conversation_id = d.conversation_id
                       AND q.state = 'queued' ORDER BY q.id LIMIT 1) AS next
        FROM ${FINISHES} CROSS JOIN LATERAL (SELECT webhook_id, conversation_id FROM deliveries WHERE id = f.id) d
        WHERE NOT EXISTS (SELECT 1 FROM deliveries p WHERE p.webhook_id = d.webhook_id AND p.conversation_id = d.conversation_id
                          AND p.state = 'pending')) c
  WHERE deliveries.id = c.next`;
