import { afterEach, describe, expect, it } from 'vitest';
import { claimDeliveries } from '../../src/delivery/claim.js';
import type { ClaimArgs } from '../../src/delivery/claim.js';
import type { Store } from '../../src/store/store.js';
import * as f from './factories.js';
import { failOnceWorkspaceExists } from './fixtures/procedures.js';

/**
 * `Store.runWhenFound` on an engine that has it: a work-finding body (the dispatcher's
 * claim) runs at the end of group commits until it finds something, and ends with nothing
 * at its deadline or release.
 */
export function runWhenFoundSuite(name: string, open: () => Promise<Store>): void {
  describe(`${name}: runWhenFound`, () => {
    const stores: Store[] = [];
    const fresh = async () => {
      const s = await open();
      stores.push(s);
      return s;
    };
    afterEach(async () => {
      for (const s of stores.splice(0)) await s.close();
    });

    /** A workspace with a webhook, and a way to make one delivery of it due (one group). */
    async function withWebhook(s: Store) {
      const ws = f.workspace();
      const ch = f.channel(ws.id);
      const hook = f.webhook(ws.id, { events: ['message.created'] });
      await s.transaction(async (tx) => {
        await tx.insertWorkspace(ws);
        await tx.insertChannel(ch);
        await tx.insertWebhook(hook);
      });
      // Loaded first: a writer thread registers a held body once its module is imported.
      expect(await s.run(claimDeliveries, claimArgs())).toEqual([]);
      const createDelivery = () => s.transaction((tx) => f.addDelivery(tx, ws.id, ch.id, hook.id));
      return { ws, hook, createDelivery };
    }
    const claimArgs = (over: Partial<ClaimArgs> = {}): ClaimArgs => ({
      now: Date.now(), leaseMs: 30_000, room: 8, perWebhook: 8, inFlight: [], saturated: [], ...over,
    });
    const settledFlag = <T>(p: Promise<T>) => {
      const state = { settled: false };
      void p.then(() => (state.settled = true), () => (state.settled = true));
      return state;
    };

    it('finds the work a group creates at the end of that group, long before its deadline', async () => {
      const s = await fresh();
      const { createDelivery } = await withWebhook(s);
      const held = s.runWhenFound!(claimDeliveries, claimArgs(), 60_000, new AbortController().signal);
      const state = settledFlag(held);
      // A group that creates no due delivery leaves it waiting.
      await s.transaction((tx) => tx.insertWorkspace(f.workspace()));
      await new Promise((r) => setTimeout(r, 50));
      expect(state.settled).toBe(false);
      const id = await createDelivery();
      const claimed = await held;
      expect(claimed.map((c) => c.delivery.id)).toEqual([id]);
      expect(claimed[0]!.delivery.attempts).toBe(1);
    });

    it('ends with nothing at its deadline, without running, and runs with now as of when it runs', async () => {
      const s = await fresh();
      await withWebhook(s);
      const t0 = Date.now();
      expect(await s.runWhenFound!(claimDeliveries, claimArgs({ now: t0 }), 80, new AbortController().signal)).toEqual([]);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(75);
      // A body that would fail if it ran: no group came, so it never ran (an idle store
      // writes no transaction for it).
      const ws = f.workspace();
      await s.transaction((tx) => tx.insertWorkspace(ws));
      expect(await s.run(failOnceWorkspaceExists, { now: Date.now(), id: 'none' })).toEqual([]);
      expect(await s.runWhenFound!(failOnceWorkspaceExists, { now: Date.now(), id: ws.id }, 80, new AbortController().signal)).toEqual([]);

      const { createDelivery } = await withWebhook(s);
      const t1 = Date.now();
      const held = s.runWhenFound!(claimDeliveries, claimArgs({ now: t1, leaseMs: 1_000 }), 60_000, new AbortController().signal);
      await new Promise((r) => setTimeout(r, 300));
      await createDelivery();
      const [c] = await held;
      // The lease runs from the time of the claim, not from the `now` it was asked with.
      expect(c!.delivery.nextAttemptAt).toBeGreaterThanOrEqual(t1 + 300 + 1_000 - 5);
    });

    it('ends at once when its signal aborts', async () => {
      const s = await fresh();
      await withWebhook(s);
      const stop = new AbortController();
      const held = s.runWhenFound!(claimDeliveries, claimArgs(), 60_000, stop.signal);
      const t0 = Date.now();
      stop.abort();
      expect(await held).toEqual([]);
      expect(Date.now() - t0).toBeLessThan(5_000);
      // Already aborted: it does not wait at all.
      expect(await s.runWhenFound!(claimDeliveries, claimArgs(), 60_000, stop.signal)).toEqual([]);
    });

    it('fails alone: the group it ran at the end of is committed', async () => {
      const s = await fresh();
      const ws = f.workspace();
      // Loaded first: a writer thread registers a held body once its module is imported.
      expect(await s.run(failOnceWorkspaceExists, { now: Date.now(), id: ws.id })).toEqual([]);
      const held = s.runWhenFound!(failOnceWorkspaceExists, { now: Date.now(), id: ws.id }, 60_000, new AbortController().signal);
      await s.transaction((tx) => tx.insertWorkspace(ws));
      await expect(held).rejects.toThrow('held body failed');
      expect(await s.getWorkspace(ws.id)).toEqual(ws);
    });

    it('ends with nothing at close instead of being left pending', async () => {
      const s = await open();
      const held = s.runWhenFound!(claimDeliveries, claimArgs(), 60_000, new AbortController().signal);
      await s.close();
      expect(await held).toEqual([]);
    });
  });
}
