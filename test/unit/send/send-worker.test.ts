import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChannelContext } from '../../../src/channels/connector.js';
import { connectorFor } from '../../../src/channels/registry.js';
import { systemClock } from '../../../src/domain/time.js';
import { createHttpClient } from '../../../src/net/http-client.js';
import { SendWorker } from '../../../src/send/send-worker.js';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { watchedStore } from '../../helpers/watched-store.js';
import * as f from '../../store/factories.js';

/** The send worker against a real SQLite store and the sandbox connector (no provider). */
describe('SendWorker', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('claims a job added while it is idle in the group that adds it, without a claim transaction of its own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'roost-send-worker-'));
    const store = new SqliteStore(join(dir, 'roost.db'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    cleanups.push(() => store.close());
    const ws = f.workspace();
    const ch = f.channel(ws.id);
    const ct = f.contact(ws.id);
    const conv = f.conversation(ws.id, ct.id, ch.id);
    await store.transaction(async (tx) => {
      await tx.insertWorkspace(ws);
      await tx.insertChannel(ch);
      await tx.insertContact(ct, []);
      await tx.insertConversation(conv);
    });

    const { store: watched, runs, held } = watchedStore(store);
    const http = createHttpClient({ allowPrivate: true, defaultTimeoutMs: 5000, maxResponseBytes: 1024, connectionsPerOrigin: 4 });
    // A poll interval far beyond the test: only the held claim can find the job in time.
    const worker = new SendWorker({
      store: watched, http, clock: systemClock, log: pino({ level: 'silent' }), connectorFor,
      contextFor: () => ({}) as ChannelContext, concurrency: 4, pollIntervalMs: 60_000, leaseMs: 60_000, simulatedStepMs: 60_000,
    });
    worker.start();
    cleanups.push(async () => {
      await worker.stop();
      await http.close();
    });
    await vi.waitFor(() => expect(held.length).toBeGreaterThan(0), { timeout: 5000 });

    const reply = f.message(conv, ch.id, {
      direction: 'sent', status: 'accepted', providerMessageId: null, createdAt: Date.now(), from: '+14155550100', to: '+31612345678',
    });
    await store.transaction(async (tx) => {
      await tx.insertMessage(reply);
      await tx.insertSendJob(reply.id, ws.id, Date.now());
    });
    await vi.waitFor(async () => expect((await store.getMessage(ws.id, reply.id))?.providerMessageId).toBe(`sandbox-${reply.id}`), { timeout: 5000 });
    expect(runs).not.toContain('claimSendJobs');
    expect(runs).toContain('recordSendOutcome');

    // Stopped, the held claim ends at once and the worker stops promptly.
    const t0 = Date.now();
    await worker.stop();
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});
