/**
 * The idle wait of a polling worker: `sleep(ms)` resolves after `ms`, or at once when
 * `wake()` is called (new work was committed, or an attempt finished and freed a slot).
 * Polling stays the correctness path; a wake only shortens the wait.
 */
export class Wakeup {
  #wake: (() => void) | null = null;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  wake(): void {
    this.#wake?.();
  }
}

/** Counts work in flight so that a stopping worker can wait until all of it is recorded. */
export class InFlight {
  #count = 0;
  #idle: Array<() => void> = [];

  get count(): number {
    return this.#count;
  }

  /** Tracks `work`; `onSettled` runs after it settles, before idle waiters are released. */
  track(work: Promise<unknown>, onSettled?: () => void): void {
    this.#count++;
    void work.finally(() => {
      this.#count--;
      onSettled?.();
      if (this.#count === 0) for (const r of this.#idle.splice(0)) r();
    });
  }

  idle(): Promise<void> {
    return this.#count === 0 ? Promise.resolve() : new Promise((r) => this.#idle.push(r));
  }
}
