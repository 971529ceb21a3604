import type { QueryResultRow } from 'pg';

/** What a batch's connection offers: a query, and a hook run at the end of the turn. */
export interface TurnQueryable {
  query<R extends QueryResultRow>(config: { name?: string; text: string; values?: unknown[] }): Promise<{ rows: R[] }>;
  /**
   * Runs `fn` once the event loop's turn ends, before the turn's statements leave; hooks
   * of a lower `phase` first (a row must be inserted before a statement that needs it).
   * Hooks of phases 0 and 1 (inserts others may depend on) also run before any statement
   * sent directly meanwhile.
   */
  atTurnEnd(fn: () => void, phase: number): void;
}

/**
 * Requests of one kind made on a batch's connection during one turn of the event loop,
 * answered by one statement at the turn's end. A batch's callbacks run interleaved and
 * ask for the same things at about the same time (all look up their sender when the
 * batch starts; all append their message when the lookups come back), and PostgreSQL's
 * cost per statement (executor start and end, the protocol) and the driver's were most
 * of a message's cost. `run` answers the items in order: a value, or an Error for that
 * item alone; if it fails, every item fails with its error (and the batch runs its
 * callbacks again, one by one). Each `run` answers a lone item with the single-row
 * statement, whose values travel as text parameters: what JSON cannot carry (a lone
 * surrogate) then fails a shared statement but succeeds when its callback runs alone.
 */
export class PerTurn<I, O> {
  readonly #db: TurnQueryable;
  readonly #run: (items: I[]) => Promise<Array<O | Error>>;
  readonly #conflicts: (a: I, b: I) => boolean;
  readonly #phase: number;
  #pending: Array<{ item: I; resolve: (o: O) => void; reject: (e: unknown) => void }> = [];

  /**
   * `conflicts`: two items one statement cannot serve together; the first is sent before
   * the second is taken. `phase`: see TurnQueryable.atTurnEnd (inserts of contacts 0, of
   * conversations 1, everything that may need them 2).
   */
  constructor(
    db: TurnQueryable, run: (items: I[]) => Promise<Array<O | Error>>,
    options: { conflicts?: (a: I, b: I) => boolean; phase?: number } = {},
  ) {
    this.#db = db;
    this.#run = run;
    this.#conflicts = options.conflicts ?? (() => false);
    this.#phase = options.phase ?? 2;
  }

  add(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      if (this.#pending.some((p) => this.#conflicts(p.item, item))) this.#flush();
      if (this.#pending.length === 0) this.#db.atTurnEnd(() => this.#flush(), this.#phase);
      this.#pending.push({ item, resolve, reject });
    });
  }

  #flush(): void {
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    this.#run(batch.map((p) => p.item)).then(
      (results) => batch.forEach((p, i) => {
        const r = results[i];
        if (r instanceof Error) p.reject(r);
        else p.resolve(r as O);
      }),
      (error: unknown) => {
        for (const p of batch) p.reject(error);
      },
    );
  }
}
