import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type { ChannelId } from '../../domain/ids.js';
import type { Channel } from '../../domain/records.js';
import { findProcedure, loadProcedure } from '../procedure.js';
import type { Procedure } from '../procedure.js';
import type { Tx } from '../store.js';
import { fromWire, toWire } from '../thread-error.js';
import { SqliteStore } from './sqlite-store.js';
import { batchPerTurn, postEach } from './turn-batch.js';
import type { FromWriter, ToWriter } from './writer-protocol.js';

/**
 * The SQLite writer thread: owns the connection that writes (migrations, group commits,
 * WAL flushes, the checkpointer) and runs transaction bodies next to it, so the event
 * loop spends no time in SQLite's writes. See threaded-store.ts for the other side.
 */
const port = parentPort as MessagePort;
const { path } = workerData as { path: string };

function open(): SqliteStore | undefined {
  try {
    // Each group's flush on this thread, between its COMMIT and its results.
    return new SqliteStore(path, { flush: 'inline' });
  } catch (error) {
    // The opener gets the error as data; with its port closed, this thread then ends.
    port.postMessage([{ t: 'failed', error: toWire(error) }] satisfies FromWriter[]);
    port.close();
    return undefined;
  }
}
const opened = open();

let store: SqliteStore;

// Results leave in one message per turn (a group commit settles all its transactions at
// once, after its flush): durable by the time the event loop reads them.
const send = batchPerTurn<FromWriter>((batch) => post(batch));

/**
 * Posts results. One that cannot be copied to the event loop (the structured clone
 * throws) goes as its transaction's failure, alone, and the others of its batch still go:
 * a caller told "failed" for a write that committed retries into duplicate detection,
 * while a caller never told anything would wait for ever.
 */
function post(batch: FromWriter[]): void {
  postEach((b) => port.postMessage(b), batch, (m, error) => port.postMessage([unsendable(m, error)]));
}

function unsendable(m: FromWriter, error: unknown): FromWriter {
  const wire = toWire(new Error(`a result could not be copied from the SQLite writer thread: ${String(error)}`));
  if (m.t === 'done') return { t: 'done', id: m.id, ok: false, error: wire };
  if (m.t === 'called') return { t: 'called', seq: m.seq, ok: false, error: wire };
  return m;
}

/** The Tx a body gets, noting the channels it writes (the event loop's cache forgets them). */
function watched(tx: Tx, forget: ChannelId[]): Tx {
  return Object.assign(Object.create(tx) as Tx, {
    insertChannel: (c: Channel) => (forget.push(c.id), tx.insertChannel(c)),
    updateChannel: (c: Channel) => (forget.push(c.id), tx.updateChannel(c)),
  });
}

function report(id: number, result: Promise<{ value: unknown; forget: ChannelId[] }>): void {
  result.then(
    ({ value, forget }) => send({ t: 'done', id, ok: true, value, forget }),
    (error: unknown) => send({ t: 'done', id, ok: false, error: toWire(error) }),
  );
}

/** Procedure modules being imported for requests that arrived before any `close`. */
const loads = new Set<Promise<unknown>>();

/** Callbacks that live on the event loop, by transaction id: the run in progress and its Tx. */
const remote = new Map<number, { attempt: number; tx: Tx; resolve: (v: unknown) => void; reject: (e: unknown) => void }>();

function runRemote(id: number, tx: Tx): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const attempt = (remote.get(id)?.attempt ?? 0) + 1;
    remote.set(id, { attempt, tx, resolve, reject });
    port.postMessage([{ t: 'open', id, attempt }] satisfies FromWriter[]);
  });
}

/** The procedure, at once when its module is loaded, else once it is (a first use). */
function withProcedure<T>(module: string, name: string, use: (p: Procedure<unknown, unknown>) => Promise<T>): Promise<T> {
  const loaded = findProcedure(module, name);
  if (loaded) return use(loaded);
  const loading = loadProcedure(module, name);
  loads.add(loading);
  void loading.finally(() => loads.delete(loading)).catch(() => undefined);
  return loading.then(use);
}

/** Held procedures (`hold`) by request id, until they have run; undefined while their module loads. */
const holds = new Map<number, (() => void) | undefined>();
/** Held procedures released while their module was still loading. */
const releasedEarly = new Set<number>();

function onMessage(m: ToWriter): void {
  switch (m.t) {
    case 'run': {
      const forget: ChannelId[] = [];
      // Loaded procedures join this turn's group at once.
      report(m.id, withProcedure(m.module, m.name, (p) =>
        store.transaction((tx) => p.body(watched(tx, forget), m.args)).then((value) => ({ value, forget }))));
      return;
    }
    case 'hold': {
      const forget: ChannelId[] = [];
      holds.set(m.id, undefined);
      report(m.id, withProcedure(m.module, m.name, (p) => {
        const held = store.hold((tx, now) => p.body(watched(tx, forget), { ...m.args, now }) as Promise<unknown[]>, m.ms);
        holds.set(m.id, held.release);
        if (releasedEarly.delete(m.id)) held.release();
        return held.result.then((value) => ({ value, forget }));
      }).finally(() => holds.delete(m.id)));
      return;
    }
    case 'release': {
      if (!holds.has(m.id)) return;
      const release = holds.get(m.id);
      if (release) release();
      else releasedEarly.add(m.id);
      return;
    }
    case 'tx': {
      const forget: ChannelId[] = [];
      report(m.id, store.transaction((tx) => runRemote(m.id, watched(tx, forget)))
        .finally(() => remote.delete(m.id))
        .then((value) => ({ value, forget })));
      return;
    }
    case 'call': {
      const r = remote.get(m.id);
      const reply = (x: FromWriter) => post([x]);
      if (!r || r.attempt !== m.attempt) {
        reply({ t: 'called', seq: m.seq, ok: false, error: { name: 'Error', message: 'transaction callback called after its run ended' } });
        return;
      }
      const method = (r.tx as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[m.verb];
      Promise.resolve()
        .then(() => method!(...m.args))
        .then((value) => reply({ t: 'called', seq: m.seq, ok: true, value }), (error: unknown) => reply({ t: 'called', seq: m.seq, ok: false, error: toWire(error) }));
      return;
    }
    case 'end': {
      const r = remote.get(m.id);
      if (!r || r.attempt !== m.attempt) return;
      if (m.ok) r.resolve(m.value);
      else r.reject(fromWire(m.error));
      return;
    }
    case 'close':
      // Requests sent before `close` are still waiting for their module: they run first.
      void Promise.allSettled([...loads]).then(() => store.close()).then(async () => {
        // After the last results' batch (its turn ends first).
        await new Promise((resolve) => setImmediate(resolve));
        port.postMessage([{ t: 'closed' }] satisfies FromWriter[]);
        port.close();
      });
      return;
  }
}

if (opened) {
  store = opened;
  port.on('message', (batch: ToWriter[]) => {
    for (const m of batch) onMessage(m);
  });
  // Requests that cannot be read here would leave their callers waiting for ever: end
  // this thread, which the event loop treats as the writer's failure (threaded-store.ts).
  port.on('messageerror', (error) => {
    throw error;
  });
  port.postMessage([{ t: 'ready' }] satisfies FromWriter[]);
}
