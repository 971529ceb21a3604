import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Dispatcher } from '../../../src/delivery/dispatcher.js';
import { systemClock } from '../../../src/domain/time.js';
import { createMetrics } from '../../../src/metrics.js';
import { createHttpClient } from '../../../src/net/http-client.js';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import type { Store, TransactionOptions, Tx } from '../../../src/store/store.js';
import { watchedStore } from '../../helpers/watched-store.js';
import * as f from '../../store/factories.js';

/**
 * The dispatcher against a real SQLite store and a real receiver. The store is wrapped so
 * that a test can hold the transactions that record attempts (keyed `delivery\0…`).
 */
describe('Dispatcher', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function receiver() {
    const arrived: string[] = [];
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.on('end', () => {
        arrived.push(String(req.headers['x-roost-delivery-id']));
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, arrived };
  }

  /** Holds every record transaction until `release()`; everything else passes through. */
  function holdingRecords(store: Store) {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const records = { started: 0 };
    const wrapped = Object.create(store) as Store;
    wrapped.runWhenFound = store.runWhenFound?.bind(store);
    wrapped.transaction = <T>(fn: (tx: Tx) => Promise<T>, options?: TransactionOptions) => {
      if (!options?.key?.startsWith('delivery\u0000')) return store.transaction(fn, options);
      records.started++;
      return held.then(() => store.transaction(fn, options));
    };
    return { store: wrapped, release, records };
  }

  /** A real SQLite store with a workspace, a channel and a webhook pointed at a real receiver. */
  async function hooked() {
    const dir = mkdtempSync(join(tmpdir(), 'roost-dispatcher-'));
    const store = new SqliteStore(join(dir, 'roost.db'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    cleanups.push(() => store.close());
    const { url, arrived } = await receiver();
    const ws = f.workspace();
    const ch = f.channel(ws.id);
    const hook = f.webhook(ws.id, { url, events: ['message.created'] });
    await store.transaction(async (tx) => {
      await tx.insertWorkspace(ws);
      await tx.insertChannel(ch);
      await tx.insertWebhook(hook);
    });
    return { store, ws, ch, hook, arrived };
  }

  /** A started dispatcher over `store`, stopped (after `beforeStop`) when the test ends. */
  function started(store: Store, o: { perWebhook: number; pollIntervalMs: number }, beforeStop: () => void = () => {}) {
    const http = createHttpClient({ allowPrivate: true, defaultTimeoutMs: 5000, maxResponseBytes: 1024, connectionsPerOrigin: 4 });
    const dispatcher = new Dispatcher({
      store, http, clock: systemClock, log: pino({ level: 'silent' }), metrics: createMetrics(),
      policy: { retry: { scheduleMs: [1000], jitter: 0, retryAfterCapMs: 60_000 }, overloadFloorMs: 0, disableAfterMs: 86_400_000 },
      concurrency: 8, perWebhook: o.perWebhook, timeoutMs: 5000, pollIntervalMs: o.pollIntervalMs, leaseMs: 30_000,
    });
    dispatcher.start();
    cleanups.push(async () => {
      beforeStop();
      await dispatcher.stop();
      await http.close();
    });
    return dispatcher;
  }

  it('frees a webhook\'s request slot when the answer is in, not when the attempt is recorded', async () => {
    const { store, ws, ch, hook, arrived } = await hooked();
    // One webhook, two deliveries in two conversations (two chains: both pending at once).
    const ids = await store.transaction(async (tx) => [
      await f.addDelivery(tx, ws.id, ch.id, hook.id, Date.now() - 1000),
      await f.addDelivery(tx, ws.id, ch.id, hook.id, Date.now() - 1000),
    ]);

    const held = holdingRecords(store);
    started(held.store, { perWebhook: 1, pollIntervalMs: 20 }, held.release);

    // With one slot, the second request goes out while the first attempt's record is
    // still held: the slot was the request's.
    await vi.waitFor(() => expect(arrived).toHaveLength(2), { timeout: 5000 });
    expect(arrived.sort()).toEqual([...ids].sort());
    // The receiver counts a request before it answers: the second record starts once its answer is read.
    await vi.waitFor(() => expect(held.records.started).toBe(2), { timeout: 5000 });
    held.release();
    await vi.waitFor(async () => {
      const states = await Promise.all(ids.map((id) => store.getDelivery(ws.id, hook.id, id as never)));
      expect(states.map((d) => d?.state)).toEqual(['succeeded', 'succeeded']);
    }, { timeout: 5000 });
  });

  it('claims a delivery created while it is idle in the group that creates it, without a claim transaction of its own', async () => {
    const { store, ws, ch, hook, arrived } = await hooked();
    const { store: watched, runs, held } = watchedStore(store);
    // A poll interval far beyond the test: only the held claim can find the delivery in time.
    const dispatcher = started(watched, { perWebhook: 8, pollIntervalMs: 60_000 });
    await vi.waitFor(() => expect(held.length).toBeGreaterThan(0), { timeout: 5000 });

    const id = await store.transaction((tx) => f.addDelivery(tx, ws.id, ch.id, hook.id));
    await vi.waitFor(() => expect(arrived).toEqual([id]), { timeout: 5000 });
    expect(runs).not.toContain('claimDeliveries');
    expect(held.every((ms) => ms <= 60_000)).toBe(true);
    await vi.waitFor(async () => expect((await store.getDelivery(ws.id, hook.id, id))?.state).toBe('succeeded'), { timeout: 5000 });

    // Stopped, a held claim ends at once; started again, claims are held again (not
    // returned at once by a signal left aborted, which would spin the loop).
    await dispatcher.stop();
    dispatcher.start();
    const before = held.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(held.length - before).toBeLessThanOrEqual(2);
  });
});
