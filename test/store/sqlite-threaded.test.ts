import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RoostError } from '../../src/domain/errors.js';
import { newId } from '../../src/domain/ids.js';
import { ThreadedSqliteStore } from '../../src/store/sqlite/threaded-store.js';
import type { Store } from '../../src/store/store.js';
import { runStoreConformance } from './conformance.js';
import { runWhenFoundSuite } from './run-when-found.js';
import * as f from './factories.js';
import { insertThenRefuse, insertWorkspaceHere, nested, nestedResult, updateChannel } from './fixtures/procedures.js';

const dir = mkdtempSync(join(tmpdir(), 'roost-threaded-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Every Tx verb, through the writer thread: `transaction` callbacks stay here and each of
// their calls is a round trip, so the whole suite also checks what survives the crossing.
runStoreConformance('sqlite, writer thread', () => ThreadedSqliteStore.open(join(dir, 'conformance.db')));
runWhenFoundSuite('sqlite, writer thread', () => ThreadedSqliteStore.open(join(dir, `${newId()}.db`)));

/** A module path for a script's import, from this file. */
const src = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);

/** Runs `script` as a module in a process of its own (one whose end a test watches). */
function runScript(script: string) {
  const file = join(dir, `${newId()}.mts`);
  writeFileSync(file, script);
  return spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 20_000, cwd: process.cwd() });
}

describe('ThreadedSqliteStore specifics', () => {
  const stores: Store[] = [];
  const fresh = async () => {
    const s = await ThreadedSqliteStore.open(join(dir, `${newId()}.db`));
    stores.push(s);
    return s;
  };
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });

  it('runs a procedure on the writer thread, and its write is readable here once it resolves', async () => {
    const s = await fresh();
    const ws = f.workspace();
    const result = await s.run(insertWorkspaceHere, ws);
    expect(result.found).toBe(ws.name);
    expect(result.threadId).not.toBe(threadId);
    expect(await s.getWorkspace(ws.id)).toEqual(ws);
  });

  it('hands a RoostError back as a RoostError, kind and parameter kept, and commits nothing of it', async () => {
    const s = await fresh();
    const ws = f.workspace();
    const error = await s.run(insertThenRefuse, ws).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RoostError);
    expect(error).toMatchObject({ kind: 'invalid_parameter', parameter: 'status', code: 10, message: 'status must be active or archived' });
    expect(await s.getWorkspace(ws.id)).toBeUndefined();
  });

  it('keeps a RoostError thrown by a transaction callback, and runs the others of its group again alone', async () => {
    const s = await fresh();
    const [a, b] = [f.workspace(), f.workspace()];
    const runs = { a: 0, b: 0 };
    const results = await Promise.allSettled([
      s.transaction(async (tx) => {
        runs.a++;
        await tx.insertWorkspace(a);
        return runs.a;
      }),
      s.transaction(async (tx) => {
        runs.b++;
        await tx.insertWorkspace(b);
        throw new RoostError('not_found', 'conversation not found');
      }),
    ]);
    // One group: b's failure rolled it back, and each callback ran again in a savepoint.
    expect(runs).toEqual({ a: 2, b: 2 });
    expect(results[0]).toEqual({ status: 'fulfilled', value: 2 });
    expect(results[1].status).toBe('rejected');
    const reason = (results[1] as PromiseRejectedResult).reason as RoostError;
    expect(reason).toBeInstanceOf(RoostError);
    expect(reason.kind).toBe('not_found');
    expect(await s.getWorkspace(a.id)).toEqual(a);
    expect(await s.getWorkspace(b.id)).toBeUndefined();
  });

  it('gives a callback the access key hash as a Buffer, as the engine itself does', async () => {
    const s = await fresh();
    const ws = f.workspace();
    const key = f.accessKey(ws.id);
    await s.transaction(async (tx) => {
      await tx.insertWorkspace(ws);
      await tx.insertAccessKey(key.record);
    });
    const found = await s.transaction((tx) => tx.findAccessKey(key.record.keyHash));
    expect(Buffer.isBuffer(found?.keyHash)).toBe(true);
    expect(found?.keyHash.equals(key.record.keyHash)).toBe(true);
  });

  it('forgets a cached inbound channel as soon as the writer thread has changed it', async () => {
    const s = await fresh();
    const ws = f.workspace();
    const channel = f.channel(ws.id, { name: 'before' });
    await s.transaction(async (tx) => {
      await tx.insertWorkspace(ws);
      await tx.insertChannel(channel);
    });
    expect((await s.getChannelForInbound(channel.id))?.name).toBe('before'); // now cached
    await s.run(updateChannel, { ...channel, name: 'by procedure' });
    expect((await s.getChannelForInbound(channel.id))?.name).toBe('by procedure');
    await s.transaction((tx) => tx.updateChannel({ ...channel, name: 'by callback' }));
    expect((await s.getChannelForInbound(channel.id))?.name).toBe('by callback');
  });

  it('finishes every write asked for before close, and refuses writes after it', async () => {
    const s = await ThreadedSqliteStore.open(join(dir, `${newId()}.db`));
    const wss = Array.from({ length: 50 }, () => f.workspace());
    const writes = wss.map((ws) => s.run(insertWorkspaceHere, ws));
    await s.close();
    expect((await Promise.all(writes)).every((r) => r.found !== undefined)).toBe(true);
    await expect(s.run(insertWorkspaceHere, f.workspace())).rejects.toThrow('store is closed');
    const again = await fresh();
    expect(await again.countWorkspaces()).toBe(0); // a different file
    const reopened = await ThreadedSqliteStore.open(join(dir, 'reopen.db'));
    stores.push(reopened);
    expect(await reopened.countWorkspaces()).toBe(0);
  });

  it('stops the process when the writer thread dies, after refusing what was pending', () => {
    const db = join(dir, `${newId()}.db`);
    const script = `
      import { ThreadedSqliteStore } from ${src('../../src/store/sqlite/threaded-store.ts')};
      import { endWriterThread, insertWorkspaceHere } from ${src('./fixtures/procedures.ts')};
      const s = await ThreadedSqliteStore.open(${JSON.stringify(db)});
      const ws = { id: 'w0', name: 'kept', signingKey: 'k', createdAt: 1 };
      await s.run(insertWorkspaceHere, ws);
      const refused = s.run(endWriterThread, null).catch((e) => console.log('refused:', e.message));
      await refused;
      setTimeout(() => console.log('still running'), 2000);
    `;
    const run = runScript(script);
    expect(run.stdout, run.stderr).toContain('refused: the SQLite writer thread exited (code 3)');
    expect(run.stdout).not.toContain('still running');
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('the SQLite writer thread died; Roost cannot write and stops');
    // What was acknowledged before is on disk.
    const check = new Database(db, { readonly: true });
    try {
      expect(check.prepare('SELECT name FROM workspaces').all()).toEqual([{ name: 'kept' }]);
    } finally {
      check.close();
    }
  });

  // V8's structured clone recurses once per level: 100,000 levels overflow the stack on
  // either side. Input is bounded long before that (domain/json-depth.ts); these are the
  // thread boundary's own guards, so that nothing there ever crashes or hangs.
  it('refuses a request whose arguments cannot be copied to the writer, alone: the others of its turn go through', async () => {
    const s = await fresh();
    const ws = f.workspace();
    const [deep, fine] = await Promise.allSettled([s.run(nestedResult, nested(100_000) as never), s.run(insertWorkspaceHere, ws)]);
    expect(deep.status === 'rejected' && String(deep.reason)).toMatch(/could not be copied to the SQLite writer thread.*call stack/);
    expect(fine).toMatchObject({ status: 'fulfilled', value: { found: ws.name } });
    expect(await s.run(nestedResult, 3)).toEqual([[[[]]]]);
  });

  it('refuses a transaction whose result cannot be copied back, alone: the others of its group are answered', async () => {
    const s = await fresh();
    const ws = f.workspace();
    const [deep, fine] = await Promise.allSettled([s.run(nestedResult, 100_000), s.run(insertWorkspaceHere, ws)]);
    expect(deep.status === 'rejected' && String(deep.reason)).toMatch(/a result could not be copied from the SQLite writer thread.*call stack/);
    expect(fine).toMatchObject({ status: 'fulfilled', value: { found: ws.name } });
    expect(await s.getWorkspace(ws.id)).toEqual(ws);
  });

  it('stops the process, rather than hang, when a batch of results cannot be read on the event loop', () => {
    // 10,000 levels: the writer thread's clone succeeds, the event loop's cannot rebuild it.
    const script = `
      import { ThreadedSqliteStore } from ${src('../../src/store/sqlite/threaded-store.ts')};
      import { nestedResult } from ${src('./fixtures/procedures.ts')};
      const s = await ThreadedSqliteStore.open(${JSON.stringify(join(dir, `${newId()}.db`))});
      await s.run(nestedResult, 10_000).catch((e) => console.log('refused:', e.message));
      setTimeout(() => console.log('still running'), 2000);
    `;
    const run = runScript(script);
    expect(run.stdout, run.stderr).toContain('refused: a message from the SQLite writer thread could not be read');
    expect(run.stdout).not.toContain('still running');
    expect(run.status).not.toBe(0);
  });

  it('fails to open, with the driver\'s error, where no database can be', async () => {
    const file = join(dir, `${newId()}`);
    writeFileSync(file, 'not a directory');
    await expect(ThreadedSqliteStore.open(join(file, 'roost.db'))).rejects.toThrow(/EEXIST|ENOTDIR/);
  });
});
