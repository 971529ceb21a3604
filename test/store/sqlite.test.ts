import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import type { Conversation } from '../../src/domain/records.js';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { runStoreConformance } from './conformance.js';
import { runWhenFoundSuite } from './run-when-found.js';
import * as f from './factories.js';

const dir = mkdtempSync(join(tmpdir(), 'roost-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const conformanceFile = join(dir, 'conformance.db');
runStoreConformance('sqlite', async () => new SqliteStore(conformanceFile));
runWhenFoundSuite('sqlite', async () => new SqliteStore(join(dir, `${newId()}.db`)));

describe('SqliteStore specifics', () => {
  const stores: SqliteStore[] = [];
  const fresh = (name = `${newId()}.db`) => {
    const s = new SqliteStore(join(dir, name));
    stores.push(s);
    return s;
  };

  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close().catch(() => undefined);
    vi.restoreAllMocks();
  });

  /** Reads a closed store's file through a connection of its own. */
  const inspect = <T>(path: string, read: (db: Database.Database) => T): T => {
    const db = new Database(path, { readonly: true });
    try {
      return read(db);
    } finally {
      db.close();
    }
  };

  /** Runs SQL on a closed store's file (to take it back to before a migration). */
  const rewrite = (path: string, sql: string) => {
    const db = new Database(path);
    db.exec(sql);
    db.close();
  };

  /** A closed database with a workspace, a channel and one conversation per spec (each its own contact). */
  const withConversations = async (specs: Array<Partial<Conversation>>) => {
    const name = `${newId()}.db`;
    const first = fresh(name);
    const ws = f.workspace();
    const ch = f.channel(ws.id);
    const ids: string[] = [];
    await first.transaction(async (tx) => {
      await tx.insertWorkspace(ws);
      await tx.insertChannel(ch);
      for (const spec of specs) {
        const ct = f.contact(ws.id);
        await tx.insertContact(ct, []);
        const c = f.conversation(ws.id, ct.id, ch.id, spec);
        ids.push(c.id);
        await tx.insertConversation(c);
      }
    });
    await first.close();
    return { name, path: join(dir, name), ws, ids };
  };

  it('says it is the sqlite engine', () => {
    expect(fresh().engine).toBe('sqlite');
  });

  it('puts the database file in WAL mode', async () => {
    const name = `${newId()}.db`;
    const s = fresh(name);
    await s.transaction((tx) => tx.insertWorkspace(f.workspace()));
    const db = new Database(join(dir, name), { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  });

  it('runs its connection with synchronous=NORMAL (WalSync flushes) and foreign keys on', () => {
    const pragma = vi.spyOn(Database.prototype, 'pragma');
    fresh();
    const calls = pragma.mock.calls.map((c) => String(c[0]).replace(/\s+/g, '').toLowerCase());
    expect(calls).toContain('synchronous=normal');
    expect(calls).toContain('journal_mode=wal');
    expect(calls).toContain('foreign_keys=on');
    // Read the settings back from the store's own connection.
    const conn = pragma.mock.contexts[0] as Database.Database;
    expect(conn.pragma('synchronous', { simple: true })).toBe(1); // 1 = NORMAL
    expect(conn.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(conn.pragma('foreign_keys', { simple: true })).toBe(1);
    // Savepoint sub-journals in memory: spilled to a temporary file they cost two writes per page.
    expect(conn.pragma('temp_store', { simple: true })).toBe(2); // 2 = MEMORY
  });

  it('runs a group without savepoints, and again with them when one callback fails', async () => {
    const s = fresh();
    const ws = f.workspace();
    await s.transaction((tx) => tx.insertWorkspace(ws));
    const runs = { a: 0, b: 0, c: 0 };
    const [a, b, c] = [f.channel(ws.id), f.channel(ws.id), f.channel(ws.id)];
    const results = await Promise.allSettled([
      s.transaction(async (tx) => {
        runs.a++;
        await tx.insertChannel(a);
        return runs.a;
      }),
      s.transaction(async (tx) => {
        runs.b++;
        await tx.insertChannel(b);
        throw new Error('b failed after writing');
      }),
      s.transaction(async (tx) => {
        runs.c++;
        await tx.insertChannel(c);
        return runs.c;
      }),
    ]);
    // The optimistic run stopped at b; the rerun gave each callback its own savepoint.
    expect(runs).toEqual({ a: 2, b: 2, c: 1 });
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[0] as PromiseFulfilledResult<number>).value).toBe(2); // the run that committed
    expect(await s.getChannel(ws.id, a.id)).toEqual(a);
    expect(await s.getChannel(ws.id, b.id)).toBeUndefined();
    expect(await s.getChannel(ws.id, c.id)).toEqual(c);

    // A group that succeeds runs each callback once.
    const once = { n: 0 };
    await Promise.all([1, 2, 3].map(() => s.transaction(async (tx) => {
      once.n++;
      await tx.insertChannel(f.channel(ws.id));
    })));
    expect(once.n).toBe(3);
  });

  it('rolls back a lone failing callback without running it again', async () => {
    const s = fresh();
    const ws = f.workspace();
    await s.transaction((tx) => tx.insertWorkspace(ws));
    let runs = 0;
    const ch = f.channel(ws.id);
    await expect(s.transaction(async (tx) => {
      runs++;
      await tx.insertChannel(ch);
      throw new Error('alone');
    })).rejects.toThrow('alone');
    expect(runs).toBe(1);
    expect(await s.getChannel(ws.id, ch.id)).toBeUndefined();
  });

  it('resolves a transaction only after a WAL flush that began after its commit, committing the next group meanwhile', async () => {
    const name = `${newId()}.db`;
    const flushes: Array<(err: NodeJS.ErrnoException | null) => void> = [];
    const s = new SqliteStore(join(dir, name), { syncWal: (_fd, done) => void flushes.push(done) });
    stores.push(s);
    const w1 = f.workspace();
    const w2 = f.workspace();
    let first = false;
    let second = false;
    const p1 = s.transaction((tx) => tx.insertWorkspace(w1)).then(() => (first = true));
    await vi.waitFor(() => expect(flushes).toHaveLength(1));
    // Committed (another connection sees it) but not yet flushed: not resolved.
    const reader = new Database(join(dir, name), { readonly: true });
    try {
      expect(reader.prepare('SELECT count(*) AS n FROM workspaces WHERE id = ?').get(w1.id)).toEqual({ n: 1 });
      const p2 = s.transaction((tx) => tx.insertWorkspace(w2)).then(() => (second = true));
      // The second group commits while the first flush is still running...
      await vi.waitFor(() => expect(reader.prepare('SELECT count(*) AS n FROM workspaces WHERE id = ?').get(w2.id)).toEqual({ n: 1 }));
      expect(first).toBe(false);
      flushes[0]!(null);
      await p1;
      // ...and needs a flush of its own: the first began before its commit.
      expect(second).toBe(false);
      await vi.waitFor(() => expect(flushes).toHaveLength(2));
      flushes[1]!(null);
      await p2;
      expect(second).toBe(true);
    } finally {
      reader.close();
    }
  });

  it('rejects the transactions of a group whose WAL flush failed', async () => {
    const s = new SqliteStore(join(dir, `${newId()}.db`), {
      syncWal: (_fd, done) => done(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })),
    });
    stores.push(s);
    await expect(s.transaction((tx) => tx.insertWorkspace(f.workspace()))).rejects.toThrow('EIO');
  });

  it('inline: flushes each group on its own thread after the COMMIT and before any of its transactions settles', async () => {
    const name = `${newId()}.db`;
    const w1 = f.workspace();
    const w2 = f.workspace();
    const seen: Array<{ committed: number; settled: boolean }> = [];
    let settled = false;
    let reader: Database.Database | undefined;
    const s = new SqliteStore(join(dir, name), {
      flush: 'inline',
      syncWalNow: () => {
        reader ??= new Database(join(dir, name), { readonly: true });
        const { n } = reader.prepare('SELECT count(*) AS n FROM workspaces WHERE id IN (?, ?)').get(w1.id, w2.id) as { n: number };
        seen.push({ committed: n, settled });
      },
    });
    stores.push(s);
    try {
      await Promise.all([s.transaction((tx) => tx.insertWorkspace(w1)), s.transaction((tx) => tx.insertWorkspace(w2))]).then(() => (settled = true));
      // One group, one flush: both rows were committed when it ran, and nothing had settled.
      expect(seen).toEqual([{ committed: 2, settled: false }]);
    } finally {
      reader?.close();
    }
  });

  it('inline: a group\'s results, handed on at the end of the turn, leave before the next group blocks in its flush', async () => {
    const log: string[] = [];
    const s = new SqliteStore(join(dir, `${newId()}.db`), { flush: 'inline', syncWalNow: () => void log.push('flush') });
    stores.push(s);
    let second: Promise<unknown> | undefined;
    const first = s.transaction(async (tx) => {
      // Requested while the first group runs: the next group.
      second = s.transaction((tx2) => tx2.insertWorkspace(f.workspace()));
      await tx.insertWorkspace(f.workspace());
    });
    // As the writer thread does: results leave in one message at the end of the turn.
    await first.then(() => new Promise<void>((resolve) => setImmediate(() => (log.push('handed on'), resolve()))));
    await second;
    expect(log).toEqual(['flush', 'handed on', 'flush']);
  });

  it('inline: rejects every transaction of a group whose flush failed, and goes on with the next group', async () => {
    let fail = true;
    const s = new SqliteStore(join(dir, `${newId()}.db`), {
      flush: 'inline',
      syncWalNow: () => {
        if (fail) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      },
    });
    stores.push(s);
    const group = [s.transaction((tx) => tx.insertWorkspace(f.workspace())), s.transaction((tx) => tx.insertWorkspace(f.workspace()))];
    for (const p of group) await expect(p).rejects.toThrow('EIO');
    fail = false;
    const ws = f.workspace();
    await s.transaction((tx) => tx.insertWorkspace(ws));
    expect(await s.getWorkspace(ws.id)).toMatchObject({ id: ws.id });
  });

  it('copies the WAL into the database file on its checkpointer thread, long before the writer would', async () => {
    const name = `${newId()}.db`;
    const s = fresh(name);
    const ws = f.workspace();
    await s.transaction((tx) => tx.insertWorkspace(ws));
    const { statSync } = await import('node:fs');
    const before = statSync(join(dir, name)).size;
    // About 4 MB of rows: far below the writer's own threshold (20,000 pages, ~80 MB).
    for (let b = 0; b < 8; b++) {
      await s.transaction(async (tx) => {
        for (let i = 0; i < 64; i++) await tx.insertWorkspace({ ...f.workspace(), name: 'x'.repeat(8000) });
      });
    }
    await vi.waitFor(() => expect(statSync(join(dir, name)).size).toBeGreaterThan(before + 3_000_000), { timeout: 3000 });
  });

  it('starts the WAL over under continuous writes instead of letting it grow to the safety net', async () => {
    const name = `${newId()}.db`;
    const s = fresh(name);
    const { statSync } = await import('node:fs');
    const wal = () => statSync(join(dir, `${name}-wal`)).size;
    // Back-to-back transactions, as under load: a commit lands between every checkpoint
    // pass and the writer's next BEGIN. ~96 MB of rows, past the writer's own threshold (~80 MB).
    let written = 0;
    let largest = 0;
    while (written < 96_000_000) {
      await s.transaction(async (tx) => {
        for (let i = 0; i < 16; i++) await tx.insertWorkspace({ ...f.workspace(), name: 'x'.repeat(8000) });
      });
      written += 16 * 8000;
      largest = Math.max(largest, wal());
    }
    // Without the writer finishing the checkpointer's passes the log grows to that threshold.
    expect(largest).toBeLessThan(40_000_000);
  });

  it('writes no statement with a bare LIMIT parameter (SQLite would prepare it again at every run)', async () => {
    const { readFileSync } = await import('node:fs');
    const source = readFileSync(new URL('../../src/store/sqlite/sqlite-store.ts', import.meta.url), 'utf8');
    expect(source.match(/LIMIT\s+\?(?!\+)/g) ?? []).toEqual([]);
    expect(source).toContain('LIMIT (?+0)');
  });

  it('keeps a process that only waits for close() alive until the store has closed', async () => {
    // The checkpointer's worker is unreferenced while it runs; stopping it must not let the
    // process exit first, with close() unsettled (Node's exit code 13 under a top-level await).
    const { execFileSync } = await import('node:child_process');
    const script = `const { SqliteStore } = await import(${JSON.stringify(new URL('../../src/store/sqlite/sqlite-store.ts', import.meta.url).href)});
      const s = new SqliteStore(${JSON.stringify(join(dir, `${newId()}.db`))});
      await s.close();
      console.log('closed');`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(out.trim()).toBe('closed');
  });

  it('records every migration in the migrations table', async () => {
    const name = `${newId()}.db`;
    await fresh(name).close();
    inspect(join(dir, name), (db) => {
      const rows = db.prepare('SELECT id, name, applied_at FROM migrations ORDER BY id').all() as Array<{ id: number; name: string; applied_at: number }>;
      expect(rows.map((r) => [r.id, r.name])).toEqual(SQLITE_MIGRATIONS.map((m) => [m.id, m.name]));
      for (const r of rows) expect(r.applied_at).toBeGreaterThan(0);
      const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as Array<{ name: string }>).map((t) => t.name);
      for (const t of ['workspaces', 'access_keys', 'channels', 'contacts', 'contact_identifiers', 'conversations', 'messages', 'send_jobs', 'webhooks', 'events']) {
        expect(tables).toContain(t);
      }
    });
  });

  it('applies migrations once: reopening changes neither the schema nor the records', async () => {
    const name = `${newId()}.db`;
    const path = join(dir, name);
    const first = fresh(name);
    const ws = f.workspace();
    await first.transaction((tx) => tx.insertWorkspace(ws));
    await first.close();
    const read = () => inspect(path, (db) => ({
      migrations: db.prepare('SELECT * FROM migrations ORDER BY id').all(),
      schema: db.prepare(`SELECT type, name, sql FROM sqlite_master ORDER BY name`).all(),
    }));
    const before = read();
    for (let i = 0; i < 3; i++) await fresh(name).close();
    expect(read()).toEqual(before);
    const again = fresh(name);
    expect(await again.getWorkspace(ws.id)).toEqual(ws);
  });

  it('counts the conversations a database already had when it gains conversation counts (migration 7)', async () => {
    const { name, path, ws } = await withConversations([{ status: 'active' }, { status: 'active' }, { status: 'archived' }]);
    // Back to a database from before migration 7.
    rewrite(path, `DROP TRIGGER conversation_counts_insert; DROP TRIGGER conversation_counts_status;
              DROP TRIGGER conversation_counts_delete; DROP TABLE conversation_counts; DELETE FROM migrations WHERE id = 7;`);
    const upgraded = fresh(name);
    expect((await upgraded.listConversations(ws.id, { offset: 0, limit: 1 })).total).toBe(3);
    expect((await upgraded.listConversations(ws.id, { status: 'active', offset: 0, limit: 1 })).total).toBe(2);
    expect((await upgraded.listConversations(ws.id, { status: 'archived', offset: 0, limit: 1 })).total).toBe(1);
  });

  it('turns the descending list indexes ascending and drops the unfiltered conversation list\'s (migration 8); the lists stay newest first', async () => {
    const { name, path, ws, ids } = await withConversations((['active', 'archived', 'active'] as const)
      .map((status, i) => ({ status, lastReceivedAt: f.T0 + 1000 * (i + 1) })));
    // Back to a database from before migrations 8 and 9, with its descending indexes.
    rewrite(path, `CREATE INDEX conversations_list ON conversations(workspace_id, sort_at DESC, id DESC);
              DROP INDEX conversations_list_status; CREATE INDEX conversations_list_status ON conversations(workspace_id, status, sort_at DESC, id DESC);
              CREATE INDEX deliveries_webhook ON deliveries(webhook_id, id DESC);
              DROP INDEX deliveries_webhook_state; CREATE INDEX deliveries_webhook_state ON deliveries(webhook_id, state, id DESC);
              CREATE INDEX events_workspace ON events(workspace_id, id);
              DELETE FROM migrations WHERE id IN (8, 9);`);
    const upgraded = fresh(name);
    const listed = async (status?: 'active' | 'archived') =>
      (await upgraded.listConversations(ws.id, { status, offset: 0, limit: 10 })).items.map((c) => c.id);
    expect(await listed()).toEqual([ids[2], ids[1], ids[0]]);
    expect(await listed('active')).toEqual([ids[2], ids[0]]);
    expect(await listed('archived')).toEqual([ids[1]]);
    const defs = inspect(path, (db) => db.prepare(`SELECT name, sql FROM sqlite_master WHERE name IN
      ('conversations_list', 'conversations_list_status', 'deliveries_webhook', 'deliveries_webhook_state')`).all() as Array<{ name: string; sql: string }>);
    expect(defs.map((d) => d.name).sort()).toEqual(['conversations_list_status', 'deliveries_webhook_state']);
    for (const d of defs) expect(d.sql).not.toMatch(/DESC/i);
  });

  it('drops the events feed index and the unfiltered delivery list index (migration 9)', async () => {
    const name = `${newId()}.db`;
    const path = join(dir, name);
    await fresh(name).close();
    const indexes = () => inspect(path, (db) =>
      (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND name IN ('events_workspace', 'deliveries_webhook')`)
        .all() as Array<{ name: string }>).map((r) => r.name).sort());
    expect(indexes()).toEqual([]);
    // Back to a database from before migration 9.
    rewrite(path, `CREATE INDEX events_workspace ON events(workspace_id, id); CREATE INDEX deliveries_webhook ON deliveries(webhook_id, id);
              DELETE FROM migrations WHERE id = 9;`);
    expect(indexes()).toEqual(['deliveries_webhook', 'events_workspace']);
    await fresh(name).close();
    expect(indexes()).toEqual([]);
  });

  describe('webhooks read inside group commits (the writer\'s cache)', () => {
    const setUp = async () => {
      const name = `${newId()}.db`;
      const s = fresh(name);
      const ws = f.workspace();
      const ch = f.channel(ws.id);
      const ct = f.contact(ws.id);
      const conv = f.conversation(ws.id, ct.id, ch.id);
      const hook = f.webhook(ws.id);
      await s.transaction(async (tx) => {
        await tx.insertWorkspace(ws);
        await tx.insertChannel(ch);
        await tx.insertContact(ct, []);
        await tx.insertConversation(conv);
        await tx.insertWebhook(hook);
      });
      // What an inbound event and a delivery's record see of the webhook, in one group.
      const seen = () => s.transaction(async (tx) => ({
        matched: (await tx.insertEvent(f.outboxEvent(ws.id, conv.id, { channelId: ch.id }))).map((w) => w.id),
        status: (await tx.getWebhook(ws.id, hook.id))?.status,
      }));
      return { s, path: join(dir, name), ws, hook, seen };
    };

    it('sees what another connection committed since the last group', async () => {
      const { path, hook, seen } = await setUp();
      expect(await seen()).toEqual({ matched: [hook.id], status: 'enabled' });
      const other = new Database(path);
      other.prepare(`UPDATE webhooks SET status = 'disabled' WHERE id = ?`).run(hook.id);
      other.close();
      expect(await seen()).toEqual({ matched: [], status: 'disabled' });
    });

    it('sees its own writes at once, and forgets what a rolled-back callback read', async () => {
      const { s, ws, hook, seen } = await setUp();
      expect(await seen()).toEqual({ matched: [hook.id], status: 'enabled' });
      await expect(s.transaction(async (tx) => {
        await tx.updateWebhook({ ...hook, status: 'disabled', updatedAt: f.T0 + 1 });
        expect((await tx.getWebhook(ws.id, hook.id))?.status).toBe('disabled');
        throw new Error('changed my mind');
      })).rejects.toThrow('changed my mind');
      expect(await seen()).toEqual({ matched: [hook.id], status: 'enabled' });
      // And in a group of several, where the failed callback's savepoint is rolled back.
      const failing = s.transaction(async (tx) => {
        await tx.updateWebhook({ ...hook, status: 'disabled', updatedAt: f.T0 + 2 });
        await tx.getWebhook(ws.id, hook.id);
        throw new Error('no');
      });
      const [after] = await Promise.all([seen(), expect(failing).rejects.toThrow('no')]);
      expect(after).toEqual({ matched: [hook.id], status: 'enabled' });
      await s.transaction((tx) => tx.setWebhookHealth(hook.id, f.T0 + 3));
      expect((await s.transaction((tx) => tx.getWebhook(ws.id, hook.id)))?.firstFailureAt).toBe(f.T0 + 3);
    });
  });

  it('creates the directory of the database file', async () => {
    const nested = join(dir, 'a', 'b', `${newId()}.db`);
    const s = new SqliteStore(nested);
    stores.push(s);
    await s.transaction((tx) => tx.insertWorkspace(f.workspace()));
    expect(existsSync(nested)).toBe(true);
  });

  it('works in memory', async () => {
    const s = new SqliteStore(':memory:');
    stores.push(s);
    const ws = f.workspace();
    await s.transaction((tx) => tx.insertWorkspace(ws));
    expect(await s.getWorkspace(ws.id)).toEqual(ws);
  });

  it('refuses a message whose conversation does not exist (foreign keys enforced)', async () => {
    const s = fresh();
    const ws = f.workspace();
    await s.transaction((tx) => tx.insertWorkspace(ws));
    const orphan = f.message(f.conversation(ws.id, newId(), newId()), newId());
    await expect(s.transaction((tx) => tx.insertMessage(orphan))).rejects.toThrow(/FOREIGN KEY/);
  });
});
