import type { Store } from '../../src/store/store.js';

/**
 * The store with its `run` and `runWhenFound` calls noted: the name of each procedure
 * run, and the hold of each claim that waited in the store. Everything else passes through.
 */
export function watchedStore(store: Store & Required<Pick<Store, 'runWhenFound'>>): { store: Store; runs: string[]; held: number[] } {
  const runs: string[] = [];
  const held: number[] = [];
  const run = store.run.bind(store);
  const runWhenFound = store.runWhenFound.bind(store);
  const watched = Object.assign(Object.create(store) as Store, {
    run: ((p, args, options) => (runs.push(p.name), run(p, args, options))) as Store['run'],
    runWhenFound: ((p, args, ms, signal) => (held.push(ms), runWhenFound(p, args, ms, signal))) as Store['runWhenFound'],
    transaction: store.transaction.bind(store),
  });
  return { store: watched, runs, held };
}
