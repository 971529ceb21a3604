import { systemClock } from '../domain/time.js';
import type { Clock } from '../domain/time.js';
import type { Procedure } from '../store/procedure.js';
import type { Store } from '../store/store.js';
import { InFlight, Wakeup } from './wakeup.js';

/**
 * The lifecycle every Roost worker shares: one loop that claims durable work and launches
 * it, an idle sleep that `notify()` cuts short, and a stop that ends claiming and then
 * waits until the work in flight has been recorded. Subclasses write only the loop body.
 */
export abstract class PollingWorker {
  protected readonly wakeup = new Wakeup();
  protected readonly inFlight = new InFlight();
  #running = false;
  #loop: Promise<void> | null = null;
  #stopping = new AbortController();

  /**
   * A claim that waits in the store until a group commit creates work (`Store.runWhenFound`),
   * for a worker with nothing due: until `due` or the poll interval, whichever is first,
   * and no longer than `stop()`. Undefined where the store cannot hold one, or where the
   * worker's clock is not the system clock the store runs it on (a test's): sleep instead.
   */
  protected claimWhenFound<A extends { now: number }, R>(
    store: Store, clock: Clock, claim: Procedure<A, R[]>, args: A, due: number | null, pollIntervalMs: number,
  ): Promise<R[]> | undefined {
    if (!store.runWhenFound || clock !== systemClock) return undefined;
    const holdMs = Math.max(1, Math.min(pollIntervalMs, due !== null ? due - args.now : pollIntervalMs));
    return store.runWhenFound(claim, args, holdMs, this.#stopping.signal);
  }

  start(): void {
    if (this.#running) return;
    // Started again after a stop: a signal left aborted would end every wait at once.
    if (this.#stopping.signal.aborted) this.#stopping = new AbortController();
    this.#running = true;
    this.#loop = this.#run();
  }

  notify(): void {
    this.wakeup.wake();
  }

  /** Stops claiming, then waits for work in flight to be recorded. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#stopping.abort();
    this.notify();
    await this.#loop;
    await this.inFlight.idle();
  }

  async #run(): Promise<void> {
    while (this.#running) await this.turn();
  }

  /** One turn of the loop: claim and launch what is due, or sleep. Must not throw. */
  protected abstract turn(): Promise<void>;
}
