import { closeSync, fdatasync, fdatasyncSync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

export type SyncFn = (fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => void;
/** The same flush, on the calling thread (throws on failure). */
export type SyncNowFn = (fd: number) => void;

/**
 * Makes commits durable without blocking the event loop.
 *
 * With `synchronous=FULL`, SQLite fsyncs the WAL inside every COMMIT, on the thread that
 * commits: Roost's event loop, which then serves nothing for the millisecond or more a
 * flush takes. Instead the database runs with `synchronous=NORMAL` (a COMMIT writes its
 * WAL frames but does not flush them) and this class flushes the WAL file with
 * `fdatasync` on libuv's thread pool. A transaction's promise resolves only after a flush
 * that began after its COMMIT, so "resolved" still means "on disk"; meanwhile the loop
 * parses requests and runs the next group commit, and one flush covers every commit made
 * while the previous one was in progress.
 *
 * Why this is as durable as FULL: the committed frames are in the WAL file, which this
 * flushes. Frames can leave the WAL only through a checkpoint, and with NORMAL SQLite
 * syncs the WAL before each checkpoint and the database file after it, so a frame that a
 * later WAL restart overwrites is already durable in the database file.
 * (https://www.sqlite.org/pragma.html#pragma_synchronous, https://www.sqlite.org/wal.html)
 */
export class WalSync {
  readonly #walPath: string;
  readonly #sync: SyncFn;
  readonly #syncNow: SyncNowFn;
  #fd: number | undefined;
  /** Committed, waiting for a flush that has not started yet. */
  #waiting: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  #inFlight: Promise<void> | null = null;

  constructor(databasePath: string, sync: SyncFn = fdatasync, syncNow: SyncNowFn = fdatasyncSync) {
    this.#walPath = `${databasePath}-wal`;
    this.#sync = sync;
    this.#syncNow = syncNow;
  }

  /**
   * Flushes the WAL now, blocking the calling thread (throws if it could not): for a
   * thread with nothing else to do meanwhile, whose next commit would only wait for this
   * flush anyway (the SQLite writer thread, see SqliteStore's `flush: 'inline'`).
   */
  flushNow(): void {
    this.#syncNow(this.#open());
  }

  /** Resolves once everything committed before the call is on disk. */
  durable(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#kick();
    });
  }

  /** One flush at a time; whoever arrived during it is covered by the next. */
  #kick(): void {
    if (this.#inFlight || this.#waiting.length === 0) return;
    this.#inFlight = this.#flush().finally(() => {
      this.#inFlight = null;
      this.#kick();
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#waiting.splice(0);
    try {
      const fd = this.#open();
      await new Promise<void>((resolve, reject) => this.#sync(fd, (err) => (err ? reject(err) : resolve())));
      for (const w of batch) w.resolve();
    } catch (err) {
      // Not known to be on disk: the callers answer with an error and the work is retried.
      for (const w of batch) w.reject(err);
    }
  }

  /** The WAL file exists from the first commit on; its directory entry is flushed once. */
  #open(): number {
    if (this.#fd === undefined) {
      this.#fd = openSync(this.#walPath, 'r');
      const dir = openSync(dirname(this.#walPath), 'r');
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    }
    return this.#fd;
  }

  /** Waits for the flush in progress, then releases the file. */
  async close(): Promise<void> {
    while (this.#inFlight) await this.#inFlight;
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
