import type { Config } from '../config.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import { ThreadedSqliteStore } from './sqlite/threaded-store.js';
import type { Store } from './store.js';

/**
 * Opens the configured engine, applying its migrations. An SQLite file gets its writer
 * thread (threaded-store.ts); an in-memory database, which one connection owns, stays on
 * the event loop.
 */
export async function openStore(database: Config['database']): Promise<Store> {
  if (database.engine === 'postgres') return PostgresStore.open(database.url, database.poolSize);
  return database.path === ':memory:' ? new SqliteStore(database.path) : ThreadedSqliteStore.open(database.path);
}
