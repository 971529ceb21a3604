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
