import { MessageChannel, Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';

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
 * that arrive during a flush are covered by the next one. When a flush fails, each
 * result it carried becomes that failure: nothing is reported durable that may not be.
 *
 * The thread is inline code so it runs the same from `src/` (tests) and `dist/`.
 */
const SOURCE = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
const { walPath, fromWriter, toLoop } = workerData;
let fd;
let waiting = [];
let scheduled = false;
function flush() {
  scheduled = false;
  const ready = waiting;
  waiting = [];
  let failure;
  try {
    if (fd === undefined) {
      fd = fs.openSync(walPath, 'r');
      // The WAL's directory entry, once: a new file is durable only with it.
      const dir = fs.openSync(path.dirname(walPath), 'r');
      try { fs.fsyncSync(dir); } finally { fs.closeSync(dir); }
    }
    fs.fdatasyncSync(fd);
  } catch (error) {
    failure = { name: error.name, message: 'the WAL could not be flushed: ' + error.message, code: error.code };
  }
  const out = [];
  for (const batch of ready) for (const m of batch) {
    out.push(failure && m.t === 'done' ? { t: 'done', id: m.id, ok: false, error: failure } : m);
  }
  toLoop.postMessage(out);
  if (out.some((m) => m.t === 'closed')) {
    if (fd !== undefined) fs.closeSync(fd);
    fromWriter.close();
    toLoop.close();
  }
}
fromWriter.on('message', (batch) => {
  waiting.push(batch);
  if (!scheduled) { scheduled = true; setImmediate(flush); }
});
`;

export class WalSyncer {
  readonly #worker: Worker;
  readonly #port: MessagePort;

  /** `toLoop`: the port the event loop listens on; `fromWriter`/`port`: this thread's inbox. */
  constructor(walPath: string, toLoop: MessagePort) {
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    this.#worker = new Worker(SOURCE, {
      eval: true,
      workerData: { walPath, fromWriter: port2, toLoop },
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
