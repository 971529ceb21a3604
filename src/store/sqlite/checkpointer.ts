import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Copies the WAL back into the database file on a thread of its own.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that crosses the threshold, on
 * the connection that committed: for Roost that is the event-loop thread, which would
 * stall every request for the copy and its fsync. Here a second connection, in a worker
 * thread, runs PASSIVE checkpoints (they never block the writer) every `intervalMs`, so
 * the WAL stays short and the event loop never checkpoints. The writer keeps a high
 * automatic threshold only as a safety net should this thread die.
 *
 * The worker is inline code so it runs the same from `src/` (tests) and `dist/`.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 0');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy or closing: the next tick tries again */ }
}, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export class Checkpointer {
  readonly #worker: Worker;
  readonly #exited: Promise<void>;

  constructor(path: string, intervalMs = 100) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, driver, intervalMs } });
    this.#worker.unref();
    this.#exited = new Promise((resolve) => this.#worker.once('exit', () => resolve()));
    this.#worker.on('error', () => {}); // a failed checkpointer leaves the writer's own threshold in charge
  }

  /** Stops checkpointing and closes the worker's connection (before the writer closes). */
  async stop(): Promise<void> {
    // Referenced again while it stops: otherwise a process with nothing else to do exits
    // before the worker does, with close() still pending (exit code 13 under a top-level await).
    this.#worker.ref();
    this.#worker.postMessage('stop');
    await this.#exited;
  }
}
