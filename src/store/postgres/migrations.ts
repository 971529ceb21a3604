/**
 * PostgreSQL migrations, numbered and append-only. They run under an advisory lock, so
 * several nodes starting at once apply each exactly once; each runs in its own
 * transaction with its `migrations` row. Never edit a shipped one.
 */
export const POSTGRES_MIGRATIONS: ReadonlyArray<{ id: number; name: string; sql: string }> = [
  {
    id: 1,
    name: 'core, deliveries and replay keys',
    sql: `
CREATE TABLE workspaces (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  signing_key TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE TABLE access_keys (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  key_hash BYTEA NOT NULL UNIQUE,
  mode TEXT NOT NULL CHECK (mode IN ('live','test')),
  created_at BIGINT NOT NULL
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
  created_at BIGINT NOT NULL,
  updated_at BIGINT
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
  created_at BIGINT NOT NULL,
  updated_at BIGINT
);

CREATE TABLE contact_identifiers (
  workspace_id TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  contact_id TEXT NOT NULL REFERENCES contacts(id),
  PRIMARY KEY (workspace_id, key, value)
);
CREATE INDEX contact_identifiers_contact ON contact_identifiers(contact_id);

CREATE TABLE conversations (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  contact_id TEXT NOT NULL REFERENCES contacts(id),
  status TEXT NOT NULL CHECK (status IN ('active','archived')),
  channel_ids TEXT NOT NULL DEFAULT '[]',
  last_used_channel_id TEXT,
  last_inbound_channel_id TEXT,
  last_received_at BIGINT,
  last_message_id TEXT,
  message_count INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT,
  sort_at BIGINT NOT NULL
);
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
  created_at BIGINT NOT NULL,
  updated_at BIGINT
);
CREATE UNIQUE INDEX messages_provider_id ON messages(channel_id, provider_message_id) WHERE provider_message_id IS NOT NULL;
CREATE INDEX messages_conversation ON messages(conversation_id, id DESC);

CREATE TABLE send_jobs (
  message_id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  run_at BIGINT NOT NULL,
  locked_until BIGINT NOT NULL DEFAULT 0,
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
  first_failure_at BIGINT,
  disabled_reason TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT
);
CREATE INDEX webhooks_workspace ON webhooks(workspace_id, id);

CREATE TABLE events (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  type TEXT NOT NULL,
  channel_id TEXT,
  conversation_id TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX events_workspace ON events(workspace_id, id);

CREATE TABLE deliveries (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  webhook_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued','pending','succeeded','failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT,
  locked_until BIGINT NOT NULL DEFAULT 0,
  last_status_code INTEGER,
  last_error TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_chain ON deliveries(webhook_id, conversation_id, id) WHERE state IN ('queued','pending');
CREATE INDEX deliveries_webhook ON deliveries(webhook_id, id DESC);
CREATE INDEX deliveries_webhook_state ON deliveries(webhook_id, state, id DESC);

CREATE TABLE delivery_attempts (
  id TEXT PRIMARY KEY,
  delivery_id TEXT NOT NULL,
  webhook_id TEXT NOT NULL,
  url TEXT NOT NULL,
  attempted_at BIGINT NOT NULL,
  duration_ms INTEGER NOT NULL,
  status_code INTEGER,
  response_excerpt TEXT,
  error TEXT,
  trigger TEXT NOT NULL CHECK (trigger IN ('scheduled','manual'))
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts(delivery_id, id);

CREATE TABLE inbound_replay_keys (
  channel_id TEXT NOT NULL,
  key TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (channel_id, key)
);
CREATE INDEX inbound_replay_keys_expiry ON inbound_replay_keys(expires_at);
`,
  },
  {
    id: 2,
    name: 'message sequence numbers',
    sql: `
-- Each message's position in its conversation, from the conversation's counter: a page at
-- offset N is a range on (conversation_id, seq), one index probe at any depth.
ALTER TABLE messages ADD COLUMN seq INTEGER;
UPDATE messages m SET seq = r.rn FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY conversation_id ORDER BY id) AS rn
                                       FROM messages) r WHERE r.id = m.id;
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
    id: 8,
    name: 'settled deliveries index',
    sql: `
-- (webhook_id, state, id) for the unfinished states was a trap: a generic plan made while
-- the table was small took it for the claim (every pending delivery of each webhook, then
-- a sort) and for a chain's next delivery (every queued delivery of the webhook), instead
-- of deliveries_due and deliveries_chain, which serve those states. Failed and succeeded
-- deliveries (recovering a webhook's failures) still have it.
DROP INDEX deliveries_webhook_state;
CREATE INDEX deliveries_webhook_settled ON deliveries(webhook_id, state, id DESC) WHERE state NOT IN ('queued', 'pending');
`,
  },
  {
    id: 9,
    name: 'no events feed index',
    sql: `
-- (workspace_id, id) on events served a feed nothing reads; each inbound message wrote it.
DROP INDEX events_workspace;
`,
  },
];
