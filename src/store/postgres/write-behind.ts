/**
 * Writes a transaction callback does not wait for. A batch's connection is in pipeline
 * mode: a statement is sent at once and PostgreSQL runs them in order, so a write whose
 * result the callback does not need (an INSERT, an UPDATE, an advisory lock) costs no
 * round trip of its own. The next statement the callback does await comes back after
 * it, and the callback ends only when every write it sent has come back.
 *
 * When such a write fails (another node created the same contact: a unique violation),
 * every later statement of the transaction fails too, with "current transaction is
 * aborted". The callback's failure is then the first write's error, not the symptom, so
 * the batch's retry rules (a unique violation is run again in a savepoint) still apply.
 */
export class WriteBehind {
  readonly #sent: Array<Promise<void>> = [];
  #failure: { error: unknown } | undefined;

  /** Sends nothing itself: `write` is already on its way; resolves at once. */
  send(write: Promise<unknown>): Promise<void> {
    this.#sent.push(
      write.then(
        () => undefined,
        (error: unknown) => {
          this.#failure ??= { error };
        },
      ),
    );
    return Promise.resolve();
  }

  /** Runs `fn`; it ends when every write sent meanwhile is back, and fails with the first failed one. */
  async around<T>(fn: () => Promise<T>): Promise<T> {
    let value: T;
    try {
      value = await fn();
    } catch (error) {
      // What the callback failed of: the first failed write if there was one.
      await this.#settled();
      throw this.#failure ? this.#failure.error : error;
    }
    await this.#settled();
    if (this.#failure) throw this.#failure.error;
    return value;
  }

  /** Every write sent so far, and any sent meanwhile, is back. */
  async #settled(): Promise<void> {
    while (this.#sent.length > 0) await Promise.all(this.#sent.splice(0));
  }
}
