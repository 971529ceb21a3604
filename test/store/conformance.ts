import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashAccessKey } from '../../src/auth/access-keys.js';
import { newId } from '../../src/domain/ids.js';
import type { ChannelId, ConversationId, MessageId, WebhookId, WorkspaceId } from '../../src/domain/ids.js';
import { WEBHOOK_EVENTS } from '../../src/domain/records.js';
import type {
  Channel, Contact, ContactIdentifier, Conversation, DeliveryState, Message, OutboxEvent, Webhook, WebhookEventType, Workspace,
} from '../../src/domain/records.js';
import type { ClaimedDelivery, NewDelivery, Store, Tx } from '../../src/store/store.js';
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
        expect(await store.findAccessKey(hashAccessKey(live.key)))
          .toEqual({ keyHash: hashAccessKey(live.key), workspace: w, keyId: live.record.id, mode: 'live' });
        expect(await store.findAccessKey(hashAccessKey(test.key)))
          .toEqual({ keyHash: hashAccessKey(test.key), workspace: w, keyId: test.record.id, mode: 'test' });
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
        // messageCount belongs to the engine (counted by insertMessage), never to updateConversation.
        expect(await store.getConversation(ws.id, conv.id)).toEqual({ ...updated, messageCount: 0 });
      });

      it('counts each inserted message in its conversation, duplicates excepted, and never loses a count to updateConversation', async () => {
        const { ws, ch, conv } = await graph();
        const m = f.message(conv, ch.id, { providerMessageId: `p-${newId()}` });
        await write(async (tx) => {
          await tx.insertMessage(m);
          await tx.insertMessage({ ...m, id: newId() }); // same provider id: not stored, not counted
          await tx.insertMessage(f.message(conv, ch.id));
          await tx.updateConversation({ ...conv, messageCount: 99, updatedAt: f.T0 + 5 });
        });
        expect((await store.getConversation(ws.id, conv.id))!.messageCount).toBe(2);
        const page = await store.listMessages(ws.id, { conversationId: conv.id, offset: 0, limit: 10 });
        expect(page.total).toBe(2);
        // The refused duplicate left no gap in the positions: both messages list, newest first.
        expect(page.items.map((x) => x.id)).toHaveLength(2);
        expect(page.items[1]!.id).toBe(m.id);
        expect((await store.listMessages(ws.id, { conversationId: conv.id, offset: 1, limit: 10 })).items.map((x) => x.id)).toEqual([m.id]);
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

        it('lists both statuses interleaved in one order, a tie across statuses by id, in pages', async () => {
          const { ws, ch, conv } = await graph();
          const made = await conversations(ws.id, ch.id, [
            { status: 'archived', lastReceivedAt: f.T0 + 50 },
            { lastReceivedAt: f.T0 + 40 },
            { status: 'archived', lastReceivedAt: f.T0 + 40 },
            { status: 'archived', lastReceivedAt: f.T0 + 30 },
            { lastReceivedAt: f.T0 + 60 },
          ]);
          const sortAt = (c: Conversation) => c.lastReceivedAt ?? c.createdAt;
          const expected = [...made, conv]
            .sort((a, b) => sortAt(b) - sortAt(a) || (a.id < b.id ? 1 : -1))
            .map((c) => c.id);
          const pages = await Promise.all([0, 2, 4].map((offset) => store.listConversations(ws.id, { offset, limit: 2 })));
          expect(pages.flatMap((p) => p.items.map((c) => c.id))).toEqual(expected);
          expect(pages.map((p) => p.total)).toEqual([6, 6, 6]);
          expect(new Set(pages.flatMap((p) => p.items.map((c) => c.status)))).toEqual(new Set(['active', 'archived']));
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

        it('keeps totals true through archiving, reopening, updates and rolled-back writes', async () => {
          const { ws, ch, conv } = await graph();
          const [a, b] = await conversations(ws.id, ch.id, [{ lastReceivedAt: f.T0 + 1 }, { lastReceivedAt: f.T0 + 2 }]);
          const totals = async () => [
            (await store.listConversations(ws.id, { offset: 0, limit: 1 })).total,
            (await store.listConversations(ws.id, { status: 'active', offset: 0, limit: 1 })).total,
            (await store.listConversations(ws.id, { status: 'archived', offset: 0, limit: 1 })).total,
          ];
          expect(await totals()).toEqual([3, 3, 0]);
          await write((tx) => tx.updateConversation({ ...a!, status: 'archived' }));
          await write((tx) => tx.updateConversation({ ...b!, status: 'archived' }));
          expect(await totals()).toEqual([3, 1, 2]);
          await write((tx) => tx.updateConversation({ ...a!, status: 'active', lastReceivedAt: f.T0 + 9 }));
          await write((tx) => tx.updateConversation({ ...conv, lastReceivedAt: f.T0 + 10 })); // status unchanged
          expect(await totals()).toEqual([3, 2, 1]);
          const other = await newContact(ws.id);
          await expect(store.transaction(async (tx) => {
            await tx.updateConversation({ ...conv, status: 'archived' });
            await tx.insertConversation(f.conversation(ws.id, other.id, ch.id));
            throw new Error('rolled back');
          })).rejects.toThrow('rolled back');
          expect(await totals()).toEqual([3, 2, 1]);
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

      it('answers what ingesting a provider message needs in one read (inboundContext)', async () => {
        const { ws, ch, ct, identifier, conv } = await graph();
        const m = f.message(conv, ch.id, {
          providerMessageId: 'ctx-1', content: { image: { url: 'https://x.example/a.jpg' } }, type: 'image',
          error: { code: 7, description: 'rejected' }, source: { agentId: 'a-1' }, reportUrl: 'https://customer.example/r',
        });
        await write((tx) => tx.insertMessage(m));
        const stored = (await store.getConversation(ws.id, conv.id))!;
        // Seen before: the stored message, every field as getMessage gives it.
        expect(await store.inboundContext(ws.id, ch.id, 'ctx-1', identifier)).toEqual({ duplicate: m });
        // New message from a known contact with an active conversation.
        expect(await store.inboundContext(ws.id, ch.id, 'ctx-2', identifier)).toEqual({ contact: ct, conversation: stored });
        // The same provider id on another channel is not a duplicate.
        const ch2 = f.channel(ws.id);
        await write((tx) => tx.insertChannel(ch2));
        expect((await store.inboundContext(ws.id, ch2.id, 'ctx-1', identifier)).duplicate).toBeUndefined();
        // Archived: the contact without a conversation.
        await write((tx) => tx.updateConversation({ ...stored, status: 'archived' }));
        const archived = await store.inboundContext(ws.id, ch.id, 'ctx-2', identifier);
        expect(archived.contact).toEqual(ct);
        expect(archived.conversation).toBeUndefined();
        // Unknown identifier, or a known one asked from another workspace: nothing.
        expect(await store.inboundContext(ws.id, ch.id, 'ctx-3', { key: 'phonenumber', value: f.uniquePhone() })).toEqual({});
        const other = await newWorkspace();
        expect(await store.inboundContext(other.id, ch.id, 'ctx-3', identifier)).toEqual({});
        // Inside a transaction it sees the transaction's own writes.
        const fresh = f.contact(ws.id);
        const freshId: ContactIdentifier = { key: 'phonenumber', value: fresh.msisdn! };
        const seen = await write(async (tx) => {
          await tx.insertContact(fresh, [freshId]);
          return tx.inboundContext(ws.id, ch.id, 'ctx-4', freshId);
        });
        expect(seen).toEqual({ contact: fresh });
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

      /** A conversation with five messages m0..m4, a millisecond apart, oldest first. */
      async function withFiveMessages() {
        const g = await graph();
        const msgs = Array.from({ length: 5 }, (_, i) => f.message(g.conv, g.ch.id, { createdAt: f.T0 + i, content: { text: `m${i}` } }));
        await write(async (tx) => {
          for (const m of msgs) await tx.insertMessage(m);
        });
        return { ...g, msgs };
      }

      it('lists messages newest first, with offset, limit and total', async () => {
        const { ws, conv, msgs } = await withFiveMessages();
        const newestFirst = [...msgs].reverse();
        const all = await store.listMessages(ws.id, { conversationId: conv.id, offset: 0, limit: 10 });
        expect(all.items).toEqual(newestFirst);
        expect(all.total).toBe(5);
        const page = await store.listMessages(ws.id, { conversationId: conv.id, offset: 1, limit: 2 });
        expect(page.items.map((m) => m.id)).toEqual([newestFirst[1]!.id, newestFirst[2]!.id]);
        expect(page.total).toBe(5);
        expect(await store.listMessages(ws.id, { conversationId: conv.id, offset: 5, limit: 2 })).toEqual({ items: [], total: 5 });
      });

      it('pages messages by position both ways, each page after the last position of the one before, other workspaces never', async () => {
        const { ws, ch, conv, msgs } = await withFiveMessages();
        const page = (after: number | null, order: 'desc' | 'asc', limit = 2) => store.pageMessages(ws.id, { conversationId: conv.id, after, order, limit });
        const first = await page(null, 'desc');
        expect(first).toEqual([{ seq: 5, message: msgs[4] }, { seq: 4, message: msgs[3] }]);
        expect((await page(4, 'desc')).map((x) => x.seq)).toEqual([3, 2]);
        expect((await page(2, 'desc')).map((x) => x.message.id)).toEqual([msgs[0]!.id]);
        expect(await page(1, 'desc')).toEqual([]);
        expect((await page(null, 'asc', 3)).map((x) => x.seq)).toEqual([1, 2, 3]);
        expect((await page(3, 'asc', 3)).map((x) => x.message.id)).toEqual([msgs[3]!.id, msgs[4]!.id]);
        // A message added meanwhile takes the next position: a cursor already given stays where it was.
        const later = f.message(conv, ch.id, { createdAt: f.T0 + 9 });
        await write((tx) => tx.insertMessage(later));
        expect((await page(4, 'desc')).map((x) => x.seq)).toEqual([3, 2]);
        expect((await page(5, 'asc')).map((x) => x.message.id)).toEqual([later.id]);
        expect(await store.pageMessages(f.workspace().id, { conversationId: conv.id, after: null, order: 'desc', limit: 10 })).toEqual([]);
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

      it('leaves a job in flight out of what is due: it runs next at its lease end, unless rescheduled or deleted', async () => {
        const w = await newWorkspace();
        const id = await job(w.id, 1_000);
        expect(await store.nextSendJobDue()).toBe(1_000);
        await claim(1_000, 30_000);
        // Nothing is due while it is in flight, so the send worker does not claim in vain.
        expect(await store.nextSendJobDue()).toBe(31_000);
        await write((tx) => tx.rescheduleSendJob(id, 5_000, 'HTTP 503'));
        expect(await store.nextSendJobDue()).toBe(5_000);
        await claim(5_000, 30_000);
        await write((tx) => tx.deleteSendJob(id));
        expect(await store.nextSendJobDue()).toBeNull();
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

    // ---- webhook deliveries -----------------------------------------------------------

    describe('deliveries', () => {
      const FAR = 1e15;
      const T = f.T0;

      /**
       * Claims are global: finish every claimable delivery (and the chain members that
       * promotes), so each test starts with nothing due but what it writes itself.
       */
      async function drainDeliveries(): Promise<void> {
        for (let i = 0; i < 1_000; i++) {
          const claimed = await write((tx) => tx.claimDeliveries(FAR, 1, 10_000, []));
          if (claimed.length === 0) return;
          await write(async (tx) => {
            for (const c of claimed) await tx.finishDelivery(c.delivery.id, 'failed', null, 'drained by the conformance suite', FAR);
          });
        }
        throw new Error('deliveries never drained');
      }

      beforeEach(drainDeliveries);

      /** A workspace graph with one enabled generic webhook that subscribes to every event. */
      async function hooked(over: Partial<Webhook> = {}) {
        const g = await graph();
        const hook = await newHook(g.ws.id, over);
        return { ...g, hook };
      }

      async function newHook(ws: WorkspaceId, over: Partial<Webhook> = {}): Promise<Webhook> {
        const hook = f.webhook(ws, { events: [...WEBHOOK_EVENTS], url: `https://customer.example/hook/${newId()}?token=abc`, ...over });
        await write((tx) => tx.insertWebhook(hook));
        return hook;
      }

      /** Another active conversation (of a new contact) in the workspace: another chain. */
      async function anotherConversation(ws: WorkspaceId, ch: ChannelId): Promise<Conversation> {
        const ct = await newContact(ws);
        const conv = f.conversation(ws, ct.id, ch);
        await write((tx) => tx.insertConversation(conv));
        return conv;
      }

      /** Writes an event and its delivery to `hook` in one transaction, as the outbox does. */
      async function enqueue(hook: Webhook, conversationId: ConversationId, at: number, over: Partial<OutboxEvent> = {}) {
        const event = f.outboxEvent(hook.workspaceId, conversationId, {
          createdAt: at, payload: JSON.stringify({ type: 'message.created', at, id: newId() }), ...over,
        });
        const d = f.delivery(event, hook.id);
        const state = await write(async (tx) => {
          await tx.insertEvent(event);
          return tx.insertDelivery(d);
        });
        return { event, d, state };
      }

      const claim = (now: number, leaseMs = 60_000, limit = 100, skip: WebhookId[] = []) =>
        write((tx) => tx.claimDeliveries(now, leaseMs, limit, skip));
      const ids = (claimed: ClaimedDelivery[]) => claimed.map((c) => c.delivery.id).sort();
      const read = (d: NewDelivery) => store.getDelivery(d.workspaceId, d.webhookId, d.id);
      const stateOf = async (d: NewDelivery) => (await read(d))?.state;
      const finish = (d: NewDelivery, state: 'succeeded' | 'failed', now: number, code: number | null = 200, error: string | null = null) =>
        write((tx) => tx.finishDelivery(d.id, state, code, error, now));

      describe('matching webhooks', () => {
        it('matches enabled webhooks by channel (specific for its channel, generic for all) and by event', async () => {
          const { ws, ch } = await graph();
          const ch2 = f.channel(ws.id);
          await write((tx) => tx.insertChannel(ch2));
          const generic = await newHook(ws.id, { events: ['message.created', 'message.updated'] });
          const specific = await newHook(ws.id, { channelId: ch.id, events: ['message.created'] });
          const specific2 = await newHook(ws.id, { channelId: ch2.id, events: ['message.created', 'conversation.created'] });
          const conversationsOnly = await newHook(ws.id, { events: ['conversation.created'] });
          const disabled = await newHook(ws.id, { events: [...WEBHOOK_EVENTS], status: 'disabled' });
          const foreign = await newWorkspace();
          await newHook(foreign.id, { events: [...WEBHOOK_EVENTS] });
          await newHook(foreign.id, { channelId: ch.id, events: [...WEBHOOK_EVENTS] });

          const match = async (channelId: ChannelId | null, type: WebhookEventType) =>
            (await store.matchingWebhooks(ws.id, channelId, type)).map((h) => h.id).sort();

          expect(await match(ch.id, 'message.created')).toEqual([generic.id, specific.id].sort());
          expect(await match(ch2.id, 'message.created')).toEqual([generic.id, specific2.id].sort());
          expect(await match(ch.id, 'message.updated')).toEqual([generic.id]);
          expect(await match(ch.id, 'conversation.created')).toEqual([conversationsOnly.id]);
          expect(await match(ch2.id, 'conversation.created')).toEqual([specific2.id, conversationsOnly.id].sort());
          expect(await match(ch.id, 'conversation.updated')).toEqual([]);
          // An event without a channel reaches generic webhooks only.
          expect(await match(null, 'message.created')).toEqual([generic.id]);
          // The whole webhook record comes back.
          expect(await store.matchingWebhooks(ws.id, ch.id, 'message.updated')).toEqual([generic]);

          // Enabling the disabled one makes it match; disabling one stops it matching.
          await write(async (tx) => {
            await tx.updateWebhook({ ...disabled, status: 'enabled' });
            await tx.disableWebhook(generic.id, 'failing', T + 1);
          });
          expect(await match(ch.id, 'message.updated')).toEqual([disabled.id]);
          expect(await match(ch.id, 'conversation.updated')).toEqual([disabled.id]);
        });

        it('inserting an event returns its subscribers, as matchingWebhooks would', async () => {
          const { ws, ch, conv } = await graph();
          const generic = await newHook(ws.id, { events: ['message.created'] });
          const specific = await newHook(ws.id, { channelId: ch.id, events: ['message.created', 'message.updated'] });
          await newHook(ws.id, { events: ['conversation.created'] });
          await newHook(ws.id, { events: ['message.created'], status: 'disabled' });
          await newHook((await newWorkspace()).id, { events: [...WEBHOOK_EVENTS] });
          const created = f.outboxEvent(ws.id, conv.id, { type: 'message.created', channelId: ch.id });
          const updated = f.outboxEvent(ws.id, conv.id, { type: 'message.updated', channelId: ch.id });
          const channelless = f.outboxEvent(ws.id, conv.id, { type: 'message.created', channelId: null });
          const [a, b, c] = await write(async (tx) => [await tx.insertEvent(created), await tx.insertEvent(updated), await tx.insertEvent(channelless)]);
          expect(a!.map((h) => h.id).sort()).toEqual([generic.id, specific.id].sort());
          expect(b).toEqual([specific]);
          expect(c).toEqual([generic]);
          expect(await store.getEvent(ws.id, created.id)).toEqual(created);
        });

        it('matches nothing in a workspace without webhooks', async () => {
          const { ws, ch } = await graph();
          for (const type of WEBHOOK_EVENTS) expect(await store.matchingWebhooks(ws.id, ch.id, type)).toEqual([]);
        });

        /** What a new message leaves behind, as the threading rules compute it. */
        function appended(conv: Conversation, m: Message): Conversation {
          return {
            ...conv, channelIds: [...new Set([...conv.channelIds, m.channelId])], lastUsedChannelId: m.channelId,
            lastInboundChannelId: m.channelId, lastReceivedAt: m.createdAt, lastMessageId: m.id,
            messageCount: conv.messageCount + 1, updatedAt: m.createdAt,
          };
        }

        it('appends a message: counted and positioned, its conversation updated, its events stored and their subscribers returned', async () => {
          const { ws, ch, conv } = await graph();
          const other = f.channel(ws.id);
          await write((tx) => tx.insertChannel(other));
          const generic = await newHook(ws.id, { events: ['conversation.created', 'message.created'] });
          const specific = await newHook(ws.id, { channelId: ch.id, events: ['message.created'] });
          const onOther = await newHook(ws.id, { channelId: other.id, events: [...WEBHOOK_EVENTS] });
          await newHook(ws.id, { events: [...WEBHOOK_EVENTS], status: 'disabled' });
          await newHook((await newWorkspace()).id, { events: [...WEBHOOK_EVENTS] });
          const first = f.message(conv, ch.id, { createdAt: f.T0 + 1 });
          await write((tx) => tx.insertMessage(first));
          const counted = { ...conv, messageCount: 1 };

          const m = f.message(conv, other.id, { createdAt: f.T0 + 9 });
          const updated = appended(counted, m);
          const events = [
            f.outboxEvent(ws.id, conv.id, { type: 'conversation.created', channelId: other.id }),
            f.outboxEvent(ws.id, conv.id, { type: 'message.created', channelId: other.id }),
          ];
          const subscribers = await write((tx) => tx.appendMessage(m, updated, events));
          expect(subscribers!.map((hooks) => hooks.map((h) => h.id).sort())).toEqual([
            [generic.id, onOther.id].sort(),
            [generic.id, onOther.id].sort(),
          ]);
          expect(await store.getConversation(ws.id, conv.id)).toEqual(updated);
          expect(updated.messageCount).toBe(2);
          expect(await store.getMessage(ws.id, m.id)).toEqual(m);
          const page = await store.listMessages(ws.id, { conversationId: conv.id, offset: 0, limit: 10 });
          expect(page.items.map((x) => x.id)).toEqual([m.id, first.id]);
          expect(page.total).toBe(2);
          expect((await store.listMessages(ws.id, { conversationId: conv.id, offset: 1, limit: 10 })).items.map((x) => x.id)).toEqual([first.id]);
          for (const e of events) expect(await store.getEvent(ws.id, e.id)).toEqual(e);
          // The message's own channel's webhook: subscribed to the type, on this channel only.
          const onCh = f.message(conv, ch.id, { createdAt: f.T0 + 20 });
          const onChEvent = f.outboxEvent(ws.id, conv.id, { type: 'message.created', channelId: ch.id });
          const [hooks] = (await write((tx) => tx.appendMessage(onCh, appended(updated, onCh), [onChEvent])))!;
          expect(hooks!.map((h) => h.id).sort()).toEqual([generic.id, specific.id].sort());
          expect(hooks!.find((h) => h.id === specific.id)).toEqual(specific);
        });

        it('appends nothing for a provider message id the channel already has: null, the conversation and the outbox unchanged', async () => {
          const { ws, ch, conv } = await graph();
          await newHook(ws.id, { events: ['message.created'] });
          const m = f.message(conv, ch.id, { providerMessageId: 'append-dup', createdAt: f.T0 + 1 });
          const after = appended(conv, m);
          await write((tx) => tx.appendMessage(m, after, [f.outboxEvent(ws.id, conv.id, { channelId: ch.id })]));
          const events = await store.countEvents(ws.id);

          const again = f.message(conv, ch.id, { providerMessageId: 'append-dup', createdAt: f.T0 + 2 });
          const lost = f.outboxEvent(ws.id, conv.id, { channelId: ch.id });
          const fresh = f.message(conv, ch.id, { createdAt: f.T0 + 3 });
          const [dup, kept] = await write(async (tx) => [
            await tx.appendMessage(again, appended(after, again), [lost]),
            // The duplicate does not abort the rest of its transaction.
            await tx.appendMessage(fresh, appended(after, fresh), []),
          ]);
          expect(dup).toBeNull();
          expect(kept).toEqual([]);
          expect(await store.getMessage(ws.id, again.id)).toBeUndefined();
          expect(await store.getEvent(ws.id, lost.id)).toBeUndefined();
          expect(await store.countEvents(ws.id)).toBe(events);
          expect(await store.getConversation(ws.id, conv.id)).toEqual(appended(after, fresh));
          expect((await store.listMessages(ws.id, { conversationId: conv.id, offset: 0, limit: 10 })).items.map((x) => x.id))
            .toEqual([fresh.id, m.id]);
        });

        it('refuses to append a message or an event of another conversation, writing nothing', async () => {
          const { ws, ch, conv } = await graph();
          const elsewhere = await anotherConversation(ws.id, ch.id);
          const m = f.message(conv, ch.id);
          await expect(write((tx) => tx.appendMessage(f.message(elsewhere, ch.id), appended(conv, m), []))).rejects.toThrow(/belong/);
          await expect(write((tx) => tx.appendMessage(m, appended(conv, m), [f.outboxEvent(ws.id, elsewhere.id)]))).rejects.toThrow(/belong/);
          expect(await store.getMessage(ws.id, m.id)).toBeUndefined();
          expect((await store.getConversation(ws.id, conv.id))!.messageCount).toBe(0);
        });
      });

      describe('insert and chains', () => {
        it('inserts a pending delivery, due at once, with no attempts', async () => {
          const { conv, hook } = await hooked();
          const { d, state } = await enqueue(hook, conv.id, T + 5);
          expect(state).toBe('pending');
          expect(await read(d)).toEqual({
            ...d, state: 'pending', attempts: 0, nextAttemptAt: T + 5, lastStatusCode: null, lastError: null, updatedAt: T + 5,
          });
        });

        it('makes only the first delivery of a (webhook, conversation) chain pending; later ones queue', async () => {
          const { ws, ch, conv, hook } = await hooked();
          const conv2 = await anotherConversation(ws.id, ch.id);
          const hook2 = await newHook(ws.id);
          const a1 = await enqueue(hook, conv.id, T + 1);
          const a2 = await enqueue(hook, conv.id, T + 2);
          const a3 = await enqueue(hook, conv.id, T + 3);
          const b1 = await enqueue(hook, conv2.id, T + 4);
          const b2 = await enqueue(hook, conv2.id, T + 5);
          const c1 = await enqueue(hook2, conv.id, T + 6);
          expect([a1, a2, a3, b1, b2, c1].map((x) => x.state)).toEqual(['pending', 'queued', 'queued', 'pending', 'queued', 'pending']);
          for (const x of [a1, a2, a3, b1, b2, c1]) {
            const stored = await read(x.d);
            expect(stored!.state).toBe(x.state);
            expect(stored!.attempts).toBe(0);
          }
        });

        it('queues the second of two deliveries of one chain written in the same transaction', async () => {
          const { conv, hook } = await hooked();
          const e1 = f.outboxEvent(hook.workspaceId, conv.id, { type: 'conversation.created' });
          const e2 = f.outboxEvent(hook.workspaceId, conv.id, { type: 'message.created' });
          const d1 = f.delivery(e1, hook.id);
          const d2 = f.delivery(e2, hook.id);
          const states = await write(async (tx) => {
            await tx.insertEvent(e1);
            await tx.insertEvent(e2);
            return [await tx.insertDelivery(d1), await tx.insertDelivery(d2)];
          });
          expect(states).toEqual(['pending', 'queued']);
          expect([await stateOf(d1), await stateOf(d2)]).toEqual(['pending', 'queued']);
        });

        it('writes nothing when the inserting transaction rolls back', async () => {
          const { conv, hook } = await hooked();
          const e = f.outboxEvent(hook.workspaceId, conv.id);
          const d = f.delivery(e, hook.id);
          await expect(write(async (tx) => {
            await tx.insertEvent(e);
            await tx.insertDelivery(d);
            throw new Error('rolled back');
          })).rejects.toThrow('rolled back');
          expect(await read(d)).toBeUndefined();
          expect(await store.getEvent(hook.workspaceId, e.id)).toBeUndefined();
          // The chain is not blocked by the delivery that never was.
          expect((await enqueue(hook, conv.id, T)).state).toBe('pending');
        });

        it('opens the chain again once every delivery of it has finished', async () => {
          const { conv, hook } = await hooked();
          const a1 = await enqueue(hook, conv.id, T + 1);
          await finish(a1.d, 'succeeded', T + 2);
          const a2 = await enqueue(hook, conv.id, T + 3);
          expect(a2.state).toBe('pending');
          await finish(a2.d, 'failed', T + 4, 500, 'endpoint answered 500');
          expect((await enqueue(hook, conv.id, T + 5)).state).toBe('pending');
        });
      });

      describe('claims', () => {
        it('claims a due delivery with its payload, URL and signing key, counting the attempt and setting the lease', async () => {
          const { ws, conv, hook } = await hooked();
          const { d, event } = await enqueue(hook, conv.id, T + 10);
          const claimed = await claim(T + 100, 30_000);
          expect(claimed).toEqual([{
            // In flight, its next attempt is its lease's end (due again only if this one never reports).
            delivery: expect.objectContaining({ ...d, state: 'pending', attempts: 1, nextAttemptAt: T + 100 + 30_000 }),
            url: hook.url,
            payload: event.payload,
            signingKey: ws.signingKey,
            lockedUntil: T + 100 + 30_000,
          }]);
          expect((await read(d))!.attempts).toBe(1);
        });

        it('never claims a queued delivery', async () => {
          const { conv, hook } = await hooked();
          const a1 = await enqueue(hook, conv.id, T + 1);
          await enqueue(hook, conv.id, T + 2);
          await enqueue(hook, conv.id, T + 3);
          expect(ids(await claim(FAR - 1, 1))).toEqual([a1.d.id]);
          expect(await claim(FAR - 1, 1)).toEqual([]);
        });

        it('does not claim a delivery before its next attempt time', async () => {
          const { conv, hook } = await hooked();
          const { d } = await enqueue(hook, conv.id, T + 1_000);
          expect(await claim(T + 999)).toEqual([]);
          expect(ids(await claim(T + 1_000))).toEqual([d.id]);
        });

        it('does not claim a leased delivery again until the lease expires, then counts another attempt', async () => {
          const { conv, hook } = await hooked();
          const { d } = await enqueue(hook, conv.id, T + 1_000);
          expect(ids(await claim(T + 1_000, 30_000))).toEqual([d.id]);
          expect(await claim(T + 1_001, 30_000)).toEqual([]);
          expect(await claim(T + 30_999, 30_000)).toEqual([]);
          const again = await claim(T + 31_001, 30_000);
          expect(again.map((c) => [c.delivery.id, c.delivery.attempts, c.lockedUntil])).toEqual([[d.id, 2, T + 61_001]]);
        });

        it('leaves a delivery in flight out of what is due: the next due time is its lease end, until its attempt is recorded', async () => {
          const { conv, hook } = await hooked();
          const { d } = await enqueue(hook, conv.id, T + 1_000);
          expect(await store.nextDeliveryDue()).toBe(T + 1_000);
          expect(ids(await claim(T + 1_000, 30_000))).toEqual([d.id]);
          // Nothing is due while it is in flight, so the dispatcher does not claim in vain.
          expect(await store.nextDeliveryDue()).toBe(T + 31_000);
          await write((tx) => tx.retryDelivery(d.id, T + 5_000, 503, 'endpoint answered 503', T + 1_200));
          expect(await store.nextDeliveryDue()).toBe(T + 5_000);
          expect(ids(await claim(T + 5_000, 30_000))).toEqual([d.id]);
          await finish(d, 'succeeded', T + 5_100);
          expect(await store.nextDeliveryDue()).toBeNull();
        });

        it('gives back a claimed delivery due at once, its attempt uncounted', async () => {
          const { conv, hook } = await hooked();
          const { d } = await enqueue(hook, conv.id, T + 1_000);
          expect(ids(await claim(T + 2_000, 30_000))).toEqual([d.id]);
          await write((tx) => tx.unclaimDeliveries([d.id], T + 2_000));
          expect(await store.nextDeliveryDue()).toBe(T + 2_000);
          expect(await read(d)).toMatchObject({ attempts: 0, nextAttemptAt: T + 2_000 });
          expect((await claim(T + 2_001, 30_000)).map((c) => [c.delivery.id, c.delivery.attempts])).toEqual([[d.id, 1]]);
        });

        it('claims at most `limit` deliveries, the earliest due first', async () => {
          const { ws, conv } = await hooked();
          const [h1, h2, h3] = [await newHook(ws.id), await newHook(ws.id), await newHook(ws.id)];
          const late = await enqueue(h1!, conv.id, T + 3_000);
          const early = await enqueue(h2!, conv.id, T + 1_000);
          const mid = await enqueue(h3!, conv.id, T + 2_000);
          expect(ids(await claim(T + 5_000, 60_000, 2))).toEqual([early.d.id, mid.d.id].sort());
          expect(ids(await claim(T + 5_000, 60_000, 2))).toEqual([late.d.id]);
          expect(await claim(T + 5_000, 60_000, 2)).toEqual([]);
        });

        it('skips deliveries of disabled webhooks until they are enabled again', async () => {
          const { conv, hook } = await hooked();
          const { d } = await enqueue(hook, conv.id, T);
          await write((tx) => tx.disableWebhook(hook.id, 'failing', T + 1));
          expect(await claim(T + 10)).toEqual([]);
          expect(await stateOf(d)).toBe('pending');
          await write((tx) => tx.updateWebhook({ ...hook, status: 'enabled' }));
          expect(ids(await claim(T + 10))).toEqual([d.id]);
        });

        it('parks a disabled webhook\'s pending deliveries out of what is due until it is enabled, then makes them due at once', async () => {
          const { ch, conv, hook } = await hooked();
          const other = await anotherConversation(hook.workspaceId, ch.id);
          const a = await enqueue(hook, conv.id, T + 5);
          const b = await enqueue(hook, other.id, T + 50_000); // a retry far off
          expect(await store.nextDeliveryDue()).toBe(T + 5);
          expect(await write((tx) => tx.disableWebhook(hook.id, 'failing', T + 10))).toBe(true);
          // Nothing is due: the claims of other webhooks never walk these rows.
          expect(await store.nextDeliveryDue()).toBeNull();
          expect(await read(a.d)).toMatchObject({ state: 'pending', nextAttemptAt: null });
          expect(await read(b.d)).toMatchObject({ state: 'pending', nextAttemptAt: null });
          // Edits while disabled keep them parked.
          await write((tx) => tx.updateWebhook({ ...hook, url: 'https://customer.example/other', status: 'disabled', updatedAt: T + 20 }));
          expect(await store.nextDeliveryDue()).toBeNull();
          // Enabled again: both due when it was enabled, the far-off retry included.
          await write((tx) => tx.updateWebhook({ ...hook, status: 'enabled', updatedAt: T + 30 }));
          expect(await store.nextDeliveryDue()).toBe(T + 30);
          expect((await claim(T + 30)).map((c) => c.delivery.id).sort()).toEqual([a.d.id, b.d.id].sort());
        });

        it('never claims for a webhook created disabled', async () => {
          const { conv, hook } = await hooked({ status: 'disabled' });
          const { d } = await enqueue(hook, conv.id, T);
          expect(await claim(FAR - 1)).toEqual([]);
          expect(await stateOf(d)).toBe('pending');
          // The drain cannot claim it: delete it so later tests see only what they write.
          expect(await write((tx) => tx.deleteWebhook(hook.workspaceId, hook.id))).toBe(true);
          expect(await read(d)).toBeUndefined();
        });

        it('skips the webhooks it is told to skip', async () => {
          const { ws, conv, hook } = await hooked();
          const other = await newHook(ws.id);
          const third = await newHook(ws.id);
          const a = await enqueue(hook, conv.id, T);
          const b = await enqueue(other, conv.id, T);
          const c = await enqueue(third, conv.id, T);
          expect(ids(await claim(T + 1, 60_000, 100, [hook.id, third.id]))).toEqual([b.d.id]);
          expect(ids(await claim(T + 1, 60_000, 100, [hook.id]))).toEqual([c.d.id]);
          expect(ids(await claim(T + 1, 60_000, 100, []))).toEqual([a.d.id]);
        });

        it('claims due deliveries of every workspace, each with its own signing key', async () => {
          const one = await hooked();
          const two = await hooked();
          const a = await enqueue(one.hook, one.conv.id, T);
          const b = await enqueue(two.hook, two.conv.id, T);
          const claimed = await claim(T + 1);
          expect(ids(claimed)).toEqual([a.d.id, b.d.id].sort());
          const byId = new Map(claimed.map((c) => [c.delivery.id, c]));
          expect(byId.get(a.d.id)!.signingKey).toBe(one.ws.signingKey);
          expect(byId.get(b.d.id)!.signingKey).toBe(two.ws.signingKey);
          expect(byId.get(a.d.id)!.payload).toBe(a.event.payload);
          expect(byId.get(b.d.id)!.url).toBe(two.hook.url);
        });

        it("uses the webhook's current URL and the workspace's current signing key", async () => {
          const { ws, conv, hook } = await hooked();
          await enqueue(hook, conv.id, T);
          await write(async (tx) => {
            await tx.updateWebhook({ ...hook, url: 'https://moved.example/h?v=2' });
            await tx.setSigningKey(ws.id, 'rotated-signing-key-0123456789');
          });
          const [c] = await claim(T + 1);
          expect([c!.url, c!.signingKey]).toEqual(['https://moved.example/h?v=2', 'rotated-signing-key-0123456789']);
        });

        it('claims nothing when the claiming transaction rolls back', async () => {
          const { conv, hook } = await hooked();
          const { d } = await enqueue(hook, conv.id, T);
          await expect(write(async (tx) => {
            expect(await tx.claimDeliveries(T + 1, 60_000, 10, [])).toHaveLength(1);
            throw new Error('dispatcher crashed');
          })).rejects.toThrow('dispatcher crashed');
          const [c] = await claim(T + 1);
          expect([c!.delivery.id, c!.delivery.attempts]).toEqual([d.id, 1]);
        });
      });

      describe('finish and retry', () => {
        it('finishes a delivery and makes the next queued delivery of its chain (only that one) pending and due', async () => {
          const { ws, ch, conv, hook } = await hooked();
          const conv2 = await anotherConversation(ws.id, ch.id);
          const hook2 = await newHook(ws.id);
          const a1 = await enqueue(hook, conv.id, T + 1);
          const a2 = await enqueue(hook, conv.id, T + 2);
          const a3 = await enqueue(hook, conv.id, T + 3);
          const b1 = await enqueue(hook, conv2.id, T + 4);
          const b2 = await enqueue(hook, conv2.id, T + 5);
          const c1 = await enqueue(hook2, conv.id, T + 6);
          const c2 = await enqueue(hook2, conv.id, T + 7);

          expect(ids(await claim(T + 100, 60_000, 100, [hook2.id]))).toEqual([a1.d.id, b1.d.id].sort());
          await finish(a1.d, 'succeeded', T + 200, 204);
          expect(await read(a1.d)).toMatchObject({
            state: 'succeeded', attempts: 1, nextAttemptAt: null, lastStatusCode: 204, lastError: null, updatedAt: T + 200,
          });
          expect(await read(a2.d)).toMatchObject({ state: 'pending', attempts: 0, nextAttemptAt: T + 200 });
          expect(await stateOf(a3.d)).toBe('queued');
          // Other chains, of the same webhook or of the same conversation, are untouched.
          expect([await stateOf(b1.d), await stateOf(b2.d), await stateOf(c1.d), await stateOf(c2.d)])
            .toEqual(['pending', 'queued', 'pending', 'queued']);

          // The promoted delivery is due at once (b1 is still leased).
          expect(ids(await claim(T + 200, 60_000, 100, [hook2.id]))).toEqual([a2.d.id]);
          // A failed delivery does not block its chain either.
          await finish(a2.d, 'failed', T + 300, 500, 'endpoint answered 500');
          expect(await read(a2.d)).toMatchObject({ state: 'failed', lastStatusCode: 500, lastError: 'endpoint answered 500', updatedAt: T + 300 });
          expect(await stateOf(a3.d)).toBe('pending');
          await finish(a3.d, 'failed', T + 400, null, 'timeout: request timed out');
          expect(await read(a3.d)).toMatchObject({ state: 'failed', lastStatusCode: null, lastError: 'timeout: request timed out' });
          expect((await enqueue(hook, conv.id, T + 500)).state).toBe('pending');
        });

        it('does not make a second delivery of a chain pending when a queued one is finished out of turn', async () => {
          const { conv, hook } = await hooked();
          const a1 = await enqueue(hook, conv.id, T + 1);
          const a2 = await enqueue(hook, conv.id, T + 2);
          const a3 = await enqueue(hook, conv.id, T + 3);
          // A manual redelivery of a2 succeeded while a1 is still the chain's head.
          await finish(a2.d, 'succeeded', T + 10);
          expect([await stateOf(a1.d), await stateOf(a2.d), await stateOf(a3.d)]).toEqual(['pending', 'succeeded', 'queued']);
          await finish(a1.d, 'succeeded', T + 20);
          expect(await stateOf(a3.d)).toBe('pending');
        });

        it('reschedules a delivery: released, kept pending, due again at the new time, with the last result', async () => {
          const { conv, hook } = await hooked();
          const a1 = await enqueue(hook, conv.id, T + 1);
          const a2 = await enqueue(hook, conv.id, T + 2);
          await claim(T + 1_000, 60_000);
          await write((tx) => tx.retryDelivery(a1.d.id, T + 6_000, 503, 'endpoint answered 503', T + 1_010));
          expect(await read(a1.d)).toMatchObject({
            state: 'pending', attempts: 1, nextAttemptAt: T + 6_000, lastStatusCode: 503, lastError: 'endpoint answered 503', updatedAt: T + 1_010,
          });
          expect(await stateOf(a2.d)).toBe('queued');
          expect(await claim(T + 5_999)).toEqual([]);
          // Due at T+6000 although the first lease ran until T+61000: rescheduling released it.
          const again = await claim(T + 6_000);
          expect(again.map((c) => [c.delivery.id, c.delivery.attempts])).toEqual([[a1.d.id, 2]]);
          await write((tx) => tx.retryDelivery(a1.d.id, T + 10_000, null, 'network: ECONNREFUSED', T + 6_010));
          expect(await read(a1.d)).toMatchObject({ lastStatusCode: null, lastError: 'network: ECONNREFUSED', nextAttemptAt: T + 10_000 });
        });
      });

      describe('attempt log', () => {
        it('records attempts and lists those of one delivery in the order they were made', async () => {
          const { conv, hook } = await hooked();
          const a = await enqueue(hook, conv.id, T);
          const b = await enqueue(hook, conv.id, T + 1);
          const first = f.attempt(a.d, { attemptedAt: T + 10, statusCode: null, responseExcerpt: null, error: 'timeout: request timed out', durationMs: 10_000 });
          const second = f.attempt(a.d, { attemptedAt: T + 20, statusCode: 500, responseExcerpt: 'oops ü', error: 'endpoint answered 500' });
          const other = f.attempt(b.d, { attemptedAt: T + 25 });
          const third = f.attempt(a.d, { attemptedAt: T + 30, statusCode: 200, responseExcerpt: '', trigger: 'manual', url: 'https://x.example/h?q=1' });
          await write((tx) => tx.recordAttempt(first));
          await write(async (tx) => {
            await tx.recordAttempt(second);
            await tx.recordAttempt(other);
          });
          await write((tx) => tx.recordAttempt(third));
          expect(await store.listAttempts(a.d.id)).toEqual([first, second, third]);
          expect(await store.listAttempts(b.d.id)).toEqual([other]);
          expect(await store.listAttempts(newId())).toEqual([]);
        });
      });

      describe('webhook health', () => {
        it('sets and clears the start of a failure run, and disables a webhook with a reason', async () => {
          const { ws, hook } = await hooked();
          await write((tx) => tx.setWebhookHealth(hook.id, T + 5));
          expect(await store.getWebhook(ws.id, hook.id)).toEqual({ ...hook, firstFailureAt: T + 5 });
          await write((tx) => tx.setWebhookHealth(hook.id, null));
          expect(await store.getWebhook(ws.id, hook.id)).toEqual(hook);
          await write(async (tx) => {
            await tx.setWebhookHealth(hook.id, T + 6);
            await tx.disableWebhook(hook.id, 'gone', T + 7);
          });
          expect(await store.getWebhook(ws.id, hook.id)).toEqual({
            ...hook, status: 'disabled', disabledReason: 'gone', firstFailureAt: T + 6, updatedAt: T + 7,
          });
        });
      });

      describe('recovery', () => {
        it('re-queues failed deliveries created since T, restarts their attempts and promotes each chain head', async () => {
          const { ws, ch, conv, hook } = await hooked();
          const conv2 = await anotherConversation(ws.id, ch.id);
          const conv3 = await anotherConversation(ws.id, ch.id);
          const otherHook = await newHook(ws.id);
          const SINCE = T + 100;

          const old = await enqueue(hook, conv3.id, T + 50); // failed before SINCE: stays failed
          await finish(old.d, 'failed', T + 51, 500);
          const a1 = await enqueue(hook, conv.id, T + 100);
          const a2 = await enqueue(hook, conv.id, T + 200);
          const a3 = await enqueue(hook, conv.id, T + 300);
          await claim(T + 100);
          await finish(a1.d, 'failed', T + 400, 500);
          await finish(a2.d, 'succeeded', T + 401);
          await finish(a3.d, 'failed', T + 402, 500);
          const b1 = await enqueue(hook, conv2.id, T + 500);
          await finish(b1.d, 'failed', T + 501, null, 'network');
          const x = await enqueue(otherHook, conv.id, T + 600);
          await finish(x.d, 'failed', T + 601, 500);

          const NOW = T + 10_000;
          expect(await write((tx) => tx.recoverDeliveries(ws.id, hook.id, SINCE, NOW))).toBe(3);

          expect(await read(a1.d)).toMatchObject({ state: 'pending', attempts: 0, nextAttemptAt: NOW });
          expect(await stateOf(a2.d)).toBe('succeeded');
          expect(await stateOf(a3.d)).toBe('queued'); // behind a1 in its chain
          expect(await read(b1.d)).toMatchObject({ state: 'pending', attempts: 0, nextAttemptAt: NOW });
          expect(await stateOf(old.d)).toBe('failed');
          expect(await stateOf(x.d)).toBe('failed');

          expect(ids(await claim(NOW))).toEqual([a1.d.id, b1.d.id].sort());
          await finish(a1.d, 'succeeded', NOW + 1);
          expect(await stateOf(a3.d)).toBe('pending');
          // Nothing left to recover since SINCE; recovering again counts none.
          expect(await write((tx) => tx.recoverDeliveries(ws.id, hook.id, SINCE, NOW + 2))).toBe(0);
        });

        it('parks what it recovers for a disabled webhook until the webhook is enabled', async () => {
          const { ws, conv, hook } = await hooked();
          const a = await enqueue(hook, conv.id, T + 100);
          await finish(a.d, 'failed', T + 101, 500);
          expect(await write((tx) => tx.disableWebhook(hook.id, 'failing', T + 102))).toBe(true);
          expect(await write((tx) => tx.recoverDeliveries(ws.id, hook.id, T, T + 200))).toBe(1);
          expect(await read(a.d)).toMatchObject({ state: 'pending', attempts: 0, nextAttemptAt: null });
          expect(await store.nextDeliveryDue()).toBeNull();
          await write((tx) => tx.updateWebhook({ ...hook, status: 'enabled', updatedAt: T + 300 }));
          expect(await read(a.d)).toMatchObject({ state: 'pending', nextAttemptAt: T + 300 });
          expect(ids(await claim(T + 300))).toEqual([a.d.id]);
        });

        it('keeps one pending delivery per chain when the chain already has one', async () => {
          const { conv, hook, ws } = await hooked();
          const a1 = await enqueue(hook, conv.id, T + 1);
          await finish(a1.d, 'failed', T + 2, 500);
          const a2 = await enqueue(hook, conv.id, T + 3);
          expect(a2.state).toBe('pending');
          expect(await write((tx) => tx.recoverDeliveries(ws.id, hook.id, T, T + 10))).toBe(1);
          expect([await stateOf(a1.d), await stateOf(a2.d)]).toEqual(['queued', 'pending']);
          await finish(a2.d, 'succeeded', T + 20);
          expect(await read(a1.d)).toMatchObject({ state: 'pending', nextAttemptAt: T + 20 });
        });

        it('recovers nothing for another workspace or an unknown webhook', async () => {
          const { conv, hook, ws } = await hooked();
          const a1 = await enqueue(hook, conv.id, T + 1);
          await finish(a1.d, 'failed', T + 2, 500);
          const other = await newWorkspace();
          expect(await write((tx) => tx.recoverDeliveries(other.id, hook.id, 0, T + 10))).toBe(0);
          expect(await write((tx) => tx.recoverDeliveries(ws.id, newId(), 0, T + 10))).toBe(0);
          expect(await stateOf(a1.d)).toBe('failed');
        });
      });

      describe('deleting a webhook', () => {
        it('drops its deliveries and their attempts, and nothing of other webhooks', async () => {
          const { ws, conv, hook } = await hooked();
          const keep = await newHook(ws.id);
          const a1 = await enqueue(hook, conv.id, T);
          const a2 = await enqueue(hook, conv.id, T + 1);
          const k1 = await enqueue(keep, conv.id, T);
          const attemptA = f.attempt(a1.d);
          const attemptK = f.attempt(k1.d);
          await write(async (tx) => {
            await tx.recordAttempt(attemptA);
            await tx.recordAttempt(attemptK);
          });
          expect(await write((tx) => tx.deleteWebhook(ws.id, hook.id))).toBe(true);
          expect(await read(a1.d)).toBeUndefined();
          expect(await read(a2.d)).toBeUndefined();
          expect(await store.listDeliveries(ws.id, hook.id, undefined, 0, 100)).toEqual({ items: [], total: 0 });
          expect(await store.listAttempts(a1.d.id)).toEqual([]);
          expect(ids(await claim(T + 1))).toEqual([k1.d.id]);
          expect(await store.listAttempts(k1.d.id)).toEqual([attemptK]);
          // The events stay: other webhooks may still deliver them.
          expect(await store.getEvent(ws.id, a1.event.id)).toEqual(a1.event);
        });
      });

      describe('leases', () => {
        it('releases every delivery and send-job lease at once', async () => {
          const { ws, conv, hook } = await hooked();
          const { d } = await enqueue(hook, conv.id, T);
          expect(ids(await claim(T + 1, 3_600_000))).toEqual([d.id]);
          expect(await claim(T + 2, 3_600_000)).toEqual([]);
          const job = newId<'message'>();
          await write((tx) => tx.insertSendJob(job, ws.id, T));
          expect((await write((tx) => tx.claimSendJobs(T + 1, 3_600_000, 10_000))).map((j) => j.messageId)).toContain(job);

          await write((tx) => tx.releaseLeases(T + 2));

          // The delivery in flight when the process stopped is due at once.
          expect(await store.nextDeliveryDue()).toBe(T + 2);
          const again = await claim(T + 2, 60_000);
          expect(again.map((c) => [c.delivery.id, c.delivery.attempts])).toEqual([[d.id, 2]]);
          const jobs = await write((tx) => tx.claimSendJobs(T + 2, 60_000, 10_000));
          expect(jobs.find((j) => j.messageId === job)).toMatchObject({ attempts: 2, lockedUntil: T + 2 + 60_000 });
          await write((tx) => tx.deleteSendJob(job));
        });

        it('keeps a delivery parked when its lease is released (in flight when its webhook was disabled)', async () => {
          const { conv, hook } = await hooked();
          const { d } = await enqueue(hook, conv.id, T);
          expect(ids(await claim(T + 1, 3_600_000))).toEqual([d.id]);
          expect(await write((tx) => tx.disableWebhook(hook.id, 'failing', T + 2))).toBe(true);
          await write((tx) => tx.releaseLeases(T + 3));
          expect(await read(d)).toMatchObject({ state: 'pending', nextAttemptAt: null });
          expect(await store.nextDeliveryDue()).toBeNull();
        });

        it('parks what an attempt in flight leaves pending when its webhook was disabled meanwhile: its retry, or its chain\'s next', async () => {
          const { ch, conv, hook } = await hooked();
          const other = await anotherConversation(hook.workspaceId, ch.id);
          const retried = await enqueue(hook, conv.id, T);
          const finished = await enqueue(hook, other.id, T);
          const next = await enqueue(hook, other.id, T + 1); // queued behind `finished`
          expect(ids(await claim(T + 2, 60_000))).toEqual([retried.d.id, finished.d.id].sort());
          // Another attempt's record disables the webhook while these two are in flight.
          expect(await write((tx) => tx.disableWebhook(hook.id, 'failing', T + 3))).toBe(true);
          await write((tx) => tx.retryDelivery(retried.d.id, T + 60_000, 500, null, T + 4));
          await write((tx) => tx.finishDelivery(finished.d.id, 'succeeded', 200, null, T + 4));
          expect(await read(retried.d)).toMatchObject({ state: 'pending', nextAttemptAt: null });
          expect(await read(next.d)).toMatchObject({ state: 'pending', nextAttemptAt: null });
          expect(await store.nextDeliveryDue()).toBeNull();
          // Enabled again: both due at once.
          await write((tx) => tx.updateWebhook({ ...hook, status: 'enabled', updatedAt: T + 10 }));
          expect((await claim(T + 10)).map((c) => c.delivery.id).sort()).toEqual([retried.d.id, next.d.id].sort());
        });
      });

      describe('listing', () => {
        it('lists deliveries of a webhook newest first, in pages, with a total and a state filter', async () => {
          const { ws, ch, conv, hook } = await hooked();
          const conv2 = await anotherConversation(ws.id, ch.id);
          const other = await newHook(ws.id);
          const a1 = await enqueue(hook, conv.id, T + 1);
          const a2 = await enqueue(hook, conv.id, T + 2);
          const b1 = await enqueue(hook, conv2.id, T + 3);
          const a3 = await enqueue(hook, conv.id, T + 4);
          const b2 = await enqueue(hook, conv2.id, T + 5);
          await enqueue(other, conv.id, T + 6);
          await finish(a1.d, 'succeeded', T + 10); // a2 pending
          await finish(b1.d, 'failed', T + 11, 500); // b2 pending
          const all = [a1, a2, b1, a3, b2].map((x) => x.d.id).reverse();

          const p1 = await store.listDeliveries(ws.id, hook.id, undefined, 0, 2);
          const p2 = await store.listDeliveries(ws.id, hook.id, undefined, 2, 2);
          const p3 = await store.listDeliveries(ws.id, hook.id, undefined, 4, 2);
          expect([p1.total, p2.total, p3.total]).toEqual([5, 5, 5]);
          expect([...p1.items, ...p2.items, ...p3.items].map((d) => d.id)).toEqual(all);
          expect(await store.listDeliveries(ws.id, hook.id, undefined, 5, 2)).toEqual({ items: [], total: 5 });

          const byState = async (s: DeliveryState) => {
            const page = await store.listDeliveries(ws.id, hook.id, s, 0, 100);
            expect(page.items.every((d) => d.state === s)).toBe(true);
            return { ids: page.items.map((d) => d.id), total: page.total };
          };
          expect(await byState('succeeded')).toEqual({ ids: [a1.d.id], total: 1 });
          expect(await byState('failed')).toEqual({ ids: [b1.d.id], total: 1 });
          expect(await byState('pending')).toEqual({ ids: [b2.d.id, a2.d.id], total: 2 });
          expect(await byState('queued')).toEqual({ ids: [a3.d.id], total: 1 });
          const pendingPage = await store.listDeliveries(ws.id, hook.id, 'pending', 1, 1);
          expect(pendingPage).toEqual({ items: [await read(a2.d)], total: 2 });
          // Listed records are the records getDelivery returns.
          expect(p1.items[0]).toEqual(await read(b2.d));
        });
      });

      describe('workspace isolation', () => {
        it('returns no delivery or event of one workspace to another, nor a delivery under another webhook', async () => {
          const { ws, conv, hook } = await hooked();
          const sibling = await newHook(ws.id);
          const { d, event } = await enqueue(hook, conv.id, T);
          const other = await newWorkspace();

          expect(await store.getDelivery(other.id, hook.id, d.id)).toBeUndefined();
          expect(await store.getDelivery(ws.id, sibling.id, d.id)).toBeUndefined();
          expect(await store.listDeliveries(other.id, hook.id, undefined, 0, 100)).toEqual({ items: [], total: 0 });
          expect(await store.listDeliveries(other.id, hook.id, 'pending', 0, 100)).toEqual({ items: [], total: 0 });
          expect(await store.listDeliveries(ws.id, sibling.id, undefined, 0, 100)).toEqual({ items: [], total: 0 });
          expect(await store.getEvent(other.id, event.id)).toBeUndefined();
          expect(await store.matchingWebhooks(other.id, null, 'message.created')).toEqual([]);
          expect(await write((tx) => tx.deleteWebhook(other.id, hook.id))).toBe(false);

          // The owner still sees them.
          expect((await store.getDelivery(ws.id, hook.id, d.id))!.id).toBe(d.id);
          expect(await store.getEvent(ws.id, event.id)).toEqual(event);
          expect(await store.getEvent(ws.id, newId())).toBeUndefined();
        });
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

      it('commits keyed transactions of one group, each with its own result, and a failing one alone', async () => {
        const ws = await newWorkspace();
        const chans = Array.from({ length: 40 }, () => f.channel(ws.id));
        const results = await Promise.allSettled(chans.map((ch, i) => store.transaction(async (tx) => {
          await tx.insertChannel(ch);
          // A read between writes: keyed callbacks may interleave here.
          const back = await tx.getChannel(ws.id, ch.id);
          await tx.updateChannel({ ...back!, name: `renamed ${i}` });
          if (i === 17) throw new Error('17 failed after writing');
          return i;
        }, { key: `channel-${i}` })));
        expect(results.map((r) => r.status === 'fulfilled' ? r.value : (r.reason as Error).message))
          .toEqual(chans.map((_, i) => (i === 17 ? '17 failed after writing' : i)));
        for (const [i, ch] of chans.entries()) {
          expect((await store.getChannel(ws.id, ch.id))?.name).toBe(i === 17 ? undefined : `renamed ${i}`);
        }
      });

      it('runs transactions that share a key one after another: each sees the previous one\'s writes', async () => {
        const ws = await newWorkspace();
        const ch = f.channel(ws.id, { name: '' });
        await write((tx) => tx.insertChannel(ch));
        await Promise.all(Array.from({ length: 25 }, (_, i) => store.transaction(async (tx) => {
          const current = await tx.getChannel(ws.id, ch.id);
          await tx.updateChannel({ ...current!, name: `${current!.name}${String.fromCharCode(97 + i)}` });
        }, { key: 'the same contact' })));
        expect((await store.getChannel(ws.id, ch.id))?.name).toBe('abcdefghijklmnopqrstuvwxy');
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
        expect(await reopened.getConversation(ws.id, conv.id)).toEqual({ ...conv, messageCount: 1 });
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
