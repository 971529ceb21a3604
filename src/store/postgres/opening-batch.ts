import type { Contact, ContactIdentifier, Conversation } from '../../domain/records.js';
import { conversationParams } from '../rows.js';
import type { TurnQueryable } from './per-turn.js';
import { PerTurn } from './per-turn.js';

export interface NewContact {
  contact: Contact;
  identifiers: ContactIdentifier[];
}

/**
 * The inserts that a batch's messages from new contacts make before their appends: their
 * contacts (with identifiers) and their conversations, one statement per kind and turn
 * over all of them (see per-turn.ts). Phases order them at the turn's end: contacts, then
 * conversations, then the appends that need both. A unique violation (another node took
 * the identifier, or opened the contact's conversation) fails the statement and so every
 * insert in it; the batch then runs its callbacks again one by one, and each finds the
 * winner's row.
 */
export function openingBatches(
  db: TurnQueryable,
  single: { contact: (c: NewContact) => Promise<unknown>; conversation: (c: Conversation) => Promise<unknown> },
) {
  return {
    contacts: new PerTurn<NewContact, void>(db, async (items) => {
      if (items.length === 1) await single.contact(items[0]!);
      else {
        await db.query({
          name: 'insertContacts',
          text: INSERT_CONTACTS,
          values: [
            JSON.stringify(items.map(({ contact: c }) => ({
              id: c.id, ws: c.workspaceId, msisdn: c.msisdn, display_name: c.displayName, first_name: c.firstName,
              last_name: c.lastName, custom_details: JSON.stringify(c.customDetails), created_at: c.createdAt, updated_at: c.updatedAt,
            }))),
            JSON.stringify(items.flatMap(({ contact: c, identifiers }) => identifiers.map((i) => ({
              ws: c.workspaceId, key: i.key, value: i.value, contact_id: c.id,
            })))),
          ],
        });
      }
      return items.map(() => undefined);
    }, { phase: 0 }),
    conversations: new PerTurn<Conversation, void>(db, async (items) => {
      if (items.length === 1) await single.conversation(items[0]!);
      else await db.query({ name: 'insertConversations', text: INSERT_CONVERSATIONS, values: [JSON.stringify(items.map(conversationParams))] });
      return items.map(() => undefined);
    }, { phase: 1 }),
  };
}

const INSERT_CONTACTS = `WITH contact AS (INSERT INTO contacts (id, workspace_id, msisdn, display_name, first_name, last_name,
    custom_details, created_at, updated_at)
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS c(id text, ws text, msisdn text, display_name text, first_name text,
      last_name text, custom_details text, created_at bigint, updated_at bigint))
  INSERT INTO contact_identifiers (workspace_id, key, value, contact_id)
    SELECT * FROM jsonb_to_recordset($2::jsonb) AS i(ws text, key text, value text, contact_id text)`;

const INSERT_CONVERSATIONS = `INSERT INTO conversations (id, workspace_id, contact_id, status, channel_ids, last_used_channel_id,
    last_inbound_channel_id, last_received_at, last_message_id, message_count, created_at, updated_at, sort_at)
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS c(id text, workspace_id text, contact_id text, status text, channel_ids text,
    last_used_channel_id text, last_inbound_channel_id text, last_received_at bigint, last_message_id text, message_count integer,
    created_at bigint, updated_at bigint, sort_at bigint)`;
