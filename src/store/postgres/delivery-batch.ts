import type { DeliveryState } from '../../domain/records.js';
import type { NewDelivery } from '../store.js';
import { chainKey } from './chain-key.js';
import type { TurnQueryable } from './per-turn.js';
import { PerTurn } from './per-turn.js';

/**
 * `insertDelivery` on one batch's connection: the deliveries the batch's callbacks fan
 * out in one turn (one per subscribed webhook of each event) go out as two statements
 * over all of them: their chains' locks, taken in key order, then the inserts, each
 * `queued` behind an unfinished delivery of its chain or else `pending`. The inserts run
 * in a statement of their own after the locks, so they see each chain as it is once its
 * lock is held; two deliveries of one chain are never in one statement (the second waits
 * for the next), so the second sees the first. `single` does the same for one delivery.
 */
export function deliveryBatch(
  db: TurnQueryable, single: (d: NewDelivery) => Promise<DeliveryState>,
): PerTurn<NewDelivery, DeliveryState> {
  return new PerTurn<NewDelivery, DeliveryState>(db, async (items) => {
    if (items.length === 1) return [await single(items[0]!)];
    const values = [JSON.stringify(items.map((d) => ({
      id: d.id, ws: d.workspaceId, webhook_id: d.webhookId, event_id: d.eventId, event_type: d.eventType,
      conversation_id: d.conversationId, created_at: d.createdAt,
    })))];
    const [, inserted] = await Promise.all([
      db.query({ name: 'chainLocks', text: CHAIN_LOCKS, values }),
      db.query<{ id: string; state: DeliveryState }>({ name: 'insertDeliveries', text: INSERT_DELIVERIES, values }),
    ]);
    const states = new Map(inserted.rows.map((r) => [r.id, r.state]));
    return items.map((d) => states.get(d.id) ?? new Error(`insertDelivery: ${d.id} was not inserted`));
  }, { conflicts: (a, b) => a.webhookId === b.webhookId && a.conversationId === b.conversationId });
}

const INPUT = `jsonb_to_recordset($1::jsonb) AS d(id text, ws text, webhook_id text, event_id text, event_type text,
    conversation_id text, created_at bigint)`;

const CHAIN_LOCKS = `SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT ${chainKey('d.webhook_id', 'd.conversation_id')} AS k
    FROM ${INPUT}) s ORDER BY k`;

const INSERT_DELIVERIES = `INSERT INTO deliveries (id, workspace_id, webhook_id, event_id, event_type, conversation_id, state,
    next_attempt_at, created_at, updated_at)
  SELECT d.id, d.ws, d.webhook_id, d.event_id, d.event_type, d.conversation_id,
    CASE WHEN EXISTS (SELECT 1 FROM deliveries x WHERE x.webhook_id = d.webhook_id AND x.conversation_id = d.conversation_id
                      AND x.state IN ('queued','pending')) THEN 'queued' ELSE 'pending' END,
    d.created_at, d.created_at, d.created_at
  FROM ${INPUT}
  RETURNING id, state`;
