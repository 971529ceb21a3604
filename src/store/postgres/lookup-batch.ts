import type { ChannelId, WorkspaceId } from '../../domain/ids.js';
import type { ContactIdentifier } from '../../domain/records.js';
import type { InboundContext } from '../store.js';
import { toContact, toConversation, toMessage } from '../rows.js';
import type { TurnQueryable } from './per-turn.js';
import { PerTurn } from './per-turn.js';

export interface Lookup {
  ws: WorkspaceId;
  channelId: ChannelId;
  providerMessageId: string;
  identifier: ContactIdentifier;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
type Row = any;

/**
 * `inboundContext` on one batch's connection: a batch's callbacks all start in the same
 * turn and each first asks who its message is from, so those lookups go out as one
 * statement (`LOOKUPS`); a lone one keeps the single-row statement.
 */
export function lookupBatch(db: TurnQueryable, single: (l: Lookup) => Promise<InboundContext>): PerTurn<Lookup, InboundContext> {
  return new PerTurn<Lookup, InboundContext>(db, async (items) => {
    if (items.length === 1) return [await single(items[0]!)];
    const values = [JSON.stringify(items.map((l, n) => ({
      n, channel_id: l.channelId, pid: l.providerMessageId, ws: l.ws, key: l.identifier.key, value: l.identifier.value,
    })))];
    const { rows } = await db.query<Row>({ name: 'inboundContexts', text: LOOKUPS, values });
    return items.map((_, i) => toInboundContext(rows[i]));
  });
}

/** A row of either lookup statement: the duplicate, else the contact and its active conversation, as JSON. */
export function toInboundContext(r: Row): InboundContext {
  if (r.duplicate) return { duplicate: toMessage(r.duplicate) };
  if (!r.contact) return {};
  return { contact: toContact(r.contact), conversation: r.conversation ? toConversation(r.conversation) : undefined };
}

/**
 * The single-row `inboundContext` statement (postgres-store.ts) over many lookups, one row
 * each in their order. Every table is reached through a lookup by key (LATERAL and
 * correlated subqueries), so a plan made for ~100 input rows on small tables stays right.
 */
const LOOKUPS = `SELECT q.n,
    (SELECT to_jsonb(m) FROM messages m WHERE m.channel_id = q.channel_id AND m.provider_message_id = q.pid) AS duplicate,
    to_jsonb(c) AS contact,
    (SELECT to_jsonb(v) FROM conversations v WHERE v.contact_id = c.id AND (v.workspace_id || '') = q.ws AND v.status = 'active')
      AS conversation
  FROM jsonb_to_recordset($1::jsonb) AS q(n int, channel_id text, pid text, ws text, key text, value text)
  LEFT JOIN LATERAL (SELECT c.* FROM contact_identifiers i JOIN contacts c ON c.id = i.contact_id
    WHERE i.workspace_id = q.ws AND i.key = q.key AND i.value = q.value) c ON true
  ORDER BY q.n`;
