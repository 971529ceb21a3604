import type { Worker } from 'node:worker_threads';
import type { Outcome } from '../group-commit.js';
import type { Procedure } from '../procedure.js';
import type { Reads, Store, TransactionOptions, Tx } from '../store.js';
import { fromWire, toWire } from '../thread-error.js';
import type { WireError } from '../thread-error.js';
import { readVerbs, txVerbs } from '../verbs.js';
import type { TxVerb } from '../verbs.js';
import { moduleThread } from './module-thread.js';
import { endedOnAbort, SqliteStore } from './sqlite-store.js';
import { batchPerTurn, postEach } from './turn-batch.js';
import type { FromWriter, ToWriter } from './writer-protocol.js';

interface Waiting {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/**
 * The SQLite engine with its writes on a thread of their own (writer-thread.ts).
 *
 * Executing SQL is most of what a write costs, and better-sqlite3 executes on the thread
 * that calls it: in the event loop, every inbound message's inserts competed with HTTP
 * parsing, signatures and webhook requests for one core. Here the writer thread owns the
 * writing connection (migrations, group commits, WAL flushes, checkpoints) and runs the
 * transaction bodies too; the event loop sends what to run and reads through a second
 * connection of its own (WAL readers never wait for the writer).
 *
 * `run(procedure, args)` sends the procedure's module and name with its arguments, one
 * message per turn for all of them, and the writer imports the module once. A
 * `transaction(fn)` callback stays on the event loop and each of its Tx calls is a round
 * trip to the writer, inside the writer's open transaction: right for rare writes
 * (management, startup), while every hot path is a procedure. Results come back after the
 * commit is durable, exactly as from `SqliteStore`.
 */
export class ThreadedSqliteStore {
  readonly #worker: Worker;
  readonly #reader: SqliteStore;
  readonly #waiting = new Map<number, Waiting>();
  /**
   * Event-loop callbacks of `transaction()`, by id, until their transaction is done, with
   * what their latest run returned or threw: the transaction settles with that value or
   * error itself, not a copy that went to the writer and back.
   */
  readonly #callbacks = new Map<number, { fn: (tx: Tx) => Promise<unknown>; run?: Outcome }>();
  /** Tx calls of those callbacks awaiting the writer. */
  readonly #calls = new Map<number, Waiting>();
  #nextId = 1;
  #nextSeq = 1;
  #failure: Error | undefined;
  #closing: Promise<void> | undefined;
  readonly #closed: Promise<void>;
  #onClosed!: () => void;

  private constructor(worker: Worker, reader: SqliteStore) {
    this.#worker = worker;
    this.#reader = reader;
    this.#closed = new Promise((resolve) => (this.#onClosed = resolve));
    worker.on('message', (batch: FromWriter[]) => {
      for (const m of batch) this.#onMessage(m);
    });
    const fail = (error: Error) => {
      const unexpected = this.#failure === undefined && this.#closing === undefined;
      this.#failure ??= error;
      for (const w of [...this.#waiting.values(), ...this.#calls.values()]) w.reject(this.#failure);
      this.#waiting.clear();
      this.#calls.clear();
      this.#callbacks.clear();
      this.#onClosed();
      // A node that can no longer write must not go on answering as if it could (reads
      // still work, so it would even look ready): crash, and let the supervisor restart
      // it. Nothing is lost: every write acknowledged so far is on disk, and whatever was
      // pending has just been refused (and its callers see that first, this turn).
      if (unexpected) {
        setImmediate(() => {
          throw new Error('the SQLite writer thread died; Roost cannot write and stops', { cause: error });
        });
      }
    };
    worker.on('error', (error) => fail(error));
    // A batch of results that cannot be read here is lost with every transaction in it,
    // whose callers would wait for ever (a claim among them stalls its worker): treated
    // as the writer's failure, so the node restarts rather than hangs. Nothing acknowledged is lost.
    worker.on('messageerror', (error) => fail(new Error('a message from the SQLite writer thread could not be read', { cause: error })));
    worker.on('exit', (code) => fail(new Error(`the SQLite writer thread exited (code ${code})`)));
    this.#idle();
  }

  /** Nothing pending: the thread does not keep the process alive. */
  #idle(): void {
    this.#worker.unref();
  }

  #busy(): void {
    this.#worker.ref();
  }

  /** Starts the writer thread (which applies migrations), then opens the reading connection. */
  static async open(path: string): Promise<Store> {
    const worker = writerThread(path);
    let listeners: Array<[string, Parameters<Worker['once']>[1]]> = [];
    const first = await new Promise<FromWriter>((resolve, reject) => {
      listeners = [
        ['message', (batch: FromWriter[]) => resolve(batch[0]!)],
        ['error', reject],
        ['exit', (code: number) => reject(new Error(`the SQLite writer thread exited (code ${code}) before it was ready`))],
      ];
      for (const [event, fn] of listeners) worker.once(event, fn);
    }).finally(() => {
      // Only these: the Worker's own listeners keep its message port running.
      for (const [event, fn] of listeners) worker.off(event, fn);
    });
    if (first.t === 'failed') {
      await worker.terminate();
      throw fromWire(first.error);
    }
    const reader = new SqliteStore(path, { reader: true });
    const writer = new ThreadedSqliteStore(worker, reader);
    const reads = Object.fromEntries(readVerbs.map((verb) => [verb, reader[verb]])) as unknown as Reads;
    return {
      ...reads,
      engine: 'sqlite',
      run: (procedure, args, options) => writer.run(procedure, args, options),
      runWhenFound: (procedure, args, holdMs, signal) => writer.runWhenFound(procedure, args, holdMs, signal),
      transaction: (fn, options) => writer.transaction(fn, options),
      close: () => writer.close(),
    };
  }

  run<A, R>(procedure: Procedure<A, R>, args: A, _options?: TransactionOptions): Promise<R> {
    return this.#request((id) => ({ t: 'run', id, module: procedure.module, name: procedure.name, args })) as Promise<R>;
  }

  runWhenFound<A extends { now: number }, R>(procedure: Procedure<A, R[]>, args: A, holdMs: number, signal: AbortSignal): Promise<R[]> {
    let id = 0;
    const release = () => {
      if (id !== 0) this.#send({ t: 'release', id });
    };
    const result = this.#request((assigned) => {
      id = assigned;
      return { t: 'hold', id, module: procedure.module, name: procedure.name, args, ms: holdMs };
    }) as Promise<R[]>;
    return endedOnAbort(signal, release, result);
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>, _options?: TransactionOptions): Promise<T> {
    return this.#request((id) => {
      this.#callbacks.set(id, { fn });
      return { t: 'tx', id };
    }) as Promise<T>;
  }

  #request(message: (id: number) => ToWriter): Promise<unknown> {
    if (this.#closing) return Promise.reject(new Error('store is closed'));
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#busy(); // a pending write keeps the process alive
      this.#send(message(id));
    });
  }

  /** Queued for the end of this turn: one message carries every request of the turn. */
  readonly #send = batchPerTurn<ToWriter>((batch) => this.#post(batch));

  /**
   * Posts a turn's requests. One whose arguments cannot be copied to the thread (nested
   * past V8's stack, say; input is bounded well before that, see domain/json-depth.ts)
   * fails alone, and the others of its turn still go.
   */
  #post(batch: ToWriter[]): void {
    postEach((b) => this.#worker.postMessage(b), batch, (m, error) => this.#refuse(m, error));
  }

  #refuse(m: ToWriter, error: unknown): void {
    if (m.t !== 'run' && m.t !== 'hold' && m.t !== 'tx') return;
    const w = this.#waiting.get(m.id);
    this.#waiting.delete(m.id);
    this.#callbacks.delete(m.id);
    if (this.#waiting.size === 0) this.#idle();
    w?.reject(new Error(`the request could not be copied to the SQLite writer thread: ${String(error)}`, { cause: error }));
  }

  #onMessage(m: FromWriter): void {
    switch (m.t) {
      case 'done': {
        const w = this.#waiting.get(m.id);
        const callback = this.#callbacks.get(m.id);
        this.#waiting.delete(m.id);
        this.#callbacks.delete(m.id);
        if (this.#waiting.size === 0) this.#idle();
        if (!w) return;
        if (m.ok) {
          this.#reader.forgetChannels(m.forget);
          w.resolve(callback?.run?.ok ? callback.run.value : m.value);
        } else w.reject(callback?.run?.ok === false ? callback.run.error : fromWire(m.error));
        return;
      }
      case 'open':
        this.#runCallback(m.id, m.attempt);
        return;
      case 'called': {
        const w = this.#calls.get(m.seq);
        this.#calls.delete(m.seq);
        if (m.ok) w?.resolve(m.value);
        else w?.reject(fromWire(m.error));
        return;
      }
      case 'closed':
        this.#onClosed();
        return;
      case 'ready':
      case 'failed':
        return;
    }
  }

  /** Runs a `transaction()` callback against a Tx whose every call is answered by the writer. */
  #runCallback(id: number, attempt: number): void {
    const callback = this.#callbacks.get(id);
    if (!callback) return;
    const post = (m: ToWriter) => this.#worker.postMessage([m]);
    const call = (verb: TxVerb, args: unknown[]) => new Promise((resolve, reject) => {
      const seq = this.#nextSeq++;
      this.#calls.set(seq, { resolve, reject });
      post({ t: 'call', id, attempt, seq, verb, args });
    });
    const tx = Object.fromEntries(txVerbs.map((verb) => [verb, (...args: unknown[]) => call(verb, args)])) as unknown as Tx;
    // A structured clone makes Buffers Uint8Arrays: the one Buffer a Tx returns becomes one again.
    tx.findAccessKey = async (hash) => {
      const key = (await call('findAccessKey', [hash])) as Awaited<ReturnType<Tx['findAccessKey']>>;
      return key && { ...key, keyHash: Buffer.from(key.keyHash) };
    };
    Promise.resolve()
      .then(() => callback.fn(tx))
      .then(
        (value) => {
          callback.run = { ok: true, value };
          post({ t: 'end', id, attempt, ok: true, value: undefined });
        },
        (error: unknown) => {
          callback.run = { ok: false, error };
          post({ t: 'end', id, attempt, ok: false, error: toWire(error) satisfies WireError });
        },
      );
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (!this.#failure) {
        this.#busy();
        this.#send({ t: 'close' });
        await this.#closed;
      }
      await this.#worker.terminate();
      await this.#reader.close();
    })();
    return this.#closing;
  }
}

function writerThread(path: string): Worker {
  return moduleThread('writer-thread', import.meta.url, { workerData: { path } });
}
