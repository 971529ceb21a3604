import type { Tx } from './store.js';

/**
 * A transaction body as data: a function of the transaction and plain arguments, known
 * by the module that defines it and a name. An engine may run it where the database is
 * (the SQLite engine runs it on its writer thread, importing `module` there), so the
 * body reaches nothing but `tx`, its arguments and what its module imports, and its
 * arguments and result survive a structured clone. The rules of `Store.transaction`
 * callbacks hold too: await only Tx methods, keep side effects out (a body may run twice).
 */
export interface Procedure<A, R> {
  /** `import.meta.url` of the defining module. */
  readonly module: string;
  readonly name: string;
  readonly body: (tx: Tx, args: A) => Promise<R>;
}

const registry = new Map<string, Procedure<never, unknown>>();

const keyOf = (module: string, name: string) => `${module}#${name}`;

/** Defines (and registers) a procedure; call it at module top level with `import.meta.url`. */
export function procedure<A, R>(module: string, name: string, body: (tx: Tx, args: A) => Promise<R>): Procedure<A, R> {
  const p: Procedure<A, R> = { module, name, body };
  const key = keyOf(module, name);
  if (registry.has(key)) throw new Error(`procedure ${key} is defined twice`);
  registry.set(key, p as Procedure<never, unknown>);
  return p;
}

/** The procedure `name` of `module` if its module is loaded in this thread. */
export function findProcedure(module: string, name: string): Procedure<unknown, unknown> | undefined {
  return registry.get(keyOf(module, name)) as Procedure<unknown, unknown> | undefined;
}

/** The procedure `name` of `module`, importing the module on first use (writer threads). */
export async function loadProcedure(module: string, name: string): Promise<Procedure<unknown, unknown>> {
  const found = findProcedure(module, name);
  if (found) return found;
  await import(module);
  const p = findProcedure(module, name);
  if (!p) throw new Error(`no procedure ${name} in ${module}`);
  return p;
}
