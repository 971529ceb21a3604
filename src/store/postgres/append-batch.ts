import type { Conversation, Message, OutboxEvent, Webhook } from '../../domain/records.js';
import { conversationParams, messageParams, toWebhook } from '../rows.js';
import type { TurnQueryable } from './per-turn.js';
import { PerTurn } from './per-turn.js';

export interface Append {
  message: Message;
  conversation: Conversation;
  events: OutboxEvent[];
}

/* eslint-disable @typescript-eslint/no-explicit-any */
type Row = any;

/**
 * `appendMessage` on one batch's connection: the appends asked for in one turn go out as
 * one statement over all of them (`APPEND_MESSAGES`); a lone append keeps the single-row
 * statement. Each keeps its own outcome: its events' subscribers, or null for a provider
 * id its channel already has. One statement updates a conversation once, so a second
 * append to the same conversation waits for the next statement.
 */
export function appendBatch(db: TurnQueryable): PerTurn<Append, Webhook[][] | null> {
  return new PerTurn<Append, Webhook[][] | null>(db, async (items) => {
    if (items.length === 1) {
      const { rows } = await db.query<Row>({ name: 'appendMessage', text: APPEND_MESSAGE, values: singleValues(items[0]!) });
      return [orError(() => outcome(items[0]!, rows))];
    }
    const { rows } = await db.query<Row>({ name: 'appendMessages', text: APPEND_MESSAGES, values: manyValues(items) });
    const byIndex = new Map<number, Row[]>();
    for (const r of rows) {
      const list = byIndex.get(r.n);
      if (list) list.push(r);
      else byIndex.set(r.n, [r]);
    }
    return items.map((a, i) => orError(() => outcome(a, byIndex.get(i) ?? [])));
  }, { conflicts: (a, b) => a.conversation.id === b.conversation.id });
}

function orError<T>(fn: () => T): T | Error {
  try {
    return fn();
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** One append's rows (see the statements): null for a duplicate, else each event's subscribers. */
function outcome(p: Append, rows: Row[]): Webhook[][] | null {
  if (rows.length === 0 || rows[0].found === null) throw new Error(`appendMessage: conversation ${p.conversation.id} not found`);
  if (rows[0].appended === null) return null;
  const webhooks = rows.filter((r) => r.id !== null).map(toWebhook);
  return p.events.map((e) => webhooks.filter((w) => w.events.includes(e.type) && (w.channelId === null || w.channelId === e.channelId)));
}

function singleValues({ message: m, conversation: c, events }: Append): unknown[] {
  const p = messageParams(m);
  const q = conversationParams(c);
  return [c.id, c.workspaceId, q.status, q.channel_ids, q.last_used_channel_id, q.last_inbound_channel_id, q.last_received_at,
    q.last_message_id, q.updated_at, q.sort_at,
    p.id, p.channel_id, p.platform, p.direction, p.status, p.type, p.content, p.from_addr, p.to_addr, p.provider_message_id,
    p.mode, p.error, p.source, p.tag, p.report_url, p.created_at, p.updated_at,
    events.map((e) => e.id), events.map((e) => e.type), events.map((e) => e.channelId), events.map((e) => e.payload),
    events.map((e) => e.createdAt)];
}

/** The appends as two JSON documents: one row per message, one per event (`n`: its message). */
function manyValues(batch: Append[]): unknown[] {
  const rows = batch.map(({ message: m, conversation: c }, n) => {
    const p = messageParams(m);
    const q = conversationParams(c);
    return {
      n, conv_id: c.id, ws: c.workspaceId, c_status: q.status, channel_ids: q.channel_ids, last_used: q.last_used_channel_id,
      last_inbound: q.last_inbound_channel_id, last_received_at: q.last_received_at, last_message_id: q.last_message_id,
      c_updated_at: q.updated_at, sort_at: q.sort_at,
      id: p.id, channel_id: p.channel_id, platform: p.platform, direction: p.direction, status: p.status, type: p.type,
      content: p.content, from_addr: p.from_addr, to_addr: p.to_addr, provider_message_id: p.provider_message_id, mode: p.mode,
      error: p.error, source: p.source, tag: p.tag, report_url: p.report_url, created_at: p.created_at, updated_at: p.updated_at,
    };
  });
  const events = batch.flatMap((p, n) => p.events.map((e) => ({
    n, id: e.id, type: e.type, channel_id: e.channelId, payload: e.payload, created_at: e.createdAt,
  })));
  return [JSON.stringify(rows), JSON.stringify(events)];
}

/**
 * A new message with its conversation's update and its events, in one statement (see
 * `Writes.appendMessage`; the workspace test is written as postgres-store.ts's
 * `sameWorkspace` writes it, so that no index serves it). The conversation is locked
 * first and gives the message its position; only an inserted message updates the conversation and adds the events, so a
 * provider's retry that lost the unique index's race changes nothing. Returns no row
 * when the conversation does not exist, one with `appended` null for a duplicate, and
 * otherwise the webhooks that may subscribe (filtered by type and channel per event).
 */
const APPEND_MESSAGE = `WITH conv AS (SELECT message_count + 1 AS seq FROM conversations
    WHERE id = $1 AND (workspace_id || '') = $2::text FOR UPDATE),
  msg AS (INSERT INTO messages (id, workspace_id, conversation_id, channel_id, platform, direction, status,
    type, content, from_addr, to_addr, provider_message_id, mode, error, source, tag, report_url, created_at, updated_at, seq)
    VALUES ($11, $2, $1, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, (SELECT seq FROM conv))
    ON CONFLICT (channel_id, provider_message_id) WHERE provider_message_id IS NOT NULL DO NOTHING
    RETURNING seq),
  upd AS (UPDATE conversations c SET message_count = msg.seq, status = $3, channel_ids = $4, last_used_channel_id = $5,
    last_inbound_channel_id = $6, last_received_at = $7, last_message_id = $8, updated_at = $9, sort_at = $10
    FROM msg WHERE c.id = $1),
  ev AS (INSERT INTO events (id, workspace_id, type, channel_id, conversation_id, payload, created_at)
    SELECT e.id, $2, e.type, e.channel_id, $1, e.payload, e.created_at FROM msg,
      unnest($28::text[], $29::text[], $30::text[], $31::text[], $32::bigint[]) AS e(id, type, channel_id, payload, created_at))
  SELECT conv.seq AS found, msg.seq AS appended, w.* FROM conv LEFT JOIN msg ON true
    LEFT JOIN webhooks w ON msg.seq IS NOT NULL AND w.workspace_id = $2 AND w.status = 'enabled'
      AND (w.channel_id IS NULL OR w.channel_id = ANY($30::text[]))
  ORDER BY w.id`;

/**
 * `APPEND_MESSAGE` over many messages of distinct conversations;
 * only messages actually inserted update their conversation and add their events. The
 * planner sees ~100 rows of input whatever their number: each conversation is found and
 * locked through a LATERAL lookup by its key, and the write connections run with
 * sequential scans off, so that even a plan made while the tables were small (a prepared
 * statement keeps it) finds rows by index instead of hashing a whole table.
 */
const APPEND_MESSAGES = `WITH input AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS i(n int, conv_id text, ws text, c_status text, channel_ids text, last_used text,
      last_inbound text, last_received_at bigint, last_message_id text, c_updated_at bigint, sort_at bigint,
      id text, channel_id text, platform text, direction text, status text, type text, content text, from_addr text, to_addr text,
      provider_message_id text, mode text, error text, source text, tag text, report_url text, created_at bigint, updated_at bigint)),
  events_in AS (SELECT * FROM jsonb_to_recordset($2::jsonb) AS e(n int, id text, type text, channel_id text, payload text, created_at bigint)),
  conv AS (SELECT c.id, c.seq FROM input i CROSS JOIN LATERAL (SELECT id, message_count + 1 AS seq FROM conversations
      WHERE id = i.conv_id AND (workspace_id || '') = i.ws FOR UPDATE) c),
  msg AS (INSERT INTO messages (id, workspace_id, conversation_id, channel_id, platform, direction, status, type, content, from_addr,
      to_addr, provider_message_id, mode, error, source, tag, report_url, created_at, updated_at, seq)
    SELECT i.id, i.ws, i.conv_id, i.channel_id, i.platform, i.direction, i.status, i.type, i.content, i.from_addr, i.to_addr,
      i.provider_message_id, i.mode, i.error, i.source, i.tag, i.report_url, i.created_at, i.updated_at, conv.seq
    FROM input i JOIN conv ON conv.id = i.conv_id
    ON CONFLICT (channel_id, provider_message_id) WHERE provider_message_id IS NOT NULL DO NOTHING
    RETURNING id, seq),
  upd AS (UPDATE conversations c SET message_count = msg.seq, status = i.c_status, channel_ids = i.channel_ids,
      last_used_channel_id = i.last_used, last_inbound_channel_id = i.last_inbound, last_received_at = i.last_received_at,
      last_message_id = i.last_message_id, updated_at = i.c_updated_at, sort_at = i.sort_at
    FROM msg JOIN input i ON i.id = msg.id
    -- The ANY is what the index is walked by: joined alone, a plan made on a small table walks it all.
    WHERE c.id = i.conv_id AND c.id = ANY (ARRAY(SELECT conv_id FROM input))),
  ev AS (INSERT INTO events (id, workspace_id, type, channel_id, conversation_id, payload, created_at)
    SELECT e.id, i.ws, e.type, e.channel_id, i.conv_id, e.payload, e.created_at
    FROM events_in e JOIN input i ON i.n = e.n JOIN msg ON msg.id = i.id)
  SELECT i.n, conv.seq AS found, msg.seq AS appended, w.* FROM input i
    LEFT JOIN conv ON conv.id = i.conv_id
    LEFT JOIN msg ON msg.id = i.id
    LEFT JOIN webhooks w ON msg.seq IS NOT NULL AND w.workspace_id = i.ws AND w.status = 'enabled'
      AND (w.channel_id IS NULL OR w.channel_id IN (SELECT e.channel_id FROM events_in e WHERE e.n = i.n))
  ORDER BY i.n, w.id`;
