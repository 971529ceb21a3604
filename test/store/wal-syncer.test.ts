import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { WalSyncer } from '../../src/store/sqlite/wal-syncer.js';

const dir = mkdtempSync(join(tmpdir(), 'roost-syncer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function listen(port: MessagePort) {
  const got: unknown[] = [];
  port.on('message', (batch: unknown[]) => got.push(...batch));
  return got;
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('WalSyncer', () => {
  it('passes results on after flushing the WAL, in order, and ends after `closed`', async () => {
    const db = join(dir, 'ok.db');
    writeFileSync(`${db}-wal`, 'frames');
    const { port1, port2 } = new MessageChannel();
    const got = listen(port1);
    const syncer = new WalSyncer(db, port2);
    syncer.forward([{ t: 'done', id: 1, ok: true, value: 'a', forget: [] }]);
    syncer.forward([{ t: 'done', id: 2, ok: true, value: 'b', forget: [] }, { t: 'done', id: 3, ok: false, error: { name: 'Error', message: 'x' } }]);
    await until(() => got.length === 3);
    expect(got).toEqual([
      { t: 'done', id: 1, ok: true, value: 'a', forget: [] },
      { t: 'done', id: 2, ok: true, value: 'b', forget: [] },
      { t: 'done', id: 3, ok: false, error: { name: 'Error', message: 'x' } },
    ]);
    await syncer.close([{ t: 'closed' }]);
    await until(() => got.length === 4);
    expect(got[3]).toEqual({ t: 'closed' });
    port1.close();
  });

  it('turns every result of a flush that failed into that failure: nothing is reported durable that may not be', async () => {
    const { port1, port2 } = new MessageChannel();
    const got = listen(port1);
    const syncer = new WalSyncer(join(dir, 'missing', 'gone.db'), port2);
    syncer.forward([{ t: 'done', id: 7, ok: true, value: 42, forget: [] }]);
    await until(() => got.length === 1);
    expect(got[0]).toMatchObject({ t: 'done', id: 7, ok: false, error: { code: 'ENOENT' } });
    expect((got[0] as { error: { message: string } }).error.message).toMatch(/^the WAL could not be flushed/);
    await syncer.close([{ t: 'closed' }]);
    port1.close();
  });
});
