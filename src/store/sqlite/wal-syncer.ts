import { MessageChannel } from 'node:worker_threads';
import type { MessagePort, Worker } from 'node:worker_threads';
import { moduleThread } from './module-thread.js';

/**
 * Makes the writer thread's results durable on their way to the event loop.
 *
 * The writer thread commits a group with `synchronous=NORMAL` (the WAL is written, not
 * flushed) and hands the group's results here instead of to the event loop. This thread
 * flushes the WAL with `fdatasync` and only then passes every result it had received
 * before the flush began on to the event loop, through a port of its own. So a result
 * still means "on disk" (the reasoning of wal-sync.ts holds unchanged), while the writer
 * goes straight on to its next group: neither the flush nor its completion ever waits for
 * the writer's event loop, which was most of a result's way to the event loop. Results
 * that arrive during a flush are covered by the next one (WalSync's own rule: the thread,
 * wal-syncer-thread.ts, is a WalSync with ports). When a flush fails, each result it
 * carried becomes that failure: nothing is reported durable that may not be.
 */
export class WalSyncer {
  readonly #worker: Worker;
  readonly #port: MessagePort;

  /** `toLoop`: the port the event loop listens on; `port`: this thread's inbox. */
  constructor(databasePath: string, toLoop: MessagePort) {
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    this.#worker = moduleThread('wal-syncer-thread', import.meta.url, {
      workerData: { databasePath, fromWriter: port2, toLoop },
      transferList: [port2, toLoop],
    });
    // Its failure must not go unnoticed: the event loop would wait for results forever.
    this.#worker.on('error', (error) => {
      throw error;
    });
  }

  /** Results of committed groups, passed on to the event loop after the next flush. */
  forward(batch: readonly unknown[]): void {
    this.#port.postMessage(batch);
  }

  /** Forwards the last message (the writer's `closed`); the thread ends after passing it on. */
  async close(last: readonly unknown[]): Promise<void> {
    const exited = new Promise((resolve) => this.#worker.once('exit', resolve));
    this.#port.postMessage(last);
    await exited;
    this.#port.close();
  }
}
