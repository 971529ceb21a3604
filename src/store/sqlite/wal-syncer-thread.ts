import { workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { WalSync } from './wal-sync.js';
import type { FromWriter } from './writer-protocol.js';

/** The WAL syncer's thread (wal-syncer.ts): each batch passes on once a flush covers it. */
const { databasePath, fromWriter, toLoop } = workerData as { databasePath: string; fromWriter: MessagePort; toLoop: MessagePort };
const wal = new WalSync(databasePath);

function pass(batch: FromWriter[]): void {
  toLoop.postMessage(batch);
  if (!batch.some((m) => m.t === 'closed')) return;
  void wal.close().then(() => {
    fromWriter.close();
    toLoop.close();
  });
}

fromWriter.on('message', (batch: FromWriter[]) => {
  // Batches arriving during a flush wait for the next one; they settle in arrival order.
  wal.durable().then(() => pass(batch), (error: NodeJS.ErrnoException) => {
    const failure = { name: error.name, message: `the WAL could not be flushed: ${error.message}`, code: error.code };
    pass(batch.map((m): FromWriter => (m.t === 'done' ? { t: 'done', id: m.id, ok: false, error: failure } : m)));
  });
});
