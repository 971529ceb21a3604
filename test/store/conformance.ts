import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashAccessKey } from '../../src/auth/access-keys.js';
import { newId } from '../../src/domain/ids.js';
import type { ChannelId, MessageId, WorkspaceId } from '../../src/domain/ids.js';
import type { Channel, Contact, ContactIdentifier, Conversation, Message, Workspace } from '../../src/domain/records.js';
import type { Store, Tx } from '../../src/store/store.js';
import * as f from './factories.js';

/**
 * The behaviour every Store engine must have, in the style of undici's
 * `cache-store-test-utils`: each engine's test file calls `runStoreConformance` once and
 * then adds only its engine-specific cases.
 *
 * `makeStore` must open the SAME database every time it is called (that is how
 * durability is checked: write, close, open again). Tests therefore never assume an
 * empty database: each works in fresh workspaces, and the few global reads (workspace
 * count, send-job claims) are checked relative to what the test itself wrote.
 *
 * After each test every store the suite opened is closed (unless the test closed it)
 * and then handed to `cleanup`, if given.
 */
export function runStoreConformance(
  name: string,
  makeStore: () => Promise<Store>,
  cleanup?: (s: Store) => Promise<void>,
): void {
  describe(`Store conformance: ${name}`, () => {
    const opened: Store[] = [];
    const closed = new WeakSet<Store>();
    let store: Store;

    async function open(): Promise<Store> {
      const s = await makeStore();
      opened.push(s);
      return s;
    }

    async function close(s: Store): Promise<void> {
      if (closed.has(s)) return;
      closed.add(s);
      await s.close();
    }

    beforeEach(async () => {
      store = await open();
    });

    afterEach(async () => {
      for (const s of opened.splice(0)) {
        await close(s);
        await cleanup?.(s);
      }
    });

    const write = <T>(fn: (tx: Tx) => Promise<T>) => store.transaction(fn);

    async function newWorkspace(over: Partial<Workspace> = {}): Promise<Workspace> {
      const w = f.workspace(over);
      await write((tx) => tx.insertWorkspace(w));
      return w;
    }

    /** A workspace with one channel, one contact (with a phone identifier) and its active conversation. */
    async function graph(over: { ws?: Workspace } = {}) {
      const ws = over.ws ?? (await newWorkspace());
      const ch = f.channel(ws.id);
      const ct = f.contact(ws.id);
      const identifier: ContactIdentifier = { key: 'phonenumber', value: ct.msisdn! };
      const conv = f.conversation(ws.id, ct.id, ch.id);
      await write(async (tx) => {
        await tx.insertChannel(ch);
        await tx.insertContact(ct, [identifier]);
        await tx.insertConversation(conv);
      });
      return { ws, ch, ct, identifier, conv };
    }

    async function newContact(ws: WorkspaceId, identifiers: ContactIdentifier[] = []): Promise<Contact> {
      const ct = f.contact(ws);
      await write((tx) => tx.insertContact(ct, identifiers));
      return ct;
    }

    // ---- workspaces and access keys ---------------------------------------------------

    describe('workspaces', () => {
      it('stores and returns a workspace', async () => {
        const w = await newWorkspace({ name: 'Round trip' });
        expect(await store.getWorkspace(w.id)).toEqual(w);
      });

      it('returns undefined for an unknown workspace', async () => {
        expect(await store.getWorkspace(newId())).toBeUndefined();
      });

      it('counts workspaces', async () => {
        const before = await store.countWorkspaces();
        await newWorkspace();
        await newWorkspace();
        expect(await store.countWorkspaces()).toBe(before + 2);
      });

      it('the default workspace is the first one created', async () => {
        const first = f.workspace({ createdAt: 1 });
        const later = f.workspace({ createdAt: 2 });
        await write(async (tx) => {
          await tx.insertWorkspace(later);
          await tx.insertWorkspace(first);
        });
        expect(await store.getDefaultWorkspace()).toEqual(first);
        await newWorkspace();
        expect((await store.getDefaultWorkspace())!.id).toBe(first.id);
      });

      it('refuses a second workspace with the same id', async () => {
        const w = await newWorkspace();
        await expect(write((tx) => tx.insertWorkspace({ ...w, name: 'dup' }))).rejects.toThrow();
        expect((await store.getWorkspace(w.id))!.name).toBe(w.name);
      });

      it('sets the signing key of one workspace only', async () => {
        const a = await newWorkspace();
        const b = await newWorkspace();
        await write((tx) => tx.setSigningKey(a.id, 'new-signing-key-0123456789'));
        expect((await store.getWorkspace(a.id))!.signingKey).toBe('new-signing-key-0123456789');
        expect(await store.getWorkspace(b.id)).toEqual(b);
      });
    });

    describe('access keys', () => {
      it('finds a key by its hash, with its workspace and mode', async () => {
        const w = await newWorkspace();
        const live = f.accessKey(w.id, 'live');
        const test = f.accessKey(w.id, 'test');
        await write(async (tx) => {
          await tx.insertAccessKey(live.record);
          await tx.insertAccessKey(test.record);
        });
        expect(await store.findAccessKey(hashAccessKey(live.key))).toEqual({ workspace: w, keyId: live.record.id, mode: 'live' });
        expect(await store.findAccessKey(hashAccessKey(test.key))).toEqual({ workspace: w, keyId: test.record.id, mode: 'test' });
      });

      it('finds nothing for an unknown key, or for a hash that differs in one byte', async () => {
        const w = await newWorkspace();
        const k = f.accessKey(w.id);
        await write((tx) => tx.insertAccessKey(k.record));
        expect(await store.findAccessKey(hashAccessKey(`${k.key}x`))).toBeUndefined();
        const flipped = Buffer.from(k.record.keyHash);
        flipped[31] = flipped[31]! ^ 1;
        expect(await store.findAccessKey(flipped)).toBeUndefined();
      });

      it('reflects a new signing key through findAccessKey', async () => {
        const w = await newWorkspace();
        const k = f.accessKey(w.id);
        await write(async (tx) => {
          await tx.insertAccessKey(k.record);
          await tx.setSigningKey(w.id, 'rotated-signing-key-012345');
        });
        expect((await store.findAccessKey(k.record.keyHash))!.workspace.signingKey).toBe('rotated-signing-key-012345');
      });

      it('deletes the keys of one workspace only', async () => {
        const a = await newWorkspace();
        const b = await newWorkspace();
        const ka = f.accessKey(a.id);
        const ka2 = f.accessKey(a.id, 'test');
        const kb = f.accessKey(b.id);
        await write(async (tx) => {
          await tx.insertAccessKey(ka.record);
          await tx.insertAccessKey(ka2.record);
          await tx.insertAccessKey(kb.record);
        });
        await write((tx) => tx.deleteAccessKeys(a.id));
        expect(await store.findAccessKey(ka.record.keyHash)).toBeUndefined();
        expect(await store.findAccessKey(ka2.record.keyHash)).toBeUndefined();
        expect((await store.findAccessKey(kb.record.keyHash))!.workspace.id).toBe(b.id);
      });

      it('refuses the same key for two workspaces (a key authenticates exactly one workspace)', async () => {
        const a = await newWorkspace();
        const b = await newWorkspace();
        const k = f.accessKey(a.id);
        await write((tx) => tx.insertAccessKey(k.record));
        await expect(write((tx) => tx.insertAccessKey({ ...k.record, id: newId(), workspaceId: b.id }))).rejects.toThrow();
        expect((await store.findAccessKey(k.record.keyHash))!.workspace.id).toBe(a.id);
      });
    });

    // ---- channels ---------------------------------------------------------------------

    describe('channels', () => {
      it('stores and returns a channel with its settings and secrets', async () => {
        const w = await newWorkspace();
        const ch = f.channel(w.id, { settings: { a: 1, b: { c: [true, null, 'x'] } }, secrets: { apiKey: 'k', apiSecret: 's' } });
        await write((tx) => tx.insertChannel(ch));
        expect(await store.getChannel(w.id, ch.id)).toEqual(ch);
        expect(await store.getChannelForInbound(ch.id)).toEqual(ch);
      });

      it('returns undefined for unknown channels', async () => {
        const w = await newWorkspace();
        expect(await store.getChannel(w.id, newId())).toBeUndefined();
        expect(await store.getChannelForInbound(newId())).toBeUndefined();
      });

      it('updates a channel', async () => {
        const w = await newWorkspace();
        const ch = f.channel(w.id);
        await write((tx) => tx.insertChannel(ch));
        const updated: Channel = {
          ...ch, name: 'Renamed', status: 'inactive', settings: { fromNumber: '+14155550199' }, secrets: { apiKey: 'rotated' }, updatedAt: f.T0 + 5,
        };
        await write((tx) => tx.updateChannel(updated));
        expect(await store.getChannel(w.id, ch.id)).toEqual(updated);
      });

      it('hides deleted channels from every read by id and from the list', async () => {
        const w = await newWorkspace();
        const keep = f.channel(w.id);
        const gone = f.channel(w.id);
        await write(async (tx) => {
          await tx.insertChannel(keep);
          await tx.insertChannel(gone);
        });
        await write((tx) => tx.updateChannel({ ...gone, status: 'deleted', updatedAt: f.T0 + 1 }));
        expect(await store.getChannel(w.id, gone.id)).toBeUndefined();
        expect(await store.getChannelForInbound(gone.id)).toBeUndefined();
        const page = await store.listChannels(w.id, 0, 100);
        expect(page.items.map((c) => c.id)).toEqual([keep.id]);
        expect(page.total).toBe(1);
      });

      it('lists channels in stable pages with a total', async () => {
        const w = await newWorkspace();
        const chans = Array.from({ length: 5 }, () => f.channel(w.id));
        await write(async (tx) => {
          for (const c of chans) await tx.insertChannel(c);
        });
        const pages = [await store.listChannels(w.id, 0, 2), await store.listChannels(w.id, 2, 2), await store.listChannels(w.id, 4, 2)];
        expect(pages.map((p) => p.items.length)).toEqual([2, 2, 1]);
        expect(pages.map((p) => p.total)).toEqual([5, 5, 5]);
        const ids = pages.flatMap((p) => p.items.map((c) => c.id));
        expect(new Set(ids).size).toBe(5);
        expect([...ids].sort()).toEqual(chans.map((c) => c.id).sort());
        expect(pages[0]!.items[0]).toEqual(chans.find((c) => c.id === pages[0]!.items[0]!.id));
        const beyond = await store.listChannels(w.id, 5, 2);
        expect(beyond).toEqual({ items: [], total: 5 });
      });

      it('gets several channels in the order asked, skipping unknown ones', async () => {
        const w = await newWorkspace();
        const [a, b, c] = [f.channel(w.id), f.channel(w.id), f.channel(w.id)];
        await write(async (tx) => {
          for (const x of [a, b, c]) await tx.insertChannel(x);
        });
        const got = await store.getChannels(w.id, [c.id, newId(), a.id]);
        expect(got).toEqual([c, a]);
        expect(await store.getChannels(w.id, [])).toEqual([]);
      });
    });

    // ---- contacts ---------------------------------------------------------------------

    describe('contacts and identifiers', () => {
      it('stores a contact and its identifiers', async () => {
        const w = await newWorkspace();
        const ct = f.contact(w.id);
        const ids: ContactIdentifier[] = [{ key: 'phonenumber', value: ct.msisdn! }, { key: 'telegram', value: '12345678' }];
        await write((tx) => tx.insertContact(ct, ids));
        expect(await store.getContact(w.id, ct.id)).toEqual(ct);
        for (const i of ids) expect(await store.findContactByIdentifier(w.id, i)).toEqual(ct);
        const stored = await store.getContactIdentifiers(w.id, ct.id);
        expect([...stored].sort((x, y) => x.key.localeCompare(y.key))).toEqual(ids);
      });

      it('stores a contact without phone number or names', async () => {
        const w = await newWorkspace();
        const ct = f.contact(w.id, { msisdn: null, displayName: null, firstName: null, lastName: null, customDetails: {} });
        await write((tx) => tx.insertContact(ct, [{ key: 'telegram', value: '42' }]));
        expect(await store.getContact(w.id, ct.id)).toEqual(ct);
      });

      it('returns undefined for unknown contacts and identifiers', async () => {
        const w = await newWorkspace();
        expect(await store.getContact(w.id, newId())).toBeUndefined();
        expect(await store.findContactByIdentifier(w.id, { key: 'phonenumber', value: '+31600000000' })).toBeUndefined();
        expect(await store.getContactIdentifiers(w.id, newId())).toEqual([]);
      });

      it('tells identifiers apart by key and by exact value', async () => {
        const w = await newWorkspace();
        const ct = await newContact(w.id, [{ key: 'phonenumber', value: '+31612345678' }]);
        expect((await store.findContactByIdentifier(w.id, { key: 'phonenumber', value: '+31612345678' }))!.id).toBe(ct.id);
        expect(await store.findContactByIdentifier(w.id, { key: 'telegram', value: '+31612345678' })).toBeUndefined();
        expect(await store.findContactByIdentifier(w.id, { key: 'phonenumber', value: '31612345678' })).toBeUndefined();
        expect(await store.findContactByIdentifier(w.id, { key: 'PHONENUMBER', value: '+31612345678' })).toBeUndefined();
      });

      it('keeps one contact per identifier: a second contact cannot take an identifier', async () => {
        const w = await newWorkspace();
        const identifier = { key: 'phonenumber', value: f.uniquePhone() };
        const first = await newContact(w.id, [identifier]);
        const second = f.contact(w.id);
        await write((tx) => tx.insertContact(second, [identifier])).catch(() => undefined);
        expect((await store.findContactByIdentifier(w.id, identifier))!.id).toBe(first.id);
        expect(await store.getContactIdentifiers(w.id, second.id)).toEqual([]);
      });

      it('adds an identifier to an existing contact', async () => {
        const w = await newWorkspace();
        const ct = await newContact(w.id, [{ key: 'phonenumber', value: f.uniquePhone() }]);
        await write((tx) => tx.addContactIdentifier(w.id, ct.id, { key: 'whatsapp', value: 'wa-1' }));
        expect((await store.findContactByIdentifier(w.id, { key: 'whatsapp', value: 'wa-1' }))!.id).toBe(ct.id);
        expect(await store.getContactIdentifiers(w.id, ct.id)).toHaveLength(2);
      });

      it('does not move an identifier that belongs to another contact', async () => {
        const w = await newWorkspace();
        const identifier = { key: 'telegram', value: `tg-${newId()}` };
        const owner = await newContact(w.id, [identifier]);
        const other = await newContact(w.id);
        await write((tx) => tx.addContactIdentifier(w.id, other.id, identifier)).catch(() => undefined);
        expect((await store.findContactByIdentifier(w.id, identifier))!.id).toBe(owner.id);
      });

      it('scopes identifiers to a workspace: the same number is a different contact elsewhere', async () => {
        const a = await newWorkspace();
        const b = await newWorkspace();
        const identifier = { key: 'phonenumber', value: f.uniquePhone() };
        const ca = await newContact(a.id, [identifier]);
        const cb = await newContact(b.id, [identifier]);
        expect((await store.findContactByIdentifier(a.id, identifier))!.id).toBe(ca.id);
        expect((await store.findContactByIdentifier(b.id, identifier))!.id).toBe(cb.id);
      });

      it('gets several contacts at once, without duplicates', async () => {
        const w = await newWorkspace();
        const x = await newContact(w.id);
        const y = await newContact(w.id);
        await newContact(w.id);
        const got = await store.getContacts(w.id, [x.id, y.id, x.id, newId()]);
        expect(got.map((c) => c.id).sort()).toEqual([x.id, y.id].sort());
        expect(got.find((c) => c.id === x.id)).toEqual(x);
        expect(await store.getContacts(w.id, [])).toEqual([]);
      });
    });

    // ---- conversations ----------------------------------------------------------------

    describe('conversations', () => {
      it('stores and returns a conversation', async () => {
        const { ws, ch, ct } = await graph();
        const ch2 = f.channel(ws.id);
        const archived = f.conversation(ws.id, ct.id, ch.id, {
          status: 'archived', channelIds: [ch.id, ch2.id], lastUsedChannelId: ch2.id, lastReceivedAt: f.T0 + 10,
          lastMessageId: newId(), messageCount: 7, updatedAt: f.T0 + 20,
        });
        await write(async (tx) => {
          await tx.insertChannel(ch2);
          await tx.insertConversation(archived);
        });
        expect(await store.getConversation(ws.id, archived.id)).toEqual(archived);
      });

      it('returns undefined for an unknown conversation', async () => {
        const w = await newWorkspace();
        expect(await store.getConversation(w.id, newId())).toBeUndefined();
      });

      it('finds the active conversation of a contact, and none when all are archived', async () => {
        const { ws, ct, conv } = await graph();
        expect(await store.findActiveConversation(ws.id, ct.id)).toEqual(conv);
        await write((tx) => tx.updateConversation({ ...conv, status: 'archived', updatedAt: f.T0 + 1 }));
        expect(await store.findActiveConversation(ws.id, ct.id)).toBeUndefined();
        const other = await newContact(ws.id);
        expect(await store.findActiveConversation(ws.id, other.id)).toBeUndefined();
      });

      it('updates a conversation', async () => {
        const { ws, ch, conv } = await graph();
        const ch2 = f.channel(ws.id);
        const updated: Conversation = {
          ...conv, channelIds: [ch.id, ch2.id], lastUsedChannelId: ch2.id, lastReceivedAt: f.T0 + 100,
          lastMessageId: newId(), messageCount: 3, updatedAt: f.T0 + 100,
        };
        await write(async (tx) => {
          await tx.insertChannel(ch2);
          await tx.updateConversation(updated);
        });
        expect(await store.getConversation(ws.id, conv.id)).toEqual(updated);
      });

      it('enforces at most one active conversation per contact, rolling back only the offending transaction', async () => {
        const { ws, ch, ct, conv } = await graph();
        const second = f.conversation(ws.id, ct.id, ch.id);
        const ev = f.outboxEvent(ws.id, second.id);
        const eventsBefore = await store.countEvents(ws.id);
        await expect(write(async (tx) => {
          await tx.insertEvent(ev); // written first: must be rolled back with the conversation
          await tx.insertConversation(second);
        })).rejects.toThrow();
        expect(await store.getConversation(ws.id, second.id)).toBeUndefined();
        expect(await store.countEvents(ws.id)).toBe(eventsBefore);
        expect(await store.findActiveConversation(ws.id, ct.id)).toEqual(conv);
        // The store is still usable, and other contacts are unaffected.
        const other = await newContact(ws.id);
        const theirs = f.conversation(ws.id, other.id, ch.id);
        await write((tx) => tx.insertConversation(theirs));
        expect(await store.findActiveConversation(ws.id, other.id)).toEqual(theirs);
      });

      it('lets exactly one of two racing inserts of an active conversation win', async () => {
        const { ws, ch } = await graph();
        const ct = await newContact(ws.id);
        const a = f.conversation(ws.id, ct.id, ch.id);
        const b = f.conversation(ws.id, ct.id, ch.id);
        const results = await Promise.allSettled([write((tx) => tx.insertConversation(a)), write((tx) => tx.insertConversation(b))]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const winner = results[0]!.status === 'fulfilled' ? a : b;
        expect(await store.findActiveConversation(ws.id, ct.id)).toEqual(winner);
        const total = await store.listConversations(ws.id, { ids: [a.id, b.id], offset: 0, limit: 10 });
        expect(total.total).toBe(1);
      });

      it('allows any number of archived conversations next to one active one', async () => {
        const { ws, ch, ct, conv } = await graph();
        const archived = [1, 2, 3].map(() => f.conversation(ws.id, ct.id, ch.id, { status: 'archived' }));
        await write(async (tx) => {
          for (const c of archived) await tx.insertConversation(c);
        });
        const page = await store.listConversations(ws.id, { offset: 0, limit: 10 });
        expect(page.total).toBe(4);
        expect(await store.findActiveConversation(ws.id, ct.id)).toEqual(conv);
      });

      it('opens a new active conversation once the old one is archived', async () => {
        const { ws, ch, ct, conv } = await graph();
        const next = f.conversation(ws.id, ct.id, ch.id);
        await write(async (tx) => {
          await tx.updateConversation({ ...conv, status: 'archived', updatedAt: f.T0 + 1 });
          await tx.insertConversation(next);
        });
        expect(await store.findActiveConversation(ws.id, ct.id)).toEqual(next);
      });

      it('refuses to re-activate an archived conversation while another is active', async () => {
        const { ws, ch, ct, conv } = await graph();
        const old = f.conversation(ws.id, ct.id, ch.id, { status: 'archived' });
        await write((tx) => tx.insertConversation(old));
        await expect(write((tx) => tx.updateConversation({ ...old, status: 'active', updatedAt: f.T0 + 1 }))).rejects.toThrow();
        expect((await store.getConversation(ws.id, old.id))!.status).toBe('archived');
        expect(await store.findActiveConversation(ws.id, ct.id)).toEqual(conv);
      });

      describe('list', () => {
        /** Conversations for distinct contacts, so that all can be active. */
        async function conversations(ws: WorkspaceId, ch: ChannelId, specs: Array<Partial<Conversation>>): Promise<Conversation[]> {
          const out: Conversation[] = [];
          for (const spec of specs) {
            const ct = await newContact(ws);
            const c = f.conversation(ws, ct.id, ch, spec);
            await write((tx) => tx.insertConversation(c));
            out.push(c);
          }
          return out;
        }

        it('orders by last received time, newest first, then by id descending', async () => {
          const { ws, ch, conv: oldest } = await graph(); // never received, created at T0
          const [r100, r300, tieA, tieB, created200] = await conversations(ws.id, ch.id, [
            { lastReceivedAt: f.T0 + 100 },
            { lastReceivedAt: f.T0 + 300 },
            { lastReceivedAt: f.T0 + 250 },
            { lastReceivedAt: f.T0 + 250 },
            { lastReceivedAt: null, createdAt: f.T0 + 200 }, // never received: falls back to creation time
          ]);
          const page = await store.listConversations(ws.id, { offset: 0, limit: 10 });
          expect(page.items.map((c) => c.id)).toEqual([r300!.id, tieB!.id, tieA!.id, created200!.id, r100!.id, oldest.id]);
          expect(page.total).toBe(6);
          expect(page.items[0]).toEqual(r300);
        });

        it('moves a conversation to the top when it receives a message', async () => {
          const { ws, ch } = await graph();
          const [a, b] = await conversations(ws.id, ch.id, [{ lastReceivedAt: f.T0 + 1 }, { lastReceivedAt: f.T0 + 2 }]);
          await write((tx) => tx.updateConversation({ ...a!, lastReceivedAt: f.T0 + 3, updatedAt: f.T0 + 3 }));
          const page = await store.listConversations(ws.id, { offset: 0, limit: 2 });
          expect(page.items.map((c) => c.id)).toEqual([a!.id, b!.id]);
        });

        it('pages with offset and limit, with the total of all matches', async () => {
          const { ws, ch, conv } = await graph();
          const more = await conversations(ws.id, ch.id, [1, 2, 3, 4].map((i) => ({ lastReceivedAt: f.T0 + i })));
          const expected = [...more].reverse().map((c) => c.id).concat(conv.id);
          const p1 = await store.listConversations(ws.id, { offset: 0, limit: 2 });
          const p2 = await store.listConversations(ws.id, { offset: 2, limit: 2 });
          const p3 = await store.listConversations(ws.id, { offset: 4, limit: 2 });
          expect([...p1.items, ...p2.items, ...p3.items].map((c) => c.id)).toEqual(expected);
          expect([p1.total, p2.total, p3.total]).toEqual([5, 5, 5]);
          expect(await store.listConversations(ws.id, { offset: 10, limit: 2 })).toEqual({ items: [], total: 5 });
        });

        it('filters by status', async () => {
          const { ws, ch, conv } = await graph();
          const [arch1, arch2] = await conversations(ws.id, ch.id, [
            { status: 'archived', lastReceivedAt: f.T0 + 1 }, { status: 'archived', lastReceivedAt: f.T0 + 2 },
          ]);
          const archived = await store.listConversations(ws.id, { status: 'archived', offset: 0, limit: 10 });
          expect(archived.items.map((c) => c.id)).toEqual([arch2!.id, arch1!.id]);
          expect(archived.total).toBe(2);
          const active = await store.listConversations(ws.id, { status: 'active', offset: 0, limit: 10 });
          expect(active.items.map((c) => c.id)).toEqual([conv.id]);
          expect(active.total).toBe(1);
          const limited = await store.listConversations(ws.id, { status: 'archived', offset: 0, limit: 1 });
          expect(limited.items).toHaveLength(1);
          expect(limited.total).toBe(2);
        });

        it('filters by ids, combined with status', async () => {
          const { ws, ch } = await graph();
          const [x, y, z] = await conversations(ws.id, ch.id, [
            { lastReceivedAt: f.T0 + 1 }, { lastReceivedAt: f.T0 + 2, status: 'archived' }, { lastReceivedAt: f.T0 + 3 },
          ]);
          const byIds = await store.listConversations(ws.id, { ids: [x!.id, y!.id, newId()], offset: 0, limit: 10 });
          expect(byIds.items.map((c) => c.id)).toEqual([y!.id, x!.id]);
          expect(byIds.total).toBe(2);
          const both = await store.listConversations(ws.id, { ids: [x!.id, y!.id, z!.id], status: 'active', offset: 0, limit: 10 });
          expect(both.items.map((c) => c.id)).toEqual([z!.id, x!.id]);
          expect(both.total).toBe(2);
          expect(await store.listConversations(ws.id, { ids: [], offset: 0, limit: 10 })).toEqual({ items: [], total: 0 });
        });

        it('is empty for a workspace without conversations', async () => {
          const w = await newWorkspace();
          expect(await store.listConversations(w.id, { offset: 0, limit: 10 })).toEqual({ items: [], total: 0 });
        });
      });
    });

    // ---- messages ---------------------------------------------------------------------

    describe('messages', () => {
      it('stores and returns a message with every field', async () => {
        const { ws, ch, conv } = await graph();
        const m = f.message(conv, ch.id, {
          direction: 'sent', status: 'failed', type: 'image', content: { image: { url: 'https://x.example/a.jpg', caption: 'c' } },
          error: { code: 7, description: 'rejected' }, source: { agentId: 'a-1' }, tag: 'ACCOUNT_UPDATE', mode: 'test',
          reportUrl: 'https://customer.example/report', updatedAt: f.T0 + 9,
        });
        expect(await write((tx) => tx.insertMessage(m))).toBe(true);
        expect(await store.getMessage(ws.id, m.id)).toEqual(m);
        expect(await store.findMessageByProviderId(ch.id, m.providerMessageId!)).toEqual(m);
      });

      it('returns undefined for unknown messages', async () => {
        const { ws, ch } = await graph();
        expect(await store.getMessage(ws.id, newId())).toBeUndefined();
        expect(await store.findMessageByProviderId(ch.id, 'nope')).toBeUndefined();
      });

      it('writes nothing and returns false for a duplicate provider message id on the same channel', async () => {
        const { ws, ch, conv } = await graph();
        const first = f.message(conv, ch.id, { providerMessageId: 'dup-1', content: { text: 'first' } });
        const again = f.message(conv, ch.id, { providerMessageId: 'dup-1', content: { text: 'again' } });
        expect(await write((tx) => tx.insertMessage(first))).toBe(true);
        expect(await write((tx) => tx.insertMessage(again))).toBe(false);
        expect(await store.getMessage(ws.id, again.id)).toBeUndefined();
        expect(await store.findMessageByProviderId(ch.id, 'dup-1')).toEqual(first);
        expect((await store.listMessages(ws.id, { conversationId: conv.id, offset: 0, limit: 10 })).total).toBe(1);
      });

      it('a duplicate does not abort the rest of its transaction', async () => {
        const { ws, ch, conv } = await graph();
        const first = f.message(conv, ch.id, { providerMessageId: 'dup-2' });
        await write((tx) => tx.insertMessage(first));
        const other = f.message(conv, ch.id);
        const result = await write(async (tx) => {
          const dup = await tx.insertMessage(f.message(conv, ch.id, { providerMessageId: 'dup-2' }));
          const fresh = await tx.insertMessage(other);
          return { dup, fresh };
        });
        expect(result).toEqual({ dup: false, fresh: true });
        expect(await store.getMessage(ws.id, other.id)).toEqual(other);
      });

      it('detects a duplicate inside the same transaction', async () => {
        const { ch, conv } = await graph();
        const results = await write(async (tx) => [
          await tx.insertMessage(f.message(conv, ch.id, { providerMessageId: 'dup-3' })),
          await tx.insertMessage(f.message(conv, ch.id, { providerMessageId: 'dup-3' })),
        ]);
        expect(results).toEqual([true, false]);
      });

      it('allows the same provider message id on another channel, and any number without one', async () => {
        const { ws, ch, conv } = await graph();
        const ch2 = f.channel(ws.id);
        await write((tx) => tx.insertChannel(ch2));
        const a = f.message(conv, ch.id, { providerMessageId: 'shared' });
        const b = f.message(conv, ch2.id, { providerMessageId: 'shared' });
        const n1 = f.message(conv, ch.id, { providerMessageId: null });
        const n2 = f.message(conv, ch.id, { providerMessageId: null });
        const inserted = await write(async (tx) => [await tx.insertMessage(a), await tx.insertMessage(b), await tx.insertMessage(n1), await tx.insertMessage(n2)]);
        expect(inserted).toEqual([true, true, true, true]);
        expect((await store.findMessageByProviderId(ch2.id, 'shared'))!.id).toBe(b.id);
        expect((await store.findMessageByProviderId(ch.id, 'shared'))!.id).toBe(a.id);
        expect((await store.listMessages(ws.id, { conversationId: conv.id, offset: 0, limit: 10 })).total).toBe(4);
      });

      it('lists messages newest first, with offset, limit and total', async () => {
        const { ws, ch, conv } = await graph();
        const msgs: Message[] = [];
        for (let i = 0; i < 5; i++) msgs.push(f.message(conv, ch.id, { createdAt: f.T0 + i, content: { text: `m${i}` } }));
        await write(async (tx) => {
          for (const m of msgs) await tx.insertMessage(m);
        });
        const newestFirst = [...msgs].reverse();
        const all = await store.listMessages(ws.id, { conversationId: conv.id, offset: 0, limit: 10 });
        expect(all.items).toEqual(newestFirst);
        expect(all.total).toBe(5);
        const page = await store.listMessages(ws.id, { conversationId: conv.id, offset: 1, limit: 2 });
        expect(page.items.map((m) => m.id)).toEqual([newestFirst[1]!.id, newestFirst[2]!.id]);
        expect(page.total).toBe(5);
        expect(await store.listMessages(ws.id, { conversationId: conv.id, offset: 5, limit: 2 })).toEqual({ items: [], total: 5 });
      });

      it('lists only the messages of the conversation asked for', async () => {
        const { ws, ch, conv } = await graph();
        const other = await newContact(ws.id);
        const conv2 = f.conversation(ws.id, other.id, ch.id);
        await write((tx) => tx.insertConversation(conv2));
        const mine = f.message(conv, ch.id);
        await write(async (tx) => {
          await tx.insertMessage(mine);
          await tx.insertMessage(f.message(conv2, ch.id));
        });
        const page = await store.listMessages(ws.id, { conversationId: conv.id, offset: 0, limit: 10 });
        expect(page.items.map((m) => m.id)).toEqual([mine.id]);
        expect(page.total).toBe(1);
        expect(await store.listMessages(ws.id, { conversationId: newId(), offset: 0, limit: 10 })).toEqual({ items: [], total: 0 });
      });

      it('leaves out excluded platforms from items and total', async () => {
        const { ws, ch, conv } = await graph();
        const sms = f.message(conv, ch.id, { platform: 'sms' });
        const voice = f.message(conv, ch.id, { platform: 'voice' });
        const wa = f.message(conv, ch.id, { platform: 'whatsapp' });
        await write(async (tx) => {
          for (const m of [sms, voice, wa]) await tx.insertMessage(m);
        });
        const filter = { conversationId: conv.id, offset: 0, limit: 10 };
        const noVoice = await store.listMessages(ws.id, { ...filter, excludePlatforms: ['voice'] });
        expect(noVoice.items.map((m) => m.id)).toEqual([wa.id, sms.id]);
        expect(noVoice.total).toBe(2);
        const onlySms = await store.listMessages(ws.id, { ...filter, excludePlatforms: ['voice', 'whatsapp'] });
        expect(onlySms.items.map((m) => m.id)).toEqual([sms.id]);
        expect(onlySms.total).toBe(1);
        const paged = await store.listMessages(ws.id, { ...filter, limit: 1, excludePlatforms: ['voice'] });
        expect(paged.items.map((m) => m.id)).toEqual([wa.id]);
        expect(paged.total).toBe(2);
        const none = await store.listMessages(ws.id, { ...filter, excludePlatforms: [] });
        expect(none.total).toBe(3);
      });

      it('updates a status, error and provider message id', async () => {
        const { ws, ch, conv } = await graph();
        const m = f.message(conv, ch.id, { direction: 'sent', status: 'accepted', providerMessageId: null });
        await write((tx) => tx.insertMessage(m));
        await write((tx) => tx.updateMessageStatus(m.id, 'sent', null, 'prov-assigned', f.T0 + 1));
        expect(await store.getMessage(ws.id, m.id)).toEqual({ ...m, status: 'sent', providerMessageId: 'prov-assigned', updatedAt: f.T0 + 1 });
        expect((await store.findMessageByProviderId(ch.id, 'prov-assigned'))!.id).toBe(m.id);

        // A null provider id keeps the one already known.
        await write((tx) => tx.updateMessageStatus(m.id, 'failed', { code: 3, description: 'undeliverable' }, null, f.T0 + 2));
        expect(await store.getMessage(ws.id, m.id)).toEqual({
          ...m, status: 'failed', providerMessageId: 'prov-assigned', error: { code: 3, description: 'undeliverable' }, updatedAt: f.T0 + 2,
        });
      });

      it('updates the status of one message only', async () => {
        const { ws, ch, conv } = await graph();
        const a = f.message(conv, ch.id, { direction: 'sent', status: 'accepted' });
        const b = f.message(conv, ch.id, { direction: 'sent', status: 'accepted' });
        await write(async (tx) => {
          await tx.insertMessage(a);
          await tx.insertMessage(b);
        });
        await write((tx) => tx.updateMessageStatus(a.id, 'delivered', null, null, f.T0 + 1));
        expect(await store.getMessage(ws.id, b.id)).toEqual(b);
      });
    });

    // ---- send jobs --------------------------------------------------------------------

    describe('send jobs', () => {
      const FAR = 1e15;
      /** Claims and deletes every due job, so each test starts with an empty queue. */
      async function drain(): Promise<void> {
        for (;;) {
          const jobs = await write((tx) => tx.claimSendJobs(FAR, 1, 10_000));
          if (jobs.length === 0) return;
          await write(async (tx) => {
            for (const j of jobs) await tx.deleteSendJob(j.messageId);
          });
        }
      }

      beforeEach(drain);

      async function job(ws: WorkspaceId, runAt: number): Promise<MessageId> {
        const id = newId<'message'>();
        await write((tx) => tx.insertSendJob(id, ws, runAt));
        return id;
      }
      const claim = (now: number, leaseMs: number, limit = 100) => write((tx) => tx.claimSendJobs(now, leaseMs, limit));

      it('claims a due job, counting the attempt and setting the lease', async () => {
        const w = await newWorkspace();
        const id = await job(w.id, 1_000);
        expect(await claim(1_000, 30_000)).toEqual([{ messageId: id, workspaceId: w.id, attempts: 1, lockedUntil: 31_000 }]);
      });

      it('does not claim a job before its run time', async () => {
        const w = await newWorkspace();
        const id = await job(w.id, 1_000);
        expect(await claim(999, 30_000)).toEqual([]);
        expect((await claim(1_000, 30_000)).map((j) => j.messageId)).toEqual([id]);
      });

      it('does not claim a leased job again until the lease expires, then counts another attempt', async () => {
        const w = await newWorkspace();
        const id = await job(w.id, 1_000);
        await claim(1_000, 30_000);
        expect(await claim(1_001, 30_000)).toEqual([]);
        expect(await claim(30_999, 30_000)).toEqual([]);
        const again = await claim(31_001, 30_000);
        expect(again).toEqual([{ messageId: id, workspaceId: w.id, attempts: 2, lockedUntil: 61_001 }]);
      });

      it('claims at most `limit` jobs, the earliest due first', async () => {
        const w = await newWorkspace();
        const late = await job(w.id, 3_000);
        const early = await job(w.id, 1_000);
        const mid = await job(w.id, 2_000);
        const first = await claim(5_000, 60_000, 2);
        expect(first.map((j) => j.messageId).sort()).toEqual([early, mid].sort());
        const rest = await claim(5_000, 60_000, 2);
        expect(rest.map((j) => j.messageId)).toEqual([late]);
        expect(await claim(5_000, 60_000, 2)).toEqual([]);
      });

      it('claims due jobs of every workspace', async () => {
        const a = await newWorkspace();
        const b = await newWorkspace();
        const ja = await job(a.id, 1_000);
        const jb = await job(b.id, 1_000);
        const claimed = await claim(1_000, 1_000);
        expect(claimed.map((j) => [j.messageId, j.workspaceId]).sort()).toEqual([[ja, a.id], [jb, b.id]].sort());
      });

      it('reschedules a job: it is released and due again at the new time', async () => {
        const w = await newWorkspace();
        const id = await job(w.id, 1_000);
        await claim(1_000, 60_000);
        await write((tx) => tx.rescheduleSendJob(id, 5_000, 'HTTP 503'));
        expect(await claim(4_999, 60_000)).toEqual([]);
        // Due at 5 000 although the first lease ran until 61 000: rescheduling released it.
        expect(await claim(5_000, 60_000)).toEqual([{ messageId: id, workspaceId: w.id, attempts: 2, lockedUntil: 65_000 }]);
      });

      it('never claims a deleted job', async () => {
        const w = await newWorkspace();
        const id = await job(w.id, 1_000);
        const keep = await job(w.id, 1_000);
        await write((tx) => tx.deleteSendJob(id));
        expect((await claim(10_000, 1_000)).map((j) => j.messageId)).toEqual([keep]);
        await write((tx) => tx.deleteSendJob(keep));
        expect(await claim(FAR, 1)).toEqual([]);
      });

      it('claims nothing when a claiming transaction rolls back', async () => {
        const w = await newWorkspace();
        const id = await job(w.id, 1_000);
        await expect(write(async (tx) => {
          expect(await tx.claimSendJobs(1_000, 60_000, 10)).toHaveLength(1);
          throw new Error('worker crashed');
        })).rejects.toThrow('worker crashed');
        expect(await claim(1_000, 60_000)).toEqual([{ messageId: id, workspaceId: w.id, attempts: 1, lockedUntil: 61_000 }]);
      });
    });

    // ---- webhooks ---------------------------------------------------------------------

    describe('webhooks', () => {
      it('stores and returns generic and channel-specific webhooks', async () => {
        const { ws, ch } = await graph();
        const generic = f.webhook(ws.id);
        const specific = f.webhook(ws.id, { channelId: ch.id, events: ['conversation.created'], settings: { format: 'json', retries: 3 } });
        await write(async (tx) => {
          await tx.insertWebhook(generic);
          await tx.insertWebhook(specific);
        });
        expect(await store.getWebhook(ws.id, generic.id)).toEqual(generic);
        expect(await store.getWebhook(ws.id, specific.id)).toEqual(specific);
        expect(await store.getWebhook(ws.id, newId())).toBeUndefined();
      });

      it('updates a webhook', async () => {
        const { ws, ch } = await graph();
        const w = f.webhook(ws.id);
        await write((tx) => tx.insertWebhook(w));
        const updated = { ...w, channelId: ch.id, url: 'https://new.example/h', events: ['message.created' as const], status: 'disabled' as const, settings: { a: 1 }, updatedAt: f.T0 + 1 };
        await write((tx) => tx.updateWebhook(updated));
        expect(await store.getWebhook(ws.id, w.id)).toEqual(updated);
      });

      it('deletes a webhook once', async () => {
        const ws = await newWorkspace();
        const w = f.webhook(ws.id);
        const keep = f.webhook(ws.id);
        await write(async (tx) => {
          await tx.insertWebhook(w);
          await tx.insertWebhook(keep);
        });
        expect(await write((tx) => tx.deleteWebhook(ws.id, w.id))).toBe(true);
        expect(await store.getWebhook(ws.id, w.id)).toBeUndefined();
        expect(await write((tx) => tx.deleteWebhook(ws.id, w.id))).toBe(false);
        expect(await store.getWebhook(ws.id, keep.id)).toEqual(keep);
      });

      it('lists webhooks in stable pages with a total', async () => {
        const ws = await newWorkspace();
        const hooks = Array.from({ length: 5 }, () => f.webhook(ws.id));
        await write(async (tx) => {
          for (const h of hooks) await tx.insertWebhook(h);
        });
        const p1 = await store.listWebhooks(ws.id, 0, 3);
        const p2 = await store.listWebhooks(ws.id, 3, 3);
        expect([p1.items.length, p2.items.length]).toEqual([3, 2]);
        expect([p1.total, p2.total]).toEqual([5, 5]);
        const ids = [...p1.items, ...p2.items].map((h) => h.id);
        expect([...ids].sort()).toEqual(hooks.map((h) => h.id).sort());
        expect(await store.listWebhooks(ws.id, 5, 3)).toEqual({ items: [], total: 5 });
      });

      it('counts channel-specific and generic webhooks separately', async () => {
        const { ws, ch } = await graph();
        expect(await store.countWebhooks(ws.id)).toEqual({ channelSpecific: 0, generic: 0 });
        await write(async (tx) => {
          await tx.insertWebhook(f.webhook(ws.id));
          await tx.insertWebhook(f.webhook(ws.id, { channelId: ch.id }));
          await tx.insertWebhook(f.webhook(ws.id, { channelId: ch.id }));
          await tx.insertWebhook(f.webhook(ws.id, { channelId: ch.id, status: 'disabled' }));
        });
        expect(await store.countWebhooks(ws.id)).toEqual({ channelSpecific: 3, generic: 1 });
      });
    });

    // ---- events (outbox) --------------------------------------------------------------

    describe('events', () => {
      it('stores events and lists them in id order after a cursor', async () => {
        const { ws, ch, conv } = await graph();
        const events = [
          f.outboxEvent(ws.id, conv.id, { type: 'conversation.created' }),
          f.outboxEvent(ws.id, conv.id, { channelId: ch.id }),
          f.outboxEvent(ws.id, conv.id, { type: 'message.updated', payload: '{"x":"ü"}' }),
          f.outboxEvent(ws.id, conv.id, { type: 'conversation.updated' }),
        ];
        expect(await store.countEvents(ws.id)).toBe(0);
        await write(async (tx) => {
          for (const e of events) await tx.insertEvent(e);
        });
        expect(await store.countEvents(ws.id)).toBe(4);
        expect(await store.listEvents(ws.id, null, 100)).toEqual(events);
        expect(await store.listEvents(ws.id, null, 2)).toEqual(events.slice(0, 2));
        expect(await store.listEvents(ws.id, events[1]!.id, 100)).toEqual(events.slice(2));
        expect(await store.listEvents(ws.id, events[3]!.id, 100)).toEqual([]);
      });

      it('walks the whole outbox page by page', async () => {
        const { ws, conv } = await graph();
        const events = Array.from({ length: 7 }, () => f.outboxEvent(ws.id, conv.id));
        await write(async (tx) => {
          for (const e of events) await tx.insertEvent(e);
        });
        const seen: string[] = [];
        let cursor: string | null = null;
        for (let i = 0; i < 10; i++) {
          const page = await store.listEvents(ws.id, cursor, 3);
          if (page.length === 0) break;
          seen.push(...page.map((e) => e.id));
          cursor = page[page.length - 1]!.id;
        }
        expect(seen).toEqual(events.map((e) => e.id));
      });
    });

    // ---- workspace isolation ----------------------------------------------------------

    describe('workspace isolation', () => {
      it('returns nothing of one workspace to a read with another workspace id', async () => {
        const { ws, ch, ct, identifier, conv } = await graph();
        const m = f.message(conv, ch.id);
        const hook = f.webhook(ws.id, { channelId: ch.id });
        await write(async (tx) => {
          await tx.insertMessage(m);
          await tx.insertWebhook(hook);
          await tx.insertWebhook(f.webhook(ws.id));
          await tx.insertEvent(f.outboxEvent(ws.id, conv.id));
        });
        const other = (await newWorkspace()).id;

        expect(await store.getChannel(other, ch.id)).toBeUndefined();
        expect(await store.getChannels(other, [ch.id])).toEqual([]);
        expect(await store.listChannels(other, 0, 100)).toEqual({ items: [], total: 0 });
        expect(await store.getContact(other, ct.id)).toBeUndefined();
        expect(await store.getContacts(other, [ct.id])).toEqual([]);
        expect(await store.findContactByIdentifier(other, identifier)).toBeUndefined();
        expect(await store.getContactIdentifiers(other, ct.id)).toEqual([]);
        expect(await store.getConversation(other, conv.id)).toBeUndefined();
        expect(await store.findActiveConversation(other, ct.id)).toBeUndefined();
        expect(await store.listConversations(other, { offset: 0, limit: 100 })).toEqual({ items: [], total: 0 });
        expect(await store.listConversations(other, { ids: [conv.id], offset: 0, limit: 100 })).toEqual({ items: [], total: 0 });
        expect(await store.listConversations(other, { ids: [conv.id], status: 'active', offset: 0, limit: 100 })).toEqual({ items: [], total: 0 });
        expect(await store.getMessage(other, m.id)).toBeUndefined();
        expect(await store.listMessages(other, { conversationId: conv.id, offset: 0, limit: 100 })).toEqual({ items: [], total: 0 });
        expect(await store.listMessages(other, { conversationId: conv.id, excludePlatforms: ['voice'], offset: 0, limit: 100 }))
          .toEqual({ items: [], total: 0 });
        expect(await store.getWebhook(other, hook.id)).toBeUndefined();
        expect(await store.listWebhooks(other, 0, 100)).toEqual({ items: [], total: 0 });
        expect(await store.countWebhooks(other)).toEqual({ channelSpecific: 0, generic: 0 });
        expect(await store.countEvents(other)).toBe(0);
        expect(await store.listEvents(other, null, 100)).toEqual([]);

        // The owner still sees everything.
        expect(await store.getMessage(ws.id, m.id)).toEqual(m);
        expect(await store.countEvents(ws.id)).toBe(1);
      });

      it('does not let one workspace change or delete what belongs to another', async () => {
        const { ws, ch, conv } = await graph();
        const hook = f.webhook(ws.id);
        await write((tx) => tx.insertWebhook(hook));
        const other = (await newWorkspace()).id;
        await write(async (tx) => {
          await tx.updateChannel({ ...ch, workspaceId: other, name: 'hijacked', status: 'deleted' });
          await tx.updateConversation({ ...conv, workspaceId: other, status: 'archived', messageCount: 99 });
          await tx.updateWebhook({ ...hook, workspaceId: other, url: 'https://evil.example/' });
        });
        expect(await write((tx) => tx.deleteWebhook(other, hook.id))).toBe(false);
        expect(await store.getChannel(ws.id, ch.id)).toEqual(ch);
        expect(await store.getConversation(ws.id, conv.id)).toEqual(conv);
        expect(await store.getWebhook(ws.id, hook.id)).toEqual(hook);
      });
    });

    // ---- transactions -----------------------------------------------------------------

    describe('transactions', () => {
      it('resolves with the value the callback returns', async () => {
        expect(await store.transaction(async () => 42)).toBe(42);
        expect(await store.transaction(async () => undefined)).toBeUndefined();
        const obj = { a: [1, 2] };
        expect(await store.transaction(async () => obj)).toBe(obj);
      });

      it('sees its own writes before commit', async () => {
        const w = f.workspace();
        const ch = f.channel(w.id);
        const seen = await store.transaction(async (tx) => {
          await tx.insertWorkspace(w);
          await tx.insertChannel(ch);
          return { ws: await tx.getWorkspace(w.id), ch: await tx.getChannel(w.id, ch.id) };
        });
        expect(seen).toEqual({ ws: w, ch });
      });

      it('makes writes visible to reads once the promise resolves', async () => {
        const w = f.workspace();
        await store.transaction((tx) => tx.insertWorkspace(w));
        expect(await store.getWorkspace(w.id)).toEqual(w);
      });

      it('rolls back every write of a callback that throws, and rejects with its error', async () => {
        const ws = await newWorkspace();
        const ch = f.channel(ws.id);
        const ct = f.contact(ws.id);
        const identifier = { key: 'phonenumber', value: ct.msisdn! };
        const conv = f.conversation(ws.id, ct.id, ch.id);
        const m = f.message(conv, ch.id);
        const hook = f.webhook(ws.id);
        const key = f.accessKey(ws.id);
        const boom = new Error('boom');
        await expect(store.transaction(async (tx) => {
          await tx.insertChannel(ch);
          await tx.insertContact(ct, [identifier]);
          await tx.insertConversation(conv);
          await tx.insertMessage(m);
          await tx.insertSendJob(m.id, ws.id, 1);
          await tx.insertWebhook(hook);
          await tx.insertEvent(f.outboxEvent(ws.id, conv.id));
          await tx.insertAccessKey(key.record);
          await tx.setSigningKey(ws.id, 'changed-signing-key-0123456');
          throw boom;
        })).rejects.toBe(boom);

        expect(await store.getChannel(ws.id, ch.id)).toBeUndefined();
        expect(await store.getContact(ws.id, ct.id)).toBeUndefined();
        expect(await store.findContactByIdentifier(ws.id, identifier)).toBeUndefined();
        expect(await store.getConversation(ws.id, conv.id)).toBeUndefined();
        expect(await store.getMessage(ws.id, m.id)).toBeUndefined();
        expect(await store.findMessageByProviderId(ch.id, m.providerMessageId!)).toBeUndefined();
        expect(await store.getWebhook(ws.id, hook.id)).toBeUndefined();
        expect(await store.countEvents(ws.id)).toBe(0);
        expect(await store.findAccessKey(key.record.keyHash)).toBeUndefined();
        expect(await store.getWorkspace(ws.id)).toEqual(ws);
        const claimed = await store.transaction((tx) => tx.claimSendJobs(1e15, 1, 10_000));
        expect(claimed.map((j) => j.messageId)).not.toContain(m.id);
      });

      it('rolls back updates too, not only inserts', async () => {
        const { ws, ch, conv } = await graph();
        await expect(store.transaction(async (tx) => {
          await tx.updateChannel({ ...ch, name: 'changed' });
          await tx.updateConversation({ ...conv, messageCount: 5, lastReceivedAt: f.T0 + 5 });
          throw new Error('no');
        })).rejects.toThrow('no');
        expect(await store.getChannel(ws.id, ch.id)).toEqual(ch);
        expect(await store.getConversation(ws.id, conv.id)).toEqual(conv);
      });

      it('commits the other transactions of the same tick when one throws (group commit)', async () => {
        const ws = await newWorkspace();
        const [a, b, c, d] = [f.channel(ws.id), f.channel(ws.id), f.channel(ws.id), f.channel(ws.id)];
        const results = await Promise.allSettled([
          store.transaction(async (tx) => {
            await tx.insertChannel(a);
            return 'a';
          }),
          store.transaction(async (tx) => {
            await tx.insertChannel(b);
            throw new Error('b failed');
          }),
          store.transaction(async (tx) => {
            await tx.insertChannel(c);
            await tx.insertChannel({ ...a, name: 'same id as a' }); // constraint violation
            return 'c';
          }),
          store.transaction(async (tx) => {
            await tx.insertChannel(d);
            return 'd';
          }),
        ]);
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
        expect((results[0] as PromiseFulfilledResult<string>).value).toBe('a');
        expect((results[3] as PromiseFulfilledResult<string>).value).toBe('d');
        expect(((results[1] as PromiseRejectedResult).reason as Error).message).toBe('b failed');
        expect(await store.getChannel(ws.id, a.id)).toEqual(a);
        expect(await store.getChannel(ws.id, b.id)).toBeUndefined();
        expect(await store.getChannel(ws.id, c.id)).toBeUndefined();
        expect(await store.getChannel(ws.id, d.id)).toEqual(d);
      });

      it('commits 500 concurrent transactions, each with its own result', async () => {
        const ws = await newWorkspace();
        const ct = await newContact(ws.id);
        const ch = f.channel(ws.id);
        const conv = f.conversation(ws.id, ct.id, ch.id);
        await write(async (tx) => {
          await tx.insertChannel(ch);
          await tx.insertConversation(conv);
        });
        const msgs = Array.from({ length: 500 }, (_, i) => f.message(conv, ch.id, { content: { text: `n${i}` } }));
        const results = await Promise.all(msgs.map((m, i) => store.transaction(async (tx) => {
          await tx.insertMessage(m);
          await tx.insertEvent(f.outboxEvent(ws.id, conv.id));
          return i;
        })));
        expect(results).toEqual(msgs.map((_, i) => i));
        expect((await store.listMessages(ws.id, { conversationId: conv.id, offset: 0, limit: 1 })).total).toBe(500);
        expect(await store.countEvents(ws.id)).toBe(500);
      });

      it('commits more concurrent transactions than one batch holds, with failures sprinkled in', async () => {
        const ws = await newWorkspace();
        const n = 1_300;
        const results = await Promise.allSettled(Array.from({ length: n }, (_, i) => store.transaction(async (tx) => {
          await tx.insertWebhook(f.webhook(ws.id, { url: `https://h.example/${i}` }));
          if (i % 100 === 7) throw new Error(`fail ${i}`);
          return i;
        })));
        const failed = results.filter((r) => r.status === 'rejected').length;
        expect(failed).toBe(13);
        expect((await store.listWebhooks(ws.id, 0, 1)).total).toBe(n - 13);
      });

      it('keeps committed data across close and reopen (durability)', async () => {
        const { ws, ch, ct, identifier, conv } = await graph();
        const m = f.message(conv, ch.id);
        const key = f.accessKey(ws.id);
        await write(async (tx) => {
          await tx.insertMessage(m);
          await tx.insertAccessKey(key.record);
          await tx.insertEvent(f.outboxEvent(ws.id, conv.id));
        });
        await close(store);

        const reopened = await open();
        expect(await reopened.getWorkspace(ws.id)).toEqual(ws);
        expect(await reopened.getChannel(ws.id, ch.id)).toEqual(ch);
        expect((await reopened.findContactByIdentifier(ws.id, identifier))!.id).toBe(ct.id);
        expect(await reopened.getConversation(ws.id, conv.id)).toEqual(conv);
        expect(await reopened.getMessage(ws.id, m.id)).toEqual(m);
        expect((await reopened.findAccessKey(key.record.keyHash))!.workspace.id).toBe(ws.id);
        expect(await reopened.countEvents(ws.id)).toBe(1);
      });

      it('finishes transactions already submitted when closed, and they are durable', async () => {
        const ws = await newWorkspace();
        const ch = f.channel(ws.id);
        const pending = store.transaction(async (tx) => {
          await tx.insertChannel(ch);
          return 'done';
        });
        const closing = close(store);
        expect(await pending).toBe('done');
        await closing;
        const reopened = await open();
        expect(await reopened.getChannel(ws.id, ch.id)).toEqual(ch);
      });

      it('rejects transactions after close', async () => {
        await close(store);
        await expect(store.transaction(async () => 1)).rejects.toThrow();
        const ws = f.workspace();
        await expect(store.transaction((tx) => tx.insertWorkspace(ws))).rejects.toThrow();
        const reopened = await open();
        expect(await reopened.getWorkspace(ws.id)).toBeUndefined();
      });
    });
  });
}
