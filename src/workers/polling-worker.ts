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

  /** Aborts at `stop()`: a wait for work in the store (`Store.runWhenFound`) ends at once. */
  protected get stopping(): AbortSignal {
    return this.#stopping.signal;
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
