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
 * A pass alone never lets the log start over under continuous writes: SQLite restarts the
 * WAL only when the writer begins a transaction with every frame already copied, and
 * a commit nearly always lands between a pass and the writer's next BEGIN. The log then
 * grew to the safety net (~80 MB), every read searched a longer WAL index and every
 * flush extended the file (an `fdatasync` that also commits the file's new size costs
 * ~60 % more here). So after a pass that reached the end of a long log, the writer is
 * told (`onPassed`) and copies the few frames committed since on its own connection
 * (`finishPass`), between two groups; its next transaction then restarts the log.
 *
 * The worker is inline code so it runs the same from `src/` (tests) and `dist/`.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 0');
const timer = setInterval(() => {
  let pass;
  try { pass = db.pragma('wal_checkpoint(PASSIVE)')[0]; } catch { return; /* busy or closing: the next tick tries again */ }
  // A long log that this pass copied up to its end: the writer can finish it (see finishPass).
  if (pass.log >= workerData.finishFrom && pass.checkpointed === pass.log) parentPort.postMessage(pass.log);
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

  /**
   * `onPassed` runs on the opening thread after a pass that copied a log of at least
   * `finishFrom` frames (4 KiB pages) to its end.
   */
  constructor(path: string, onPassed: () => void, intervalMs = 100, finishFrom = 2048) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, driver, intervalMs, finishFrom } });
    this.#worker.on('message', onPassed);
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
