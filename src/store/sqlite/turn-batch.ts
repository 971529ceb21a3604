/**
 * Collects items until the end of the current turn of the event loop, then hands them
 * over as one batch: one message between threads per turn instead of one per item (the
 * requests of a turn to the writer thread, the results of a group commit to the event loop).
 */
export function batchPerTurn<T>(flush: (batch: T[]) => void): (item: T) => void {
  let batch: T[] = [];
  return (item) => {
    if (batch.push(item) === 1) setImmediate(() => {
      const full = batch;
      batch = [];
      flush(full);
    });
  };
}

/**
 * Posts a batch between threads as one message; when its structured clone throws (a
 * value nested past V8's stack), posts each item alone, and an item that still cannot
 * be copied goes to `refused` with the error, so that the rest of its batch is not lost.
 */
export function postEach<T>(post: (batch: T[]) => void, batch: T[], refused: (item: T, error: unknown) => void): void {
  try {
    post(batch);
  } catch {
    for (const item of batch) {
      try {
        post([item]);
      } catch (error) {
        refused(item, error);
      }
    }
  }
}
