/**
 * SQLite migrations, numbered and append-only. Each runs once, in its own transaction,
 * and is recorded in `migrations` in that same transaction. Never edit a shipped one.
 */
export const SQLITE_MIGRATIONS: ReadonlyArray<{ id: number; name: string; sql: string }> = [
  {
    id: 1,
    name: 'core',
    sql: `
CREATE TABLE workspaces (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  signing_key TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE access_keys (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  key_hash BLOB NOT NULL UNIQUE,
  mode TEXT NOT NULL CHECK (mode IN ('live','test')),
  created_at INTEGER NOT NULL
);
CREATE INDEX access_keys_workspace ON access_keys(workspace_id);

CREATE TABLE channels (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  name TEXT NOT NULL,
  platform_id TEXT NOT NULL,
  status TEXT NOT NULL,
  settings TEXT NOT NULL,
  secrets TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER
);
CREATE INDEX channels_workspace ON channels(workspace_id, id) WHERE status <> 'deleted';

CREATE TABLE contacts (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  msisdn TEXT,
  display_name TEXT,
  first_name TEXT,
  last_name TEXT,
  custom_details TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  updated_at INTEGER
);

-- One person, one contact: an identifier (E.164 phone number, Telegram id, ...) maps to exactly one contact.
CREATE TABLE contact_identifiers (
  workspace_id TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  contact_id TEXT NOT NULL REFERENCES contacts(id),
  PRIMARY KEY (workspace_id, key, value)
) WITHOUT ROWID;
CREATE INDEX contact_identifiers_contact ON contact_identifiers(contact_id);

CREATE TABLE conversations (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  contact_id TEXT NOT NULL REFERENCES contacts(id),
  status TEXT NOT NULL CHECK (status IN ('active','archived')),
  channel_ids TEXT NOT NULL DEFAULT '[]',
  last_used_channel_id TEXT,
  last_inbound_channel_id TEXT,
  last_received_at INTEGER,
  last_message_id TEXT,
  message_count INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER,
  -- sort key of the v1 list: lastReceivedDatetime desc, falling back to creation
  sort_at INTEGER NOT NULL
);
-- At most one active conversation per contact, enforced by the engine.
CREATE UNIQUE INDEX conversations_one_active ON conversations(contact_id) WHERE status = 'active';
CREATE INDEX conversations_list ON conversations(workspace_id, sort_at DESC, id DESC);
CREATE INDEX conversations_list_status ON conversations(workspace_id, status, sort_at DESC, id DESC);

CREATE TABLE messages (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL REFERENCES conversations(id),
  channel_id TEXT NOT NULL,
  platform TEXT NOT NULL,
  direction TEXT NOT NULL CHECK (direction IN ('sent','received')),
  status TEXT NOT NULL,
  type TEXT NOT NULL,
  content TEXT NOT NULL,
  from_addr TEXT NOT NULL,
  to_addr TEXT NOT NULL,
  provider_message_id TEXT,
  mode TEXT NOT NULL,
  error TEXT,
  source TEXT,
  tag TEXT,
  report_url TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER
);
-- Providers retry: the same provider message id on a channel is one message.
CREATE UNIQUE INDEX messages_provider_id ON messages(channel_id, provider_message_id) WHERE provider_message_id IS NOT NULL;
-- The v1 message list: newest first within a conversation (ids are time-ordered).
CREATE INDEX messages_conversation ON messages(conversation_id, id DESC);

CREATE TABLE send_jobs (
  message_id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  run_at INTEGER NOT NULL,
  locked_until INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT
);
CREATE INDEX send_jobs_due ON send_jobs(run_at);

CREATE TABLE webhooks (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  channel_id TEXT,
  url TEXT NOT NULL,
  events TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('enabled','disabled')),
  settings TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER
);
CREATE INDEX webhooks_workspace ON webhooks(workspace_id, id);

-- The transactional outbox: written in the same transaction as the change it describes.
CREATE TABLE events (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  type TEXT NOT NULL,
  channel_id TEXT,
  conversation_id TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX events_workspace ON events(workspace_id, id);
`,
  },
  {
    id: 2,
    name: 'webhook deliveries',
    sql: `
ALTER TABLE webhooks ADD COLUMN first_failure_at INTEGER;
ALTER TABLE webhooks ADD COLUMN disabled_reason TEXT;

-- One row per event x webhook, written in the transaction that writes the event.
CREATE TABLE deliveries (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  webhook_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued','pending','succeeded','failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  locked_until INTEGER NOT NULL DEFAULT 0,
  last_status_code INTEGER,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
-- The claim reads exactly this: due, pending deliveries in time order.
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE state = 'pending';
-- The ordering chain: unfinished deliveries of one webhook and conversation, oldest first.
CREATE INDEX deliveries_chain ON deliveries(webhook_id, conversation_id, id) WHERE state IN ('queued','pending');
CREATE INDEX deliveries_webhook ON deliveries(webhook_id, id DESC);
CREATE INDEX deliveries_webhook_state ON deliveries(webhook_id, state, id DESC);

-- Append-only log of every try.
CREATE TABLE delivery_attempts (
  id TEXT PRIMARY KEY,
  delivery_id TEXT NOT NULL,
  webhook_id TEXT NOT NULL,
  url TEXT NOT NULL,
  attempted_at INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  status_code INTEGER,
  response_excerpt TEXT,
  error TEXT,
  trigger TEXT NOT NULL CHECK (trigger IN ('scheduled','manual'))
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts(delivery_id, id);
`,
  },
  {
    id: 3,
    name: 'inbound replay keys',
    sql: `
-- Signed inbound requests accepted once: a replayed MessageBird JWT (same jti) is refused.
CREATE TABLE inbound_replay_keys (
  channel_id TEXT NOT NULL,
  key TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (channel_id, key)
) WITHOUT ROWID;
CREATE INDEX inbound_replay_keys_expiry ON inbound_replay_keys(expires_at);
`,
  },
  {
    id: 4,
    name: 'delivery chain index with state',
    sql: `
-- Promoting the next delivery of a chain looks for (webhook, conversation, state): with
-- the state in the index that is one probe, however long the webhook's backlog is.
-- (SQLite uses a partial index only when the query repeats its WHERE term, so the
-- chain queries say "state IN ('queued','pending')" as well.)
DROP INDEX deliveries_chain;
CREATE INDEX deliveries_chain ON deliveries(webhook_id, conversation_id, state, id) WHERE state IN ('queued','pending');
`,
  },
  {
    id: 5,
    name: 'message sequence numbers',
    sql: `
-- Each message's position in its conversation (1, 2, 3, ...), assigned from the
-- conversation's counter at insert. A page at offset N is then a range on
-- (conversation_id, seq): one index probe at any depth, instead of walking N entries.
ALTER TABLE messages ADD COLUMN seq INTEGER;
UPDATE messages SET seq = (SELECT r.rn FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY conversation_id ORDER BY id) AS rn
                                             FROM messages) r WHERE r.id = messages.id);
CREATE UNIQUE INDEX messages_conversation_seq ON messages(conversation_id, seq);
`,
  },
  {
    id: 6,
    name: 'one conversation index on messages',
    sql: `
-- Pages of a conversation walk (conversation_id, seq) in every query, so the older
-- (conversation_id, id) index only cost a random page write per inbound message.
DROP INDEX messages_conversation;
`,
  },
  {
    id: 7,
    name: 'conversation counts',
    sql: `
-- Totals of the v1 conversation list without counting rows: a count(*) over a workspace's
-- conversations was most of the list's time. Kept by triggers, so every write path (and
-- bulk SQL) keeps them true; the one writer connection means no contention on the row.
CREATE TABLE conversation_counts (
  workspace_id TEXT NOT NULL,
  status TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, status)
) WITHOUT ROWID;
INSERT INTO conversation_counts (workspace_id, status, n)
  SELECT workspace_id, status, count(*) FROM conversations GROUP BY workspace_id, status;
CREATE TRIGGER conversation_counts_insert AFTER INSERT ON conversations BEGIN
  INSERT INTO conversation_counts (workspace_id, status, n) VALUES (new.workspace_id, new.status, 1)
    ON CONFLICT (workspace_id, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER conversation_counts_status AFTER UPDATE OF status ON conversations
WHEN old.status <> new.status BEGIN
  UPDATE conversation_counts SET n = n - 1 WHERE workspace_id = old.workspace_id AND status = old.status;
  INSERT INTO conversation_counts (workspace_id, status, n) VALUES (new.workspace_id, new.status, 1)
    ON CONFLICT (workspace_id, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER conversation_counts_delete AFTER DELETE ON conversations BEGIN
  UPDATE conversation_counts SET n = n - 1 WHERE workspace_id = old.workspace_id AND status = old.status;
END;
`,
  },
  {
    id: 8,
    name: 'list indexes ascending, one conversation list index',
    sql: `
-- The newest entry of a DESC index on a growing key (ids, times) goes to its left end,
-- where SQLite has no quick append: a full leaf there is rebalanced with its neighbours,
-- and every group commit rewrote three or four pages of each such index (one WAL frame
-- each). Ascending, the newest entry goes to the right end, which SQLite appends to in
-- one page; the lists read these indexes backwards for their newest-first order.
-- The conversation list without a status filter merges the two statuses' ranges of
-- the status index (a compound SELECT, see listAllConversations): each inbound message
-- then moves one conversation entry, not two (each a random page of a large index).
DROP INDEX conversations_list;
DROP INDEX conversations_list_status;
CREATE INDEX conversations_list_status ON conversations(workspace_id, status, sort_at, id);
DROP INDEX deliveries_webhook;
CREATE INDEX deliveries_webhook ON deliveries(webhook_id, id);
DROP INDEX deliveries_webhook_state;
CREATE INDEX deliveries_webhook_state ON deliveries(webhook_id, state, id);
`,
  },
  {
    id: 9,
    name: 'no events feed index, one delivery list index',
    sql: `
-- Each index an inbound message writes is a WAL frame per group commit and an insert per
-- message. (workspace_id, id) on events served a feed nothing reads; the unfiltered
-- delivery list of a webhook merges the four states' ranges of (webhook_id, state, id)
-- instead of keeping (webhook_id, id) as well (see listAllDeliveries).
DROP INDEX events_workspace;
DROP INDEX deliveries_webhook;
`,
  },
];
