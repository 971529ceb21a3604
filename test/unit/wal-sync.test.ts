import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WalSync } from '../../src/store/sqlite/wal-sync.js';
import type { SyncFn } from '../../src/store/sqlite/wal-sync.js';

const dir = mkdtempSync(join(tmpdir(), 'roost-walsync-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A flush the test completes by hand, recording which file descriptor it was given. */
function heldSync() {
  const calls: Array<{ fd: number; done: (err: NodeJS.ErrnoException | null) => void }> = [];
  const sync: SyncFn = (fd, done) => void calls.push({ fd, done });
  return { sync, calls };
}

function database(name: string): string {
  const path = join(dir, name);
  writeFileSync(`${path}-wal`, 'frames');
  return path;
}

const settled = async (p: Promise<unknown>) => {
  let state = 'pending';
  p.then(() => (state = 'resolved'), () => (state = 'rejected'));
  await new Promise((r) => setImmediate(r));
  return state;
};

describe('WalSync', () => {
  it('resolves only once the flush of the WAL file has completed', async () => {
    const { sync, calls } = heldSync();
    const w = new WalSync(database('a.db'), sync);
    const p = w.durable();
    expect(await settled(p)).toBe('pending');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.fd).toBeGreaterThan(2);
    calls[0]!.done(null);
    await expect(p).resolves.toBeUndefined();
    await w.close();
  });

  it('makes callers that arrive during a flush wait for the next one, and covers them with one flush', async () => {
    const { sync, calls } = heldSync();
    const w = new WalSync(database('b.db'), sync);
    const first = w.durable();
    const second = w.durable(); // committed after the first flush began: not covered by it
    const third = w.durable();
    expect(calls).toHaveLength(1);
    calls[0]!.done(null);
    await first;
    expect(await settled(second)).toBe('pending');
    expect(calls).toHaveLength(2); // one more flush, for both
    calls[1]!.done(null);
    await expect(Promise.all([second, third])).resolves.toEqual([undefined, undefined]);
    expect(calls).toHaveLength(2);
    await w.close();
  });

  it('rejects the callers of a failed flush, and flushes again for later ones', async () => {
    const { sync, calls } = heldSync();
    const w = new WalSync(database('c.db'), sync);
    const failed = w.durable();
    calls[0]!.done(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
    await expect(failed).rejects.toThrow('EIO');
    const later = w.durable();
    calls[1]!.done(null);
    await expect(later).resolves.toBeUndefined();
    await w.close();
  });

  it('rejects when the WAL file cannot be opened', async () => {
    const w = new WalSync(join(dir, 'missing', 'x.db'));
    await expect(w.durable()).rejects.toThrow(/ENOENT/);
    await w.close();
  });

  it('flushes for real with fdatasync by default', async () => {
    const w = new WalSync(database('d.db'));
    await expect(Promise.all([w.durable(), w.durable()])).resolves.toHaveLength(2);
    await w.close();
  });

  it('waits for the flush in progress before closing', async () => {
    const { sync, calls } = heldSync();
    const w = new WalSync(database('e.db'), sync);
    const p = w.durable();
    let closed = false;
    const closing = w.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(closed).toBe(false);
    calls[0]!.done(null);
    await Promise.all([p, closing]);
    expect(closed).toBe(true);
  });
});
