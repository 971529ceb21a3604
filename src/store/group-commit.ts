import type { Tx } from './store.js';

/**
 * What both engines' group commit keeps per `transaction()` call while its group runs,
 * and how a group hands results back: each call settles with its own outcome, in order,
 * only after the group's commit is durable.
 */
export interface Pending {
  fn: (tx: Tx) => Promise<unknown>;
  /** TransactionOptions.key: keyed callbacks of one group may run interleaved. */
  key?: string;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Resolves or rejects each pending call with the outcome at its position. */
export function settle(batch: readonly Pending[], outcomes: readonly Outcome[]): void {
  batch.forEach((p, i) => {
    const o = outcomes[i]!;
    if (o.ok) p.resolve(o.value);
    else p.reject(o.error);
  });
}
