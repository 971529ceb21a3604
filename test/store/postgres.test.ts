import { afterAll, describe, expect, it, vi } from 'vitest';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { runStoreConformance } from './conformance.js';
import type { Channel, Contact, Conversation, Workspace } from '../../src/domain/records.js';
import type { Tx } from '../../src/store/store.js';
import * as f from './factories.js';

const db = await createTestDatabase('roost_store');
afterAll(() => db.drop());

runStoreConformance('postgres', () => PostgresStore.open(db.url, 6));

describe('PostgresStore specifics', () => {
  /**
   * A store with one batch in flight at a time (callbacks queued behind a running batch
   * form the next one together) and the statements its connections send.
   */
  async function watched(fn: (s: PostgresStore, sent: { clear(): void; texts(): string[] }) => Promise<void>): Promise<void> {
    const s = await PostgresStore.open(db.url, 2);
    const spy = vi.spyOn(pg.Client.prototype, 'query');
    try {
      await fn(s, {
        clear: () => spy.mockClear(),
        texts: () => spy.mock.calls.map(([q]) => (typeof q === 'string' ? q : (q as { text: string }).text)),
      });
    } finally {
      spy.mockRestore();
      await s.close();
    }
  }

  /** Stores what contactsWithConversations made. */
  async function storeConversations(tx: Tx, list: Array<{ ct: Contact; conv: Conversation }>): Promise<void> {
    for (const { ct, conv } of list) {
      await tx.insertContact(ct, []);
      await tx.insertConversation(conv);
    }
  }

  /** `n` contacts of `ws`, each with an active conversation on `ch` (not stored). */
  const contactsWithConversations = (ws: Workspace, ch: Channel, n: number) => Array.from({ length: n }, () => {
    const ct = f.contact(ws.id);
    return { ct, conv: f.conversation(ws.id, ct.id, ch.id) };
  });

  it('says it is the postgres engine and records its migrations once when nodes start together', async () => {
    const fresh = await createTestDatabase('roost_migrate');
    try {
      const stores = await Promise.all([1, 2, 3, 4].map(() => PostgresStore.open(fresh.url, 2)));
      expect(stores.every((s) => s.engine === 'postgres')).toBe(true);
      const client = new pg.Client({ connectionString: fresh.url });
      await client.connect();
      const rows = (await client.query('SELECT id, count(*)::int AS n FROM migrations GROUP BY id')).rows;
      // Migration 9 dropped the events feed index that nothing read.
      const feedIndex = (await client.query(`SELECT 1 FROM pg_indexes WHERE indexname = 'events_workspace'`)).rowCount;
      await client.end();
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => r.n === 1)).toBe(true);
      expect(feedIndex).toBe(0);
      await Promise.all(stores.map((s) => s.close()));
    } finally {
      await fresh.drop();
    }
  });

  it('interleaves the statements of keyed callbacks in one batch, and runs unkeyed ones alone after them', async () => {
    const s = await PostgresStore.open(db.url, 2); // one batch in flight at a time
    try {
      const ws = f.workspace();
      await s.transaction((tx) => tx.insertWorkspace(ws));
      const steps: string[] = [];
      const callback = (name: string) => async (tx: Parameters<Parameters<PostgresStore['transaction']>[0]>[0]) => {
        steps.push(`${name}1`);
        await tx.getWorkspace(ws.id);
        steps.push(`${name}2`);
        await tx.getWorkspace(ws.id);
        steps.push(`${name}3`);
      };
      // Queued in one tick behind a batch in flight, so they form the next batch together.
      await Promise.all([
        s.transaction((tx) => tx.getWorkspace(ws.id)),
        s.transaction(callback('a'), { key: 'a' }),
        s.transaction(callback('u')),
        s.transaction(callback('b'), { key: 'b' }),
        s.transaction(callback('c'), { key: 'a' }), // same key as a: alone
      ]);
      expect(steps.slice(0, 6)).toEqual(['a1', 'b1', 'a2', 'b2', 'a3', 'b3']);
      expect(steps.slice(6)).toEqual(['u1', 'u2', 'u3', 'c1', 'c2', 'c3']);
    } finally {
      await s.close();
    }
  });

  it('sends the appends of interleaved callbacks as one statement, each with its own outcome', () => watched(async (s, sent) => {
    const ws = f.workspace();
    const ch = f.channel(ws.id);
    const other = f.channel(ws.id);
    const generic = f.webhook(ws.id, { events: ['message.created', 'conversation.created'] });
    const onOther = f.webhook(ws.id, { channelId: other.id, events: ['message.created'] });
    const convs = contactsWithConversations(ws, ch, 6);
    const seen = f.message(convs[0]!.conv, ch.id, { providerMessageId: 'merged-dup' });
    await s.transaction(async (tx) => {
      await tx.insertWorkspace(ws);
      await tx.insertChannel(ch);
      await tx.insertChannel(other);
      await tx.insertWebhook(generic);
      await tx.insertWebhook(onOther);
      await storeConversations(tx, convs);
      await tx.insertMessage(seen);
    });
    const counted = { ...convs[0]!.conv, messageCount: 1 };
    const appends = convs.map(({ conv }, i) => {
      const base = i === 0 ? counted : conv;
      const m = i === 1
        ? f.message(conv, ch.id, { providerMessageId: 'merged-dup' }) // another conversation, the same provider id: a duplicate
        : f.message(conv, i === 2 ? other.id : ch.id);
      const after = { ...base, lastMessageId: m.id, lastUsedChannelId: m.channelId, messageCount: base.messageCount + 1, updatedAt: f.T0 + 9 };
      const events = [f.outboxEvent(ws.id, conv.id, { channelId: m.channelId, type: 'message.created' })];
      if (i === 3) events.unshift(f.outboxEvent(ws.id, conv.id, { channelId: m.channelId, type: 'conversation.created' }));
      return { m, after, events };
    });
    sent.clear();
    // Queued in one tick behind a batch in flight, so they form the next batch together.
    const [, ...results] = await Promise.all([
      s.transaction((tx) => tx.getWorkspace(ws.id)),
      // Interleaved callbacks asking in the same turn (as when their lookups come back together).
      ...appends.map((a, i) => s.transaction((tx) => tx.appendMessage(a.m, a.after, a.events), { key: `k${i}` })),
    ]);
    const texts = sent.texts();
    expect(texts.filter((t) => t.includes('jsonb_to_recordset'))).toHaveLength(1);
    expect(texts.filter((t) => t.includes('INSERT INTO messages'))).toHaveLength(1);

    const ids = (hooks: unknown) => (hooks as Array<{ id: string }>).map((h) => h.id).sort();
    expect(results[1]).toBeNull();
    expect(results.filter((r) => r !== null)).toHaveLength(5);
    expect((results[0] as unknown[][]).map(ids)).toEqual([[generic.id]]);
    expect((results[2] as unknown[][]).map(ids)).toEqual([[generic.id, onOther.id].sort()]);
    expect((results[3] as unknown[][]).map(ids)).toEqual([[generic.id], [generic.id]]);
    for (const [i, a] of appends.entries()) {
      if (i === 1) {
        expect(await s.getMessage(ws.id, a.m.id)).toBeUndefined();
        expect(await s.getConversation(ws.id, a.after.id)).toEqual(convs[1]!.conv);
        for (const e of a.events) expect(await s.getEvent(ws.id, e.id)).toBeUndefined();
        continue;
      }
      expect(await s.getMessage(ws.id, a.m.id)).toEqual(a.m);
      expect(await s.getConversation(ws.id, a.after.id)).toEqual(a.after);
      for (const e of a.events) expect(await s.getEvent(ws.id, e.id)).toEqual(e);
      const page = await s.listMessages(ws.id, { conversationId: a.after.id, offset: 0, limit: 10 });
      expect(page.items[0]!.id).toBe(a.m.id);
      expect(page.total).toBe(a.after.messageCount);
    }
  }));

  it('sends the inbound lookups of interleaved callbacks as one statement, each with its own answer', () => watched(async (s, sent) => {
    const ws = f.workspace();
    const elsewhere = f.workspace();
    const ch = f.channel(ws.id);
    const ct = f.contact(ws.id);
    const archivedCt = f.contact(ws.id);
    const id = { key: 'phonenumber', value: ct.msisdn! };
    const archivedId = { key: 'phonenumber', value: archivedCt.msisdn! };
    const conv = f.conversation(ws.id, ct.id, ch.id);
    const old = f.conversation(ws.id, archivedCt.id, ch.id, { status: 'archived' });
    const seen = f.message(conv, ch.id, { providerMessageId: 'lookup-seen' });
    await s.transaction(async (tx) => {
      await tx.insertWorkspace(ws);
      await tx.insertWorkspace(elsewhere);
      await tx.insertChannel(ch);
      await tx.insertContact(ct, [id]);
      await tx.insertContact(archivedCt, [archivedId]);
      await tx.insertConversation(conv);
      await tx.insertConversation(old);
      await tx.insertMessage(seen);
    });
    const stored = (await s.getConversation(ws.id, conv.id))!;
    const asks: Array<[typeof ws.id, string, { key: string; value: string }]> = [
      [ws.id, 'lookup-seen', id], // seen before
      [ws.id, 'lookup-new', id], // known contact, active conversation
      [ws.id, 'lookup-new', archivedId], // known contact, no active conversation
      [ws.id, 'lookup-new', { key: 'phonenumber', value: f.uniquePhone() }], // unknown
      [elsewhere.id, 'lookup-new', id], // another workspace's view
    ];
    sent.clear();
    const [, ...answers] = await Promise.all([
      s.transaction((tx) => tx.getWorkspace(ws.id)),
      ...asks.map(([w, pid, who], i) => s.transaction((tx) => tx.inboundContext(w, ch.id, pid, who), { key: `l${i}` })),
    ]);
    const texts = sent.texts();
    expect(texts.filter((t) => t.includes('to_jsonb(m)'))).toHaveLength(1);
    expect(answers).toEqual([
      { duplicate: seen },
      { contact: ct, conversation: stored },
      { contact: archivedCt, conversation: undefined },
      {},
      {},
    ]);
  }));

  it('sends the deliveries of interleaved callbacks as one statement, each chain queued behind its open delivery', () => watched(async (s, sent) => {
    const ws = f.workspace();
    const ch = f.channel(ws.id);
    const hooks = [f.webhook(ws.id), f.webhook(ws.id)];
    const convs = contactsWithConversations(ws, ch, 3);
    const event = (i: number) => f.outboxEvent(ws.id, convs[i]!.conv.id);
    const open = f.delivery(event(2), hooks[0]!.id); // conversation 2 already has an unfinished delivery to hook 0
    await s.transaction(async (tx) => {
      await tx.insertWorkspace(ws);
      await tx.insertChannel(ch);
      for (const h of hooks) await tx.insertWebhook(h);
      await storeConversations(tx, convs);
      await tx.insertDelivery(open);
    });
    // Conversation 0: two events (two deliveries of each chain); 1 and 2: one event.
    const events = [[event(0), event(0)], [event(1)], [event(2)]];
    for (const list of events) for (const e of list) await s.transaction((tx) => tx.insertEvent(e).then(() => undefined));
    const planned = events.map((list) => list.flatMap((e) => hooks.map((h) => f.delivery(e, h.id))));
    sent.clear();
    const [, ...states] = await Promise.all([
      s.transaction((tx) => tx.getWorkspace(ws.id)),
      // As the fan-out does: every delivery of a callback asked for at once.
      ...planned.map((ds, i) => s.transaction((tx) => Promise.all(ds.map((d) => tx.insertDelivery(d))), { key: `d${i}` })),
    ]);
    expect(states).toEqual([
      ['pending', 'pending', 'queued', 'queued'], // the second event's deliveries wait behind the first's
      ['pending', 'pending'],
      ['queued', 'pending'], // hook 0's chain was open
    ]);
    const texts = sent.texts();
    // The first of a chain's two deliveries sends what was asked so far; the rest go at the turn's end.
    expect(texts.filter((t) => t.startsWith('INSERT INTO deliveries') && t.includes('jsonb_to_recordset'))).toHaveLength(2);
    for (const [i, ds] of planned.entries()) {
      for (const [k, d] of ds.entries()) expect((await s.getDelivery(ws.id, d.webhookId, d.id))?.state).toBe(states[i]![k]);
    }
  }));

  it('records the attempts of interleaved callbacks with one statement per kind, promoting each chain\'s next delivery', () => watched(async (s, sent) => {
    const ws = f.workspace();
    const ch = f.channel(ws.id);
    const hook = f.webhook(ws.id);
    const chains = contactsWithConversations(ws, ch, 3);
    const [first, next] = [0, 1].map(() => chains.map(({ conv }) => f.delivery(f.outboxEvent(ws.id, conv.id), hook.id)));
    await s.transaction(async (tx) => {
      await tx.insertWorkspace(ws);
      await tx.insertChannel(ch);
      await tx.insertWebhook(hook);
      await storeConversations(tx, chains);
      for (const d of [...first!, ...next!]) {
        await tx.insertEvent({ ...f.outboxEvent(ws.id, d.conversationId), id: d.eventId });
        await tx.insertDelivery(d);
      }
    });
    const T = f.T0 + 1000;
    sent.clear();
    // As the dispatcher records: read the webhook and the delivery, log the attempt, end the delivery.
    const [, ...seen] = await Promise.all([
      s.transaction((tx) => tx.getWorkspace(ws.id)),
      ...first!.map((d, i) => s.transaction(async (tx) => {
        const [w, current] = await Promise.all([tx.getWebhook(ws.id, hook.id), tx.getDelivery(ws.id, hook.id, d.id)]);
        await tx.recordAttempt(f.attempt(d, { attemptedAt: T }));
        await tx.finishDelivery(d.id, i === 1 ? 'failed' : 'succeeded', 200, null, T);
        return [w?.id, current?.state];
      }, { key: `r${i}` })),
    ]);
    expect(seen).toEqual(first!.map(() => [hook.id, 'pending']));
    const texts = sent.texts();
    for (const table of ['FROM jsonb_to_recordset($1::jsonb) AS q(id text, "webhookId"', 'INSERT INTO delivery_attempts', 'UPDATE deliveries d SET state = f.state']) {
      expect(texts.filter((t) => t.includes(table)), table).toHaveLength(1);
    }
    for (const [i, d] of first!.entries()) {
      expect((await s.getDelivery(ws.id, hook.id, d.id))?.state).toBe(i === 1 ? 'failed' : 'succeeded');
      expect(await s.listAttempts(d.id)).toHaveLength(1);
    }
    for (const d of next!) expect(await s.getDelivery(ws.id, hook.id, d.id)).toMatchObject({ state: 'pending', nextAttemptAt: T });
  }));

  it('inserts the new contacts and conversations of interleaved callbacks with one statement each, before their appends', () => watched(async (s, sent) => {
    const ws = f.workspace();
    const ch = f.channel(ws.id);
    await s.transaction(async (tx) => {
      await tx.insertWorkspace(ws);
      await tx.insertChannel(ch);
    });
    const fresh = Array.from({ length: 4 }, () => {
      const ct = f.contact(ws.id);
      const conv = f.conversation(ws.id, ct.id, ch.id);
      const m = f.message(conv, ch.id);
      return { ct, id: { key: 'phonenumber', value: ct.msisdn! }, conv, m, after: { ...conv, lastMessageId: m.id, messageCount: 1 } };
    });
    sent.clear();
    // As the ingest of a new contact's message does: contact, conversation, then the append.
    await Promise.all([
      s.transaction((tx) => tx.getWorkspace(ws.id)),
      ...fresh.map((x, i) => s.transaction(async (tx) => {
        await tx.insertContact(x.ct, [x.id]);
        await tx.insertConversation(x.conv);
        return tx.appendMessage(x.m, x.after, []);
      }, { key: `o${i}` })),
    ]);
    const texts = sent.texts();
    expect(texts.filter((t) => t.includes('INSERT INTO contacts'))).toHaveLength(1);
    expect(texts.filter((t) => t.includes('INSERT INTO conversations'))).toHaveLength(1);
    const order = ['INSERT INTO contacts', 'INSERT INTO conversations', 'INSERT INTO messages'].map((k) => texts.findIndex((t) => t.includes(k)));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    for (const x of fresh) {
      expect(await s.findContactByIdentifier(ws.id, x.id)).toEqual(x.ct);
      expect(await s.getConversation(ws.id, x.conv.id)).toEqual(x.after);
      expect(await s.getMessage(ws.id, x.m.id)).toEqual(x.m);
    }
  }));

  it('stores every append of a shared statement that PostgreSQL refuses as a whole (a lone surrogate in one), one by one', async () => {
    const s = await PostgresStore.open(db.url, 2);
    try {
      const ws = f.workspace();
      const ch = f.channel(ws.id);
      const convs = contactsWithConversations(ws, ch, 3);
      await s.transaction(async (tx) => {
        await tx.insertWorkspace(ws);
        await tx.insertChannel(ch);
        await storeConversations(tx, convs);
      });
      // JSON cannot carry a lone surrogate to PostgreSQL; a text parameter can (as U+FFFD).
      const messages = convs.map(({ conv }, i) => f.message(conv, ch.id, { from: i === 1 ? 'odd\ud800' : '+31612345678' }));
      const results = await Promise.all([
        s.transaction((tx) => tx.getWorkspace(ws.id)),
        ...messages.map((m, i) => s.transaction((tx) => tx.appendMessage(m, { ...convs[i]!.conv, lastMessageId: m.id, messageCount: 1 }, []),
          { key: `s${i}` })),
      ]);
      expect(results.slice(1)).toEqual([[], [], []]);
      for (const m of messages) expect((await s.getMessage(ws.id, m.id))?.id).toBe(m.id);
    } finally {
      await s.close();
    }
  });

  it('fails a callback with the error of a write it did not wait for, not with the aborted transaction after it', async () => {
    const s = await PostgresStore.open(db.url, 2);
    try {
      const ws = f.workspace();
      const identifier = { key: 'phonenumber', value: '+31611199988' };
      await s.transaction(async (tx) => {
        await tx.insertWorkspace(ws);
        await tx.insertContact(f.contact(ws.id, { msisdn: identifier.value }), [identifier]);
      });
      const taken = f.contact(ws.id, { msisdn: identifier.value });
      const other = f.contact(ws.id);
      const results = await Promise.allSettled([
        // insertContact returns before PostgreSQL has answered; the read after it is what fails first.
        s.transaction(async (tx) => {
          await tx.insertContact(taken, [identifier]);
          return tx.getWorkspace(ws.id);
        }, { key: 'taken' }),
        s.transaction(async (tx) => {
          await tx.insertContact(other, [{ key: 'phonenumber', value: '+31611199977' }]);
          return 'stored';
        }, { key: 'other' }),
      ]);
      expect(results[0].status).toBe('rejected');
      expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ code: '23505' });
      expect(results[1]).toEqual({ status: 'fulfilled', value: 'stored' });
      expect(await s.getContact(ws.id, other.id)).toMatchObject({ id: other.id });
      expect(await s.getContact(ws.id, taken.id)).toBeUndefined();

      // Alone in its batch, the same.
      await expect(s.transaction(async (tx) => {
        await tx.insertContact(f.contact(ws.id), [identifier]);
        await tx.getWorkspace(ws.id);
      })).rejects.toMatchObject({ code: '23505' });
    } finally {
      await s.close();
    }
  });

  it('keeps one contact and one active conversation when two nodes race on the same new identifier', async () => {
    const a = await PostgresStore.open(db.url, 4);
    const b = await PostgresStore.open(db.url, 4);
    try {
      const ws = f.workspace();
      await a.transaction((tx) => tx.insertWorkspace(ws));
      const identifier = { key: 'phonenumber', value: '+31611122233' };
      const create = (s: PostgresStore) => s.transaction(async (tx) => {
        const existing = await tx.findContactByIdentifier(ws.id, identifier);
        if (existing) return existing.id;
        const c = f.contact(ws.id, { msisdn: identifier.value });
        await tx.insertContact(c, [identifier]);
        return c.id;
      });
      const ids = await Promise.all([create(a), create(b), create(a), create(b)]);
      expect(new Set(ids).size).toBe(1);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
